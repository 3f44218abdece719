"""Resolving customers' free-text answers against a list of choices (repair/choices.py)."""

from __future__ import annotations

import pytest

from rasa_llm_components.repair.choices import (
    Candidate,
    Resolution,
    choice_message,
    resolve,
    stem,
    token_score,
    tokens,
)

HEADPHONES = Candidate(
    "Auralis X200 Headphones",
    "Auralis X200 Headphones",
    ("Auralis", "AUR-X200", "X200 Headphones", "headphones", "over-ear"),
)
CABLE = Candidate(
    "Veltro Braided USB-C Cable 2 m",
    "Veltro Braided USB-C Cable 2 m",
    ("Veltro", "VEL-CABLE2M", "phone accessories", "cable"),
)
KIDS = Candidate(
    "Veltro Kids K1 Headphones",
    "Veltro Kids K1 Headphones",
    ("Veltro", "VEL-K1", "headphones", "on-ear"),
)
ITEMS = [HEADPHONES, CABLE]

ORDERS = [  # newest first, as a bot lists them
    Candidate(
        "ORD-10006",
        "ORD-10006 (pending): Halcyra PowerBank 20000",
        ("pending", "Halcyra PowerBank 20000", "power bank", "last", "latest", "most recent"),
    ),
    Candidate("ORD-10003", "ORD-10003 (paid): Tidewell Wave 2", ("paid", "Tidewell", "speaker")),
    Candidate(
        "ORD-10002",
        "ORD-10002 (shipped): Nimbra Pulse 3 Smartwatch",
        ("shipped", "on its way", "in transit", "Nimbra Pulse 3 Smartwatch", "watch"),
    ),
    Candidate("ORD-10001", "ORD-10001 (delivered): Auralis X200", ("delivered", "headphones")),
    Candidate("ORD-10004", "ORD-10004 (delivered): Brevik Kettle", ("delivered", "kettle")),
]


def matched(text: str, candidates=ITEMS, **kwargs) -> str | None:
    resolution = resolve(text, candidates, **kwargs)
    assert resolution.kind == "match", (text, resolution)
    return resolution.match.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the headphones", HEADPHONES.value),
        ("the auralis pair", HEADPHONES.value),
        ("the auralis ones please", HEADPHONES.value),
        ("my headphnes", HEADPHONES.value),  # typo
        ("the x200", HEADPHONES.value),
        ("the over-ear ones", HEADPHONES.value),
        ("the over ear pair", HEADPHONES.value),
        ("the cable", CABLE.value),
        ("that usb c cabel", CABLE.value),  # typo
        ("the braided one", CABLE.value),
        ("VEL-CABLE2M", CABLE.value),
        ("Veltro Braided USB-C Cable 2 m", CABLE.value),  # a clicked button
    ],
)
def test_names_short_names_brands_categories_and_typos(text, expected):
    assert matched(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the first one", HEADPHONES.value),
        ("the second", CABLE.value),
        ("2nd one please", CABLE.value),
        ("the last one", CABLE.value),
        ("number 2", CABLE.value),
        ("option two", CABLE.value),
        ("1", HEADPHONES.value),
    ],
)
def test_ordinals_count_in_the_listed_order(text, expected):
    assert matched(text) == expected


def test_negation_sets_candidates_aside():
    # what is wrong with a thing names it: "don't want", "doesn't charge"
    assert matched("cancel it, i dont want the cable anymore") == CABLE.value
    assert matched("the one that does not charge, the cable") == CABLE.value
    assert matched("not the cable") == HEADPHONES.value
    assert matched("not the headphones, the cable") == CABLE.value
    assert matched("no, the cable") == CABLE.value  # a correction, not a negation
    assert matched("no the cable") == CABLE.value
    # a negation that asks a favour names what is wanted
    assert matched("cant you just cancel the cable part then") == CABLE.value
    assert matched("couldn't u take back the headphones") == HEADPHONES.value
    assert matched("why not the cable") == CABLE.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i want to return the headphones... no actually the cable", CABLE.value),
        ("the cable, sorry, the headphones", HEADPHONES.value),
        ("the x200 no wait i meant the braided cable", CABLE.value),
        # a cue with nothing to resolve after it, or at the start, changes nothing
        ("the cable, actually", CABLE.value),
        ("actually, the headphones", HEADPHONES.value),
    ],
)
def test_a_correction_within_the_message_means_what_follows_it(text, expected):
    assert matched(text) == expected


def test_ambiguous_answer_lists_the_plausible_candidates_only():
    resolution = resolve("the headphones", [HEADPHONES, CABLE, KIDS])
    assert resolution.kind == "ambiguous"
    assert resolution.match is None
    assert [option.value for option in resolution.options] == [HEADPHONES.value, KIDS.value]
    # Within the ambiguous ones, an ordinal or a distinctive word decides.
    assert matched("the second headphones", [HEADPHONES, CABLE, KIDS]) == KIDS.value
    assert matched("the kids headphones", [HEADPHONES, CABLE, KIDS]) == KIDS.value
    assert matched("the veltro headphones", [HEADPHONES, CABLE, KIDS]) == KIDS.value


@pytest.mark.parametrize("text", ["the kettle", "my airpods", "the red one", "", "   ", "???"])
def test_nothing_matching_offers_every_candidate(text):
    resolution = resolve(text, ITEMS)
    assert resolution == Resolution("none", None, tuple(ITEMS))


def test_no_candidates_at_all():
    assert resolve("the headphones", []) == Resolution("none")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the one that shipped", "ORD-10002"),
        ("the order that's on its way", "ORD-10002"),
        ("the one in transit", "ORD-10002"),
        ("the pending one", "ORD-10006"),
        ("the speaker one", "ORD-10003"),
        ("the one with the smartwach", "ORD-10002"),
        ("my last order", "ORD-10006"),  # an alias beats the ordinal meaning of "last"
        ("my most recent order", "ORD-10006"),
        ("the kettle order", "ORD-10004"),
        ("ORD-10004", "ORD-10004"),
        ("ord-10004 please", "ORD-10004"),
    ],
)
def test_orders_by_status_item_and_recency(text, expected):
    assert matched(text, ORDERS, ignore=("order", "orders")) == expected


def test_order_descriptions_that_fit_several_or_none():
    delivered = resolve("the delivered one", ORDERS, ignore=("order",))
    assert delivered.kind == "ambiguous"
    assert [option.value for option in delivered.options] == ["ORD-10001", "ORD-10004"]
    for typed in ("the one that hasn't shipped yet", "my order that hasnt shipped"):
        not_shipped = resolve(typed, ORDERS, ignore=("order",))
        assert not_shipped.kind == "ambiguous"
        assert "ORD-10002" not in [option.value for option in not_shipped.options]
    unknown = resolve("I don't know the number", ORDERS, ignore=("order", "number"))
    assert unknown.kind == "none" and len(unknown.options) == len(ORDERS)


def test_digits_must_match_exactly():
    # "10003" is one edit away from "10004" but must not match it.
    assert resolve("10005", ORDERS).kind == "none"
    assert resolve("the x300", ITEMS).kind == "none"


def test_token_scores():
    assert token_score("kettle", {"kettle"}) == 1.0
    assert token_score("kettel", {"kettle"}) == 0.8  # transposition
    assert token_score("watch", {"smartwatch"}) == 0.6  # the head of a compound
    assert token_score("blue", {"bluetooth"}) == 0.0  # its first part only describes it
    assert token_score("match", {"watch"}) == 0.0  # first letters differ: not a typo
    assert token_score("x300", {"x200"}) == 0.0
    assert token_score("cat", {"car"}) == 0.0  # short words must be exact


def test_tokens_drop_fillers_and_singularise():
    assert tokens("I'd like the Auralis pair please") == ["auralis"]
    assert tokens("the in-ear earbuds") == ["inear", "ear", "earbud"]  # "in" is a filler
    assert stem("batteries") == "battery" and stem("watches") == "watch"
    assert stem("mice") == "mouse"  # no suffix rule reaches it


def test_an_irregular_plural_names_its_item():
    mouse = Candidate("Kestrel Glide M3 Mouse", "Kestrel Glide M3 Mouse", ("Kestrel", "mouse"))
    assert resolve("the mice", [HEADPHONES, mouse]).match == mouse


def test_choice_message_buttons_send_the_plain_value():
    message = choice_message("Which one do you mean?", [HEADPHONES, CABLE])
    assert message == {
        "text": "Which one do you mean?",
        "buttons": [
            {"title": HEADPHONES.label, "payload": HEADPHONES.value},
            {"title": CABLE.label, "payload": CABLE.value},
        ],
    }
    # Clicking a button sends its payload as text, which resolves exactly.
    for button in message["buttons"]:
        assert matched(button["payload"]) == button["payload"]
    for button in choice_message("Which order?", ORDERS)["buttons"]:
        assert matched(button["payload"], ORDERS) == button["payload"]


def test_choice_message_limits_the_buttons():
    many = [Candidate(f"item {index}") for index in range(15)]
    assert len(choice_message("Which?", many, limit=4)["buttons"]) == 4
    assert many[0].label == "item 0" and many[0].aliases == ()


def test_candidates_are_immutable_and_deduplicated():
    candidate = Candidate("a", "A", ["x", "", "y"])
    assert candidate.aliases == ("x", "y")
    with pytest.raises(AttributeError):
        candidate.value = "b"  # type: ignore[misc]
    twice = resolve("the headphones", [HEADPHONES, HEADPHONES, CABLE])
    assert twice.kind == "match" and twice.options == (HEADPHONES,)
