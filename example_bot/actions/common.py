"""Base classes and helpers shared by the custom actions.

Every action works inside one database transaction and never raises: a database error (or any
other unexpected error) is logged, the transaction is rolled back, nothing the action prepared is
sent, and the customer gets a polite apology instead.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop.db import get_engine, session_scope
from shop.ids import normalize_order_id
from shop.repository import CustomerView, OrderView, ShopRepository
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

# Responses with fixed texts; their templates live in domain.yml (see actions/RESPONSES.md).
UTTER_TECHNICAL_ISSUE = "utter_technical_issue"
UTTER_ACCOUNT_NOT_FOUND = "utter_account_not_found"
UTTER_ASK_ORDER_ID = "utter_ask_order_id"
UTTER_INVALID_ORDER_ID = "utter_invalid_order_id"
UTTER_ORDER_NOT_FOUND = "utter_order_not_found"


@contextmanager
def open_repository() -> Iterator[ShopRepository]:
    """A repository over one transaction on the configured shop database."""
    with session_scope(get_engine()) as session:
        yield ShopRepository(session)


def _log_failure(action_name: str, error: Exception) -> None:
    if isinstance(error, SQLAlchemyError):
        logger.error(
            "Action %s: shop database error (%s). Is the database seeded? "
            "Run: cd example_bot && python -m shop.seed",
            action_name,
            error.__class__.__name__,
            exc_info=True,
        )
    else:
        logger.exception("Action %s failed", action_name)


class ShopAction(Action, ABC):
    """An action that talks to the shop database and turns every failure into an apology."""

    error_response = UTTER_TECHNICAL_ISSUE

    @abstractmethod
    def name(self) -> str:
        """The action name used in the domain."""

    @abstractmethod
    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The action itself; may raise, `run` takes care of failures."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # Messages are collected separately and sent only if the action succeeds as a whole.
        pending = CollectingDispatcher()
        try:
            events = self.act(pending, tracker, domain)
        except Exception as error:  # noqa: BLE001 - the customer must never see a stack trace
            _log_failure(self.name(), error)
            dispatcher.utter_message(response=self.error_response)
            return []
        dispatcher.messages.extend(pending.messages)
        return events


class ShopFormValidationAction(FormValidationAction, ABC):
    """A form validation action with the same failure handling as `ShopAction`.

    On failure every slot being validated is reset, so an unchecked value never gets accepted.
    """

    @abstractmethod
    def name(self) -> str:
        """The validation action name, validate_<form name>."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = CollectingDispatcher()
        slots_to_reset = list(tracker.slots_to_validate())
        try:
            events = await super().run(pending, tracker, domain)
        except Exception as error:  # noqa: BLE001
            _log_failure(self.name(), error)
            dispatcher.utter_message(response=UTTER_TECHNICAL_ISSUE)
            return [SlotSet(slot, None) for slot in slots_to_reset]
        dispatcher.messages.extend(pending.messages)
        return events


def customer_for(repository: ShopRepository, tracker: Tracker) -> CustomerView | None:
    """The customer this conversation belongs to (sender_id is the customer id), or None."""
    sender_id = (tracker.sender_id or "").strip()
    return repository.customer(sender_id) if sender_id else None


def verified_customer(
    dispatcher: CollectingDispatcher, repository: ShopRepository, tracker: Tracker
) -> CustomerView | None:
    """The conversation's customer; None after telling them that no account was found."""
    customer = customer_for(repository, tracker)
    if customer is None:
        dispatcher.utter_message(response=UTTER_ACCOUNT_NOT_FOUND)
    return customer


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    """Values of an entity in the latest user message, in order of appearance."""
    entities = (tracker.latest_message or {}).get("entities") or []
    values = []
    for item in sorted(entities, key=lambda found: found.get("start") or 0):
        value = item.get("value")
        if item.get("entity") == entity and value not in (None, ""):
            values.append(str(value))
    return values


def latest_text(tracker: Tracker) -> str:
    """The text of the latest user message."""
    return str((tracker.latest_message or {}).get("text") or "")


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the latest user message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def requested_order_id(tracker: Tracker) -> str | None:
    """The order id the customer gave, as typed (normalize_order_id gives its canonical form).

    Looks at the order_id entity of the latest message, then the order_id slot, then the text of
    the latest message (when the NLU missed the entity).
    """
    raw = next(iter(entity_values(tracker, "order_id")), None) or text_slot(tracker, "order_id")
    return raw if raw is not None else normalize_order_id(latest_text(tracker))


def as_text(value: Any) -> str:
    """A slot or entity value as one line of text (a list counts as its first element)."""
    if isinstance(value, (list, tuple)):
        value = next((element for element in value if element not in (None, "")), None)
    return " ".join(str(value).split()) if value is not None else ""


def echo(value: Any, limit: int = 40) -> str:
    """What the customer typed, shortened for quoting it back in a reply."""
    text = as_text(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text_slot(tracker: Tracker, slot: str) -> str | None:
    """A slot value as stripped text, None when empty."""
    return as_text(tracker.get_slot(slot)) or None


def utter_order_not_found(dispatcher: CollectingDispatcher, order_id: str) -> None:
    """The one reply for an order that does not exist *or* belongs to another customer."""
    dispatcher.utter_message(response=UTTER_ORDER_NOT_FOUND, order_id=order_id)


def checked_order_id(dispatcher: CollectingDispatcher, raw: str | None) -> str | None:
    """The canonical form of the order id the customer gave.

    None after asking for an order id (`raw` is None) or saying that `raw` is not one.
    """
    order_id = normalize_order_id(raw)
    if raw is None:
        dispatcher.utter_message(response=UTTER_ASK_ORDER_ID)
    elif order_id is None:
        dispatcher.utter_message(response=UTTER_INVALID_ORDER_ID, order_id=echo(raw))
    return order_id


def customer_order(
    dispatcher: CollectingDispatcher,
    repository: ShopRepository,
    customer_id: str,
    raw: str | None,
) -> OrderView | None:
    """The customer's order that `raw` names; None after telling the customer why not.

    An order of another customer gets exactly the reply of an order that does not exist.
    """
    order_id = checked_order_id(dispatcher, raw)
    if order_id is None:
        return None
    order = repository.order(customer_id, order_id)
    if order is None:
        utter_order_not_found(dispatcher, order_id)
    return order
