"""Return actions: the return form's validation, return submission, refund status, exchanges."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop import dates
from shop.ids import normalize_order_id
from shop.repository import ReturnCheck

from actions.common import (
    UTTER_ASK_ORDER_ID,
    ShopAction,
    ShopFormValidationAction,
    as_text,
    checked_order_id,
    customer_for,
    customer_order,
    open_repository,
    requested_order_id,
    text_slot,
    utter_order_not_found,
    verified_customer,
)
from actions.formatting import (
    CANCELLATION_REFUND_BUSINESS_DAYS,
    REFUND_PROCESSING_BUSINESS_DAYS,
    describe_return,
    item_label,
    money,
    not_returnable_reason,
    returnable_items_text,
)

UTTER_RETURN_INCOMPLETE = "utter_return_incomplete"
UTTER_ASK_RETURN_REASON_AGAIN = "utter_ask_return_reason_again"
UTTER_EXCHANGE_POLICY = "utter_exchange_policy"
MIN_REASON_LENGTH = 3


def _check_problem_text(check: ReturnCheck, item_query: str | None) -> str:
    """A reply for every outcome of a return check other than "ok"/"created"."""
    order = check.order
    if check.outcome == "item_not_found":
        names = "; ".join(item_label(item) for item in order.items)
        return (
            f'I couldn\'t tell which item of order {order.id} you mean by "{item_query}". '
            f"The order contains: {names}. Which one would you like to return?"
        )
    if check.outcome == "item_already_returned":
        return (
            f"{check.item.product.name} from order {order.id} already has a return request "
            f"({check.item.return_rma}); each item can be returned once."
        )
    return not_returnable_reason(order, check.outcome, dates.today())


def _utter_check_problem(
    dispatcher: CollectingDispatcher, check: ReturnCheck, order_id: str, item_query: str | None
) -> None:
    """Tells the customer why a return check did not pass."""
    if check.outcome == "order_not_found":
        utter_order_not_found(dispatcher, order_id)
    else:
        dispatcher.utter_message(text=_check_problem_text(check, item_query))


class ValidateReturnForm(ShopFormValidationAction):
    """Applies the return policy while the return form collects order, item and reason."""

    def name(self) -> str:
        return "validate_return_form"

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
            order_id = checked_order_id(dispatcher, as_text(slot_value))
            if order_id is None:
                return {"order_id": None}
            check = repository.check_return(customer.id, order_id, None, dates.today())
        if check.outcome != "ok":
            _utter_check_problem(dispatcher, check, order_id, None)
            return {"order_id": None}
        if not tracker.get_slot("return_item"):
            dispatcher.utter_message(text=returnable_items_text(check.order))
        return {"order_id": check.order.id}

    def validate_return_item(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        item_query = as_text(slot_value)
        if not item_query:
            return {"return_item": None}
        order_id = normalize_order_id(tracker.get_slot("order_id"))
        if order_id is None:
            # The order is asked next; action_submit_return checks the item against it.
            return {"return_item": item_query}
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return {"return_item": None}
            check = repository.check_return(customer.id, order_id, item_query, dates.today())
        if check.outcome == "ok":
            return {"return_item": check.item.product.name}
        _utter_check_problem(dispatcher, check, order_id, item_query)
        if check.outcome in ("item_not_found", "item_already_returned"):
            return {"return_item": None}
        return {"return_item": None, "order_id": None}

    def validate_return_reason(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        reason = as_text(slot_value)
        if len(reason) < MIN_REASON_LENGTH:
            dispatcher.utter_message(response=UTTER_ASK_RETURN_REASON_AGAIN)
            return {"return_reason": None}
        return {"return_reason": reason[:500]}


class ActionSubmitReturn(ShopAction):
    """Re-checks the policy and registers the return, answering with the RMA number."""

    def name(self) -> str:
        return "action_submit_return"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet("return_item", None), SlotSet("return_reason", None)]
        order_id = normalize_order_id(tracker.get_slot("order_id"))
        item_query = text_slot(tracker, "return_item")
        reason = text_slot(tracker, "return_reason")
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return reset
            if order_id is None or item_query is None or reason is None:
                dispatcher.utter_message(response=UTTER_RETURN_INCOMPLETE)
                return reset
            result = repository.create_return(
                customer.id, order_id, item_query, reason, dates.today(), dates.utc_now()
            )
            if result.outcome != "created":
                _utter_check_problem(dispatcher, result, order_id, item_query)
                if result.outcome == "order_not_found":
                    return [*reset, SlotSet("order_id", None)]
                return reset
            shipping_note = (
                "a prepaid UPS return label by email within 1 business day"
                if customer.country == "United States"
                else "the return address by email within 1 business day (return shipping from "
                "outside the US is paid by you unless the item is defective)"
            )
            dispatcher.utter_message(
                text=(
                    f"Your return is registered: {result.rma_number} for "
                    f"{item_label(result.item)} from order {result.order.id}. You'll get "
                    f"{shipping_note}; please send the item within 14 days. We refund "
                    f"{money(result.item.total_cents)} to your {result.order.payment_method} "
                    f"within {REFUND_PROCESSING_BUSINESS_DAYS} business days after it arrives."
                ),
            )
            return reset


class ActionRefundStatus(ShopAction):
    """Shows the returns and refunds of one of the customer's orders."""

    def name(self) -> str:
        return "action_refund_status"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return []
            raw = requested_order_id(tracker)
            if raw is None:
                dispatcher.utter_message(response=UTTER_ASK_ORDER_ID)
                return []
            order = customer_order(dispatcher, repository, customer.id, raw)
            if order is None:
                return [SlotSet("order_id", None)]
        if order.returns:
            lines = [describe_return(record, order.payment_method) for record in order.returns]
            dispatcher.utter_message(text=f"Refunds for order {order.id}:\n" + "\n".join(lines))
        elif order.status == "cancelled" and order.cancelled_at:
            due = dates.add_business_days(
                order.cancelled_at.date(), CANCELLATION_REFUND_BUSINESS_DAYS
            )
            dispatcher.utter_message(
                text=(
                    f"Order {order.id} was cancelled on {dates.format_date(order.cancelled_at)}; "
                    f"the payment of {money(order.total_cents)} on your {order.payment_method} is "
                    f"released or refunded by {dates.format_date(due)}."
                )
            )
        else:
            dispatcher.utter_message(
                text=(
                    f"There is no return or refund for order {order.id} yet. If you'd like to "
                    "return something from it, just tell me."
                )
            )
        return [SlotSet("order_id", order.id)]


class ActionExchangeInfo(ShopAction):
    """Explains exchanges, tailored to the customer's order when one is given."""

    def name(self) -> str:
        return "action_exchange_info"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order_id = normalize_order_id(requested_order_id(tracker))
        if order_id is None:
            dispatcher.utter_message(response=UTTER_EXCHANGE_POLICY)
            return []
        with open_repository() as repository:
            customer = customer_for(repository, tracker)
            if customer is None:
                dispatcher.utter_message(response=UTTER_EXCHANGE_POLICY)
                return []
            check = repository.check_return(customer.id, order_id, None, dates.today())
        if check.outcome != "ok":
            _utter_check_problem(dispatcher, check, order_id, None)
            # An order id that is not the customer's is forgotten; their own order stays the topic.
            return [SlotSet("order_id", None if check.outcome == "order_not_found" else order_id)]
        order = check.order
        stock_notes = [
            f"{item.product.name} is {'in stock' if item.product.in_stock else 'out of stock'}"
            for item in order.returnable_items
        ]
        dispatcher.utter_message(
            text=(
                f"Order {order.id} can be returned until "
                f"{dates.format_date(order.return_deadline)}. We don't swap items for a different "
                "model or colour: return it for a refund and place a new order. If an item is "
                "defective, we replace it with the same product as soon as the carrier scans your "
                f"return, if it is in stock ({'; '.join(stock_notes)}), otherwise you get a full "
                "refund. Shall I start a return?"
            )
        )
        return [SlotSet("order_id", order.id)]
