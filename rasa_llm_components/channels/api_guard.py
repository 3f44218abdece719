"""Refusing to start when Rasa's HTTP API is open to anyone.

`rasa run --enable-api` without `--auth-token` or `--jwt-secret` lets every client read and
write every tracker (`GET /conversations/<id>/tracker` returns a customer's orders and e-mail),
which makes signed customer identity pointless. The signed channels register `refuse_open_api`
as a `before_server_start` listener, so such a server stops before it loads the model.

Rasa 3.6 keeps no flag for "auth enabled": `rasa.server.create_app` wraps each API route in
`requires_auth(app, auth_token)`, whose closure holds the token, and sets `USE_JWT` in the app
config for `--jwt-secret`. The check reads those; when it finds API routes but cannot tell how
they are protected (another Rasa version), it refuses too.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sanic import Blueprint, Sanic

from rasa_llm_components.channels.errors import UnprotectedApiError

logger = logging.getLogger(__name__)

API_ROUTE_PREFIX = "conversations/"


def _auth_token_of(handler: Any) -> tuple[bool, str | None]:
    """(whether the handler is wrapped by Rasa's `requires_auth`, the token it checks)."""
    if getattr(handler, "__module__", None) != "rasa.server":
        return False, None
    try:
        closure = inspect.getclosurevars(handler).nonlocals
    except (TypeError, ValueError):
        return False, None
    if "token" not in closure or "f" not in closure:
        return False, None
    return True, closure["token"]


def open_api_routes(app: Sanic) -> list[str]:
    """The HTTP API routes of `app` that anyone can call (empty when the API is protected or
    not enabled)."""
    if app.config.get("USE_JWT"):
        return []
    guarded, open_routes, api_routes = 0, [], []
    for route in app.router.routes:
        path = "/" + str(route.path).lstrip("/")
        if path.startswith("/" + API_ROUTE_PREFIX):
            api_routes.append(path)
        wrapped, token = _auth_token_of(route.handler)
        if wrapped:
            guarded += 1
            if token is None:
                open_routes.append(path)
    if api_routes and not guarded:
        return api_routes  # API routes whose protection cannot be verified count as open
    return sorted(set(open_routes))


def refuse_open_api(app: Sanic) -> None:
    """Raises `UnprotectedApiError` when the HTTP API is enabled without authentication."""
    routes = open_api_routes(app)
    if routes:
        message = (
            f"Rasa's HTTP API is enabled without authentication ({len(routes)} routes, e.g. "
            f"{routes[0]}): anyone could read every customer's conversation. Start Rasa with "
            f'`--auth-token "$RASA_API_TOKEN"` (or `--jwt-secret`), or drop `--enable-api`. '
            f"For local development only, set `allow_unauthenticated_api: true` on the channel "
            f"in credentials.yml."
        )
        logger.error(message)
        raise UnprotectedApiError(message)


def register_api_guard(
    blueprint: Blueprint, allow_unauthenticated_api: bool, owner: str
) -> Callable[..., Coroutine[Any, Any, None]]:
    """Adds the `before_server_start` check to a channel's blueprint; returns the listener."""

    async def check_api_auth(app: Sanic, _loop: Any) -> None:
        if allow_unauthenticated_api:
            if open_api_routes(app):
                logger.warning(
                    "%s: the HTTP API runs without authentication "
                    "(allow_unauthenticated_api: true). Never do this in production.",
                    owner,
                )
            return
        refuse_open_api(app)

    blueprint.listener("before_server_start")(check_api_auth)
    return check_api_auth
