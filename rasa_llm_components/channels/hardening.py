"""Input hardening shared by the signed channels: size caps and malformed-input checks.

Malformed input (empty body, not UTF-8, not JSON, not a JSON object, missing or non-string
`message`, wrong types, oversized body) is refused with a 4xx and a short JSON error; a message
that is well formed but longer than `max_message_chars` gets a polite bot reply and never reaches
NLU, so one huge message cannot hold up other conversations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rasa_llm_components.channels.errors import ChannelConfigError

LIMIT_OPTIONS: dict[str, Any] = {
    "max_message_chars": 2000,
    "max_body_bytes": 2_000_000,
}


TYPE_NAMES = {str: "a string", int: "a number", dict: "a JSON object"}


class BadRequest(ValueError):
    """A request the channel refuses; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status

    def to_json(self) -> dict[str, Any]:
        """The short JSON error body."""
        return {"error": str(self), "status": self.status}


def _positive_int(options: Mapping[str, Any], key: str, owner: str) -> int:
    value = options.get(key, LIMIT_OPTIONS[key])
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ChannelConfigError(f"{owner}: '{key}' must be a positive integer, got {value!r}.")
    return value


@dataclass(frozen=True)
class MessageLimits:
    """How long a message and how big a request body may be."""

    max_message_chars: int = LIMIT_OPTIONS["max_message_chars"]
    max_body_bytes: int = LIMIT_OPTIONS["max_body_bytes"]

    @classmethod
    def from_options(cls, options: Mapping[str, Any], owner: str = "channel") -> MessageLimits:
        """Validated limits from a channel's options (see `LIMIT_OPTIONS`)."""
        return cls(
            max_message_chars=_positive_int(options, "max_message_chars", owner),
            max_body_bytes=_positive_int(options, "max_body_bytes", owner),
        )

    def is_too_long(self, text: str) -> bool:
        """Whether a message is over the length cap."""
        return len(text) > self.max_message_chars

    def too_long_reply(self) -> str:
        """The bot's polite answer to an over-long message."""
        return (
            f"Sorry, that message is too long for me. Could you say it in fewer than "
            f"{self.max_message_chars} characters?"
        )


def parse_json_object(body: bytes | None, limits: MessageLimits) -> dict[str, Any]:
    """The request body as a JSON object, or `BadRequest`."""
    if not body:
        raise BadRequest("the request body is empty; send a JSON object with a 'message'")
    if len(body) > limits.max_body_bytes:
        raise BadRequest(f"the request body is over {limits.max_body_bytes} bytes", status=413)
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BadRequest("the request body is not UTF-8 text") from error
    except ValueError as error:
        raise BadRequest("the request body is not valid JSON") from error
    if not isinstance(payload, dict):
        raise BadRequest("the request body must be a JSON object with a 'message'")
    return payload


def message_text(payload: Mapping[str, Any]) -> str:
    """The `message` field, which must be a string."""
    if "message" not in payload:
        raise BadRequest("'message' is missing")
    text = payload["message"]
    if not isinstance(text, str):
        raise BadRequest("'message' must be a string")
    return text


def optional_field(payload: Mapping[str, Any], key: str, kinds: tuple[type, ...]) -> Any:
    """An optional field of the payload, checked against the allowed types (bool is no int)."""
    value = payload.get(key)
    if value is None:
        return None
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join(TYPE_NAMES.get(kind, kind.__name__) for kind in kinds)
        raise BadRequest(f"'{key}' must be {names}")
    return value
