"""Personal-data detection: the labelled customer messages and the detector's edge cases."""

from __future__ import annotations

import pytest

from benchmarks.pii_detection import DEFAULT_DATA, load_messages, score
from rasa_llm_components.nlu.pii_detection import (
    PIIConfigError,
    PIIDetector,
    luhn_valid,
)

DEV_DATA, HELDOUT_DATA = DEFAULT_DATA


@pytest.fixture(scope="module")
def detector() -> PIIDetector:
    return PIIDetector()


def test_the_test_sets_are_large_and_balanced():
    messages = load_messages(DEV_DATA) + load_messages(HELDOUT_DATA)
    with_pii = [message for message in messages if message.pii]
    assert len(messages) >= 90
    assert len(with_pii) >= 45 and len(messages) - len(with_pii) >= 45


def test_tuning_set_every_item_found_and_nothing_else(detector):
    summary = score(load_messages(DEV_DATA), detector).summary()
    assert summary["misses"] == [] and summary["false_alarms"] == [] and summary["lost"] == []


def test_heldout_set_keeps_every_order_id_and_code_and_finds_most(detector):
    summary = score(load_messages(HELDOUT_DATA), detector).summary()
    assert summary["lost"] == []  # no order id, product code, price or tracking number redacted
    assert summary["precision"] == 1.0
    assert summary["recall"] >= 0.9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 cvv 123", "card [CARD] cvv [CVV]"),
        ("4111111111111111 12/27 123", "[CARD] [EXPIRY] [CVV]"),
        ("mail me: a.b@c.io or call (415) 555-0132", "mail me: [EMAIL] or call [PHONE]"),
        ("ship ORD-10002 to 5 Elm Rd, Springfield, IL 62704", "ship ORD-10002 to [ADDRESS]"),
    ],
)
def test_redact_replaces_with_typed_placeholders(detector, text, expected):
    assert detector.redact(text) == expected


def test_redaction_is_idempotent(detector):
    text = "card 4111 1111 1111 1111 cvv 123, jane@doe.org, +1 415 555 0132, 9 Lake Ave"
    once = detector.redact(text)
    assert detector.redact(once) == once


def test_luhn_rejects_near_misses():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_a_card_that_fails_the_checksum_is_not_a_card(detector):
    assert detector.kinds_in("my order number is 4111 1111 1111 1112") == []


def test_kinds_can_be_switched_off():
    detector = PIIDetector(kinds=["email"])
    assert detector.redact("jane@doe.org 415-555-0132") == "[EMAIL] 415-555-0132"


@pytest.mark.parametrize(
    "options",
    [
        {"kinds": ["ssn"]},
        {"kinds": "card"},
        {"phone_region": "XX"},
        {"address_countries": ["FR"]},
    ],
)
def test_bad_options_fail_with_a_clear_error(options):
    with pytest.raises(PIIConfigError):
        PIIDetector(**options)


def test_empty_and_odd_input(detector):
    assert detector.find(None) == []
    assert detector.redact("") == ""
    assert detector.redact("🙂🙂 ###") == "🙂🙂 ###"
    long_text = "where is my order ORD-10002 " * 500
    assert detector.redact(long_text) == long_text
