"""Who is talking: customer tokens (JWT signed by the shop backend) and conversation ids.

A signed customer's conversation id is the token's `sub` claim (the customer id). Everyone else,
with no token or with a token that does not verify (forged, expired, for another audience or
issuer), is an anonymous visitor whose conversation id starts with `visitor-`, whatever the
client claims to be.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from rasa_llm_components.channels.errors import (
    ChannelConfigError,
    MissingTokenKeyError,
    UnknownTokenAlgorithmError,
)

logger = logging.getLogger(__name__)

ALGORITHMS = ("HS256", "RS256")
# RFC 7518 3.2: an HS256 key must be at least as long as the hash (256 bits).
MIN_SECRET_BYTES = 32
MAX_LEEWAY_S = 300
REQUIRED_CLAIMS = ("exp", "sub", "aud", "iss")
VISITOR_PREFIX = "visitor-"
# Customer ids become Rasa sender ids (tracker keys, socket.io rooms): keep them plain.
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$")
VISITOR_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
MAX_VISITOR_ID_CHARS = 64

# The token options of both signed channels (credentials.yml) and their defaults.
TOKEN_OPTIONS: dict[str, Any] = {
    "token_algorithm": "HS256",
    "token_secret": None,
    "token_secret_env": None,
    "token_public_key": None,
    "token_public_key_env": None,
    "token_audience": None,
    "token_issuer": None,
    "token_leeway_s": 30,
}


def _text_option(options: Mapping[str, Any], key: str, owner: str) -> str | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ChannelConfigError(f"{owner}: '{key}' must be a non-empty string, got {value!r}.")
    return value.strip()


def _from_env(options: Mapping[str, Any], key: str, owner: str, environ: Mapping[str, str]) -> str:
    name = _text_option(options, key, owner)
    value = environ.get(name or "", "").strip()
    if not value:
        raise MissingTokenKeyError(
            f"{owner}: the environment variable {name} named by '{key}' is not set or empty. "
            f"Export it before starting Rasa."
        )
    return value


def _one_source(
    options: Mapping[str, Any], key: str, env_key: str, owner: str, environ: Mapping[str, str]
) -> str | None:
    given, env_name = options.get(key), options.get(env_key)
    if given is not None and env_name is not None:
        raise ChannelConfigError(f"{owner}: give either '{key}' or '{env_key}', not both.")
    if env_name is not None:
        return _from_env(options, env_key, owner, environ)
    return _text_option(options, key, owner)


def _hs256_secret(options: Mapping[str, Any], owner: str, environ: Mapping[str, str]) -> str:
    for key in ("token_public_key", "token_public_key_env"):
        if options.get(key) is not None:
            raise ChannelConfigError(
                f"{owner}: '{key}' is for token_algorithm RS256; HS256 verifies with "
                f"'token_secret' or 'token_secret_env'."
            )
    secret = _one_source(options, "token_secret", "token_secret_env", owner, environ)
    if secret is None:
        raise MissingTokenKeyError(
            f"{owner}: no secret to verify customer tokens. Set 'token_secret' (e.g. "
            f"token_secret: ${{CUSTOMER_TOKEN_SECRET}}) or 'token_secret_env' (the name of an "
            f"environment variable holding it)."
        )
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ChannelConfigError(
            f"{owner}: the token secret is too short ({len(secret.encode('utf-8'))} bytes); "
            f"HS256 needs at least {MIN_SECRET_BYTES}. Generate one with "
            f"`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    return secret


def _rs256_public_key(options: Mapping[str, Any], owner: str, environ: Mapping[str, str]) -> Any:
    for key in ("token_secret", "token_secret_env"):
        if options.get(key) is not None:
            raise ChannelConfigError(
                f"{owner}: '{key}' is for token_algorithm HS256; RS256 verifies with the shop's "
                f"public key in 'token_public_key' or 'token_public_key_env'."
            )
    value = _one_source(options, "token_public_key", "token_public_key_env", owner, environ)
    if value is None:
        raise MissingTokenKeyError(
            f"{owner}: no public key to verify customer tokens. Set 'token_public_key' (PEM "
            f"text or the path of a PEM file) or 'token_public_key_env'."
        )
    pem = value
    if not value.startswith("-----BEGIN"):
        path = Path(value).expanduser()
        if not path.is_file():
            raise MissingTokenKeyError(
                f"{owner}: the public key file {path} does not exist. Point 'token_public_key' "
                f"at a PEM file or give the PEM text itself."
            )
        pem = path.read_text(encoding="utf-8")
    try:
        return serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError) as error:
        raise ChannelConfigError(
            f"{owner}: the RS256 key is not a PEM public key ({error}). Give the public key "
            f"('-----BEGIN PUBLIC KEY-----'), never the shop's private key."
        ) from error


@dataclass(frozen=True)
class TokenSettings:
    """How customer tokens are verified: algorithm, key, audience, issuer and clock leeway."""

    algorithm: str
    key: Any = field(repr=False)  # the HS256 secret or the RS256 public key object
    audience: str
    issuer: str
    leeway_s: float = 30.0

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        owner: str = "signed channel",
        environ: Mapping[str, str] | None = None,
    ) -> TokenSettings:
        """Validated settings from a channel's `token_*` options (see `TOKEN_OPTIONS`)."""
        environ = os.environ if environ is None else environ
        merged = {**TOKEN_OPTIONS, **{k: v for k, v in options.items() if k in TOKEN_OPTIONS}}
        algorithm = str(merged["token_algorithm"] or "").upper()
        if algorithm not in ALGORITHMS:
            raise UnknownTokenAlgorithmError(
                f"{owner}: unknown 'token_algorithm' {merged['token_algorithm']!r}. Use HS256 "
                f"(a secret shared with the shop backend) or RS256 (the shop's public key)."
            )
        if algorithm == "HS256":
            key = _hs256_secret(merged, owner, environ)
        else:
            key = _rs256_public_key(merged, owner, environ)
        audience = _text_option(merged, "token_audience", owner)
        issuer = _text_option(merged, "token_issuer", owner)
        for name, value in (("token_audience", audience), ("token_issuer", issuer)):
            if value is None:
                raise ChannelConfigError(
                    f"{owner}: '{name}' is required: tokens minted for another service must not "
                    f"be accepted (the example bot uses token_audience: voltnest-chat, "
                    f"token_issuer: voltnest-shop)."
                )
        leeway = merged["token_leeway_s"]
        if isinstance(leeway, bool) or not isinstance(leeway, (int, float)):
            raise ChannelConfigError(f"{owner}: 'token_leeway_s' must be a number of seconds.")
        if not 0 <= leeway <= MAX_LEEWAY_S:
            raise ChannelConfigError(
                f"{owner}: 'token_leeway_s' must be between 0 and {MAX_LEEWAY_S}, got {leeway}."
            )
        return cls(algorithm, key, audience, issuer, float(leeway))


@dataclass(frozen=True)
class ChannelIdentity:
    """Who sent a message: the conversation id (Rasa sender id) and the customer, if signed."""

    conversation_id: str
    customer_id: str | None = None

    @property
    def authenticated(self) -> bool:
        """Whether a valid customer token came with the message."""
        return self.customer_id is not None

    def metadata(self) -> dict[str, Any]:
        """What `UserMessage.metadata` carries about the sender (never the token)."""
        return {"customer_id": self.customer_id, "authenticated": self.authenticated}


def visitor_conversation_id(client_id: Any = None) -> str:
    """An anonymous visitor's conversation id: `visitor-` and the client's own id, sanitised,
    or a random one. Never a customer id, whatever the client sends."""
    text = str(client_id) if isinstance(client_id, (str, int)) else ""
    if text.startswith(VISITOR_PREFIX):
        text = text[len(VISITOR_PREFIX) :]
    text = VISITOR_ID_CHARS.sub("", text)[:MAX_VISITOR_ID_CHARS]
    return VISITOR_PREFIX + (text or uuid.uuid4().hex)


class CustomerTokenVerifier:
    """Checks customer tokens; a token that does not verify identifies nobody."""

    def __init__(self, settings: TokenSettings) -> None:
        self.settings = settings

    def claims(self, token: str | None) -> dict[str, Any] | None:
        """The claims of a valid token; None for no token or a token that is invalid (logged
        at INFO, without the token)."""
        if not token:
            return None
        try:
            claims = jwt.decode(
                token,
                self.settings.key,
                algorithms=[self.settings.algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_s,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as error:
            logger.info(
                "Customer token rejected (%s: %s); the sender is an anonymous visitor.",
                type(error).__name__,
                error,
            )
            return None
        subject = claims.get("sub")
        if (
            not isinstance(subject, str)
            or not CUSTOMER_ID.match(subject)
            or subject.startswith(VISITOR_PREFIX)
        ):
            logger.info("Customer token rejected (unusable 'sub' claim); anonymous visitor.")
            return None
        return claims

    def customer_id(self, token: str | None) -> str | None:
        """The customer id (`sub`) of a valid token, else None."""
        claims = self.claims(token)
        return None if claims is None else claims["sub"]

    def identify(self, token: str | None, client_id: Any = None) -> ChannelIdentity:
        """The identity of a message: the token's customer, or a visitor named after
        `client_id` (the `sender` or socket.io session id the client sent)."""
        customer_id = self.customer_id(token)
        if customer_id is not None:
            return ChannelIdentity(conversation_id=customer_id, customer_id=customer_id)
        return ChannelIdentity(conversation_id=visitor_conversation_id(client_id))
