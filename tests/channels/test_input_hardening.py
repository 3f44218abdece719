"""Input hardening: malformed bodies become short 4xx errors, long messages a polite reply."""

from __future__ import annotations

import json

import pytest

from rasa_llm_components.channels.hardening import (
    BadRequest,
    MessageLimits,
    message_text,
    optional_field,
    parse_json_object,
)

LIMITS = MessageLimits(max_message_chars=20, max_body_bytes=1000)


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"", 400, "empty"),
        (None, 400, "empty"),
        (b"\xff\xfe{}", 400, "UTF-8"),
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'"hello"', 400, "JSON object"),
        (b"null", 400, "JSON object"),
        (json.dumps({"message": "x" * 2000}).encode(), 413, "over 1000 bytes"),
    ],
)
def test_malformed_bodies(body, status, says):
    with pytest.raises(BadRequest, match=says) as raised:
        parse_json_object(body, LIMITS)
    assert raised.value.status == status
    assert raised.value.to_json() == {"error": str(raised.value), "status": status}


def test_a_json_object_is_returned():
    assert parse_json_object(b'{"message": "hi"}', LIMITS) == {"message": "hi"}


@pytest.mark.parametrize(
    ("payload", "says"),
    [({}, "missing"), ({"message": None}, "string"), ({"message": ["a"]}, "string")],
)
def test_message_must_be_a_string(payload, says):
    with pytest.raises(BadRequest, match=says):
        message_text(payload)


def test_optional_fields_are_type_checked():
    assert optional_field({}, "sender", (str, int)) is None
    assert optional_field({"sender": 7}, "sender", (str, int)) == 7
    for bad in ({"sender": True}, {"sender": {"id": 1}}, {"sender": 1.5}):
        with pytest.raises(BadRequest, match="'sender' must be a string or a number"):
            optional_field(bad, "sender", (str, int))
    with pytest.raises(BadRequest, match="'metadata' must be a JSON object"):
        optional_field({"metadata": "x"}, "metadata", (dict,))


def test_length_cap_and_reply():
    assert not LIMITS.is_too_long("x" * 20)
    assert LIMITS.is_too_long("x" * 21)
    assert "fewer than 20 characters" in LIMITS.too_long_reply()
