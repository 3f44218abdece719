"""Order actions: status and tracking, cancellation, shipping address change (and their forms)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop import dates
from shop.address import (
    clean_address,
    corrected_zip,
    is_plausible_address,
    looks_like_address,
    with_zip,
)
from shop.ids import normalize_order_id
from shop.references import order_candidates, resolve_item
from shop.repository import CustomerView, OrderChange, OrderView, ShopRepository

from actions.common import (
    ANOTHER_ORDER_HINT,
    UTTER_ASK_ORDER_ID,
    OrderFormValidation,
    ShopAction,
    as_text,
    checked_order_id,
    customer_order,
    described_order,
    describes_another_order,
    is_address_number,
    latest_intent,
    latest_text,
    open_repository,
    order_for_value,
    order_the_bot_named,
    requested_order_id,
    slot_before_latest_message,
    text_slot,
    utter_order_not_found,
    verified_customer,
)
from actions.formatting import CANCELLATION_REFUND_BUSINESS_DAYS, describe_order, money
from rasa_llm_components.repair.choices import choice_message
from rasa_llm_components.repair.cues import says_yes

UTTER_CANCEL_NOT_CONFIRMED = "utter_cancel_not_confirmed"
UTTER_INVALID_ADDRESS = "utter_invalid_address"
UTTER_OFFER_HANDOFF = "utter_offer_handoff"
# "it says delivered but I never got it": a parcel marked delivered that did not arrive.
_NOT_RECEIVED = re.compile(
    r"\b(?:never (?:got|received|arrived|came|showed up|saw)|(?:didn'?t|did not|haven'?t|have "
    r"not|hasn'?t|has not|wasn'?t|was not|isn'?t|is not) (?:get|got|gotten|receive|received|"
    r"arrive|arrived|come|came|show(?:ed)? up|here|there|delivered)|not (?:received|arrived|here)"
    r"|missing|stolen|nowhere to be found|no (?:package|parcel|box)"
    r"|wrong (?:house|address|door))\b",
    re.IGNORECASE,
)
# What the new_address slot holds once the form accepted an address: the address itself waits in
# the shop database (an address draft of the conversation), so the tracker store never has it.
PENDING_ADDRESS = "[ADDRESS]"


def _already_shipped_text(order: OrderView, what: str) -> str:
    shipment = order.shipment
    if order.status == "shipped" and shipment:
        return (
            f"Order {order.id} already shipped on {dates.format_date(shipment.shipped_at)} with "
            f"{shipment.carrier} (tracking number {shipment.tracking_number}), so I can't {what} "
            "any more."
        )
    return f"Order {order.id} has already been {order.status}, so I can't {what} any more."


def _cancel_refused_text(order: OrderView) -> str:
    if order.status == "cancelled":
        return f"Order {order.id} is already cancelled."
    advice = (
        " Once it is delivered you can return it within 30 days: just ask me for a return."
        if order.status == "shipped"
        else ""
    )
    return _already_shipped_text(order, "cancel it") + advice


def _address_refused_text(order: OrderView) -> str:
    if order.status == "cancelled":
        return f"Order {order.id} is cancelled, so there is no address to change."
    advice = (
        f" You can ask {order.shipment.carrier} to redirect the parcel with the tracking number."
        if order.status == "shipped" and order.shipment
        else ""
    )
    return _already_shipped_text(order, "change its address") + advice


def _cancel_reply(change: OrderChange) -> str:
    """The reply to a cancellation that went through or was refused."""
    order = change.order
    if change.outcome != "done":
        return _cancel_refused_text(order)
    return (
        f"Done: order {order.id} is cancelled. The payment of {money(order.total_cents)} on "
        f"your {order.payment_method} will be released or refunded within "
        f"{CANCELLATION_REFUND_BUSINESS_DAYS} business days."
    )


def _address_reply(change: OrderChange) -> str:
    """The reply to an address change that went through or was refused."""
    order = change.order
    if change.outcome != "done":
        return _address_refused_text(order)
    return f"Done: order {order.id} will be shipped to {order.shipping_address}."


def _customer_and_order_id(
    dispatcher: CollectingDispatcher, repository: ShopRepository, tracker: Tracker
) -> tuple[CustomerView | None, str | None]:
    """The customer and the canonical order id in the order_id slot, for changing that order.

    The order id is None after telling the customer what is missing: their account, the order id,
    or a well-formed one. The customer is None only in the first case.
    """
    customer = verified_customer(dispatcher, repository, tracker)
    if customer is None:
        return None, None
    raw = text_slot(tracker, "order_id")
    if is_address_number(tracker, raw):  # a ZIP code that a slot mapping took for an order id
        raw = as_text(slot_before_latest_message(tracker, "order_id")) or None
    return customer, checked_order_id(dispatcher, raw)


class ActionOrderStatus(ShopAction):
    """Tells the customer the status of one of their orders, with tracking details."""

    def name(self) -> str:
        return "action_order_status"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return [SlotSet("customer_verified", False)]
            events: list[EventType] = [SlotSet("customer_verified", True)]
            raw = requested_order_id(tracker)
            if is_address_number(tracker, tracker.get_slot("order_id")):
                events.append(SlotSet("order_id", raw))  # forget a ZIP code taken for an order id
            if raw is not None and describes_another_order(repository, customer.id, tracker):
                raw = None  # "where are my headphones" after a question about the watch order
            if raw is not None:
                order = customer_order(dispatcher, repository, customer.id, raw)
                if order is None:
                    return [*events, SlotSet("order_id", None)]
            elif looks_like_address(latest_text(tracker)):
                dispatcher.utter_message(
                    text="That looks like an address rather than an order number. To send an "
                    'order to a new address, say "change my delivery address" and I\'ll ask you '
                    "for the order number."
                )
                return events
            else:
                order, asked = described_order(dispatcher, repository, customer.id, tracker)
                if order is None and not asked:
                    order = order_the_bot_named(repository, customer.id, tracker)
                if order is None:
                    if not asked:
                        _utter_recent_orders(dispatcher, repository, customer.id)
                    return events
            dispatcher.utter_message(text=describe_order(order, dates.today()))
            if order.status == "delivered" and _NOT_RECEIVED.search(latest_text(tracker)):
                dispatcher.utter_message(
                    text="I'm sorry it hasn't reached you. A colleague can open an investigation "
                    "with the carrier and arrange a replacement or a refund."
                )
                dispatcher.utter_message(response=UTTER_OFFER_HANDOFF)
            return [*events, SlotSet("order_id", order.id)]


def _utter_recent_orders(
    dispatcher: CollectingDispatcher, repository: ShopRepository, customer_id: str
) -> None:
    """The customer's three most recent orders (as buttons) and the question for the order id."""
    recent = repository.recent_orders(customer_id, limit=3)
    if recent:
        listing = "; ".join(f"{order.id} ({order.status})" for order in recent)
        dispatcher.utter_message(
            **choice_message(f"Your most recent orders: {listing}.", order_candidates(recent))
        )
    dispatcher.utter_message(response=UTTER_ASK_ORDER_ID)


class ActionCancelOrder(ShopAction):
    """Cancels an order after the customer confirmed; the status is re-checked in the database."""

    def name(self) -> str:
        return "action_cancel_order"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if latest_intent(tracker) != "affirm" and not says_yes(latest_text(tracker)):
            # Only ever cancel right after an explicit "yes" to the confirmation question (the
            # classifier's, or a clear one in more words: "yes the whole thing, kettle too").
            dispatcher.utter_message(response=UTTER_CANCEL_NOT_CONFIRMED)
            return []
        with open_repository() as repository:
            customer, order_id = _customer_and_order_id(dispatcher, repository, tracker)
            if order_id is None:  # no account: there is no order id to forget
                return [SlotSet("order_id", None)] if customer else []
            change = repository.cancel_order(customer.id, order_id, dates.utc_now())
            if change.outcome == "not_found":
                utter_order_not_found(dispatcher, order_id)
                return [SlotSet("order_id", None)]
            dispatcher.utter_message(text=_cancel_reply(change))
            return []


class ActionChangeAddress(ShopAction):
    """Changes the shipping address of an order that has not shipped yet."""

    def name(self) -> str:
        return "action_change_address"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with open_repository() as repository:
            customer, order_id = _customer_and_order_id(dispatcher, repository, tracker)
            if order_id is None:  # no account: there is no order id to forget
                return [SlotSet("order_id", None)] if customer else []
            address = _new_address(repository, tracker)
            repository.discard_address_draft(tracker.sender_id)
            if not is_plausible_address(address):
                dispatcher.utter_message(response=UTTER_INVALID_ADDRESS)
                return [SlotSet("new_address", None)]
            change = repository.change_shipping_address(
                customer.id, order_id, address, dates.utc_now()
            )
            if change.outcome == "not_found":
                utter_order_not_found(dispatcher, order_id)
                return [SlotSet("order_id", None), SlotSet("new_address", None)]
            dispatcher.utter_message(text=_address_reply(change))
            return [SlotSet("new_address", None)]


def _new_address(repository: ShopRepository, tracker: Tracker) -> str:
    """The address the form accepted: the conversation's address draft when the slot holds the
    placeholder, else the slot's own text."""
    value = text_slot(tracker, "new_address")
    if value == PENDING_ADDRESS:
        return repository.address_draft(tracker.sender_id) or ""
    return clean_address(value)


def _address_with_corrected_zip(
    dispatcher: CollectingDispatcher, tracker: Tracker, text: str
) -> str | None:
    """The order's shipping address with the ZIP code the message corrects ("oops the zip is
    wrong, its 78702" right after an address change, or "just the zip, 78702" when asked for
    the new address); None when the message corrects no ZIP code or the order has none."""
    zip_code = corrected_zip(text)
    order_id = normalize_order_id(requested_order_id(tracker)) if zip_code else None
    if order_id is None:
        return None
    with open_repository() as repository:
        customer = verified_customer(dispatcher, repository, tracker)
        order = repository.order(customer.id, order_id) if customer else None
    return with_zip(order.shipping_address, zip_code) if order else None


# "can i cancel only the tripod and keep the band and the pad": some items of the order
_KEEP_THE_REST = re.compile(r"\b(?:only|just|keep|rest|others?)\b", re.IGNORECASE)


class _NotShippedOrderFormValidation(OrderFormValidation, ABC):
    """Validates the order_id of the cancel and change-address forms."""

    @abstractmethod
    def refused_text(self, order: OrderView) -> str:
        """Why the form cannot go on with this order (it has shipped or is cancelled)."""

    def order_is_eligible(self, order: OrderView) -> bool:
        return order.status in ("pending", "paid")

    def validate_order_id(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        raw, keep = self.order_id_to_check(slot_value, tracker)
        if raw is None:
            return {"order_id": keep}
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return {"order_id": None}
            order = order_for_value(
                dispatcher, repository, customer.id, raw, self.order_is_eligible
            )
            if order is None:
                return {"order_id": None}
            if order.status not in ("pending", "paid"):
                dispatcher.utter_message(text=f"{self.refused_text(order)} {ANOTHER_ORDER_HINT}")
                return {"order_id": None}
            dispatcher.utter_message(text=describe_order(order, dates.today()))
            self.on_accepted(dispatcher, tracker, order)
            return {"order_id": order.id}

    def on_accepted(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderView
                    ) -> None:
        """Says what the customer should know about the order before the form goes on."""


class ValidateCancelOrderForm(_NotShippedOrderFormValidation):
    """Accepts only the customer's own orders that have not shipped yet."""

    def name(self) -> str:
        return "validate_cancel_order_form"

    def refused_text(self, order: OrderView) -> str:
        return _cancel_refused_text(order)

    def on_accepted(self, dispatcher: CollectingDispatcher, tracker: Tracker, order: OrderView
                    ) -> None:
        names = list(dict.fromkeys(item.product.name for item in order.items))
        text = latest_text(tracker)
        named = resolve_item(text, order.items).kind
        if len(names) > 1 and (named == "match" or (
            named == "ambiguous" and _KEEP_THE_REST.search(text)
        )):
            # "cancel the selfie tripod from my latest order": only whole orders can be
            # cancelled, which the confirmation alone would not say
            dispatcher.utter_message(
                text=f"Single items can't be cancelled, only the whole order: cancelling "
                f"{order.id} cancels all of it ({'; '.join(names)}). You can then reorder "
                "what you want to keep."
            )


class ValidateChangeAddressForm(_NotShippedOrderFormValidation):
    """Accepts the customer's own not-yet-shipped orders and a plausible postal address."""

    def name(self) -> str:
        return "validate_change_address_form"

    def refused_text(self, order: OrderView) -> str:
        return _address_refused_text(order)

    def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The address given before the form asked for it ("I moved, my new address is ...")."""
        if tracker.get_slot("requested_slot") == "new_address" or tracker.get_slot("new_address"):
            return {}
        text = latest_text(tracker)
        if "new_address" in tracker.slots_to_validate() or not looks_like_address(text):
            return {}
        address = _address_with_corrected_zip(dispatcher, tracker, text) or clean_address(text)
        return {"new_address": address} if is_plausible_address(address) else {}

    def validate_new_address(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if as_text(slot_value) == PENDING_ADDRESS:  # accepted before, waiting as a draft
            return {"new_address": PENDING_ADDRESS}
        address = _address_with_corrected_zip(
            dispatcher, tracker, as_text(slot_value)) or clean_address(as_text(slot_value))
        if not is_plausible_address(address):
            dispatcher.utter_message(response=UTTER_INVALID_ADDRESS)
            return {"new_address": None}
        with open_repository() as repository:
            repository.save_address_draft(tracker.sender_id, address, dates.utc_now())
        return {"new_address": PENDING_ADDRESS}
