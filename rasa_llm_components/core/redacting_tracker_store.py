"""`RedactingSQLTrackerStore`: Rasa's SQL tracker store that never writes personal data.

Configured in `endpoints.yml` like `SQLTrackerStore` (same options), plus the redaction options:

    tracker_store:
      type: rasa_llm_components.RedactingSQLTrackerStore
      dialect: postgresql            # or sqlite (db: a file)
      url: db.example.com
      db: rasa
      username: rasa
      password: ${DB_PASSWORD}
      # redaction (all optional)
      pii_kinds: [card, cvv, expiry, email, phone, address]
      phone_region: US
      address_countries: [US, CA, GB]
      sensitive_slots: [new_address]

Each event of a save is redacted before it is written (user text, parse-data text and entity
values, bot text and buttons, slot values, action metadata) and before an event broker gets it;
the tracker of the running turn is left untouched, so actions still see the customer's message
as written during that turn. Trackers read back later hold the redacted events. Creating the
store also redacts this process's log records (`install_log_redaction`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.config_validation import check_known_options
from rasa_llm_components.logging_redaction import install_log_redaction
from rasa_llm_components.nlu.pii_detection import (
    PII_KINDS,
    PYAP_COUNTRIES,
    PIIConfigError,
    PIIDetector,
    validate_kinds,
)
from rasa_llm_components.nlu.pii_events import EventRedactor

logger = logging.getLogger(__name__)

# The options of Rasa's SQLTrackerStore (endpoints.yml keys passed to its constructor).
SQL_OPTIONS = frozenset(
    {"dialect", "host", "port", "db", "username", "password", "login_db", "query"}
)
REDACTION_DEFAULTS: dict[str, Any] = {
    "pii_kinds": list(PII_KINDS),
    "phone_region": "US",
    "address_countries": list(PYAP_COUNTRIES),
    "sensitive_slots": [],
}


class RedactingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that redacts personal data from every event before it is stored."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        pii_kinds: list[str] | None = None,
        phone_region: str = REDACTION_DEFAULTS["phone_region"],
        address_countries: list[str] | None = None,
        sensitive_slots: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        check_known_options(
            "RedactingSQLTrackerStore (tracker_store in endpoints.yml)",
            kwargs,
            SQL_OPTIONS | set(REDACTION_DEFAULTS),
            error=PIIConfigError,
            allow_rasa_keys=False,
        )
        if sensitive_slots is not None and (
            isinstance(sensitive_slots, str)
            or not all(isinstance(slot, str) for slot in sensitive_slots)
        ):
            raise PIIConfigError(
                "RedactingSQLTrackerStore option 'sensitive_slots' must be a list of slot names, "
                f"got {sensitive_slots!r}."
            )
        kinds = validate_kinds(
            "pii_kinds",
            REDACTION_DEFAULTS["pii_kinds"] if pii_kinds is None else pii_kinds,
            "RedactingSQLTrackerStore",
        )
        detector = PIIDetector(
            kinds,
            phone_region,
            REDACTION_DEFAULTS["address_countries"]
            if address_countries is None
            else address_countries,
        )
        self.redactor = EventRedactor(detector, sensitive_slots or ())
        install_log_redaction()
        super().__init__(domain=domain, event_broker=event_broker, **kwargs)

    def _additional_events(
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator[Event]:
        """The events not stored yet, redacted (Rasa's `save` writes what this returns)."""
        return iter(self.redactor.redact_events(super()._additional_events(session, tracker)))

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: list[Event], sender_id: str
    ) -> None:
        """Event brokers get the redacted events too."""
        await super()._stream_new_events(
            event_broker, self.redactor.redact_events(new_events), sender_id
        )
