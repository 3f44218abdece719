"""Minting customer tokens the way the shop backend does, for demos and tests.

    CUSTOMER_TOKEN_SECRET=... python -m rasa_llm_components.channels.tokens --customer C1001

prints an HS256 token for customer C1001 (audience `voltnest-chat`, issuer `voltnest-shop`, valid
for one hour) to send as `Authorization: Bearer <token>` or in the socket.io `auth` payload.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import jwt

SECRET_ENV = "CUSTOMER_TOKEN_SECRET"
DEMO_AUDIENCE = "voltnest-chat"
DEMO_ISSUER = "voltnest-shop"
DEFAULT_TTL_S = 3600


def mint_token(
    customer_id: str,
    secret: Any,
    audience: str = DEMO_AUDIENCE,
    issuer: str = DEMO_ISSUER,
    ttl_s: float = DEFAULT_TTL_S,
    algorithm: str = "HS256",
    now: float | None = None,
) -> str:
    """A signed customer token: `sub` = customer id, with `aud`, `iss`, `iat` and `exp`.

    `secret` is the shared secret for HS256 or the shop's private key (PEM) for RS256; a
    negative `ttl_s` gives an already expired token (for tests).
    """
    if not customer_id:
        raise ValueError("mint_token needs a customer id")
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": customer_id,
        "aud": audience,
        "iss": issuer,
        "iat": issued,
        "exp": issued + int(ttl_s),
    }
    return jwt.encode(claims, secret, algorithm=algorithm)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m rasa_llm_components.channels.tokens",
        description=f"Print a demo customer token signed with ${SECRET_ENV} (HS256).",
    )
    parser.add_argument("--customer", required=True, help="customer id, e.g. C1001")
    parser.add_argument("--audience", default=DEMO_AUDIENCE)
    parser.add_argument("--issuer", default=DEMO_ISSUER)
    parser.add_argument("--ttl-s", type=int, default=DEFAULT_TTL_S, help="validity in seconds")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: prints the token on stdout."""
    args = _parse_args(argv)
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        print(f"Set {SECRET_ENV} to the secret the bot's channels verify with.", file=sys.stderr)
        return 2
    print(mint_token(args.customer, secret, args.audience, args.issuer, args.ttl_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
