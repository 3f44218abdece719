"""Return actions: the return form's validation, return submission, refund status, exchanges."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop import dates
from shop.ids import normalize_order_id
from shop.reasons import stated_reason
from shop.references import item_candidates, product_aliases, resolve_item
from shop.repository import CustomerView, ItemView, OrderView, ReturnCheck, ShopRepository

from actions.common import (
    ORDER_LOOKBACK,
    UTTER_ASK_ORDER_ID,
    OrderFormValidation,
    ShopAction,
    as_text,
    conversation_order,
    customer_for,
    customer_order,
    described_order,
    describes_another_order,
    echo,
    entity_values,
    guess_order,
    latest_text,
    open_repository,
    order_for_value,
    order_the_bot_named,
    requested_order_id,
    slot_before_latest_message,
    text_slot,
    utter_order_choice,
    utter_order_not_found,
    verified_customer,
)
from actions.formatting import (
    CANCELLATION_REFUND_BUSINESS_DAYS,
    REFUND_PROCESSING_BUSINESS_DAYS,
    describe_return,
    item_label,
    join_words,
    money,
    not_returnable_reason,
    returnable_items_text,
)
from rasa_llm_components.repair.choices import choice_message, stem
from rasa_llm_components.repair.cues import looks_like_correction

UTTER_RETURN_INCOMPLETE = "utter_return_incomplete"
UTTER_ASK_RETURN_REASON_AGAIN = "utter_ask_return_reason_again"
UTTER_EXCHANGE_POLICY = "utter_exchange_policy"
UTTER_OFFER_HANDOFF = "utter_offer_handoff"
REQUESTED_SLOT = "requested_slot"
MIN_REASON_LENGTH = 3


def _check_problem_text(check: ReturnCheck, item_query: str | None) -> str:
    """A reply for every outcome of a return check other than "ok"/"created"."""
    order = check.order
    if check.outcome == "item_not_found":
        if check.candidates:
            names = join_words([item.product.name for item in check.candidates], "or")
            return (
                f'Order {order.id} has more than one item that fits "{item_query}": {names}. '
                "Which one would you like to return?"
            )
        names = "; ".join(item_label(item) for item in order.items)
        return (
            f'Sorry, I didn\'t catch which item of order {order.id} you mean by "{item_query}". '
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
    """Tells the customer why a return check did not pass (with item buttons to pick from)."""
    if check.outcome == "order_not_found":
        utter_order_not_found(dispatcher, order_id)
    elif check.outcome == "item_not_found":
        items = check.candidates or check.order.returnable_items
        dispatcher.utter_message(
            **choice_message(_check_problem_text(check, item_query), item_candidates(items))
        )
    else:
        dispatcher.utter_message(text=_check_problem_text(check, item_query))


def _utter_returnable_items(dispatcher: CollectingDispatcher, order: OrderView) -> None:
    """Until when the order can be returned and its items, as buttons when there are several."""
    text = returnable_items_text(order)
    if len(order.returnable_items) > 1:
        dispatcher.utter_message(**choice_message(text, item_candidates(order.returnable_items)))
    else:
        dispatcher.utter_message(text=text)


def _utter_return_deadline(dispatcher: CollectingDispatcher, order: OrderView, name: str) -> None:
    dispatcher.utter_message(
        text=f"{name} from order {order.id}: you can return it until "
        f"{dates.format_date(order.return_deadline)}."
    )


def is_returnable(order: OrderView) -> bool:
    """Delivered within the last 30 days and with an item that has no return yet."""
    deadline = order.return_deadline
    return (
        order.status == "delivered"
        and deadline is not None
        and dates.today() <= deadline
        and bool(order.returnable_items)
    )


def warranty_text(order: OrderView, item: ItemView, customer: CustomerView) -> str:
    """The warranty path for an item delivered more than 30 days ago."""
    product = item.product
    delivered_on = order.delivered_on
    warranty_end = dates.add_months(delivered_on, product.warranty_months)
    head = (
        f"Your {product.name} from order {order.id} was delivered on "
        f"{dates.format_date(delivered_on)}, so the 30-day return window closed on "
        f"{dates.format_date(order.return_deadline)} and I can't register a return for it."
    )
    if dates.today() > warranty_end:
        return (
            f"{head} Its {product.warranty_months}-month warranty also ended on "
            f"{dates.format_date(warranty_end)}."
        )
    free_shipping = (
        " Shipping both ways is free for warranty claims within the United States."
        if customer.country == "United States"
        else ""
    )
    return (
        f"{head} If it is faulty, it is still covered by its {product.warranty_months}-month "
        f"warranty (until {dates.format_date(warranty_end)}): we repair or replace it. For a "
        f"warranty claim our support team needs the order number ({order.id}) and a short "
        "description of the problem (photos help); they answer within 2 business days and "
        f"complete the repair or replacement within 14 business days after it reaches us."
        f"{free_shipping}"
    )


class ValidateReturnForm(OrderFormValidation):
    """Applies the return policy while the return form collects order, item and reason.

    The item may come first ("I want to return my kettle"): then the order is looked up in the
    customer's order history.
    """

    def name(self) -> str:
        return "validate_return_form"

    def order_is_eligible(self, order: OrderView) -> bool:
        return is_returnable(order)

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
        # An item named earlier ("my kettle") is checked against the order now; one named in the
        # same message is checked by validate_return_item.
        item_query = None
        item_in_this_message = "return_item" in tracker.slots_to_validate()
        if not item_in_this_message:
            item_query = text_slot(tracker, "return_item")
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return {"order_id": None}
            if item_in_this_message and _names_an_item_of_another_order(
                repository, customer.id, tracker, raw
            ):
                # "the headphones crackle, i want to return them" after a declined cancellation
                # of ORD-10003: the item says which order, not the order of the earlier request.
                return {"order_id": None}
            order = order_for_value(
                dispatcher, repository, customer.id, raw, self.order_is_eligible
            )
            if order is None:
                return {"order_id": None}
            check = repository.check_return(customer.id, order.id, item_query, dates.today())
            if item_in_this_message and check.outcome == "ok":
                named = repository.check_return(
                    customer.id, order.id, text_slot(tracker, "return_item"), dates.today()
                )
                # "return for order 10030 please" names no item: as if it had named none
                item_in_this_message = not (
                    named.outcome == "item_not_found" and not named.candidates
                )
        if check.outcome == "ok" and item_query is None:
            if item_in_this_message:
                return {"order_id": check.order.id}
            items = check.order.returnable_items
            if len(items) == 1:
                # one item to return: asking "which one?" would only make the customer repeat it
                name = items[0].product.name
                _utter_return_deadline(dispatcher, check.order, name)
                return _with_stated_reason(
                    tracker, {"order_id": check.order.id, "return_item": name}
                )
            _utter_returnable_items(dispatcher, check.order)
            return {"order_id": check.order.id}
        if check.outcome == "ok":
            _utter_return_deadline(dispatcher, check.order, check.item.product.name)
            return _with_stated_reason(
                tracker, {"order_id": check.order.id, "return_item": check.item.product.name}
            )
        _utter_check_problem(dispatcher, check, order.id, item_query)
        if check.outcome in ("item_not_found", "item_already_returned"):
            return {"order_id": check.order.id, "return_item": None}
        return {"order_id": None}

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
        current = tracker.get_slot("return_item")
        if current and current != slot_value and "order_id" in tracker.slots_to_validate():
            # "oh sorry not that one, the other order. 10005" when asked which item: checking
            # the new order took the item named before (validate_order_id ran first)
            return {"return_item": current}
        order_id = normalize_order_id(tracker.get_slot("order_id"))
        if order_id is None and "order_id" in tracker.slots_to_validate() and (
            normalize_order_id(latest_text(tracker)) is not None
        ):
            # An order id given in the same message was not accepted: that is what to fix first.
            return {"return_item": item_query}
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return {"return_item": None}
            asked = tracker.get_slot(REQUESTED_SLOT) == "return_item"
            if order_id is None:
                earlier = None if asked else order_the_bot_named(
                    repository, customer.id, tracker, turns=3)
                if earlier is not None and is_returnable(earlier) and (
                    resolve_item(item_query, earlier.items).kind == "none"
                ):
                    # "ok then do the return now" after a stopped return of ORD-10014
                    return _with_stated_reason(tracker, _earlier_order(dispatcher, earlier))
                return _with_stated_reason(tracker, _item_from_history(
                    dispatcher, repository, customer, item_query, asked
                ))
            earlier = as_text(slot_before_latest_message(tracker, "return_item"))
            if earlier and tracker.get_slot(REQUESTED_SLOT) == "return_reason":
                # "actually not the soundbar, the mouse": the whole message says which item,
                # not the first product word in it
                order = repository.order(customer.id, order_id)
                item_query = _corrected_item(order, tracker, latest_text(tracker)) or item_query
            check = repository.check_return(customer.id, order_id, item_query, dates.today())
            if check.outcome == "item_not_found" and not asked and earlier:
                # "ok then i'll just return them": the item named before (in an exchange
                # question) stays, when it is one of this order's returnable items.
                check = repository.check_return(customer.id, order_id, earlier, dates.today())
        if check.outcome == "ok":
            name = check.item.product.name
            if earlier and earlier != name and tracker.get_slot(REQUESTED_SLOT) == "return_reason":
                if not _switches_item(latest_text(tracker), name, check.order):
                    # "its the one with the kettles and headphones": both named, no switch
                    return {"return_item": earlier}
                dispatcher.utter_message(text=f"Okay, the {name} instead.")  # "actually the ..."
            elif not asked and not earlier and "order_id" in tracker.slots_to_validate():
                # "return one of the wave mini speakers from order 10043": what will be
                # returned, and until when, before the reason is asked for
                _utter_return_deadline(dispatcher, check.order, name)
            return _with_stated_reason(tracker, {"return_item": name})
        if check.outcome == "item_not_found" and not asked:
            # the request named no item: the form asks for it, unless the order's one item was
            # taken when the order was checked (`validate_order_id` ran first)
            current = tracker.get_slot("return_item")
            return {"return_item": current if current != slot_value else None}
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
        if slot_value is None:
            return {"return_reason": None}  # cleared (a corrected item): the form asks again
        reason = as_text(slot_value)
        if len(reason) < MIN_REASON_LENGTH:
            dispatcher.utter_message(response=UTTER_ASK_RETURN_REASON_AGAIN)
            return {"return_reason": None}
        order_id = normalize_order_id(tracker.get_slot("order_id"))
        if order_id and _ABOUT_THE_ORDER_NUMBER.search(reason):
            # "i dont know the order number": no reason; the order is known already
            dispatcher.utter_message(text=f"No need, I have the order: {order_id}.")
            dispatcher.utter_message(response=UTTER_ASK_RETURN_REASON_AGAIN)
            return {"return_reason": None}
        with open_repository() as repository:
            order = conversation_order(repository, tracker, order_id)
        if _names_only_the_item(order, text_slot(tracker, "return_item"), reason):
            # "the keyboard" at "why are you returning it?": which item, no reason
            dispatcher.utter_message(response=UTTER_ASK_RETURN_REASON_AGAIN)
            return {"return_reason": None}
        other_item = _corrected_item(order, tracker, reason)
        if other_item:  # "actually the mouse": a new item, not the reason
            dispatcher.utter_message(text=f"Okay, the {other_item} instead.")
            return {"return_item": other_item, "return_reason": None}
        return {"return_reason": reason[:500]}


# A message about the order number is no return reason ("i dont know the order number").
_ABOUT_THE_ORDER_NUMBER = re.compile(
    r"(?i)\b(?:order|ord)\s*(?:number|no\b|nr\b|id\b|#)"
    r"|\b(?:don'?t|do not|can'?t|cannot) (?:know|have|remember|find) (?:the|my|its|it'?s) "
    r"(?:number|order)\b"
)
# A short answer naming an item at the reason question is about the item ("the mouse").
_SHORT_ITEM_ANSWER_WORDS = 5
_ITEM_NAME_WORDS = 3
_WORDS = re.compile(r"[a-z0-9]+")
_ARTICLES = frozenset("the my that this one it its a an".split())


def _switches_item(text: str, name: str, order: OrderView | None) -> bool:
    """Whether a message that names another item (`name`) at the reason question means that
    item: it names that one alone ("not the soundbar, the mouse"), not both ("the one with the
    kettles and headphones"), and it says it corrects or is short."""
    if order is not None:
        resolution = resolve_item(text, order.items)
        if resolution.kind != "match" or resolution.match.value != name:
            return False
    return looks_like_correction(text) or len(text.split()) <= _SHORT_ITEM_ANSWER_WORDS


def _with_stated_reason(tracker: Tracker, slots: dict[str, Any]) -> dict[str, Any]:
    """`slots` plus the reason the message gives ("... from 10001 - the left earcup crackles"),
    once the item to return is known and before the reason was asked for."""
    known_item = slots.get("return_item") and slots.get("order_id", True)
    if (
        known_item
        and tracker.get_slot("return_reason") is None
        and tracker.get_slot(REQUESTED_SLOT) != "return_reason"
    ):
        item = slots.get("return_item") or text_slot(tracker, "return_item") or ""
        reason = stated_reason(latest_text(tracker), str(item))
        if reason:
            slots["return_reason"] = reason[:500]
    return slots


def _names_an_item_of_another_order(
    repository: ShopRepository, customer_id: str, tracker: Tracker, raw: str
) -> bool:
    """Whether the latest message names an item (`return_item`) that is not in the order an
    earlier request left in the slot, but is in another of the customer's orders; an order id
    said in the message itself always counts."""
    earlier_id = normalize_order_id(slot_before_latest_message(tracker, "order_id"))
    named = text_slot(tracker, "return_item")
    if (
        not named or earlier_id is None or earlier_id != normalize_order_id(raw)
        or normalize_order_id(latest_text(tracker)) is not None
    ):
        return False
    earlier = repository.order(customer_id, earlier_id)
    others = [order for order in repository.recent_orders(customer_id, limit=ORDER_LOOKBACK)
              if order.id != earlier_id]
    if earlier is None or resolve_item(named, earlier.items).kind != "none":
        return False
    return resolve_item(named, [item for order in others for item in order.items]).kind != "none"


def _names_only_the_item(order: OrderView | None, item: str | None, text: str) -> bool:
    """Whether a short answer only names the item being returned ("the keyboard")."""
    if order is None or not item or len(text.split()) > _ITEM_NAME_WORDS:
        return False
    product = next((line.product for line in order.items if line.product.name == item), None)
    if product is None:
        return False
    vocabulary = {stem(word) for alias in (product.name, *product_aliases(product))
                  for word in _WORDS.findall(alias.lower())}
    words = [stem(word) for word in _WORDS.findall(text.lower()) if word not in _ARTICLES]
    return bool(words) and all(word in vocabulary for word in words)


def _corrected_item(order: OrderView | None, tracker: Tracker, text: str) -> str | None:
    """Another returnable item of the order, named with a correction cue ("actually the mouse")."""
    if order is None or not looks_like_correction(text):
        return None
    current = slot_before_latest_message(tracker, "return_item")
    resolution = resolve_item(text, order.returnable_items)
    if resolution.kind == "match" and resolution.match.value != current:
        return resolution.match.value
    return None


def _earlier_order(dispatcher: CollectingDispatcher, order: OrderView) -> dict[str, Any]:
    """The slots for returning from an order talked about before: the order, and its item
    when it has one to return."""
    items = order.returnable_items
    if len(items) != 1:
        _utter_returnable_items(dispatcher, order)
        return {"order_id": order.id, "return_item": None}
    _utter_return_deadline(dispatcher, order, items[0].product.name)
    return {"order_id": order.id, "return_item": items[0].product.name}


def _item_from_history(
    dispatcher: CollectingDispatcher,
    repository: ShopRepository,
    customer: CustomerView,
    item_query: str,
    asked: bool = True,
) -> dict[str, Any]:
    """The order of an item named before the order ("i want to return my kettle").

    One order with it: the order is filled in (or, delivered more than 30 days ago, the warranty
    path is explained and both slots are cleared). Several: a question with a button per order.
    None: the customer's returnable orders as buttons.
    """
    orders = repository.recent_orders(customer.id, limit=ORDER_LOOKBACK)
    resolution = resolve_item(item_query, [item for order in orders for item in order.items])
    if resolution.kind == "none":
        if not asked:  # the words of the request name none of their items: ask for the order
            return {"return_item": None}
        returnable = [order for order in orders if is_returnable(order)]
        intro = f'I couldn\'t find "{echo(item_query)}" in your orders.'
        if returnable:
            utter_order_choice(dispatcher, f"{intro} Orders you can return items from:", returnable)
        else:
            dispatcher.utter_message(text=intro)
        return {"return_item": None}
    names = {option.value for option in resolution.options}
    containing = [
        order for order in orders if any(item.product.name in names for item in order.items)
    ]
    returnable = [order for order in containing if is_returnable(order)]
    if len(returnable) == 1:
        containing = returnable  # the only order it can still be returned from
    if len(containing) > 1:
        containing.sort(key=lambda order: not is_returnable(order))  # returnable ones first
        intro = (
            f"You bought the {resolution.match.value} in more than one order:"
            if resolution.match
            else f'More than one of your orders has something that fits "{echo(item_query)}":'
        )
        utter_order_choice(dispatcher, intro, containing)
        return {"return_item": resolution.match.value if resolution.match else item_query}
    order = containing[0]
    items = [item for item in order.items if item.product.name in names]
    if resolution.kind == "ambiguous" and len(items) > 1:  # "the auralis ones": two in one order
        check = repository.check_return(customer.id, order.id, None, dates.today())
        if check.outcome != "ok":
            _utter_check_problem(dispatcher, check, order.id, item_query)
            return {"order_id": None, "return_item": None}
        check = ReturnCheck("item_not_found", order, candidates=tuple(items))
        _utter_check_problem(dispatcher, check, order.id, item_query)
        return {"order_id": order.id, "return_item": None}
    name = resolution.match.value if resolution.match else items[0].product.name
    check = repository.check_return(customer.id, order.id, name, dates.today())
    if check.outcome == "ok":
        dispatcher.utter_message(
            text=f"That's the {check.item.product.name} from order {order.id}, delivered on "
            f"{dates.format_date(order.delivered_on)}: you can return it until "
            f"{dates.format_date(order.return_deadline)}."
        )
        return {"order_id": order.id, "return_item": check.item.product.name}
    if check.outcome == "outside_window":
        item = next(item for item in order.items if item.product.name == name)
        dispatcher.utter_message(text=warranty_text(order, item, customer))
        # The return ends here with the offer of a colleague (yes -> handoff, by the repair layer).
        dispatcher.utter_message(response=UTTER_OFFER_HANDOFF)
        return {"order_id": None, "return_item": None, REQUESTED_SLOT: None}
    else:
        _utter_check_problem(dispatcher, check, order.id, resolution.match.value)
    return {"order_id": None, "return_item": None}


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
            reset.append(SlotSet("last_return", result.rma_number))
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


class ActionWithdrawReturn(ShopAction):
    """"Forget it, I'll keep them" right after a return was registered: withdraws it."""

    def name(self) -> str:
        return "action_withdraw_return"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rma_number = text_slot(tracker, "last_return")
        with open_repository() as repository:
            customer = verified_customer(dispatcher, repository, tracker)
            if customer is None:
                return []
            item = repository.withdraw_return(customer.id, rma_number) if rma_number else None
        if item is None:
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("last_return", None)]
        dispatcher.utter_message(
            text=f"Okay, I've withdrawn return {rma_number}: keep the {item}, nothing will be "
            "sent or refunded. Anything else I can do for you?"
        )
        return [SlotSet("last_return", None)]


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
            if raw is not None:
                order = customer_order(dispatcher, repository, customer.id, raw)
            else:
                order, asked = described_order(
                    dispatcher, repository, customer.id, tracker, _has_a_refund
                )
                if order is None and not asked:
                    order, asked = _order_with_refund(dispatcher, repository, customer.id)
                if order is None:
                    if not asked:
                        dispatcher.utter_message(response=UTTER_ASK_ORDER_ID)
                    return []
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
                    f"released or refunded within {CANCELLATION_REFUND_BUSINESS_DAYS} business "
                    f"days of the cancellation, by {dates.format_date(due)}."
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


def _has_a_refund(order: OrderView) -> bool:
    """Whether an order has a return or was cancelled (so a refund to tell about)."""
    return bool(order.returns) or order.status == "cancelled"


def _order_with_refund(
    dispatcher: CollectingDispatcher, repository: ShopRepository, customer_id: str
) -> tuple[OrderView | None, bool]:
    """ "where is my refund" without an order: the customer's one recent order with a return or
    a cancellation, else a question with a button per such order. Returns (order, asked)."""
    orders = [
        order for order in repository.recent_orders(customer_id, limit=ORDER_LOOKBACK)
        if _has_a_refund(order)
    ]
    if len(orders) == 1:
        return orders[0], False
    if orders:
        utter_order_choice(dispatcher, "Which order is it about? Orders with a refund:", orders)
        return None, True
    return None, False


# "swap them for the x100", "exchange the X100 for the X200": what the customer wants instead,
# which describes no order of theirs.
_WANTED_INSTEAD = re.compile(
    r"\b(?:for|into)\s+(?:a|an|the|another|other|some)?\s*[^,.;!?]*?(?=\s+instead\b|[,.;!?]|$)",
    re.IGNORECASE,
)


def without_wanted_item(text: str) -> str:
    """An exchange request without the item wanted instead ("swap them for the x100" ->
    "swap them")."""
    return _WANTED_INSTEAD.sub(" ", text)


class ActionExchangeInfo(ShopAction):
    """Explains exchanges, tailored to the customer's order when one is given."""

    def name(self) -> str:
        return "action_exchange_info"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order_id = normalize_order_id(requested_order_id(tracker))
        described = without_wanted_item(latest_text(tracker))
        with open_repository() as repository:
            customer = customer_for(repository, tracker)
            if customer is not None and (order_id is None or describes_another_order(
                repository, customer.id, tracker, described
            )):
                # "the x200 i got last week crackles", also after a task about another order
                guess = guess_order(repository, customer.id, described, statuses=False)
                order_id = guess.order.id if guess.kind == "match" else None
            if customer is None or order_id is None:
                dispatcher.utter_message(response=UTTER_EXCHANGE_POLICY)
                return []
            check = repository.check_return(customer.id, order_id, None, dates.today())
            named = entity_values(tracker, "product") or entity_values(tracker, "category")
            item_check = (
                repository.check_return(customer.id, order_id, named[-1], dates.today())
                if named and check.outcome == "ok" else None
            )
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
                f"{dates.format_date(order.return_deadline)} ({dates.RETURN_WINDOW_DAYS} days "
                "after delivery). We don't swap items for a different "
                "model or colour: return it for a refund and place a new order. If an item is "
                "defective, we replace it with the same product as soon as the carrier scans your "
                f"return, if it is in stock ({'; '.join(stock_notes)}), otherwise you get a full "
                "refund. Shall I start a return?"
            )
        )
        events = [SlotSet("order_id", order.id)]
        if item_check is not None and item_check.outcome == "ok":
            # "exchange the headphones from 10001": a return started next needs no item question
            events.append(SlotSet("return_item", item_check.item.product.name))
        return events
