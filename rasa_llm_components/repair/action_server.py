"""A locked-down rasa_sdk action server.

`rasa run actions` listens on every interface and runs any action for anyone who can reach it,
with whatever tracker they send: a hand-made tracker is enough to act as another customer. This
server is rasa_sdk's own app (`rasa_sdk.endpoint.create_app`) with three differences:

- it binds 127.0.0.1 unless `--host` says otherwise;
- every request except `GET /health` must carry the shared secret of `$ACTION_SERVER_TOKEN` as
  `Authorization: Bearer <secret>` (401 without it, 403 with a wrong one, and nothing runs); it
  refuses to start without a secret unless `--allow-unauthenticated` is given (local development);
- `/health` also runs the checks named with `--health-check NAME=module:function` (e.g. the shop
  database): they run once at start-up (a failure ends the process with one line and exit code 1)
  and on every `/health` request (a failure answers 503 with `{"NAME": "error: ..."}`).

Rasa sends the secret through `endpoints.yml`; the header keeps it out of access logs:

    action_endpoint:
      url: "http://127.0.0.1:5055/webhook"
      headers:
        Authorization: Bearer ${ACTION_SERVER_TOKEN}   # unquoted: Rasa substitutes env variables

Run: `python -m rasa_llm_components.repair.action_server --actions actions --port 5055`.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import importlib
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rasa.shared.exceptions import RasaException

from rasa_llm_components.logging_redaction import install_log_redaction

logger = logging.getLogger(__name__)

TOKEN_ENV = "ACTION_SERVER_TOKEN"
DEFAULT_HOST = "127.0.0.1"
MIN_TOKEN_LENGTH = 16
HEALTH_PATH = "/health"
HEALTH_CHECK_TIMEOUT_S = 5.0
MAX_ERROR_CHARS = 300
# user:password@ in a URL that an error message may quote (a database URL, typically).
_URL_CREDENTIALS = re.compile(r"(//[^/\s:@]+):[^@\s]*@")


class ActionServerConfigError(RasaException, ValueError):
    """The action server's options or environment are invalid."""


class HealthCheckFailed(RasaException):
    """A health check failed at start-up."""


@dataclass(frozen=True)
class HealthCheck:
    """A named check: a callable without arguments that raises when something is wrong."""

    name: str
    function: Callable[[], Any]

    @classmethod
    def from_spec(cls, spec: str) -> HealthCheck:
        """Loads `NAME=module:function` (the function is imported, not called)."""
        name, _, target = spec.partition("=")
        module_name, _, function_name = target.partition(":")
        if not (name.strip() and module_name.strip() and function_name.strip()):
            raise ActionServerConfigError(
                f"--health-check {spec!r}: expected NAME=module:function, e.g. "
                "database=actions.common:check_shop_database"
            )
        try:
            module = importlib.import_module(module_name.strip())
        except ImportError as error:
            raise ActionServerConfigError(
                f"--health-check {spec!r}: cannot import {module_name.strip()} ({error})"
            ) from error
        function = getattr(module, function_name.strip(), None)
        if not callable(function):
            raise ActionServerConfigError(
                f"--health-check {spec!r}: {module_name.strip()} has no function "
                f"{function_name.strip()}"
            )
        return cls(name.strip(), function)


def one_line(error: BaseException, limit: int = MAX_ERROR_CHARS) -> str:
    """An error as one short line, without credentials of URLs it quotes."""
    text = " ".join(str(error).split()) or error.__class__.__name__
    text = _URL_CREDENTIALS.sub(r"\1:***@", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_check(check: HealthCheck, timeout: float = HEALTH_CHECK_TIMEOUT_S) -> str | None:
    """Runs one check; None when it passed, else why it failed (one line).

    The check runs in a daemon thread, so a hanging database connection cannot hold the server
    (or its exit) for longer than `timeout`.
    """
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            check.function()
        except Exception as error:  # noqa: BLE001 - any failure is reported, never raised
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, name=f"health-check-{check.name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return f"no answer within {timeout:g} s"
    error = outcome[0]
    return None if error is None else one_line(error)


def run_checks(
    checks: Sequence[HealthCheck], timeout: float = HEALTH_CHECK_TIMEOUT_S
) -> dict[str, str | None]:
    """Every check's outcome by name: None (passed) or the reason it failed."""
    return {check.name: run_check(check, timeout) for check in checks}


def checked_token(token: str | None, allow_unauthenticated: bool) -> str | None:
    """The shared secret to require, None for an unauthenticated server (explicitly allowed)."""
    token = (token or "").strip()
    if not token:
        if allow_unauthenticated:
            return None
        raise ActionServerConfigError(
            f"${TOKEN_ENV} is not set: the action server refuses to run without a shared "
            f"secret. Set {TOKEN_ENV} to a random secret (python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))') for both Rasa and the action server, or pass "
            "--allow-unauthenticated for local development only."
        )
    if len(token) < MIN_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
        raise ActionServerConfigError(
            f"${TOKEN_ENV} must be at least {MIN_TOKEN_LENGTH} printable ASCII characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    return token


def authorization_status(header: str | None, token: str) -> int | None:
    """None when the `Authorization` header carries `token`; else the HTTP status to answer."""
    scheme, _, presented = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return 401
    presented = presented.strip()
    if not presented.isascii():
        return 403
    if hmac.compare_digest(presented.encode("ascii"), token.encode("ascii")):
        return None
    return 403


def create_app(
    action_package_name: str,
    token: str | None,
    health_checks: Sequence[HealthCheck] = (),
    cors_origins: str | list[str] | None = None,
    auto_reload: bool = False,
    health_timeout: float = HEALTH_CHECK_TIMEOUT_S,
) -> Any:
    """rasa_sdk's Sanic app behind the shared secret, with the health checks on `/health`.

    `token` None serves without authentication (only for `--allow-unauthenticated`).
    """
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from sanic import response

    app = create_sdk_app(action_package_name, cors_origins=cors_origins, auto_reload=auto_reload)

    async def guard(request: Any) -> Any:
        # rasa_sdk registers a plain /health route; answering it here adds the checks to it.
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            loop = asyncio.get_running_loop()
            outcomes = await loop.run_in_executor(None, run_checks, health_checks, health_timeout)
            healthy = all(reason is None for reason in outcomes.values())
            body: dict[str, str] = {"status": "ok" if healthy else "error"}
            for name, reason in outcomes.items():
                body[name] = "ok" if reason is None else f"error: {reason}"
                if reason is not None:
                    logger.warning("Health check %s failed: %s", name, reason)
            return response.json(body, status=200 if healthy else 503)
        if token is None:
            return None
        status = authorization_status(request.headers.get("authorization"), token)
        if status is None:
            return None
        logger.warning(
            "Refused %s %s from %s: %s shared secret.",
            request.method,
            request.path,
            request.ip,
            "no" if status == 401 else "a wrong",
        )
        if status == 401:
            return response.json(
                {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return response.json({"error": "forbidden"}, status=403)

    app.register_middleware(guard, "request")
    return app


def create_argument_parser() -> argparse.ArgumentParser:
    """rasa_sdk's options (port, actions, CORS, SSL, logging) plus host, secret and checks."""
    from rasa_sdk.endpoint import create_argument_parser as create_sdk_parser

    parser = create_sdk_parser()
    parser.set_defaults(actions="actions")  # as `rasa run actions`
    parser.description = (
        "Starts a rasa_sdk action server bound to 127.0.0.1 that requires the shared secret "
        f"of ${TOKEN_ENV} as 'Authorization: Bearer <secret>'."
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"interface to bind (default {DEFAULT_HOST}; 0.0.0.0 exposes it to the network)",
    )
    parser.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help=f"serve without a shared secret when ${TOKEN_ENV} is unset (local development only)",
    )
    parser.add_argument(
        "--health-check",
        action="append",
        default=[],
        metavar="NAME=module:function",
        help="a check run at start-up and by /health; the function raises when unhealthy "
        "(repeatable), e.g. database=actions.common:check_shop_database",
    )
    return parser


def serve(args: argparse.Namespace, token: str | None, checks: Sequence[HealthCheck]) -> None:
    """Runs the app until the process is stopped (as rasa_sdk.endpoint.run, with `args.host`)."""
    from rasa_sdk import utils
    from rasa_sdk.endpoint import create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    app = create_app(
        args.actions, token, checks, cors_origins=args.cors, auto_reload=args.auto_reload
    )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    protocol = "https" if ssl_context else "http"
    logger.info("Action server is up and running on %s://%s:%s", protocol, args.host, args.port)
    app.run(args.host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code when the server could not start."""
    # sanic_cors (imported by rasa_sdk) warns about distutils at every start: noise around the
    # one-line start-up errors. Sanic resets the DeprecationWarning filters when imported.
    import sanic  # noqa: F401

    warnings.filterwarnings("ignore", "distutils Version classes", DeprecationWarning)
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME

    parser = create_argument_parser()
    args = parser.parse_args(argv)
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    install_log_redaction()  # actions log what customers wrote: no personal data in the logs
    try:
        token = checked_token(os.environ.get(TOKEN_ENV), args.allow_unauthenticated)
        checks = [HealthCheck.from_spec(spec) for spec in args.health_check]
        failures = {name: why for name, why in run_checks(checks).items() if why is not None}
        if failures:
            raise HealthCheckFailed(
                "; ".join(f"{name} check failed: {why}" for name, why in failures.items())
            )
    except (ActionServerConfigError, HealthCheckFailed) as error:
        print(f"Action server not started: {error}", file=sys.stderr, flush=True)
        return 1
    if token is None:
        logger.warning(
            "!!! The action server runs WITHOUT authentication (--allow-unauthenticated): anyone "
            "who can reach %s:%s can run any action as any customer. Local development only; "
            "set %s in production. !!!",
            args.host,
            args.port,
            TOKEN_ENV,
        )
    serve(args, token, checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
