"""Base classes and helpers shared by the custom actions.

Every action works inside one database transaction and never raises: a database error (or any
other unexpected error) is logged, the transaction is rolled back, nothing the action prepared is
sent, and the customer gets a polite apology instead.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop.address import address_start, looks_like_address, order_ids_outside_address
from shop.db import check_database, get_engine, resolve_database_url, session_scope
from shop.ids import find_order_ids, normalize_order_id
from shop.references import order_candidates, resolve_order
from shop.repository import CustomerView, OrderView, ShopRepository
from sqlalchemy.exc import SQLAlchemyError

from rasa_llm_components.repair.choices import choice_message
from rasa_llm_components.repair.cues import (
    corrected_offset,
    looks_like_gibberish,
    looks_like_question,
    looks_upset,
)

logger = logging.getLogger(__name__)

# Responses with fixed texts; their templates live in domain.yml (see actions/RESPONSES.md).
UTTER_TECHNICAL_ISSUE = "utter_technical_issue"
UTTER_SORRY_FOR_TROUBLE = "utter_sorry_for_trouble"
# Intents whose own replies already apologise.
APOLOGISING_INTENTS = frozenset({"complaint", "human_handoff"})
UTTER_ACCOUNT_NOT_FOUND = "utter_account_not_found"
UTTER_KNOWLEDGE_ANSWER = "utter_llm_answer"
UTTER_ASK_ORDER_ID = "utter_ask_order_id"
# Said after a form turned an order down, instead of asking for an order number again.
ANOTHER_ORDER_HINT = "If you meant another order, tell me its number, or say stop."
UTTER_INVALID_ORDER_ID = "utter_invalid_order_id"
UTTER_ORDER_NOT_FOUND = "utter_order_not_found"
# Conversation ids of anonymous visitors (signed-in customers' conversation id is their id).
VISITOR_PREFIX = "visitor-"


@contextmanager
def open_repository() -> Iterator[ShopRepository]:
    """A repository over one transaction on the configured shop database."""
    with session_scope(get_engine()) as session:
        yield ShopRepository(session)


def check_shop_database() -> None:
    """The action server's database check (`--health-check
    database=actions.common:check_shop_database`): raises when $SHOP_DATABASE_URL is unusable."""
    check_database(resolve_database_url())


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
        _send_with_apology(dispatcher, pending, tracker)
        return events


def _send_with_apology(dispatcher: CollectingDispatcher, pending: CollectingDispatcher,
                       tracker: Tracker) -> None:
    """Sends the `pending` replies, after an apology when they are the first answer to an
    unhappy message."""
    if pending.messages and _first_reply_to_upset_customer(tracker):
        dispatcher.utter_message(response=UTTER_SORRY_FOR_TROUBLE)
    dispatcher.messages.extend(pending.messages)


def _first_reply_to_upset_customer(tracker: Tracker) -> bool:
    """Whether this action answers an unhappy message first (no apology sent for it yet)."""
    message = tracker.latest_message or {}
    if said_since_the_customer(tracker):
        return False
    if latest_intent(tracker) in APOLOGISING_INTENTS:
        return False
    sentiment = (message.get("sentiment") or {}).get("compound")
    return looks_upset(latest_text(tracker), sentiment if isinstance(sentiment, float) else None)


def said_since_the_customer(tracker: Tracker) -> list[dict[str, Any]]:
    """The bot's messages (events) since the customer's latest message."""
    said = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            said.append(event)
    return said


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
        _send_with_apology(dispatcher, pending, tracker)
        return events


def is_visitor(tracker: Tracker) -> bool:
    """Whether the conversation is an anonymous visitor's (conversation id `visitor-...`)."""
    return (tracker.sender_id or "").strip().startswith(VISITOR_PREFIX)


def _without_account(tracker: Tracker) -> bool:
    """Whether the conversation surely has no customer account (False when unsure: a database
    error is reported by the action's own error handling)."""
    try:
        with open_repository() as repository:
            return customer_for(repository, tracker) is None
    except SQLAlchemyError:
        return False


def customer_for(repository: ShopRepository, tracker: Tracker) -> CustomerView | None:
    """The customer this conversation belongs to, or None (visitor, unknown id).

    The conversation id (sender_id) is the customer id, which the input channel takes from the
    customer's signed token; a visitor's conversation id is `visitor-<id>`, never an account.
    """
    sender_id = (tracker.sender_id or "").strip()
    if not sender_id or is_visitor(tracker):
        return None
    return repository.customer(sender_id)


def conversation_order(
    repository: ShopRepository, tracker: Tracker, order_id: str | None
) -> OrderView | None:
    """The conversation's customer's order with this id, silently None (no id, no account,
    another customer's order)."""
    customer = customer_for(repository, tracker) if order_id else None
    return repository.order(customer.id, order_id) if customer and order_id else None


def verified_customer(
    dispatcher: CollectingDispatcher, repository: ShopRepository, tracker: Tracker
) -> CustomerView | None:
    """The conversation's customer; None after telling them that no account was found."""
    customer = customer_for(repository, tracker)
    if customer is None:
        dispatcher.utter_message(response=UTTER_ACCOUNT_NOT_FOUND)
    return customer


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    """Values of an entity in the latest user message, in order of appearance.

    When the customer corrected themselves in the message ("where is 10011... no wait, 10010"),
    only the values after the correction count, if there are any.
    """
    entities = (tracker.latest_message or {}).get("entities") or []
    found = [
        (item.get("start") or 0, str(item["value"]))
        for item in sorted(entities, key=lambda found: found.get("start") or 0)
        if item.get("entity") == entity and item.get("value") not in (None, "")
    ]
    corrected = corrected_offset(latest_text(tracker))
    if corrected is not None and any(start >= corrected for start, _ in found):
        found = [(start, value) for start, value in found if start >= corrected]
    return [value for _, value in found]


def latest_text(tracker: Tracker) -> str:
    """The text of the latest user message."""
    return str((tracker.latest_message or {}).get("text") or "")


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the latest user message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def slot_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """The value a slot had before the latest user message (what mappings may have overwritten)."""
    value = before = None
    for event in tracker.events:
        if event.get("event") == "user":
            before = value
        elif event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return before


def is_address_number(tracker: Tracker, raw: Any) -> bool:
    """Whether an order id value is really a number of the address in the latest message.

    "5 Elm Rd, Springfield, IL 62704": the NLU's order_id entity "62704" (and a slot filled from
    it) is the ZIP code, not an order number. Values from earlier messages are not affected.
    """
    order_id = normalize_order_id(raw)
    text = latest_text(tracker)
    if order_id is None or not looks_like_address(text):
        return False
    if all(mention.order_id != order_id for mention in find_order_ids(text)):
        return False
    return order_id not in order_ids_outside_address(text)


def order_id_entity(tracker: Tracker) -> Any:
    """The latest message's first order_id entity that is no number of an address in it."""
    return next((value for value in entity_values(tracker, "order_id")
                 if not is_address_number(tracker, value)), None)


def requested_order_id(tracker: Tracker) -> str | None:
    """The order id the customer gave, as typed (normalize_order_id gives its canonical form).

    Looks at the order_id entity of the latest message, then the order_id slot, then the text of
    the latest message (when the NLU missed the entity). A ZIP code or house number in an address
    is never taken for an order id; a slot it overwrote falls back to its earlier value.
    """
    raw = order_id_entity(tracker)
    if raw is not None:
        return raw
    slot = text_slot(tracker, "order_id")
    if slot is not None and is_address_number(tracker, slot):
        slot = as_text(slot_before_latest_message(tracker, "order_id")) or None
    if slot is not None:
        return slot
    found = order_ids_outside_address(latest_text(tracker))
    return found[0] if len(found) == 1 else None


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


# Order references: "the one that's on its way", "the speaker one", "my last order" --------------

# Intents whose message may answer "which order?" (others, e.g. a FAQ, are left to the policies).
ORDER_ANSWER_INTENTS = frozenset(
    {
        "inform",
        "affirm",
        "nlu_fallback",
        "order_status",
        "refund_status",
        "return_request",
        "cancel_order",
        "change_address",
    }
)
# Requests that start an order form; a return names its item instead (validate_return_item).
ORDER_TASK_INTENTS = frozenset({"cancel_order", "change_address"})
ORDER_LOOKBACK = 20  # how many of the customer's most recent orders a description is matched to


@dataclass(frozen=True)
class OrderGuess:
    """The order a description names ("match"), or the orders it may mean ("ambiguous"/"none")."""

    kind: str
    order: OrderView | None = None
    options: tuple[OrderView, ...] = ()


def guess_order(
    repository: ShopRepository,
    customer_id: str,
    text: str,
    eligible: Callable[[OrderView], bool] | None = None,
    statuses: bool = True,
) -> OrderGuess:
    """Which of the customer's orders `text` describes (status, item, "my last order").

    When several fit and exactly one is `eligible` for the request (e.g. not shipped yet, for a
    cancellation), that one is meant. Without `statuses`, status words are not used (for messages
    that did not answer "which order?": "has my order shipped?" is a question, not a reference).
    Options of "none" are the eligible orders (all recent ones when none is).
    """
    orders = repository.recent_orders(customer_id, limit=ORDER_LOOKBACK)
    if not orders:
        return OrderGuess("none")
    by_id = {order.id: order for order in orders}
    resolution = resolve_order(text, orders, statuses=statuses)
    options = [by_id[option.value] for option in resolution.options]
    preferred = [order for order in options if eligible is None or eligible(order)]
    if resolution.kind == "match":
        return OrderGuess("match", by_id[resolution.match.value], (by_id[resolution.match.value],))
    if resolution.kind == "ambiguous":
        if len(preferred) == 1:
            return OrderGuess("match", preferred[0], (preferred[0],))
        return OrderGuess("ambiguous", None, tuple(preferred or options))
    return OrderGuess("none", None, tuple(preferred or options))


def describes_another_order(
    repository: ShopRepository, customer_id: str, tracker: Tracker, text: str | None = None
) -> bool:
    """Whether the latest message (or `text`, the part of it that can describe an order),
    which gives no order id, describes one or more of the customer's orders by their items
    ("where are my headphones") other than the order of the slot, which an earlier message
    filled."""
    text = latest_text(tracker) if text is None else text
    if entity_values(tracker, "order_id") or order_ids_outside_address(text):
        return False
    guess = guess_order(repository, customer_id, text, statuses=False)
    current = normalize_order_id(tracker.get_slot("order_id"))
    return guess.kind != "none" and all(order.id != current for order in guess.options)


def utter_order_choice(
    dispatcher: CollectingDispatcher, intro: str, orders: Sequence[OrderView], limit: int = 6
) -> None:
    """A message listing orders, with one button per order (the payload is the order id)."""
    shown = list(orders)[:limit]
    listing = "; ".join(f"{order.id} ({order.status})" for order in shown)
    candidates = order_candidates(shown)
    dispatcher.utter_message(**choice_message(f"{intro} {listing}.", candidates))


def asked_for_order(tracker: Tracker) -> bool:
    """Whether the bot's last turn asked which order (a form, an ask, or order buttons)."""
    if tracker.get_slot("requested_slot") == "order_id":
        return True
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and kind == "action" and event.get("name") not in (None, "action_listen"):
            return event.get("name") in (
                "utter_ask_order_id",
                "action_order_status",
                "action_refund_status",
            )
        elif seen_user and kind == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            if any(normalize_order_id(button.get("payload")) for button in buttons):
                return True
    return False


def order_for_value(
    dispatcher: CollectingDispatcher,
    repository: ShopRepository,
    customer_id: str,
    raw: str | None,
    eligible: Callable[[OrderView], bool] | None = None,
) -> OrderView | None:
    """The customer's order that an order_id value names: an order id, or a description.

    "ORD-10004" / "10004" as in `customer_order`; a description without digits ("the one that
    shipped", "the kettle one") is matched to the customer's orders. None after telling the
    customer why not, or after asking which order (with buttons) when several fit.
    """
    text = as_text(raw)
    if normalize_order_id(text) is not None or re.search(r"(?i)\d{3}|\bord\b|#", text):
        return customer_order(dispatcher, repository, customer_id, text)
    guess = guess_order(repository, customer_id, text, eligible)
    if guess.kind == "match":
        return guess.order
    if guess.kind == "ambiguous":
        utter_order_choice(dispatcher, "More than one of your orders fits:", guess.options)
    else:
        dispatcher.utter_message(response=UTTER_INVALID_ORDER_ID, order_id=echo(text))
    return None


# "Order numbers look like ORD-10001": an example in a question, no order talked about.
_EXAMPLE_ORDER_ID = re.compile(
    r"\b(?:e\.g\.|for example|looks? like)\s*\(?ORD-\d+", re.IGNORECASE
)
# "how do i track it then", "ok then do the return now": the order talked about before.
_REFERS_BACK = re.compile(
    r"(?i)\b(?:it|that|this|that one|this one|them|the parcel|the return|the order)\b"
)


def order_the_bot_named(
    repository: ShopRepository, customer_id: str, tracker: Tracker, turns: int = 1
) -> OrderView | None:
    """The one order of the customer that the bot named in its replies to the last `turns`
    messages before the latest (the latest reply first), when the latest message refers back
    ("how do i track it then" right after the bot spoke of one order)."""
    if not _REFERS_BACK.search(latest_text(tracker)):
        return None
    named: list[set[str]] = []  # per reply, the latest first
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if len(named) >= turns:
                break
            named.append(set())
        elif named and event.get("event") == "bot":
            said = _EXAMPLE_ORDER_ID.sub(" ", event.get("text") or "")
            named[-1].update(mention.order_id for mention in find_order_ids(said))
    for ids in named:
        orders = [order for order in (repository.order(customer_id, order_id) for order_id in ids)
                  if order is not None]
        if orders:
            return orders[0] if len(orders) == 1 else None
    return None


class OrderFormValidation(ShopFormValidationAction, ABC):
    """Validation of a form that asks for one of the customer's orders.

    When the form asks for the order, answers without an order id are read as a description of
    one of the customer's orders ("the one that's on its way", "the pending one", "the speaker
    one", "my last order"): one fitting order fills the slot (then validated as usual), several
    get a question with a button per order. Other messages (a FAQ mid-form) are left alone, so the
    form can still reject them.
    """

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("requested_slot") is None and _without_account(tracker):
            # Without an account no order can be found: say so now and end the form, instead
            # of asking for an order number that cannot be checked.
            dispatcher.utter_message(response=UTTER_ACCOUNT_NOT_FOUND)
            slots = list(tracker.slots_to_validate())
            events = [*(SlotSet(slot, None) for slot in slots), SlotSet("requested_slot", None)]
            if looks_like_question(latest_text(tracker)):
                # "my aunt gave me a kettle ... can i give it back and get money?": what the
                # rules say still answers a visitor
                events.append(FollowupAction(UTTER_KNOWLEDGE_ANSWER))
            return events
        return await super().run(dispatcher, tracker, domain)

    def order_is_eligible(self, order: OrderView) -> bool:
        """Whether the form can go on with the order (preferred when a description fits several)."""
        return True

    def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        # The request that starts the form ("cancel my earbuds order") may describe the order
        # too: taken when exactly one order fits, offered when several do.
        starting = requested is None and latest_intent(tracker) in ORDER_TASK_INTENTS
        if requested != "order_id" and not starting:
            return {}
        if "order_id" in tracker.slots_to_validate() or entity_values(tracker, "order_id"):
            return {}  # the slot mapping found an order id (validate_order_id checks it)
        text = latest_text(tracker).strip()
        intent = latest_intent(tracker)
        if not text or (intent is not None and intent not in ORDER_ANSWER_INTENTS):
            return {}
        if looks_like_gibberish(text):
            return {}  # "zxcvzxcv" describes no order: the form rejects it
        if order_ids_outside_address(text):
            return {}
        if looks_like_address(text):
            # "send my scale to my office instead, its Friedrichstrasse 10": the words before
            # the address may still name the order
            text = text[: address_start(text)].strip() if starting else ""
            if not text:
                return {}
        with open_repository() as repository:
            customer = customer_for(repository, tracker)
            if customer is None:
                return {}
            guess = guess_order(repository, customer.id, text, self.order_is_eligible)
            # "ok then do the return now" after a return of ORD-10014 was stopped
            earlier = order_the_bot_named(repository, customer.id, tracker, turns=3) if (
                starting and guess.kind == "none") else None
        if guess.kind == "match":
            return {"order_id": guess.order.id}
        if guess.kind == "ambiguous":
            # "cancel my order that hasn't shipped yet": the orders the request describes
            utter_order_choice(dispatcher, "More than one of your orders fits:", guess.options)
            return {"order_id": None}
        if starting:
            return {"order_id": earlier.id} if earlier else {}
        if intent == "inform" and guess.options:
            utter_order_choice(
                dispatcher, "I couldn't tell which order you mean. Your orders:", guess.options
            )
            return {"order_id": None}
        return {}

    def order_id_to_check(self, slot_value: Any, tracker: Tracker) -> tuple[str | None, Any]:
        """(the value to check, the slot value to keep instead when there is none).

        An empty value or a ZIP code from an address gives nothing to check; the slot keeps its
        earlier value in the second case (an address typed later in the form must not replace it).
        """
        text = as_text(slot_value)
        if is_address_number(tracker, text):
            # "change the address of 10021 to 88 Lake St, Oak Park, IL 60302": the slot took
            # the last number, the ZIP code; the order id is the other one
            given = order_id_entity(tracker)
            if given is not None:
                return as_text(given), None
            return None, slot_before_latest_message(tracker, "order_id")
        return (text or None), None


def described_order(
    dispatcher: CollectingDispatcher,
    repository: ShopRepository,
    customer_id: str,
    tracker: Tracker,
    eligible: Callable[[OrderView], bool] | None = None,
) -> tuple[OrderView | None, bool]:
    """For an order question without an order id: the order the latest message describes
    (the one `eligible` order, when it describes several).

    "the one that's on its way" after the bot asked which order; "where are my headphones" at any
    time (status words only count as an answer to "which order?": "has my order shipped?" is a
    question). Returns (order, asked): the one fitting order, or None and whether a question with
    a button per fitting order was sent.
    """
    text = latest_text(tracker)
    if not text.strip() or looks_like_address(text):
        return None, False
    guess = guess_order(repository, customer_id, text, eligible, statuses=asked_for_order(tracker))
    if guess.kind == "match":
        return guess.order, False
    if guess.kind == "ambiguous":
        utter_order_choice(dispatcher, "More than one of your orders fits:", guess.options)
        return None, True
    return None, False
