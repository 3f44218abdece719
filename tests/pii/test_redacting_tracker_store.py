"""`RedactingSQLTrackerStore`: nothing personal reaches the database or the event broker, the
running turn's tracker is untouched, and the options are checked."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_llm_components import RedactingSQLTrackerStore
from rasa_llm_components.nlu.pii_detection import PIIConfigError
from rasa_llm_components.nlu.pii_events import REDACTED

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform]
entities: [email]
slots:
  email:
    type: text
    mappings: [{type: from_entity, entity: email}]
  new_address:
    type: text
    mappings: [{type: custom}]
responses:
  utter_ok:
    - text: ok
"""
)
CARD, CVV, EMAIL = "4111 1111 1111 1111", "123", "jane.doe@example.com"
PHONE, ADDRESS = "(415) 555-0132", "12 Main St, Springfield, IL 62704"
# A form's free-text answer the detector does not recognise: only `sensitive_slots` removes it.
ODD_ADDRESS = "Hof Lindenweg, am Brunnen links"
RAW_VALUES = (CARD, EMAIL, PHONE, ADDRESS, ODD_ADDRESS, "cvv 123")


def _turn_events() -> list:
    text = f"card {CARD} cvv {CVV}, mail {EMAIL}, call {PHONE}, ship to {ADDRESS}"
    parse_data = {
        "text": text,
        "intent": {"name": "inform", "confidence": 0.9},
        "entities": [{"entity": "email", "value": EMAIL, "start": 36, "end": 56}],
        "pii": ["card", "cvv", "email", "phone", "address"],
    }
    return [
        ActionExecuted("action_listen"),
        UserUttered(text, parse_data["intent"], parse_data["entities"], parse_data),
        SlotSet("email", EMAIL),
        UserUttered(ODD_ADDRESS, {"name": "inform", "confidence": 0.8}),
        SlotSet("new_address", ODD_ADDRESS),
        ActionExecuted("utter_ok"),
        BotUttered(f"Noted {EMAIL}; we ship to {ADDRESS} ({ODD_ADDRESS}).",
                   {"buttons": [{"title": PHONE, "payload": "/inform"}]}),
    ]  # fmt: skip


def _store(path: Path, **options) -> RedactingSQLTrackerStore:
    return RedactingSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(path), sensitive_slots=["new_address"], **options
    )


def _all_stored_text(path: Path) -> str:
    """Every value of every column of every table, as one string."""
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master "
                                                       "WHERE type='table'")]
        rows = [
            json.dumps(row, default=str)
            for table in tables
            for row in connection.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - our tables
        ]
    finally:
        connection.close()
    return "\n".join(rows)


def test_no_personal_data_is_written_and_the_turn_keeps_its_text(tmp_path):
    path = tmp_path / "tracker.db"
    store = _store(path)
    tracker = DialogueStateTracker.from_events("C1001", _turn_events(), DOMAIN.slots)
    before = [event.as_dict() for event in tracker.events]

    asyncio.run(store.save(tracker))

    stored = _all_stored_text(path)
    assert "C1001" in stored and "[CARD]" in stored and "[EMAIL]" in stored
    for value in RAW_VALUES:
        assert value not in stored
    assert [event.as_dict() for event in tracker.events] == before  # the running turn
    assert tracker.get_slot("new_address") == ODD_ADDRESS

    restored = asyncio.run(store.retrieve("C1001"))
    assert restored.get_slot("new_address") == REDACTED
    assert restored.get_slot("email") == "[EMAIL]"
    first, second = [event for event in restored.events if isinstance(event, UserUttered)]
    assert first.text == "card [CARD] cvv [CVV], mail [EMAIL], call [PHONE], ship to [ADDRESS]"
    assert first.intent["name"] == "inform" and first.entities[0]["value"] == "[EMAIL]"
    assert second.text == REDACTED  # the answer that filled the sensitive slot
    assert len(restored.events) == len(tracker.events)


def test_later_saves_add_only_the_new_events_redacted(tmp_path):
    path = tmp_path / "tracker.db"
    store = _store(path)
    tracker = DialogueStateTracker.from_events("C1002", _turn_events(), DOMAIN.slots)
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("C1002"))
    tracker.update(UserUttered(f"my new number is {PHONE}", {"name": "inform", "confidence": 1}))
    asyncio.run(store.save(tracker))

    restored = asyncio.run(store.retrieve("C1002"))
    assert len(restored.events) == len(_turn_events()) + 1
    assert restored.latest_message.text == "my new number is [PHONE]"
    assert PHONE not in _all_stored_text(path)


def test_event_broker_gets_redacted_events(tmp_path):
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = _store(tmp_path / "tracker.db")
    store.event_broker = broker
    tracker = DialogueStateTracker.from_events("C1003", _turn_events(), DOMAIN.slots)
    asyncio.run(store.save(tracker))
    streamed = _all_stored_text(tmp_path / "events.db")
    assert "[CARD]" in streamed
    for value in RAW_VALUES:
        assert value not in streamed


def test_created_from_endpoints_like_rasa_does(tmp_path):
    config = EndpointConfig(
        type="rasa_llm_components.RedactingSQLTrackerStore",
        dialect="sqlite",
        db=str(tmp_path / "tracker.db"),
        pii_kinds=["email"],
    )
    store = TrackerStore.create(config, DOMAIN)
    inner = getattr(store, "_tracker_store", store)  # Rasa may wrap it
    assert isinstance(inner, RedactingSQLTrackerStore)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sensitive_slot": ["x"]}, "Did you mean 'sensitive_slots'"),
        ({"pii_kinds": ["ssn"]}, "'pii_kinds'"),
        ({"sensitive_slots": "new_address"}, "'sensitive_slots'"),
        ({"phone_region": "ZZ"}, "'phone_region'"),
    ],
)
def test_bad_options_fail_early_naming_the_option(tmp_path, options, message):
    with pytest.raises(PIIConfigError, match=message):
        RedactingSQLTrackerStore(domain=DOMAIN, dialect="sqlite",
                                 db=str(tmp_path / "t.db"), **options)
