"""The shop's helpers for what customers type: addresses, order ids, things the shop lacks."""

from __future__ import annotations

from datetime import date

import pytest
from shop.address import (
    address_start,
    clean_address,
    corrected_zip,
    is_plausible_address,
    looks_like_address,
    order_ids_outside_address,
    with_zip,
)
from shop.assortment import closest_alternatives, unsold_mention
from shop.catalog import load_catalog, mentions
from shop.dates import add_months
from shop.ids import find_order_ids
from shop.reasons import stated_reason

CATALOG = load_catalog()


# Addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("oops: 5 Elm Rd, Springfield, IL 62704", "5 Elm Rd, Springfield, IL 62704"),
        ("sorry, it's 5 Elm Rd, Springfield, IL 62704", "5 Elm Rd, Springfield, IL 62704"),
        ("my new address is 10 main st new york ny 10009", "10 main st new york ny 10009"),
        ("ship it to 18 Harbor Street, Boston, MA 02110", "18 Harbor Street, Boston, MA 02110"),
        ("actually 742 Maple Avenue, Columbus, OH 43215", "742 Maple Avenue, Columbus, OH 43215"),
        ("I moved to 640 Pine Street, Seattle, WA 98101", "640 Pine Street, Seattle, WA 98101"),
        (
            "Sorry about that! The correct address is 5 Elm Rd, Springfield, IL 62704, thanks!",
            "5 Elm Rd, Springfield, IL 62704",
        ),
        (
            "please change the delivery address of ORD-10006 to 5 Elm Rd, Springfield, IL 62704",
            "5 Elm Rd, Springfield, IL 62704",
        ),
        ("oops, sorry, it's 5 Elm, Springfield 62704", "5 Elm, Springfield 62704"),
        # the request's own question mark and "instead" are no part of it
        (
            "Could you change the delivery address of 10021 to 88 Lake St, Oak Park, IL 60302?",
            "88 Lake St, Oak Park, IL 60302",
        ),
        ("please send it to 19 Birch Road, Evanston, IL 60201 instead.",
         "19 Birch Road, Evanston, IL 60201"),
        ("is it possible to redirect order #10006 to 1420 Lakeshore Blvd, Cleveland, OH 44114? "
         "We're staying with my mom.", "1420 Lakeshore Blvd, Cleveland, OH 44114"),
        # a word of assent before it ("fine." after the bot said it is a bot)
        ("fine. 221b baker street, london NW1 6XE", "221b baker street, london NW1 6XE"),
        ("alright its 12 harbor street, portland ME 04101", "12 harbor street, portland ME 04101"),
        # corrected within the message: the address after the correction
        (
            "send it to 5 Elm Rd, Springfield, IL 62704... no wait, 7 Oak Rd, Springfield, IL "
            "62704",
            "7 Oak Rd, Springfield, IL 62704",
        ),
        # a correction that is no address leaves the address as typed
        ("12 Oak Lane, Columbus, OH 43081, sorry I mean apt 4",) * 2,
        # Nothing to strip: names and flats are part of the address.
        ("Bergstrasse 12, 10115 Berlin, Germany",) * 2,
        ("Via Garibaldi 8, 20121 Milano, Italy",) * 2,
        ("c/o Jane Doe, 5 Elm Rd, Springfield, IL 62704",) * 2,
        ("Flat 2, 27 Rosebery Avenue, London EC1R 4SX",) * 2,
    ],
)
def test_clean_address_keeps_only_the_address(typed, address):
    assert clean_address(typed) == address
    assert is_plausible_address(clean_address(typed))
    assert clean_address(address) == address  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "home",
        "I don't know it by heart",
        "what's the status of ORD-10001, please?",
        "my zip is 62704",
        "is 5 Elm Rd, Springfield, IL 62704 ok?",
        "ORD-10006",
        "",
        None,
    ],
)
def test_not_an_address(text):
    assert not is_plausible_address(clean_address(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 Elm Rd, Springfield, IL 62704", True),
        ("10 main st new york ny 10009", True),
        ("350 Rue Sainte-Catherine Ouest, Montreal, QC H3B 1A2", True),
        ("the zip code is 62704", True),
        ("ORD-10001", False),
        ("ORD-10001 or 10002", False),  # "or" is not Oregon
        ("order 10001 is on its way", False),  # "way" after words that are no street name
        ("it broke after 2 days", False),
    ],
)
def test_looks_like_address(text, expected):
    assert looks_like_address(text) is expected


def test_order_ids_outside_the_address():
    assert order_ids_outside_address("5 Elm Rd, Springfield, IL 62704") == []
    assert order_ids_outside_address("my new address is 10 main st new york ny 10009") == []
    assert order_ids_outside_address("change 10006 to 5 Elm Rd, Springfield, IL 62704") == [
        "ORD-10006"
    ]
    assert order_ids_outside_address("ship ORD-10006 to 5 Elm Rd, IL 62704") == ["ORD-10006"]
    assert order_ids_outside_address("where are 10001 and #10002") == ["ORD-10001", "ORD-10002"]
    assert address_start("12345 Main Street, Springfield") == 0  # a 5-digit house number


def test_find_order_ids_marks_explicit_ones():
    found = find_order_ids("order no. 10005, ORD-10001, #10002, ord 10003 and 10004")
    assert [(item.order_id, item.explicit) for item in found] == [
        ("ORD-10005", True),
        ("ORD-10001", True),
        ("ORD-10002", True),
        ("ORD-10003", True),
        ("ORD-10004", False),
    ]


def test_an_order_number_with_a_thousands_separator_is_an_order_id():
    found = find_order_ids("order #10,519 never showed up, nor ORD 10,053")
    assert [item.order_id for item in found] == ["ORD-10519", "ORD-10053"]
    # an amount is not one
    assert find_order_ids("it cost $10,000 or 10,519.50") == []


# Things the shop does not sell -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        ("do you have the PS5", "game consoles", "headphones"),
        ("a fridge", "fridges", "kitchen"),
        ("any iPhone 15 Pro in stock", "phones", "phone accessories"),
        ("recommend a laptop", "laptops", "laptop accessories"),
        ("a smart tv", "TVs", "speakers"),
        ("do you sell drones", "drones", None),
        ("Bose headphones", "Bose products", "headphones"),
        ("the galaxy watch 6", "Galaxy Watch", "smartwatches"),
    ],
)
def test_unsold_mentions(text, kind, category):
    mention = unsold_mention(text, CATALOG)
    assert mention is not None
    assert (mention.kind, mention.category) == (kind, category)


def test_mention_keeps_model_words_but_not_the_rest_of_the_sentence():
    assert unsold_mention("any iPhone 15 Pro in stock", CATALOG).mention == "iPhone 15 Pro"
    assert unsold_mention("a laptop under $1000", CATALOG).mention == "laptop"
    assert unsold_mention("Bose headphones please", CATALOG).mention == "Bose headphones"


@pytest.mark.parametrize(
    "text",
    [
        "headphones for my PS5",  # what it should work with
        "is it compatible with the xbox",
        "a case for my iPhone",
        "iPhone 15 case",  # a product we sell
        "laptop stand",
        "phone accessories",  # a category we sell
        "the monitor headphones",
        "usb-c cable for my macbook",
        "Halcyra Armor Case for iPhone 15",
        "does the kettle work with apple home",
    ],
)
def test_things_we_sell_or_compatibility_are_no_unsold_mentions(text):
    assert unsold_mention(text, CATALOG) is None


def test_every_catalog_product_is_sold():
    for product in CATALOG:
        assert unsold_mention(product.name, CATALOG, include_compatibility=True) is None


def test_closest_alternatives():
    ps5 = unsold_mention("the PS5", CATALOG)
    assert [p.sku for p in closest_alternatives(ps5, CATALOG)][:2] == ["AUR-G9", "QUI-SSD1T"]
    xbox = unsold_mention("an xbox", CATALOG)
    # The G9 says "not compatible with Xbox": it is not suggested for being compatible.
    assert closest_alternatives(xbox, CATALOG)[0].sku == "QUI-SSD1T"
    tv = unsold_mention("a TV", CATALOG)
    assert "LUM-BAR31" in [p.sku for p in closest_alternatives(tv, CATALOG)]
    bose = unsold_mention("bose headphones", CATALOG)
    assert all(
        p.category == "headphones" and p.stock > 0 for p in closest_alternatives(bose, CATALOG)
    )
    assert closest_alternatives(unsold_mention("a drone", CATALOG), CATALOG) == []


def test_mentions_ignores_negated_statements():
    assert mentions("Lighter Pulse 3 without built-in GPS", "built-in gps") is False
    assert mentions("gps: none; sensors: heart rate", "gps") is False
    assert mentions("works with PC; not compatible with Xbox", "xbox") is False
    assert mentions("gps: built-in dual-band", "gps: built-in") is True


def test_add_months():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 10, 16), 24) == date(2028, 10, 16)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


@pytest.mark.parametrize(
    "text",
    ["wrong order, i meant 10003 (the speaker)", "sorry, 10003", "actually, order 10006",
     "no sorry, i meant 10003"],
)
def test_a_correction_with_commas_and_a_number_is_no_address(text):
    assert not is_plausible_address(clean_address(text))


@pytest.mark.parametrize(
    "request_text, reason",
    [
        ("I'd like to return the Auralis X200 headphones from order 10001 - the left earcup "
         "crackles at high volume", "the left earcup crackles at high volume"),
        ("ok what about the keyboard then, same order. some keys double type",
         "some keys double type"),
        ("the strap broke after a week, i want to return my watch", "the strap broke after a week"),
        ("i need to send back the x200 because they are too tight", "they are too tight"),
        ("can i return the mouse from 10005? it double clicks", "it double clicks"),
        # no reason: the request, a question, what was bought, a greeting
        ("I want to return my watch, order 10014", None),
        ("i want to return the x200 from 10001, is that possible", None),
        ("I bought a dock and a charger (order 10009). I want to return the dock.", None),
        ("good morning to you, i want to return my kettle", None),
        ("i want to return something from order 10001, the usb-c cable", None),
        ("i want to return the dock... no actually the usb-c cable", None),
        ("i wnat to retrun the kdis headphnes", None),
        ("can i still return my pulse 3 lite? got it about a month ago", None),
        # a slip about which order is meant
        ("ah no not that one, wrong order. its 10002", None),
        ("oops i mixed them up, the other order. 10003", None),
    ],
)
def test_the_reason_a_return_request_already_gives(request_text, reason):
    assert stated_reason(request_text, "Veltro Braided USB-C Cable 2 m") == reason


@pytest.mark.parametrize(
    ("text", "zip_code"),
    [
        ("oops sorry the zip is wrong, its 78702", "78702"),
        ("zip should be 78702 not 78701", "78702"),
        ("the zip code 78701 is wrong, should be 78702", "78702"),
        ("wrong zip, i meant 78702-1234", "78702-1234"),
        ("my zip 62704", None),  # no correction: not an address either
        ("sorry, 5 Elm Rd, Springfield, IL 62704 zip", None),  # a whole address
        ("my zip is wrong", None),
    ],
)
def test_a_corrected_zip_code(text, zip_code):
    assert corrected_zip(text) == zip_code


def test_with_zip_replaces_the_last_zip_code():
    assert with_zip("12 Main St, Austin, TX 78701", "78702") == "12 Main St, Austin, TX 78702"
    assert with_zip("10001 Ocean Dr, Miami, FL 33139", "33140") == "10001 Ocean Dr, Miami, FL 33140"
    assert with_zip("Bergstrasse 12, Berlin", "10115") is None
