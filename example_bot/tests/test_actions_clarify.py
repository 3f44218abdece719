"""Natural answers the order and return actions understand, over the seeded demo shop.

Return items by short name, brand or category; the order of an item named first ("i want to
return my kettle"); order descriptions ("the one that's on its way"); ZIP codes that are not order
ids; addresses typed with an apology around them; handoff reasons.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from actions.handoff import NO_REASON, ActionHandoff
from actions.orders import (
    ActionChangeAddress,
    ActionOrderStatus,
    ValidateCancelOrderForm,
    ValidateChangeAddressForm,
)
from actions.returns import ActionRefundStatus, ValidateReturnForm
from shop import dates
from shop.address import with_zip
from shop.db import HandoffTicket, get_engine, session_scope
from shop.repository import ShopRepository, match_order_item
from sqlalchemy import select
from test_actions import (  # noqa: F401 - seeded_template and shop_db are fixtures
    EMMA,
    LIAM,
    SOFIA,
    make_tracker,
    order_entity,
    order_row,
    responses,
    run_action,
    seeded_template,
    shop_db,
    slot_events,
    texts,
)

X200 = "Auralis X200 Headphones"
CABLE = "Veltro Braided USB-C Cable 2 m"
PENDING_ADDRESS = "[ADDRESS]"  # the change-address form's slot value while the draft waits


def address_draft(conversation_id: str) -> str | None:
    """The address the change-address form keeps for a conversation (in the shop database)."""
    with session_scope(get_engine()) as session:
        return ShopRepository(session).address_draft(conversation_id)


def buttons(messages: list[dict[str, Any]]) -> list[str]:
    """The payloads of every button the bot sent."""
    return [button["payload"] for message in messages for button in message.get("buttons") or []]


def form_turn(
    validator,
    sender: str,
    text: str,
    candidates: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    requested: str | None = None,
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
):
    """One validation run of a form: the customer's message, the slots mapped from it."""
    all_slots = {"requested_slot": requested, **(slots or {})}
    tracker = make_tracker(
        sender,
        text,
        intent,
        entities,
        slots=all_slots,
        slot_candidates=candidates,
        history=history,
    )
    return run_action(validator, tracker)


# Return item: short name, brand, category, typos ---------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("the headphones", X200),
        ("the auralis pair", X200),
        ("my headphnes", X200),
        ("the over-ear ones", X200),
        ("the cable", CABLE),
        ("the usb c cabel", CABLE),
        ("the braided one", CABLE),
        ("the second one", CABLE),
    ],
)
def test_return_item_by_short_name_brand_category_and_typo(answer, expected):
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        answer,
        {"return_item": answer},
        {"order_id": "ORD-10001"},
        "return_item",
    )
    assert slot_events(events)["return_item"] == expected
    assert messages == []


@pytest.mark.parametrize("answer", ["the watch", "my keyboard", "the kestrel one"])
def test_return_item_of_another_order_or_already_returned(answer):
    # ORD-10005: keyboard, and a mouse that already has a return: "the kestrel one" is the
    # keyboard; "the watch" is not in the order.
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        answer,
        {"return_item": answer},
        {"order_id": "ORD-10005"},
        "return_item",
    )
    if answer == "the watch":
        assert slot_events(events)["return_item"] is None
        assert "The order contains" in texts(messages)
        assert buttons(messages) == ["Kestrel MK850 Wireless Keyboard"]  # the returnable one
    else:
        assert slot_events(events)["return_item"] == "Kestrel MK850 Wireless Keyboard"


def test_two_matching_items_get_a_choice_question_with_buttons():
    # ORD-10009 (Liam): Quillon Dock 7-in-1 USB-C Hub and Quillon PowerBrick 100 W GaN Charger.
    messages, events = form_turn(
        ValidateReturnForm(),
        LIAM,
        "the quillon thing",
        {"return_item": "the quillon thing"},
        {"order_id": "ORD-10009"},
        "return_item",
    )
    assert slot_events(events)["return_item"] is None
    assert "more than one item" in texts(messages)
    assert buttons(messages) == [
        "Quillon Dock 7-in-1 USB-C Hub",
        "Quillon PowerBrick 100 W GaN Charger",
    ]
    # Clicking a button sends the product name, which is then accepted.
    _, events = form_turn(
        ValidateReturnForm(),
        LIAM,
        "Quillon PowerBrick 100 W GaN Charger",
        {"return_item": "Quillon PowerBrick 100 W GaN Charger"},
        {"order_id": "ORD-10009"},
        "return_item",
    )
    assert slot_events(events)["return_item"] == "Quillon PowerBrick 100 W GaN Charger"


def test_item_not_in_the_order_lists_the_items_as_buttons():
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        "my kettle",
        {"return_item": "my kettle"},
        {"order_id": "ORD-10001"},
        "return_item",
    )
    assert slot_events(events)["return_item"] is None
    assert "The order contains" in texts(messages)
    assert buttons(messages) == [X200, CABLE]


def test_accepted_order_lists_its_items_as_buttons():
    messages, events = form_turn(
        ValidateReturnForm(), EMMA, "ORD-10001", {"order_id": "ORD-10001"}, requested="order_id"
    )
    assert slot_events(events) == {"order_id": "ORD-10001"}
    assert "until" in texts(messages)
    assert buttons(messages) == [X200, CABLE]


@pytest.mark.parametrize(
    ("order_id", "answer", "expected"),
    [
        ("ORD-10002", "the watch", "Nimbra Pulse 3 Smartwatch"),
        ("ORD-10002", "the nimbra", "Nimbra Pulse 3 Smartwatch"),
        ("ORD-10004", "my kettle", "Brevik Smart Kettle 1.7 L"),
        ("ORD-10004", "the ketle", "Brevik Smart Kettle 1.7 L"),
        ("ORD-10006", "the power bank", "Halcyra PowerBank 20000"),
        ("ORD-10005", "KES-M3", "Kestrel Glide M3 Mouse"),
        ("ORD-10005", "the last one", "Kestrel Glide M3 Mouse"),
    ],
)
def test_match_order_item(order_id, answer, expected):
    with session_scope(get_engine()) as session:
        order = ShopRepository(session).order(EMMA, order_id)
    item, candidates = match_order_item(order, answer)
    assert item.product.name == expected and candidates == ()


def test_the_kestrel_one_picks_the_item_that_can_still_be_returned():
    with session_scope(get_engine()) as session:
        check = ShopRepository(session).check_return(
            EMMA, "ORD-10005", "the kestrel one", dates.today()
        )
    assert check.outcome == "ok" and check.item.product.sku == "KES-MK850"


# Product from the customer's history (no order id yet) -----------------------------------------


def test_return_my_kettle_delivered_45_days_ago_takes_the_warranty_path():
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        "i want to return my kettle",
        {"return_item": "kettle"},
        intent="return_request",
    )
    # The return ends with the warranty path and the offer of a colleague.
    assert slot_events(events) == {"order_id": None, "return_item": None, "requested_slot": None}
    text = texts(messages)
    assert "Brevik Smart Kettle 1.7 L from order ORD-10004" in text
    assert "30-day return window closed" in text
    assert "24-month warranty" in text  # catalog.csv: BRE-KETTLE17, 24 months
    assert "short description" in text
    assert [m.get("response") for m in messages][-1] == "utter_offer_handoff"


def test_return_the_headphones_finds_the_order_in_the_window():
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        "I'd like to send back the headphones",
        {"return_item": "headphones"},
        intent="return_request",
    )
    assert slot_events(events) == {"order_id": "ORD-10001", "return_item": X200}
    assert "from order ORD-10001" in texts(messages) and "until" in texts(messages)


def test_item_of_an_order_still_on_its_way_is_explained():
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        "return the pulse watch",
        {"return_item": "the pulse watch"},
        intent="return_request",
    )
    assert slot_events(events) == {"order_id": None, "return_item": None}
    assert "ORD-10002 is still on its way" in texts(messages)


def test_item_in_several_orders_picks_the_only_one_it_can_still_be_returned_from():
    # Sofia: Pulse 3 Lite (ORD-10014, returnable) and Fit 2 band (ORD-10017, returned).
    messages, events = form_turn(
        ValidateReturnForm(),
        SOFIA,
        "my smartwatch",
        {"return_item": "my smartwatch"},
        intent="return_request",
    )
    assert slot_events(events) == {
        "order_id": "ORD-10014",
        "return_item": "Nimbra Pulse 3 Lite Smartwatch",
    }
    assert "ORD-10014" in texts(messages)


def test_item_never_bought_offers_the_returnable_orders():
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        "my drone",
        {"return_item": "my drone"},
        requested="return_item",
    )
    assert slot_events(events) == {"return_item": None}
    assert "couldn't find" in texts(messages)
    assert buttons(messages) == ["ORD-10001", "ORD-10005"]


def test_a_request_that_names_no_item_of_theirs_is_left_to_the_form():
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        "i want to return something",
        {"return_item": "i want to return something"},
        intent="return_request",
    )
    assert slot_events(events) == {"return_item": None}
    assert messages == []  # the form asks for the order next


def test_soundbar_past_the_window_states_its_own_warranty():
    messages, events = form_turn(
        ValidateReturnForm(),
        LIAM,
        "the soundbar",
        {"return_item": "speakers"},
        intent="return_request",
    )
    assert slot_events(events) == {"order_id": None, "return_item": None, "requested_slot": None}
    assert "36-month warranty" in texts(messages)  # LUM-BAR31
    assert "utter_offer_handoff" in [m.get("response") for m in messages]


def test_unknown_visitor_cannot_look_up_history():
    messages, events = form_turn(
        ValidateReturnForm(), "web-visitor", "my kettle", {"return_item": "kettle"}
    )
    assert responses(messages) == ["utter_account_not_found"]
    # Without an account the form ends at once instead of asking for an order.
    assert slot_events(events) == {"return_item": None, "requested_slot": None}
    assert not any(event.get("event") == "followup" for event in events)


def test_a_visitors_question_is_still_answered_from_the_knowledge():
    messages, events = form_turn(
        ValidateReturnForm(), "web-visitor", "got a kettle as a gift, can i give it back?",
        {"return_item": "kettle"}, intent="return_request",
    )
    assert responses(messages) == ["utter_account_not_found"]
    assert {"event": "followup", "name": "utter_llm_answer"} in [
        {key: event.get(key) for key in ("event", "name")} for event in events
    ]


# Order clarification in the forms --------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "answer", "expected"),
    [
        (ValidateCancelOrderForm(), "the speaker one", "ORD-10003"),  # Wave 2 paid, Mini returned
        (ValidateCancelOrderForm(), "the pending one", "ORD-10006"),
        (ValidateChangeAddressForm(), "the one with the power bank", "ORD-10006"),
        (ValidateReturnForm(), "the one with the headphones", "ORD-10001"),
        (ValidateReturnForm(), "the keyboard order", "ORD-10005"),
    ],
)
def test_order_description_fills_the_order_id(validator, answer, expected):
    messages, events = form_turn(validator, EMMA, answer, requested="order_id")
    assert slot_events(events)["order_id"] == expected
    assert expected in texts(messages)  # the usual confirmation of the order


def test_a_request_describing_several_orders_offers_them():
    messages, events = form_turn(
        ValidateCancelOrderForm(), EMMA, "cancel my order that hasnt shipped yet",
        intent="cancel_order",
    )
    assert slot_events(events).get("order_id") is None
    assert set(buttons(messages)) == {"ORD-10003", "ORD-10006"}  # paid and pending
    # A request that describes no order leaves the question to the form.
    messages, _ = form_turn(ValidateCancelOrderForm(), EMMA, "cancel my order",
                            intent="cancel_order")
    assert messages == []


def test_descriptions_only_reach_the_customers_own_orders():
    # The soundbar is in Liam's ORD-10012: for Emma it fits none of her orders.
    messages, events = form_turn(
        ValidateCancelOrderForm(), EMMA, "the one with the soundbar", requested="order_id"
    )
    assert slot_events(events) == {"order_id": None}
    assert "ORD-10012" not in texts(messages) and "ORD-10012" not in buttons(messages)
    assert set(buttons(messages)) == {"ORD-10003", "ORD-10006"}


def test_order_that_is_on_its_way_is_found_and_then_refused_for_cancelling():
    messages, events = form_turn(
        ValidateCancelOrderForm(), EMMA, "the order that's on its way", requested="order_id"
    )
    assert slot_events(events)["order_id"] is None
    assert "ORD-10002 already shipped" in texts(messages)


def test_order_that_has_not_shipped_asks_with_buttons():
    messages, events = form_turn(
        ValidateCancelOrderForm(), EMMA, "the one that hasn't shipped yet", requested="order_id"
    )
    assert slot_events(events) == {"order_id": None}
    assert sorted(buttons(messages)) == ["ORD-10003", "ORD-10006"]  # the two not yet shipped


def test_my_last_order_is_the_newest():
    messages, events = form_turn(
        ValidateChangeAddressForm(), EMMA, "my last order", requested="order_id"
    )
    order_id = slot_events(events)["order_id"]
    assert order_id in ("ORD-10003", "ORD-10006")  # both placed today
    assert order_row(order_id).status in ("pending", "paid")


def test_unclear_answer_lists_the_orders_and_other_intents_are_left_alone():
    messages, events = form_turn(
        ValidateCancelOrderForm(), EMMA, "hmm not sure which one", requested="order_id"
    )
    assert slot_events(events) == {"order_id": None}
    assert "couldn't tell which order" in texts(messages)
    assert set(buttons(messages)) == {"ORD-10003", "ORD-10006"}  # the ones it could cancel
    # A question mid-form is not an answer: nothing is extracted, so the form can reject it.
    messages, events = form_turn(
        ValidateCancelOrderForm(),
        EMMA,
        "what's your return policy?",
        requested="order_id",
        intent="faq",
    )
    assert messages == [] and events == []


def test_description_only_read_when_the_form_asks_for_the_order():
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        "it was too heavy",
        {"return_reason": "it was too heavy"},
        {"order_id": "ORD-10001", "return_item": X200},
        "return_reason",
    )
    assert slot_events(events) == {"return_reason": "it was too heavy"}


# Order status, refund status: answers to "which order?" ---------------------------------------


def asked_history() -> list[dict[str, Any]]:
    """The bot has just listed the orders and asked which one."""
    return [
        {"event": "user", "text": "where is my order", "parse_data": {"intent": {"name": "x"}}},
        {"event": "action", "name": "action_order_status"},
        {"event": "bot", "text": "Your most recent orders: ..."},
        {"event": "action", "name": "action_listen"},
    ]


def test_order_status_after_the_list_understands_the_one_on_its_way():
    tracker = make_tracker(EMMA, "the order that's on its way", "inform", history=asked_history())
    messages, events = run_action(ActionOrderStatus(), tracker)
    assert "Order ORD-10002" in texts(messages) and "shipped" in texts(messages)
    assert slot_events(events)["order_id"] == "ORD-10002"


def test_order_status_question_is_not_taken_as_a_reference():
    tracker = make_tracker(EMMA, "has my order shipped?", "order_status")
    messages, events = run_action(ActionOrderStatus(), tracker)
    assert responses(messages) == ["utter_ask_order_id"]
    assert "Your most recent orders" in texts(messages)
    assert "Order ORD-10002" not in texts(messages)
    assert len(buttons(messages)) == 3


def test_order_status_by_item_name():
    tracker = make_tracker(EMMA, "where is my smartwatch", "order_status")
    messages, events = run_action(ActionOrderStatus(), tracker)
    assert "Order ORD-10002" in texts(messages)


def test_refund_status_for_an_item_of_several_orders_takes_the_one_with_a_refund():
    # two orders have a speaker; only ORD-10007 was returned
    tracker = make_tracker(EMMA, "did I get my refund for the speaker", "refund_status")
    messages, events = run_action(ActionRefundStatus(), tracker)
    assert buttons(messages) == [] and "ORD-10007" in texts(messages)
    assert slot_events(events)["order_id"] == "ORD-10007"


# ZIP codes are never order ids --------------------------------------------------------------


def zip_entity(text: str, number: str) -> list[dict[str, Any]]:
    start = text.index(number)
    return [{"entity": "order_id", "value": number, "start": start, "end": start + len(number)}]


@pytest.mark.parametrize(
    ("sender", "text", "number"),
    [
        (EMMA, "5 Elm Rd, Springfield, IL 62704", "62704"),
        (LIAM, "my new address is 10 main st new york ny 10009", "10009"),  # Liam owns 10009
        (EMMA, "it's 742 Maple Avenue, Columbus, OH 43215", "43215"),
    ],
)
def test_order_status_never_reads_a_zip_code_as_an_order(sender, text, number):
    tracker = make_tracker(
        sender, text, "inform", zip_entity(text, number), slots={"order_id": number}
    )
    messages, events = run_action(ActionOrderStatus(), tracker)
    assert "utter_order_not_found" not in responses(messages)
    assert f"ORD-{number}" not in texts(messages)
    assert "looks like an address" in texts(messages)
    assert slot_events(events)["order_id"] is None


def test_order_id_before_the_address_still_counts():
    text = "change order 10006 to 5 Elm Rd, Springfield, IL 62704"
    tracker = make_tracker(EMMA, text, "order_status", zip_entity(text, "10006"))
    messages, _ = run_action(ActionOrderStatus(), tracker)
    assert "Order ORD-10006" in texts(messages)


def test_change_address_form_takes_the_address_and_not_its_zip():
    text = "I moved, my new address is 10 main st new york ny 10009"
    messages, events = form_turn(
        ValidateChangeAddressForm(),
        LIAM,
        text,
        {"order_id": "10009"},
        intent="change_address",
        entities=zip_entity(text, "10009"),
    )
    # The slot holds a placeholder; the address waits as the conversation's draft in the shop
    # database, so that the tracker store never has it.
    assert slot_events(events) == {"new_address": PENDING_ADDRESS, "order_id": None}
    assert address_draft(LIAM) == "10 main st new york ny 10009"
    assert messages == []  # no "order not found", no order of Liam's described


def test_order_id_and_address_in_the_request_that_starts_the_form():
    # the slot mapping took the last number, the ZIP code; the order is the other one
    text = "Could you change the delivery address of 10006 to 5 Elm Rd, Springfield, IL 62704?"
    messages, events = form_turn(
        ValidateChangeAddressForm(),
        EMMA,
        text,
        {"order_id": "62704"},
        intent="change_address",
        entities=zip_entity(text, "10006") + zip_entity(text, "62704"),
    )
    assert slot_events(events) == {"new_address": PENDING_ADDRESS, "order_id": "ORD-10006"}
    assert address_draft(EMMA) == "5 Elm Rd, Springfield, IL 62704"
    assert "Order ORD-10006" in texts(messages)


def test_address_typed_during_the_return_form_keeps_the_order():
    text = "it went to my old address 5 Elm Rd, Springfield, IL 62704 and arrived broken"
    history = [
        {"event": "slot", "name": "order_id", "value": "ORD-10001"},
        {"event": "slot", "name": "return_item", "value": X200},
    ]
    messages, events = form_turn(
        ValidateReturnForm(),
        EMMA,
        text,
        {"order_id": "62704", "return_reason": text},
        {"order_id": "62704", "return_item": X200},
        "return_reason",
        entities=zip_entity(text, "62704"),
        history=history,
    )
    assert slot_events(events)["order_id"] == "ORD-10001"
    assert slot_events(events)["return_reason"] == text
    assert "utter_order_not_found" not in responses(messages)


def test_a_corrected_zip_code_right_after_the_change_takes_the_orders_address():
    # "Done: order ORD-10006 will be shipped to ..., IL 62704." then the repair policy runs the
    # form again: the slot mapping took the ZIP code for an order id
    shipped_to = order_row("ORD-10006").shipping_address
    text = "oops sorry the zip is wrong, its 60611"
    messages, events = form_turn(
        ValidateChangeAddressForm(),
        EMMA,
        text,
        {"order_id": "60611"},
        {"order_id": "60611"},
        entities=zip_entity(text, "60611"),
        history=[{"event": "slot", "name": "order_id", "value": "ORD-10006"}],
    )
    assert slot_events(events) == {"new_address": PENDING_ADDRESS, "order_id": "ORD-10006"}
    assert address_draft(EMMA) == with_zip(shipped_to, "60611") != shipped_to
    assert "utter_order_not_found" not in responses(messages)


# Address slots keep only the address -----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "oops: 5 Elm Rd, Springfield, IL 62704",
        "sorry, it's 5 Elm Rd, Springfield, IL 62704",
        "my new address is 5 Elm Rd, Springfield, IL 62704",
        "ship it to 5 Elm Rd, Springfield, IL 62704 please",
        "actually 5 Elm Rd, Springfield, IL 62704",
        "Sorry about that! The correct address is 5 Elm Rd, Springfield, IL 62704, thanks!",
    ],
)
def test_new_address_is_cleaned_of_apologies_and_fillers(typed):
    messages, events = form_turn(
        ValidateChangeAddressForm(),
        EMMA,
        typed,
        {"new_address": typed},
        {"order_id": "ORD-10006"},
        "new_address",
    )
    assert slot_events(events) == {"new_address": PENDING_ADDRESS}
    assert address_draft(EMMA) == "5 Elm Rd, Springfield, IL 62704"
    assert messages == []


@pytest.mark.parametrize(
    "typed", ["I don't know it by heart", "what's your return policy?", "ORD-10006", "my zip 62704"]
)
def test_message_that_is_not_an_address_is_rejected(typed):
    messages, events = form_turn(
        ValidateChangeAddressForm(),
        EMMA,
        typed,
        {"new_address": typed},
        {"order_id": "ORD-10006"},
        "new_address",
    )
    assert slot_events(events) == {"new_address": None}
    assert responses(messages) == ["utter_invalid_address"]


def test_change_address_action_saves_only_the_address():
    typed = "oops: 5 Elm Rd, Springfield, IL 62704"
    tracker = make_tracker(EMMA, typed, slots={"order_id": "ORD-10006", "new_address": typed})
    messages, _ = run_action(ActionChangeAddress(), tracker)
    assert order_row("ORD-10006").shipping_address == "5 Elm Rd, Springfield, IL 62704"
    assert "will be shipped to 5 Elm Rd, Springfield, IL 62704." in texts(messages)


# Handoff reason ------------------------------------------------------------------------------


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def ticket_reason(tracker) -> str:
    _, events = run_action(ActionHandoff(), tracker)
    ticket = slot_events(events)["handoff_ticket"]
    with session_scope(get_engine()) as session:
        row = session.scalars(
            select(HandoffTicket).where(HandoffTicket.ticket_number == ticket)
        ).one()
        assert json.loads(row.transcript)[-1]["text"] == tracker.latest_message["text"]
        return row.reason


def test_frustrated_request_for_a_person_is_the_reason():
    history = [
        user("where is ORD-10002", "order_status"),
        {"event": "bot", "text": "Order ORD-10002 shipped on ..."},
    ]
    tracker = make_tracker(
        EMMA, "you're no help, get me someone real", "human_handoff", history=history
    )
    assert ticket_reason(tracker) == "you're no help, get me someone real"


@pytest.mark.parametrize("answer", ["yes", "yes please", "sure, go ahead"])
def test_yes_to_the_offer_keeps_the_earlier_problem(answer):
    history = [
        user("my kettle stopped working after a week", "nlu_fallback"),
        {"event": "bot", "text": "Would you like me to pass this on to a colleague?"},
    ]
    tracker = make_tracker(EMMA, answer, "affirm", history=history)
    assert ticket_reason(tracker) == "my kettle stopped working after a week"


def test_bare_request_without_any_reason():
    tracker = make_tracker(EMMA, "human please", "human_handoff")
    assert ticket_reason(tracker) == NO_REASON


def test_the_request_that_starts_the_cancel_form_may_name_the_order_by_its_item():
    # Emma's power banks are in ORD-10006 (pending), her only order with them.
    messages, events = form_turn(
        ValidateCancelOrderForm(), EMMA, "cancel the power bank order", intent="cancel_order"
    )
    assert slot_events(events)["order_id"] == "ORD-10006"
    # A request that fits no order stays silent: the form asks for the order next.
    messages, events = form_turn(
        ValidateCancelOrderForm(), EMMA, "i want to cancel an order", intent="cancel_order"
    )
    assert "order_id" not in slot_events(events) and messages == []
