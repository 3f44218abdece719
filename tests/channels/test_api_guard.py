"""The API guard on Rasa's own app factory: an HTTP API without authentication does not start.

The Sanic apps are built by Rasa 3.6's `configure_app` (what `rasa run` does), with and without
`--enable-api`, `--auth-token` and `--jwt-secret`; the guard is the listener the signed channels
register.
"""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.run import configure_app
from sanic import Blueprint, Sanic

from rasa_llm_components.channels.api_guard import open_api_routes, register_api_guard
from rasa_llm_components.channels.errors import UnprotectedApiError
from rasa_llm_components.channels.rest import SignedRestInput

OPTIONS = {"token_secret": "k" * 40, "token_audience": "chat", "token_issuer": "shop"}


@pytest.fixture(autouse=True)
def reusable_app_names(monkeypatch):
    # Rasa names every app "rasa_server"; Sanic refuses a second app of the same name.
    monkeypatch.setattr(Sanic, "test_mode", True)


def _app(**kwargs) -> Sanic:
    return configure_app([SignedRestInput.from_credentials(OPTIONS)], **kwargs)


def _run_guard(app: Sanic, allow: bool = False) -> None:
    listener = register_api_guard(Blueprint("probe"), allow, "signed_rest")
    asyncio.run(listener(app, None))


def test_an_open_api_is_refused():
    app = _app(enable_api=True)
    routes = open_api_routes(app)
    assert "/conversations/<conversation_id:path>/tracker" in routes
    with pytest.raises(UnprotectedApiError, match="--auth-token"):
        _run_guard(app)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"enable_api": True, "auth_token": "t0ken"},
        {"enable_api": True, "jwt_secret": "j" * 40, "jwt_method": "HS256"},
        {"enable_api": False},
    ],
)
def test_protected_or_absent_apis_start(kwargs):
    app = _app(**kwargs)
    assert open_api_routes(app) == []
    _run_guard(app)


def test_explicit_opt_out_for_local_development():
    _run_guard(_app(enable_api=True), allow=True)


def test_api_routes_without_rasas_auth_wrapper_count_as_open():
    app = Sanic("not_rasa")

    @app.get("/conversations/<conversation_id>/tracker")
    async def tracker(request, conversation_id):  # pragma: no cover - never called
        return None

    assert [route.split(":")[0] for route in open_api_routes(app)] == [
        "/conversations/<conversation_id"
    ]


def _before_start_listeners(app: Sanic) -> list:
    """The `before_server_start` listeners of an app (Sanic 21.12 keeps them as signals)."""
    return [
        route.handler.keywords["listener"]
        for route in app.signal_router.routes
        if route.name == "server.init.before" and "listener" in route.handler.keywords
    ]


def test_the_channel_registers_the_guard_before_rasa_loads_the_model():
    guards = [
        listener
        for listener in _before_start_listeners(_app(enable_api=True))
        if getattr(listener, "__name__", "") == "check_api_auth"
    ]
    assert len(guards) == 1
    with pytest.raises(UnprotectedApiError):
        asyncio.run(guards[0](_app(enable_api=True), None))
