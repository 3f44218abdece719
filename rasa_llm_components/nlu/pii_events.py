"""Redacting Rasa tracker events: user and bot text, parse data, slot values, metadata.

`EventRedactor.redact_events` takes the events of one save (a turn) and returns redacted copies:
every string in the event's dictionary is passed through `PIIDetector.redact`, except the fields
that only ever hold identifiers (event type, action, intent and slot names, ids, timestamps).
Slots named in `sensitive_slots` (free-text slots such as a new delivery address) lose their
value entirely, and that raw value is also cut out of every other string of the same events (the
user message that filled it, a bot reply quoting it), whether or not the detector recognises it.

Tracker stores call it before writing (see `RedactingSQLTrackerStore`); any other store can do
the same in its `save`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasa.shared.core.events import Event, SlotSet

from rasa_llm_components.nlu.pii_detection import PIIDetector

REDACTED = "[REDACTED]"
# Keys whose values are identifiers, never free text: left as they are.
IDENTIFIER_KEYS = frozenset(
    {
        "event", "timestamp", "name", "policy", "confidence", "input_channel", "message_id",
        "sender_id", "entity", "extractor", "role", "group", "start", "end", "model_id",
        "assistant_id", "utter_action", "template_name", "intent_response_key", "action_name",
        "processors",
    }
)  # fmt: skip
# Raw values shorter than this are not cut out of other strings ("no" would hit "nothing").
MIN_SECRET_LENGTH = 4


class EventRedactor:
    """Makes redacted copies of tracker events; the events themselves are never changed."""

    def __init__(self, detector: PIIDetector, sensitive_slots: Iterable[str] = ()) -> None:
        self.detector = detector
        self.sensitive_slots = frozenset(sensitive_slots)

    def secrets_in(self, events: Iterable[Event]) -> list[str]:
        """Raw values of sensitive slots set by these events, longest first."""
        values = {
            str(event.value).strip()
            for event in events
            if isinstance(event, SlotSet)
            and event.key in self.sensitive_slots
            and event.value is not None
        }
        return sorted(
            (value for value in values if len(value) >= MIN_SECRET_LENGTH and value != REDACTED),
            key=len,
            reverse=True,
        )

    def redact_events(self, events: Iterable[Event]) -> list[Event]:
        """Redacted copies of `events` (one save's worth: secrets are shared across them)."""
        events = list(events)
        secrets = self.secrets_in(events)
        return [self.redact_event(event, secrets) for event in events]

    def redact_event(self, event: Event, secrets: list[str] | None = None) -> Event:
        """A redacted copy of one event."""
        data = event.as_dict()
        if isinstance(event, SlotSet) and event.key in self.sensitive_slots:
            if event.value is not None:
                data["value"] = REDACTED
        redacted = self.redact_value(data, secrets or [])
        copy = Event.from_parameters(redacted)
        return copy if copy is not None else event

    def redact_value(self, value: Any, secrets: list[str]) -> Any:
        """`value` (a JSON-like structure) with personal data replaced in every string."""
        if isinstance(value, str):
            return self.redact_text(value, secrets)
        if isinstance(value, dict):
            return {
                key: item if key in IDENTIFIER_KEYS else self.redact_value(item, secrets)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.redact_value(item, secrets) for item in value]
        return value

    def redact_text(self, text: str, secrets: list[str]) -> str:
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return self.detector.redact(text)
