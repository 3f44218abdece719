"""Order actions: status and tracking, cancellation, shipping address change (and their forms)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop import dates
from shop.repository import CustomerView, OrderChange, OrderView, ShopRepository

from actions.common import (
    UTTER_ASK_ORDER_ID,
    ShopAction,
    ShopFormValidationAction,
    as_text,
    checked_order_id,
    customer_order,
    latest_intent,
    open_repository,
    requested_order_id,
    text_slot,
    utter_order_not_found,
    verified_customer,
)
from actions.formatting import CANCELLATION_REFUND_BUSINESS_DAYS, describe_order, money

UTTER_CANCEL_NOT_CONFIRMED = "utter_cancel_not_confirmed"
UTTER_INVALID_ADDRESS = "utter_invalid_address"
MIN_ADDRESS_LENGTH = 10
MAX_ADDRESS_LENGTH = 300


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
    return customer, checked_order_id(dispatcher, text_slot(tracker, "order_id"))


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
            verified = SlotSet("customer_verified", True)
            raw = requested_order_id(tracker)
            if raw is None:
                recent = repository.recent_orders(customer.id, limit=3)
                if recent:
                    listing = "; ".join(f"{order.id} ({order.status})" for order in recent)
                    dispatcher.utter_message(text=f"Your most recent orders: {listing}.")
                dispatcher.utter_message(response=UTTER_ASK_ORDER_ID)
                return [verified]
            order = customer_order(dispatcher, repository, customer.id, raw)
            if order is None:
                return [verified, SlotSet("order_id", None)]
            dispatcher.utter_message(text=describe_order(order, dates.today()))
            return [verified, SlotSet("order_id", order.id)]


class ActionCancelOrder(ShopAction):
    """Cancels an order after the customer confirmed; the status is re-checked in the database."""

    def name(self) -> str:
        return "action_cancel_order"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if latest_intent(tracker) != "affirm":
            # Only ever cancel right after an explicit "yes" to the confirmation question.
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
            address = text_slot(tracker, "new_address")
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


def is_plausible_address(address: str | None) -> bool:
    """A postal address needs some length, a number (house or postcode) and letters."""
    if not address:
        return False
    text = address.strip()
    return (
        MIN_ADDRESS_LENGTH <= len(text) <= MAX_ADDRESS_LENGTH
        and any(character.isdigit() for character in text)
        and sum(character.isalpha() for character in text) >= 4
    )


class _NotShippedOrderFormValidation(ShopFormValidationAction, ABC):
    """Validates the order_id of the cancel and change-address forms."""

    @abstractmethod
    def refused_text(self, order: OrderView) -> str:
        """Why the form cannot go on with this order (it has shipped or is cancelled)."""

    def validate_order_id(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return {"order_id": None}
            order = customer_order(dispatcher, repository, customer.id, as_text(slot_value))
            if order is None:
                return {"order_id": None}
            if order.status not in ("pending", "paid"):
                dispatcher.utter_message(
                    text=f"{self.refused_text(order)} If you meant another order, tell me its "
                    "number, or say stop."
                )
                return {"order_id": None}
            dispatcher.utter_message(text=describe_order(order, dates.today()))
            return {"order_id": order.id}


class ValidateCancelOrderForm(_NotShippedOrderFormValidation):
    """Accepts only the customer's own orders that have not shipped yet."""

    def name(self) -> str:
        return "validate_cancel_order_form"

    def refused_text(self, order: OrderView) -> str:
        return _cancel_refused_text(order)


class ValidateChangeAddressForm(_NotShippedOrderFormValidation):
    """Accepts the customer's own not-yet-shipped orders and a plausible postal address."""

    def name(self) -> str:
        return "validate_change_address_form"

    def refused_text(self, order: OrderView) -> str:
        return _address_refused_text(order)

    def validate_new_address(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        address = as_text(slot_value)
        if not is_plausible_address(address):
            dispatcher.utter_message(response=UTTER_INVALID_ADDRESS)
            return {"new_address": None}
        return {"new_address": address}
