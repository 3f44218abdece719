"""Tests of the custom actions over a temporary SQLite database seeded by the real seed code.

Every test gets its own copy of the seeded database, real rasa_sdk Trackers and a real
CollectingDispatcher.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import timedelta
from typing import Any

import pytest
from actions.handoff import ActionHandoff
from actions.orders import (
    ActionCancelOrder,
    ActionChangeAddress,
    ActionOrderStatus,
    ValidateCancelOrderForm,
    ValidateChangeAddressForm,
)
from actions.products import (
    ActionCheckStock,
    ActionCompareProducts,
    ActionProductInfo,
    ActionRecommendProducts,
    parse_budget,
)
from actions.returns import (
    ActionExchangeInfo,
    ActionRefundStatus,
    ActionSubmitReturn,
    ActionWithdrawReturn,
    ValidateReturnForm,
)
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from shop import dates
from shop.db import (
    DATABASE_URL_ENV,
    HandoffTicket,
    Order,
    Return,
    dispose_engines,
    get_engine,
    session_scope,
)
from shop.seed import seed_database
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

DOMAIN: dict[str, Any] = {
    "slots": {
        name: {"type": "text", "mappings": [{"type": "from_text"}]}
        for name in ("order_id", "return_item", "return_reason", "new_address")
    },
    "forms": {
        "return_form": {"required_slots": ["order_id", "return_item", "return_reason"]},
        "cancel_order_form": {"required_slots": ["order_id"]},
        "change_address_form": {"required_slots": ["order_id", "new_address"]},
    },
}
EMMA = "C1001"  # owns ORD-10001 .. ORD-10008 (see README "Demo shop data")
LIAM = "C1002"  # owns ORD-10009 .. ORD-10013
SOFIA = "C1003"  # owns ORD-10014 .. ORD-10017


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("shop") / "template.db"
    seed_database(get_engine(f"sqlite:///{path}"))
    dispose_engines()
    return str(path)


@pytest.fixture(autouse=True)
def shop_db(seeded_template, tmp_path, monkeypatch) -> str:
    """A fresh copy of the seeded database, used by the actions through $SHOP_DATABASE_URL."""
    path = tmp_path / "shop.db"
    shutil.copy(seeded_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    yield url
    dispose_engines()


def make_tracker(
    sender_id: str = EMMA,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    slot_candidates: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker whose latest message is `text`; `slot_candidates` are set after it (forms)."""
    entities = entities or []
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities}
    events = list(history or [])
    events.append({"event": "user", "text": text, "parse_data": parse_data})
    all_slots = dict(slots or {})
    for name, value in (slot_candidates or {}).items():
        events.append({"event": "slot", "name": name, "value": value})
        all_slots[name] = value
    return Tracker(sender_id, all_slots, parse_data, events, False, None, {}, "action_listen")


def run_action(action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(message.get("text") or "" for message in messages)


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [message.get("response") for message in messages if message.get("response")]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def order_entity(value: str) -> list[dict[str, Any]]:
    return [{"entity": "order_id", "value": value, "start": 0, "end": len(value)}]


def count(model) -> int:
    with session_scope(get_engine()) as session:
        return session.scalar(select(func.count()).select_from(model))


def order_row(order_id: str) -> Order:
    with session_scope(get_engine()) as session:
        return session.get(Order, order_id)


# Order status --------------------------------------------------------------------------------


def test_order_status_of_own_shipped_order_shows_tracking():
    messages, events = run_action(
        ActionOrderStatus(),
        make_tracker(EMMA, "where is ORD-10002", "order_status", order_entity("ORD-10002")),
    )
    text = texts(messages)
    assert "ORD-10002" in text and "shipped" in text
    assert "UPS" in text and "tracking number 1Z" in text
    assert "expected delivery" in text
    assert slot_events(events)["order_id"] == "ORD-10002"


def test_order_status_of_the_order_the_customer_corrected_to():
    text = "where is order 10001... no wait i meant 10002"
    entities = [{"entity": "order_id", "value": value, "start": text.index(value), "end": 0}
                for value in ("10001", "10002")]
    messages, events = run_action(
        ActionOrderStatus(), make_tracker(EMMA, text, "order_status", entities)
    )
    assert "Order ORD-10002" in texts(messages) and "ORD-10001" not in texts(messages)
    assert slot_events(events)["order_id"] == "ORD-10002"


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("it says 10001 was delivered but i never got it. now what", True),
        ("10001 shows delivered but theres no package at my door", True),
        ("where is 10001", False),
        ("did 10001 arrive yet?", False),
    ],
)
def test_a_delivered_order_that_did_not_arrive_gets_a_colleague_offered(text, missing):
    messages, _ = run_action(
        ActionOrderStatus(), make_tracker(EMMA, text, "order_status", order_entity("10001"))
    )
    assert "delivered" in texts(messages)
    assert ("investigation" in texts(messages)) is missing
    assert ("utter_offer_handoff" in responses(messages)) is missing


@pytest.mark.parametrize(
    ("text", "intent", "sorry"),
    [
        ("i asked three times already!!! where is 10002", "order_status", True),
        ("this is ridiculous, where is 10002", "order_status", True),
        ("where is 10002", "order_status", False),
        ("10002 is late!! not happy", "complaint", False),  # the complaint reply apologises
    ],
)
def test_the_first_reply_to_an_upset_customer_apologises(text, intent, sorry):
    messages, _ = run_action(
        ActionOrderStatus(), make_tracker(EMMA, text, intent, order_entity("10002"))
    )
    assert (responses(messages)[:1] == ["utter_sorry_for_trouble"]) is sorry
    assert "ORD-10002" in texts(messages)


def test_a_form_answering_an_upset_customer_apologises_first():
    text = "ugh this is ridiculous, my kettle from 10004 broke and now i cant send it back??"
    messages, _ = run_action(ValidateReturnForm(), make_tracker(
        EMMA, text, "return_request", slot_candidates={"order_id": "10004"}))
    assert responses(messages)[:1] == ["utter_sorry_for_trouble"]
    assert "return window closed" in texts(messages)


def test_order_status_of_the_order_a_new_message_describes_not_the_earlier_one():
    earlier = {"order_id": "ORD-10002"}  # the smartwatch order, asked about before
    messages, events = run_action(
        ActionOrderStatus(),
        make_tracker(EMMA, "where are my headphones", "order_status", slots=earlier),
    )
    assert "ORD-10001" in texts(messages) and "ORD-10002" not in texts(messages)
    assert slot_events(events)["order_id"] == "ORD-10001"
    messages, _ = run_action(
        ActionOrderStatus(), make_tracker(EMMA, "has it shipped yet?", "order_status",
                                          slots=earlier),
    )
    assert "ORD-10002" in texts(messages)


@pytest.mark.parametrize("spelling", ["ord10001", "ORD 10001", "#10001", "10001", "#10,001"])
def test_order_status_normalises_order_id(spelling):
    messages, events = run_action(
        ActionOrderStatus(), make_tracker(EMMA, spelling, "order_status", order_entity(spelling))
    )
    assert "Order ORD-10001" in texts(messages)
    assert "delivered" in texts(messages)
    assert slot_events(events)["order_id"] == "ORD-10001"


def test_another_customers_order_gets_exactly_the_not_found_reply():
    # ORD-10009 exists but belongs to Liam; ORD-19999 does not exist at all.
    foreign_messages, foreign_events = run_action(
        ActionOrderStatus(),
        make_tracker(EMMA, "ORD-10009", "order_status", order_entity("ORD-10009")),
    )
    missing_messages, missing_events = run_action(
        ActionOrderStatus(),
        make_tracker(EMMA, "ORD-19999", "order_status", order_entity("ORD-19999")),
    )
    assert responses(foreign_messages) == ["utter_order_not_found"]
    # Identical apart from the order id the customer typed.
    assert foreign_messages == [
        {**message, "order_id": "ORD-10009"} for message in missing_messages
    ]
    assert foreign_events == missing_events
    # And Liam does see it.
    own, _ = run_action(
        ActionOrderStatus(),
        make_tracker(LIAM, "ORD-10009", "order_status", order_entity("ORD-10009")),
    )
    assert "Order ORD-10009" in texts(own)


def test_other_customers_order_is_not_found_in_every_order_action():
    tracker = make_tracker(
        EMMA,
        "ORD-10009",
        "refund_status",
        order_entity("ORD-10009"),
        slots={"order_id": "ORD-10009"},
    )
    for action in (ActionRefundStatus(), ActionExchangeInfo()):
        messages, _ = run_action(action, tracker)
        assert responses(messages) == ["utter_order_not_found"], action.name()
    affirm = make_tracker(EMMA, "yes", "affirm", slots={"order_id": "ORD-10011"})
    messages, _ = run_action(ActionCancelOrder(), affirm)
    assert responses(messages) == ["utter_order_not_found"]
    assert order_row("ORD-10011").status == "paid"


@pytest.mark.parametrize("bad_id", ["ORD-123", "order 1234567", "banana"])
def test_malformed_order_id_gets_helpful_reply(bad_id):
    messages, events = run_action(
        ActionOrderStatus(), make_tracker(EMMA, bad_id, "order_status", order_entity(bad_id))
    )
    assert responses(messages) == ["utter_invalid_order_id"]
    assert messages[0]["order_id"] == bad_id
    assert slot_events(events)["order_id"] is None


def test_missing_order_id_lists_recent_orders_and_asks():
    messages, _ = run_action(
        ActionOrderStatus(), make_tracker(EMMA, "where is my order", "order_status")
    )
    assert "ORD-100" in texts(messages)
    assert responses(messages) == ["utter_ask_order_id"]


def test_unknown_sender_cannot_see_orders_but_products_work():
    tracker = make_tracker("someone-else", "ORD-10001", "order_status", order_entity("ORD-10001"))
    messages, events = run_action(ActionOrderStatus(), tracker)
    assert responses(messages) == ["utter_account_not_found"]
    assert "ORD-10001" not in texts(messages)
    assert slot_events(events) == {"customer_verified": False}
    product_tracker = make_tracker(
        "someone-else",
        "tell me about the x200",
        "product_info",
        [{"entity": "product", "value": "x200"}],
    )
    messages, _ = run_action(ActionProductInfo(), product_tracker)
    assert "Auralis X200 Headphones" in texts(messages)


# Cancel and address change -------------------------------------------------------------------


def test_cancel_paid_order_after_confirmation():
    tracker = make_tracker(EMMA, "yes", "affirm", slots={"order_id": "ORD-10003"})
    messages, _ = run_action(ActionCancelOrder(), tracker)
    assert "order ORD-10003 is cancelled" in texts(messages)
    row = order_row("ORD-10003")
    assert row.status == "cancelled" and row.cancelled_at is not None


@pytest.mark.parametrize(
    ("text", "cancelled"),
    [("yes the whole thing, kettle too", True), ("yes but only the kettle", False)],
)
def test_cancel_after_a_yes_in_more_words_only_when_it_leaves_nothing_open(text, cancelled):
    tracker = make_tracker(EMMA, text, "inform", slots={"order_id": "ORD-10003"})
    messages, _ = run_action(ActionCancelOrder(), tracker)
    assert (order_row("ORD-10003").status == "cancelled") is cancelled
    if not cancelled:
        assert responses(messages) == ["utter_cancel_not_confirmed"]


def test_cancel_refused_for_shipped_order():
    tracker = make_tracker(EMMA, "yes", "affirm", slots={"order_id": "ORD-10002"})
    messages, _ = run_action(ActionCancelOrder(), tracker)
    assert "already shipped" in texts(messages)
    assert "can't cancel" in texts(messages)
    assert order_row("ORD-10002").status == "shipped"


def test_cancel_needs_confirmation():
    tracker = make_tracker(
        EMMA, "cancel ORD-10003", "cancel_order", slots={"order_id": "ORD-10003"}
    )
    messages, _ = run_action(ActionCancelOrder(), tracker)
    assert responses(messages) == ["utter_cancel_not_confirmed"]
    assert order_row("ORD-10003").status == "paid"


def test_cancelling_one_item_of_an_order_says_only_whole_orders_are_cancelled():
    text = "can i cancel just the tripod from ORD-10031, i want to keep the rest"
    tracker = make_tracker("C1007", text, slot_candidates={"order_id": "ORD-10031"})
    messages, events = run_action(ValidateCancelOrderForm(), tracker)
    assert slot_events(events)["order_id"] == "ORD-10031"
    assert "only the whole order" in texts(messages)
    assert "Veltro Selfie Tripod Stick" in texts(messages).split("only the whole order")[1]
    text = "only the tripod please, i still want the band and the charging pad"
    tracker = make_tracker("C1007", text, slot_candidates={"order_id": "ORD-10031"})
    messages, _ = run_action(ValidateCancelOrderForm(), tracker)
    assert "only the whole order" in texts(messages)
    # an order of one product is cancelled as a whole anyway
    tracker = make_tracker(EMMA, "cancel the wave 2 from 10003", slot_candidates={
        "order_id": "10003"})
    messages, _ = run_action(ValidateCancelOrderForm(), tracker)
    assert "only the whole order" not in texts(messages)


def test_cancel_form_validation_rejects_shipped_and_accepts_paid():
    shipped = make_tracker(EMMA, "ORD-10002", slot_candidates={"order_id": "ORD-10002"})
    messages, events = run_action(ValidateCancelOrderForm(), shipped)
    assert slot_events(events)["order_id"] is None
    assert "already shipped" in texts(messages)
    paid = make_tracker(EMMA, "10003", slot_candidates={"order_id": "10003"})
    messages, events = run_action(ValidateCancelOrderForm(), paid)
    assert slot_events(events)["order_id"] == "ORD-10003"
    assert "is paid" in texts(messages)


def test_change_address_before_shipment():
    new_address = "55 Birch Lane, Columbus, OH 43210, United States"
    tracker = make_tracker(
        EMMA, new_address, slots={"order_id": "ORD-10006", "new_address": new_address}
    )
    messages, events = run_action(ActionChangeAddress(), tracker)
    assert f"will be shipped to {new_address}" in texts(messages)
    assert order_row("ORD-10006").shipping_address == new_address
    assert slot_events(events)["new_address"] is None


def test_change_address_refused_after_shipment():
    tracker = make_tracker(
        EMMA,
        "1 New Street 12345 Town",
        slots={"order_id": "ORD-10002", "new_address": "1 New Street 12345"},
    )
    messages, _ = run_action(ActionChangeAddress(), tracker)
    assert "can't change its address" in texts(messages)
    assert "1 New Street" not in order_row("ORD-10002").shipping_address


def test_change_address_form_rejects_implausible_address():
    tracker = make_tracker(
        EMMA, "home", slots={"order_id": "ORD-10006"}, slot_candidates={"new_address": "home"}
    )
    messages, events = run_action(ValidateChangeAddressForm(), tracker)
    assert slot_events(events)["new_address"] is None
    assert responses(messages) == ["utter_invalid_address"]


# Returns and refunds -------------------------------------------------------------------------


def validate_return(sender: str, slots: dict[str, Any], candidates: dict[str, Any]):
    tracker = make_tracker(
        sender, str(next(iter(candidates.values()))), slots=slots, slot_candidates=candidates
    )
    return run_action(ValidateReturnForm(), tracker)


def test_return_form_accepts_delivered_order_in_window_and_lists_items():
    messages, events = validate_return(EMMA, {}, {"order_id": "ord 10001"})
    assert slot_events(events)["order_id"] == "ORD-10001"
    assert "Auralis X200 Headphones" in texts(messages)
    assert "until" in texts(messages)


def test_a_return_request_naming_order_and_item_confirms_the_item_and_its_deadline():
    messages, events = validate_return(
        EMMA, {}, {"order_id": "10001", "return_item": "the headphones from order 10001"}
    )
    assert slot_events(events)["return_item"] == "Auralis X200 Headphones"
    assert "Auralis X200 Headphones from order ORD-10001: you can return it until" in texts(
        messages)


@pytest.mark.parametrize(
    ("sender", "order_id", "expected"),
    [
        (EMMA, "ORD-10004", "return window closed"),  # delivered 45 days ago
        (SOFIA, "ORD-10015", "return window closed"),  # delivered 31 days ago
        (EMMA, "ORD-10002", "still on its way"),  # shipped, not delivered
        (EMMA, "ORD-10003", "hasn't shipped yet"),  # paid
        (EMMA, "ORD-10008", "was cancelled"),
        (EMMA, "ORD-10007", "already been returned"),
    ],
)
def test_return_form_enforces_policy_on_order(sender, order_id, expected):
    messages, events = validate_return(sender, {}, {"order_id": order_id})
    assert slot_events(events)["order_id"] is None
    assert expected in texts(messages)


def test_return_window_last_day_is_still_open():
    messages, events = validate_return(SOFIA, {}, {"order_id": "ORD-10014"})  # 29 days ago
    assert slot_events(events)["order_id"] == "ORD-10014"


def test_return_form_rejects_other_customers_order_like_unknown_one():
    messages, events = validate_return(EMMA, {}, {"order_id": "ORD-10009"})
    assert slot_events(events)["order_id"] is None
    assert responses(messages) == ["utter_order_not_found"]


def test_return_form_rejects_item_not_in_order_and_already_returned_item():
    messages, events = validate_return(
        EMMA, {"order_id": "ORD-10001", "requested_slot": "return_item"},
        {"return_item": "coffee grinder"},
    )
    assert slot_events(events)["return_item"] is None
    assert "The order contains" in texts(messages)
    messages, events = validate_return(
        EMMA, {"order_id": "ORD-10005"}, {"return_item": "the mouse"}
    )
    assert slot_events(events)["return_item"] is None
    assert "already has a return request" in texts(messages)
    messages, events = validate_return(EMMA, {"order_id": "ORD-10005"}, {"return_item": "keyboard"})
    assert slot_events(events)["return_item"] == "Kestrel MK850 Wireless Keyboard"


def test_return_form_rejects_empty_reason():
    messages, events = validate_return(
        EMMA, {"order_id": "ORD-10001", "return_item": "x200"}, {"return_reason": " "}
    )
    assert slot_events(events)["return_reason"] is None
    assert responses(messages) == ["utter_ask_return_reason_again"]


def test_submit_return_creates_rma_and_persists_it():
    before = count(Return)
    tracker = make_tracker(
        EMMA,
        "it is too big",
        slots={
            "order_id": "ORD-10001",
            "return_item": "Auralis X200 Headphones",
            "return_reason": "Too heavy for running",
        },
    )
    messages, events = run_action(ActionSubmitReturn(), tracker)
    text = texts(messages)
    assert "Your return is registered: RMA-" in text
    assert "$249.00" in text
    rma = text.split("registered: ")[1].split(" ")[0]
    with session_scope(get_engine()) as session:
        record = session.scalars(select(Return).where(Return.rma_number == rma)).one()
        assert record.order_id == "ORD-10001"
        assert record.status == "requested"
        assert record.reason == "Too heavy for running"
        assert record.refund_cents == 24900
    assert count(Return) == before + 1
    assert slot_events(events) == {"return_item": None, "return_reason": None,
                                    "last_return": rma}
    # The same item cannot be returned twice.
    messages, _ = run_action(ActionSubmitReturn(), tracker)
    assert "already has a return request" in texts(messages)
    assert count(Return) == before + 1


def test_change_of_mind_right_after_a_return_withdraws_it():
    slots = {"order_id": "ORD-10001", "return_item": "cable", "return_reason": "not needed"}
    messages, events = run_action(ActionSubmitReturn(), make_tracker(EMMA, "x", slots=slots))
    rma = slot_events(events)["last_return"]
    before = count(Return)
    # Another customer cannot withdraw it.
    others = make_tracker(LIAM, "forget it", slots={"last_return": rma})
    messages, _ = run_action(ActionWithdrawReturn(), others)
    assert "withdrawn" not in texts(messages)
    assert count(Return) == before
    messages, events = run_action(
        ActionWithdrawReturn(), make_tracker(EMMA, "forget it, i'll keep it",
                                             slots={"last_return": rma})
    )
    assert f"withdrawn return {rma}" in texts(messages)
    assert "Veltro Braided USB-C Cable 2 m" in texts(messages)
    assert count(Return) == before - 1
    assert slot_events(events) == {"last_return": None}
    # The item can be returned again later.
    messages, _ = run_action(ActionSubmitReturn(), make_tracker(EMMA, "x", slots=slots))
    assert "Your return is registered" in texts(messages)


def test_submit_return_rechecks_window():
    tracker = make_tracker(
        EMMA,
        "broken",
        slots={"order_id": "ORD-10004", "return_item": "kettle", "return_reason": "broken"},
    )
    messages, _ = run_action(ActionSubmitReturn(), tracker)
    assert "return window closed" in texts(messages)
    with session_scope(get_engine()) as session:
        assert session.scalars(select(Return).where(Return.order_id == "ORD-10004")).all() == []


@pytest.mark.parametrize(
    ("order_id", "expected"),
    [
        ("ORD-10007", ["refunded to your", "RMA-"]),
        ("ORD-10005", ["we received the item"]),
        ("ORD-10008", ["was cancelled"]),
        ("ORD-10001", ["no return or refund"]),
    ],
)
def test_refund_status_of_refunded_received_and_cancelled_orders(order_id, expected):
    messages, _ = run_action(
        ActionRefundStatus(),
        make_tracker(EMMA, order_id, "refund_status", order_entity(order_id)),
    )
    for snippet in expected:
        assert snippet in texts(messages)


def test_refund_status_without_an_order_id_finds_the_orders_with_a_refund():
    text = "still havent seen my refund, where is it"
    messages, events = run_action(ActionRefundStatus(), make_tracker(SOFIA, text, "refund_status"))
    assert "RMA-" in texts(messages)  # her one order with a return
    assert slot_events(events)["order_id"].startswith("ORD-1001")
    messages, events = run_action(ActionRefundStatus(), make_tracker(EMMA, text, "refund_status"))
    buttons = [button["payload"] for message in messages for button in message.get("buttons", [])]
    assert sorted(buttons) == ["ORD-10005", "ORD-10007", "ORD-10008"]
    assert events == []


def test_exchange_info_general_and_for_an_order():
    general, _ = run_action(ActionExchangeInfo(), make_tracker(EMMA, "can I exchange", "exchange"))
    assert responses(general) == ["utter_exchange_policy"]
    tailored_and_late = [("ORD-10001", "can be returned until"), ("ORD-10004", "warranty")]
    for order_id, expected in tailored_and_late:
        messages, _ = run_action(
            ActionExchangeInfo(),
            make_tracker(EMMA, f"exchange {order_id}", "exchange", order_entity(order_id)),
        )
        assert expected in texts(messages), order_id


def test_exchange_info_keeps_the_named_item_for_a_return_started_next():
    text = "i want to exchange the headphones from 10001 for a different color"
    entities = [*order_entity("10001"),
                {"entity": "category", "value": "headphones", "start": 23, "end": 33}]
    _, events = run_action(ActionExchangeInfo(), make_tracker(EMMA, text, "exchange", entities))
    slots = {event["name"]: event["value"] for event in events if event.get("event") == "slot"}
    assert slots == {"order_id": "ORD-10001", "return_item": "Auralis X200 Headphones"}


# Products ------------------------------------------------------------------------------------


def product_tracker(intent: str, *names: str, text: str = "", slots=None) -> Tracker:
    entities = [
        {"entity": "product", "value": name, "start": index * 10}
        for index, name in enumerate(names)
    ]
    return make_tracker("web-visitor", text or " vs ".join(names), intent, entities, slots=slots)


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("tell me about the zorblax 9000", "utter_product_not_found"),
        ("is the XR-77 any good?", "utter_product_not_found"),
        ("tell me about one of your products", "utter_ask_product"),
        ("does it work with the iphone 15", "utter_ask_product"),  # a model the catalog knows
    ],
)
def test_product_info_for_a_model_the_catalog_lacks(text, reply):
    messages, _ = run_action(ActionProductInfo(), product_tracker("product_info", text=text))
    assert responses(messages) == [reply]


def test_a_model_the_catalog_lacks_is_not_read_as_the_product_talked_about_before():
    tracker = product_tracker("check_stock", text="is the pulse 4 coming out soon?",
                              slots={"product": "Tidewell Wave 2 Portable Speaker"})
    messages, events = run_action(ActionCheckStock(), tracker)
    assert responses(messages) == ["utter_product_not_found"]
    assert slot_events(events)["product"] is None
    # "is it in stock?" names nothing else: the earlier product
    tracker = product_tracker("check_stock", text="is it in stock?",
                              slots={"product": "Tidewell Wave 2 Portable Speaker"})
    messages, _ = run_action(ActionCheckStock(), tracker)
    assert "Tidewell Wave 2" in texts(messages)


def test_product_info_from_catalog():
    messages, events = run_action(ActionProductInfo(), product_tracker("product_info", "X200"))
    text = texts(messages)
    assert "Auralis X200 Headphones" in text and "$249.00" in text
    assert "battery hours: 38" in text
    assert "iPhone and Android" in text
    assert "Warranty: 24 months" in text
    assert slot_events(events)["product"] == "Auralis X200 Headphones"


def test_unknown_and_ambiguous_products():
    messages, events = run_action(ActionProductInfo(), product_tracker("product_info", "Zorb 9000"))
    assert responses(messages) == ["utter_product_not_found"]
    assert messages[0]["product"] == "Zorb 9000"
    assert slot_events(events)["product"] is None
    messages, _ = run_action(ActionProductInfo(), product_tracker("product_info", "Auralis"))
    assert "Which one do you mean" in texts(messages)
    messages, _ = run_action(ActionProductInfo(), make_tracker("web", "tell me", "product_info"))
    assert responses(messages) == ["utter_ask_product"]


def test_compare_two_products():
    messages, events = run_action(
        ActionCompareProducts(), product_tracker("compare_products", "X200", "Auralis X100")
    )
    text = texts(messages)
    assert "Auralis X200 Headphones vs Auralis X100 Headphones" in text
    assert "$249.00 vs $149.00" in text
    assert "battery hours: 38 vs 30" in text
    assert slot_events(events) == {
        "product": "Auralis X200 Headphones",
        "product_b": "Auralis X100 Headphones",
    }
    one, _ = run_action(ActionCompareProducts(), product_tracker("compare_products", "X200"))
    assert responses(one) == ["utter_ask_compare_products"]
    unknown, _ = run_action(
        ActionCompareProducts(), product_tracker("compare_products", "X200", "Zorb 9000")
    )
    assert responses(unknown) == ["utter_product_not_found"]


def test_compare_finds_the_other_product_by_the_word_that_sets_it_apart():
    tracker = product_tracker(
        "compare_products", "pulse 3",
        text="thinking of the pulse 3 but the lite is way cheaper, what would i miss?",
    )
    messages, _ = run_action(ActionCompareProducts(), tracker)
    text = texts(messages)
    assert "Nimbra Pulse 3 Smartwatch vs Nimbra Pulse 3 Lite Smartwatch" in text
    # what the Lite lacks
    assert "only the Nimbra Pulse 3 Smartwatch:" in text and "NFC payments" in text
    # a word that names no single sibling leaves the question open
    unclear = product_tracker("compare_products", "pulse 3", text="pulse 3 vs the other one?")
    messages, _ = run_action(ActionCompareProducts(), unclear)
    assert responses(messages) == ["utter_ask_compare_products"]
    # a sibling whose name is not the first one's plus a word: the Wave Mini of the Wave 2
    tracker = product_tracker("compare_products", "wave 2",
                              text="what about the wave 2, is it louder than the mini")
    messages, _ = run_action(ActionCompareProducts(), tracker)
    assert "20 W" in texts(messages) and "8 W" in texts(messages)


def test_compare_uses_product_b_slot():
    tracker = product_tracker(
        "compare_products",
        text="compare them",
        slots={"product": "Pulse 3", "product_b": "Pulse 3 Lite"},
    )
    messages, _ = run_action(ActionCompareProducts(), tracker)
    assert "Nimbra Pulse 3 Smartwatch vs Nimbra Pulse 3 Lite Smartwatch" in texts(messages)


def test_recommend_by_category_budget_and_feature():
    tracker = make_tracker(
        "web",
        "noise cancelling headphones under $200",
        "recommend_products",
        [
            {"entity": "category", "value": "headphones"},
            {"entity": "budget", "value": "under $200"},
        ],
    )
    messages, events = run_action(ActionRecommendProducts(), tracker)
    text = texts(messages)
    assert "Auralis X100 Headphones" in text  # $149, ANC, in stock
    assert "Auralis X200" not in text  # over budget
    assert "Auralis Buds B30" not in text  # out of stock
    assert "Veltro Sprint" not in text  # no noise cancelling
    assert slot_events(events)["budget"] == 200.0


def test_recommend_handles_unknown_category_and_nothing_found():
    messages, events = run_action(
        ActionRecommendProducts(),
        make_tracker(
            "web", "toys", "recommend_products", [{"entity": "category", "value": "toys"}]
        ),
    )
    assert "we don't sell" in texts(messages) and "headphones" in texts(messages)
    messages, _ = run_action(
        ActionRecommendProducts(),
        make_tracker(
            "web",
            "smartwatch under 20 dollars",
            "recommend_products",
            [{"entity": "category", "value": "smartwatch"}, {"entity": "budget", "value": "20"}],
        ),
    )
    assert "couldn't find smartwatches" in texts(messages)


def test_check_stock_in_and_out_of_stock():
    messages, _ = run_action(ActionCheckStock(), product_tracker("check_stock", "Wave 2"))
    assert "In stock (75 available)" in texts(messages)
    messages, _ = run_action(ActionCheckStock(), product_tracker("check_stock", "Buds B30"))
    text = texts(messages)
    assert "out of stock" in text and "Similar products in stock" in text


def test_parse_budget():
    assert parse_budget("under $1,500") == 150000
    assert parse_budget(99.5) == 9950
    assert parse_budget("2k") == 200000
    assert parse_budget("cheap") is None


# Handoff -------------------------------------------------------------------------------------


def test_handoff_creates_ticket_with_transcript():
    history = [
        {
            "event": "user",
            "text": "my headphones broke",
            "parse_data": {"intent": {"name": "complaint"}},
        },
        {"event": "bot", "text": "I'm sorry to hear that."},
    ]
    tracker = make_tracker(EMMA, "I want to talk to a person", "human_handoff", history=history)
    messages, events = run_action(ActionHandoff(), tracker)
    ticket = slot_events(events)["handoff_ticket"]
    assert ticket.startswith("HT-")
    assert ticket in texts(messages) and "within 1 business day" in texts(messages)
    assert "emma.johnson@example.com" in texts(messages)
    with session_scope(get_engine()) as session:
        row = session.scalars(
            select(HandoffTicket).where(HandoffTicket.ticket_number == ticket)
        ).one()
        transcript = json.loads(row.transcript)
        assert row.customer_id == EMMA and row.status == "open"
        assert row.reason == "my headphones broke"
        assert row.contact_email == "emma.johnson@example.com"
    assert [entry["text"] for entry in transcript] == [
        "my headphones broke",
        "I'm sorry to hear that.",
        "I want to talk to a person",
    ]
    assert transcript[0]["intent"] == "complaint"


def test_handoff_for_unknown_sender_still_opens_ticket():
    messages, events = run_action(
        ActionHandoff(), make_tracker("anon-42", "human please", "human_handoff")
    )
    assert slot_events(events)["handoff_ticket"].startswith("HT-")
    assert "couldn't find an account" in texts(messages)


# Database failures ---------------------------------------------------------------------------


def fail_on(statement_start: str):
    """Makes the shop engine raise OperationalError on statements starting with the text."""

    def before_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(statement_start):
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    event.listen(get_engine(), "before_cursor_execute", before_execute)
    return before_execute


def test_failure_mid_return_rolls_back_and_apologises():
    before = count(Return)
    fail_on("UPDATE")  # the INSERT of the return succeeds, setting its RMA number fails
    tracker = make_tracker(
        EMMA,
        "reason",
        slots={"order_id": "ORD-10001", "return_item": "cable", "return_reason": "Too short"},
    )
    messages, events = run_action(ActionSubmitReturn(), tracker)
    assert messages == [
        {
            "response": "utter_technical_issue",
            "text": None,
            "buttons": [],
            "elements": [],
            "custom": {},
            "template": "utter_technical_issue",
            "image": None,
            "attachment": None,
        }
    ]
    assert events == []
    dispose_engines()
    assert count(Return) == before


def test_failure_mid_handoff_rolls_back_and_apologises():
    fail_on("UPDATE")
    messages, events = run_action(ActionHandoff(), make_tracker(EMMA, "human", "human_handoff"))
    assert responses(messages) == ["utter_handoff_failed"]
    assert events == []
    dispose_engines()
    assert count(HandoffTicket) == 0


def test_unreachable_database_gets_apology(monkeypatch, tmp_path):
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path}/missing-dir/shop.db")
    for action, tracker in (
        (
            ActionOrderStatus(),
            make_tracker(EMMA, "ORD-10001", "order_status", order_entity("ORD-10001")),
        ),
        (ActionProductInfo(), product_tracker("product_info", "X200")),
    ):
        messages, events = run_action(action, tracker)
        assert responses(messages) == ["utter_technical_issue"]
        assert events == []
    messages, events = validate_return(EMMA, {}, {"order_id": "ORD-10001"})
    assert responses(messages) == ["utter_technical_issue"]
    assert slot_events(events) == {"order_id": None}


def test_corrupt_database_file_gets_apology(monkeypatch, tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a sqlite database" * 100)
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{corrupt}")
    messages, events = run_action(ActionHandoff(), make_tracker(EMMA, "human", "human_handoff"))
    assert responses(messages) == ["utter_handoff_failed"]
    assert events == []


def test_seeded_dates_are_relative_to_today():
    row = order_row("ORD-10001")
    with session_scope(get_engine()) as session:
        shipment = session.get(Order, "ORD-10001").shipment
        assert shipment.delivered_at.date() == dates.today() - timedelta(days=5)
    assert row.status == "delivered"


def test_action_server_registers_exactly_the_domain_actions():
    from pathlib import Path

    import yaml
    from rasa_sdk.executor import ActionExecutor

    domain = yaml.safe_load((Path(__file__).parents[1] / "domain.yml").read_text())
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(domain["actions"])
    assert {"action_order_status", "action_submit_return", "action_handoff"} <= set(
        executor.actions
    )


def test_every_catalog_product_is_found_by_name_and_sku():
    from shop.catalog import load_catalog
    from shop.repository import ShopRepository

    with session_scope(get_engine()) as session:
        repository = ShopRepository(session)
        for product in load_catalog():
            assert repository.find_product(product.name).product.sku == product.sku
            assert repository.find_product(product.sku.lower()).product.sku == product.sku


def test_category_word_asks_which_product():
    messages, _ = run_action(ActionProductInfo(), product_tracker("product_info", "speaker"))
    assert "Which of our speakers do you mean?" in texts(messages)


def test_category_word_means_the_one_of_its_kind_in_the_order_at_hand():
    """ "the speaker" while cancelling ORD-10003 (a Tidewell Wave 2) is that speaker."""
    speaker = [{"entity": "category", "value": "speaker"}]
    text = "wait how long does the speaker last"
    messages, events = run_action(ActionProductInfo(), make_tracker(
        EMMA, text, "product_info", speaker, slots={"order_id": "ORD-10003"}))
    # one aspect of it: the knowledge answers, about the product the slot now names
    assert messages == [] and events[-1]["name"] == "utter_llm_answer"
    assert {"event": "slot", "name": "product", "value": "Tidewell Wave 2 Portable Speaker",
            "timestamp": None} in events
    messages, _ = run_action(ActionProductInfo(), make_tracker(
        EMMA, "tell me about the speaker", "product_info", speaker,
        slots={"order_id": "ORD-10003"}))
    assert "Tidewell Wave 2" in texts(messages) and "Which of our" not in texts(messages)
    # ORD-10001 has headphones and a cable, no speaker: the question is asked
    messages, _ = run_action(ActionProductInfo(), make_tracker(
        EMMA, text, "product_info", speaker, slots={"order_id": "ORD-10001"}))
    assert "Which of our speakers do you mean?" in texts(messages)


WEIRD_VALUES = [
    "",
    "   ",
    "x" * 5000,
    ["ORD-10001", "ORD-10002"],
    12345,
    "ORD-10001; DROP TABLE orders",
    "🙂",
]


@pytest.mark.parametrize("value", WEIRD_VALUES)
def test_bad_input_never_crashes(value):
    slots = {
        "order_id": value,
        "product": value,
        "product_b": value,
        "category": value,
        "budget": value,
        "new_address": value,
        "return_item": value,
        "return_reason": value,
    }
    entities = [{"entity": name, "value": value} for name in ("order_id", "product", "category")]
    actions = [
        ActionOrderStatus(),
        ActionCancelOrder(),
        ActionChangeAddress(),
        ActionSubmitReturn(),
        ActionRefundStatus(),
        ActionExchangeInfo(),
        ActionProductInfo(),
        ActionCompareProducts(),
        ActionRecommendProducts(),
        ActionCheckStock(),
        ActionHandoff(),
    ]
    for action in actions:
        tracker = make_tracker(EMMA, str(value)[:100], "affirm", entities, slots=slots)
        messages, _ = run_action(action, tracker)
        assert messages, action.name()
        assert "utter_technical_issue" not in responses(messages), action.name()
    for validator in (ValidateReturnForm(), ValidateCancelOrderForm(), ValidateChangeAddressForm()):
        tracker = make_tracker(
            EMMA,
            "x",
            slot_candidates={
                "order_id": value,
                "return_item": value,
                "return_reason": value,
                "new_address": value,
            },
        )
        messages, _ = run_action(validator, tracker)
        assert "utter_technical_issue" not in responses(messages), validator.name()
    assert count(Order) == 53
