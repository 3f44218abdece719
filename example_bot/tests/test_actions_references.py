"""What customers refer back to, over the seeded demo shop: the order the bot just spoke of, the
product that says which order, an item named beside the one being returned, and answers at the
reason question that are no reason."""

from __future__ import annotations

import asyncio

from actions.forms import ActionAskOrderId
from actions.orders import ActionOrderStatus, ValidateCancelOrderForm
from actions.returns import ActionExchangeInfo, ActionRefundStatus, ValidateReturnForm
from rasa_sdk.executor import CollectingDispatcher
from test_actions import (  # noqa: F401 - seeded_template and shop_db are fixtures
    DOMAIN,
    EMMA,
    make_tracker,
    responses,
    run_action,
    seeded_template,
    shop_db,
    slot_events,
    texts,
)

NOAH = "C1004"  # ORD-10019 shipped (watch, car mount, air fryer); ORD-10021 paid
OLIVIA = "C1005"  # ORD-10023 two watches refunded; ORD-10025 pending watch
ETHAN = "C1008"  # ORD-10036: headphones, two kettles, bulbs
KETTLE = "Brevik Smart Kettle 1.7 L"


def _bot(text: str) -> dict:
    return {"event": "bot", "text": text}


def _user(text: str) -> dict:
    return {"event": "user", "text": text}


def test_the_order_the_bot_just_spoke_of_is_the_one_asked_about_again():
    history = [_user("send my scale to my office"),
               _bot("Order ORD-10002 already shipped with UPS, so I can't change its address."),
               _bot("What's the order number? Order numbers look like ORD-10001.")]
    tracker = make_tracker(EMMA, "ok how do i track it then", "order_status", history=history)
    messages, events = run_action(ActionOrderStatus(), tracker)
    assert "1ZRU0YAK1262057171" in texts(messages)
    assert slot_events(events)["order_id"] == "ORD-10002"
    # without a reference back, the customer is asked which order
    tracker = make_tracker(EMMA, "where is my order", "order_status", history=history)
    messages, _ = run_action(ActionOrderStatus(), tracker)
    assert "1ZRU0YAK1262057171" not in texts(messages)


def test_a_product_named_as_what_is_unwanted_says_which_order_to_cancel():
    tracker = make_tracker(NOAH, "cancel my order i dont want the air fryer anymore",
                           "cancel_order")
    messages, events = run_action(ValidateCancelOrderForm(), tracker)
    assert "ORD-10019" in texts(messages) and "already shipped" in texts(messages)
    assert "ORD-10021" not in texts(messages)


def test_the_orders_with_a_refund_decide_which_order_a_refund_question_means():
    tracker = make_tracker(OLIVIA, "did i ever get my money back for those watches i returned",
                           "refund_status")
    messages, _ = run_action(ActionRefundStatus(), tracker)
    assert "RMA-500005" in texts(messages) and "ORD-10025" not in texts(messages)


# The return form's slots as an earlier message left them.
SLOTS = {"order_id": "ORD-10036", "return_item": KETTLE, "requested_slot": "return_reason"}
FILLED = [{"event": "slot", "name": name, "value": value} for name, value in SLOTS.items()]


def test_answers_at_the_reason_question_that_are_no_reason_are_asked_again():
    slots = SLOTS
    # the order number the customer thinks is needed
    text = "i dont know the order number, its the one with the kettles and headphones"
    tracker = make_tracker(ETHAN, text, slots=slots, history=FILLED,
                           slot_candidates={"return_item": "headphones", "return_reason": text})
    messages, events = run_action(ValidateReturnForm(), tracker)
    assert slot_events(events)["return_item"] == KETTLE  # both named: no switch
    assert slot_events(events)["return_reason"] is None
    assert "ORD-10036" in texts(messages)
    # the item's own name
    tracker = make_tracker(ETHAN, "the kettle", slots=slots, history=FILLED,
                           slot_candidates={"return_reason": "the kettle"})
    messages, events = run_action(ValidateReturnForm(), tracker)
    assert slot_events(events)["return_reason"] is None
    assert responses(messages) == ["utter_ask_return_reason_again"]
    # a reason that names the item is a reason
    tracker = make_tracker(ETHAN, "the kettle leaks", slots=slots, history=FILLED,
                           slot_candidates={"return_reason": "the kettle leaks"})
    _, events = run_action(ValidateReturnForm(), tracker)
    assert slot_events(events)["return_reason"] == "the kettle leaks"


def test_another_item_named_alone_at_the_reason_question_replaces_the_first():
    slots = SLOTS
    # the first product word is the kettle; the repair layer has put the reason back to empty
    text = "actually not the kettle, the headphones"
    tracker = make_tracker(ETHAN, text, slots=slots, history=FILLED,
                           slot_candidates={"return_item": "kettle", "return_reason": None})
    messages, events = run_action(ValidateReturnForm(), tracker)
    assert slot_events(events)["return_item"] == "Kestrel Studio MH7 Monitor Headphones"
    assert "instead" in texts(messages)


def test_the_order_question_after_a_refusal_asks_for_another_order_once():
    def ask(*said: str) -> list[dict]:
        tracker = make_tracker(EMMA, "i want to return one thermostat from 10047",
                               "return_request")
        tracker.events.extend(_bot(text) for text in said)
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionAskOrderId().run(dispatcher, tracker, DOMAIN))
        return dispatcher.messages

    assert responses(ask()) == ["utter_ask_order_id"]
    refused = ask("Order ORD-10047 is still on its way (expected on December 14, 2026).")
    assert "another order" in texts(refused)
    assert ask("Order ORD-10027 already shipped. If you meant another order, tell me its "
               "number, or say stop.") == []


def test_an_exchange_question_naming_an_item_is_about_its_order_not_the_last_tasks():
    text = "the x200 i got last week crackles in the left ear. can i swap it for a new one"
    tracker = make_tracker(EMMA, text, "exchange", slots={"order_id": "ORD-10006"},
                           history=[{"event": "slot", "name": "order_id", "value": "ORD-10006"}])
    messages, events = run_action(ActionExchangeInfo(), tracker)
    assert "ORD-10001" in texts(messages) and "ORD-10006" not in texts(messages)


def test_the_item_wanted_instead_in_an_exchange_says_nothing_about_the_order():
    """ "swap them for the x100" right after returning the X200 of ORD-10001: the X100 is what
    the customer wants, not the order of theirs it is in (ORD-10006, not yet shipped)."""
    text = "oh wait can i just swap them for the x100 instead of getting money back"
    tracker = make_tracker(EMMA, text, "exchange", slots={"order_id": "ORD-10001"},
                           history=[{"event": "slot", "name": "order_id", "value": "ORD-10001"}])
    messages, _ = run_action(ActionExchangeInfo(), tracker)
    assert "ORD-10006" not in texts(messages)
    assert "place a new order" in texts(messages)
