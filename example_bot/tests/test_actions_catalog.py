"""Products the shop does not sell, and recommendations with ruled-out features."""

from __future__ import annotations

from typing import Any

import pytest
from actions.products import (
    ActionCheckStock,
    ActionCompareProducts,
    ActionProductInfo,
    ActionRecommendProducts,
    feature_wishes,
    has_feature,
    requested_features,
)
from shop.db import get_engine, session_scope
from shop.repository import ShopRepository
from test_actions import (  # noqa: F401 - seeded_template and shop_db are fixtures
    make_tracker,
    responses,
    run_action,
    seeded_template,
    shop_db,
    slot_events,
    texts,
)

X200 = "Auralis X200 Headphones"


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


def answer(action, text: str, intent: str, entities=None, slots=None) -> str:
    messages, _ = run_action(action, make_tracker("web-visitor", text, intent, entities, slots))
    assert responses(messages) == [], responses(messages)
    return texts(messages)


# Products the shop does not sell ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said", "suggested"),
    [
        ("do you have the PS5 in stock?", "we don't sell the PS5", "Auralis G9 Gaming Headset"),
        ("is the playstation 5 available", "game consoles", "Quillon Rapid Portable SSD 1 TB"),
        ("do you have fridges in stock", "we don't sell fridges", "Brevik Smart Kettle 1.7 L"),
        ("any iPhone 15 left?", "we don't sell the iPhone 15", "Halcyra Armor Case for iPhone 15"),
        (
            "do you have a laptop in stock",
            "we don't sell laptops",
            "Quillon Aluminium Laptop Stand",
        ),
        ("is the samsung tv in stock", "samsung tv", "Lumora Soundbar 3.1"),
        ("got any drones?", "we don't sell drones", "We sell headphones"),
    ],
)
def test_stock_question_about_something_not_sold(text, said, suggested):
    # A product from an earlier turn is in the slot: it must not get a stock line.
    reply = answer(ActionCheckStock(), text, "check_stock", slots={"product": X200})
    assert said in reply
    assert suggested in reply
    assert "In stock (34 available)" not in reply  # the X200's stock line
    assert "Which" not in reply and "which product" not in reply.lower()


def test_product_info_about_other_brands_suggests_our_products():
    reply = answer(
        ActionProductInfo(),
        "do you sell Bose headphones?",
        "product_info",
        [entity("category", "headphones")],
    )
    assert "we don't sell Bose headphones" in reply
    assert "Similar products we do sell: Auralis X200 Headphones" in reply
    reply = answer(ActionProductInfo(), "tell me about the apple watch", "product_info")
    assert "we don't sell Apple Watch" in reply and "Nimbra" in reply


def test_product_entity_of_something_not_sold_is_not_matched_to_a_random_product():
    # "PlayStation 5" once matched the AirCrisp 5.5 L Air Fryer through the "5".
    messages, events = run_action(
        ActionCheckStock(),
        make_tracker("web", "PlayStation 5", "check_stock", [entity("product", "PlayStation 5")]),
    )
    assert "Air Fryer" not in texts(messages)
    assert "we don't sell the PlayStation 5" in texts(messages)
    assert slot_events(events) == {"product": None}


def test_compare_with_a_product_we_do_not_sell():
    reply = answer(
        ActionCompareProducts(),
        "compare the x200 with the airpods pro",
        "compare_products",
        [entity("product", X200)],
    )
    assert "we don't sell airpods pro" in reply
    assert "Auralis X100 Headphones" in reply


@pytest.mark.parametrize(
    ("text", "expected", "not_expected"),
    [
        ("which one is cheaper",
         ["The cheaper one is the Auralis X100 Headphones at $149.00, against $249.00"],
         ["warranty"]),
        ("and battery? i hate charging stuff",
         ["Battery hours: 38 for the Auralis X200 Headphones, 30 for the Auralis X100"],
         ["$249.00"]),
        # no aspect, or one only stated: the whole comparison
        ("whats the difference", ["price: $249.00 vs $149.00", "only the"], []),
        ("the x100 is cheaper i know. what would i miss?", ["only the Auralis X200"], []),
    ],
)
def test_a_comparison_answers_the_aspect_asked(text, expected, not_expected):
    reply = answer(
        ActionCompareProducts(), text, "compare_products",
        slots={"product": X200, "product_b": "Auralis X100 Headphones"},
    )
    assert all(part in reply for part in expected), reply
    assert not any(part in reply for part in not_expected), reply


@pytest.mark.parametrize(
    ("text", "category", "first", "then"),
    [
        ("which of your speakers is the loudest", "speakers", "Lumora Soundbar 3.1",
         "Tidewell Boom XL"),
        ("whats the watch with the longest battery", "smartwatches",
         "Halcyra Classic Hybrid Watch", "Corvane Fit 2"),
    ],
)
def test_a_superlative_recommendation_ranks_by_the_aspect_asked(text, category, first, then):
    reply = answer(ActionRecommendProducts(), text, "recommend_products",
                   [entity("category", category)])
    lines = reply.splitlines()
    assert first in lines[1] and then in lines[2], reply


@pytest.mark.parametrize(
    ("text", "said", "suggested"),
    [
        ("can you recommend a laptop under $1000", "we don't sell laptops", "Quillon"),
        ("I'm looking for a good TV", "we don't sell TVs", "Lumora Soundbar 3.1"),
        ("i need a new fridge", "we don't sell fridges", "Brevik"),
    ],
)
def test_recommendation_for_something_not_sold(text, said, suggested):
    reply = answer(ActionRecommendProducts(), text, "recommend_products")
    assert said in reply and suggested in reply


def test_things_for_unsold_devices_are_still_recommended():
    reply = answer(
        ActionRecommendProducts(),
        "headphones for my PS5",
        "recommend_products",
        [entity("category", "headphones")],
    )
    assert "don't sell" not in reply
    assert "Auralis G9 Gaming Headset" in reply
    reply = answer(ActionCheckStock(), "is the laptop stand in stock", "check_stock",
                   [entity("product", "Quillon Aluminium Laptop Stand")])  # fmt: skip
    assert "Quillon Aluminium Laptop Stand ($45.00): In stock" in reply


def test_category_question_lists_the_category_instead_of_an_old_product():
    reply = answer(
        ActionCheckStock(),
        "do you have smartwatches in stock",
        "check_stock",
        [entity("category", "smartwatches")],
        slots={"product": X200},
    )
    assert "Which of our smartwatches do you mean?" in reply
    assert X200 not in reply


def test_follow_up_about_the_same_product_still_uses_the_slot():
    reply = answer(ActionCheckStock(), "is it in stock?", "check_stock", slots={"product": X200})
    assert "In stock (34 available)" in reply


# Recommendations honour negated features --------------------------------------------------------


def recommend(text: str, category: str | None = None) -> str:
    entities = [entity("category", category)] if category else []
    return answer(ActionRecommendProducts(), text, "recommend_products", entities)


def test_smartwatch_without_built_in_gps():
    reply = recommend("a smartwatch without built-in GPS", "smartwatch")
    assert "without built-in GPS" in reply
    for name in ("Corvane Fit 2", "Nimbra Pulse 3 Lite", "Halcyra Classic"):
        assert name in reply
    for name in ("Nimbra Pulse 3 Smartwatch", "Trail Pro", "Corvane Junior"):
        assert name not in reply


def test_headphones_but_not_over_ear():
    reply = recommend("headphones but not over-ear", "headphones")
    assert "Veltro Sprint S5" in reply and "Veltro Kids K1" in reply
    for name in ("X200", "X100", "MH7", "G9"):
        assert name not in reply


def test_no_noise_cancelling():
    reply = recommend("headphones with no noise cancelling please", "headphones")
    assert "X100" not in reply and "X200" not in reply
    assert "Veltro Sprint S5" in reply


def test_noise_cancelling_is_now_recognised():
    reply = recommend("noise cancelling headphones", "headphones")
    assert "Auralis X100" in reply and "Auralis X200" in reply
    assert "Veltro" not in reply and "Kestrel" not in reply


@pytest.mark.parametrize(
    ("text", "wanted", "unwanted"),
    [
        ("a smartwatch without built-in GPS", [], ["built-in GPS"]),
        ("headphones but not over-ear", [], ["over-ear"]),
        ("no noise cancelling", [], ["noise cancelling"]),
        ("noise cancelling headphones but not over-ear", ["noise cancelling"], ["over-ear"]),
        ("I don't need GPS, just waterproof", ["waterproof"], ["built-in GPS"]),
        ("gps is not needed", [], ["built-in GPS"]),
        ("I don't care about GPS", [], []),
        ("not too expensive, with GPS", ["built-in GPS"], []),
        ("earbuds without wireless charging", ["in-ear"], ["wireless charging"]),
        ("waterproof speaker for my iPhone", ["waterproof", "works with iPhone"], []),
    ],
)
def test_feature_wishes(text, wanted, unwanted):
    assert feature_wishes(text) == (wanted, unwanted)
    assert requested_features(text) == wanted


def test_product_data_that_negates_a_feature_does_not_have_it():
    with session_scope(get_engine()) as session:
        products = {product.sku: product for product in ShopRepository(session).all_products()}
    assert not has_feature(products["NIM-PULSE3L"], "built-in GPS")  # "without built-in GPS"
    assert has_feature(products["NIM-PULSE3"], "built-in GPS")
    assert not has_feature(products["COR-FIT2"], "built-in GPS")  # "gps: none"
    assert not has_feature(products["VEL-S5"], "noise cancelling")  # "no noise cancelling"
    assert has_feature(products["AUR-X100"], "noise cancelling")
    assert has_feature(products["VEL-K1"], "on-ear") and has_feature(products["AUR-B30"], "in-ear")


# One aspect of a product goes on to the knowledge answer -----------------------------------------


def _product_entity(text: str, words: str, value: str) -> list[dict[str, Any]]:
    start = text.index(words)
    return [{"entity": "product", "value": value, "start": start, "end": start + len(words)}]


@pytest.mark.parametrize(
    ("text", "words", "card"),
    [
        ("tell me about the x200", "x200", True),
        ("tell me about the auralis x200 headphones pls", "x200", True),
        ("how much is the x200?", "x200", True),
        ("x200 specs", "x200", True),
        ("how heavy are the x200", "x200", False),
        ("whats the battery life on the x200", "x200", False),
        ("what colours does the x200 come in", "x200", False),
    ],
)
def test_product_info_gives_the_card_or_hands_one_aspect_to_the_knowledge(text, words, card):
    tracker = make_tracker("web-visitor", text, "product_info",
                           _product_entity(text, words, X200))
    messages, events = run_action(ActionProductInfo(), tracker)
    follow_ups = [event["name"] for event in events if event.get("event") == "followup"]
    assert slot_events(events)["product"] == X200
    if card:
        assert "$249.00" in texts(messages) and follow_ups == []
    else:
        assert messages == [] and follow_ups == ["utter_llm_answer"]
