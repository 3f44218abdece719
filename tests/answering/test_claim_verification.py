"""Claims that the evidence as a whole seems to back, but that say something else: a feature moved
to another product, a word swapped for its opposite, an option the list does not offer, a figure
computed from numbers that mean something else."""

from __future__ import annotations

import pytest

from rasa_llm_components.answering.attribution import catalog_rows, named_row
from rasa_llm_components.answering.fact_guard import FactGuard
from rasa_llm_components.answering.figure_checks import derived_figures, windows
from rasa_llm_components.answering.verification import (
    STRICT_COVERAGE,
    ClaimVerifier,
    KnowledgeVocabulary,
    _affirmed_terms,
    _units,
    unsupported_claims,
)

WATCH = ("Nimbra Pulse 3 Smartwatch. sku: NIM-PULSE3\nprice: 199.00\nbattery_days: 7\n"
         "features: built-in GPS; sleep tracking; NFC payments")
LITE = ("Nimbra Pulse 3 Lite Smartwatch. sku: NIM-PULSE3L\nprice: 129.00\nbattery_days: 10\n"
        "features: connected GPS via phone; sleep tracking; no NFC payments")
HEADPHONES = ("Auralis X200 Headphones. sku: AUR-X200\nprice: 249.00\n"
              "specs: codecs: SBC/AAC/LDAC; colours: black/sand/navy\nwarranty_months: 24")
EARBUDS = ("Auralis Sprint S5 Earbuds. sku: AUR-S5\nprice: 79.00\n"
           "specs: codecs: SBC/AAC; colours: black/white\nwarranty_months: 12")
ACCOUNTS = ("Accounts. Changing your email address requires confirming a link sent to the new "
            "address. Flash sales and clearance prices are excluded from price drop protection. "
            "Orders paid before 2 pm ship the same day. Orders paid later ship the next day.")
SPLITPAY = "SplitPay. Pay in 4 interest-free instalments, one every 2 weeks. There is no fee."
KNOWLEDGE = [WATCH, LITE, HEADPHONES, EARBUDS, ACCOUNTS, SPLITPAY]
NAMES = ["Nimbra Pulse 3 Smartwatch", "Nimbra Pulse 3 Lite Smartwatch", "Auralis X200 Headphones",
         "Auralis Sprint S5 Earbuds", "SplitPay"]


@pytest.fixture(scope="module")
def verifier() -> ClaimVerifier:
    return ClaimVerifier(FactGuard(NAMES), KnowledgeVocabulary.build(KNOWLEDGE))


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("The Pulse 3 has NFC payments and built-in GPS; the Pulse 3 Lite uses your phone's GPS "
         "and lasts 10 days.", True),
        ("The Pulse 3 has NFC payments; the Pulse 3 Lite also has NFC payments.", False),
        ("The Pulse 3 Lite has NFC payments and sleep tracking.", False),
        ("The Pulse 3 Lite costs $129 and lasts 10 days.", True),
        ("The Pulse 3 Lite costs $199.", False),  # the other product's price
        ("The Pulse 3 lasts 7 days versus 10 days for the Pulse 3 Lite.", True),
        ("Both have sleep tracking.", True),
        ("The Pulse 3 costs $199; it has NFC payments.", True),
        ("The Pulse 3 Lite costs $129; it has NFC payments.", False),  # "it" is still the Lite
    ],
)
def test_a_clause_about_one_of_several_products_holds_to_its_row(verifier, answer, ok):
    problems = verifier.verify(answer, [WATCH, LITE], "pulse 3 vs pulse 3 lite?")
    assert (problems == []) is ok, problems


def test_the_longest_name_wins_and_a_tie_goes_to_the_shorter_title():
    rows = catalog_rows([WATCH, LITE, ACCOUNTS])
    assert len(rows) == 2  # the prose passage is no row
    assert named_row("the Pulse 3 Lite is lighter", rows).text == LITE
    assert named_row("the Pulse 3 is heavier", rows).text == WATCH
    assert named_row("the Lite is cheaper", rows).text == LITE  # a word no other title has
    assert named_row("the Pulse 3 and the Pulse 3 Lite", rows) is None  # two products
    assert named_row("both watches", rows) is None


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("You'll need to confirm a link sent to your new address.", True),
        ("You'll need to confirm a link sent to your old address.", False),
        ("Flash sale prices are excluded from price drop protection.", True),
        ("Flash sale prices are included in price drop protection.", False),
        ("Orders paid after 2 pm ship the next day.", True),  # "after" is "later"
    ],
)
def test_a_word_swapped_for_its_opposite_is_caught(verifier, answer, ok):
    problems = verifier.verify(answer, [ACCOUNTS], "question")
    assert (problems == []) is ok, problems


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("The Auralis X200 comes in black, sand and navy.", True),
        ("The Auralis X200 comes in black, sand and white.", False),  # the S5's colour
        ("The X200 supports SBC, AAC and LDAC.", True),
        ("The Sprint S5 supports SBC, AAC and LDAC.", False),
    ],
)
def test_an_option_is_backed_only_by_itself(verifier, answer, ok):
    problems = verifier.verify(answer, [HEADPHONES, EARBUDS], "colours and codecs?")
    assert (problems == []) is ok, problems


def test_a_list_of_options_is_known_to_the_vocabulary():
    values = KnowledgeVocabulary.build(KNOWLEDGE).values
    assert {"navy", "sand", "ldac"} <= values
    assert "gps" not in values


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("The Pulse 3 is $199 and the X200 is $249, so together they come to $448.", True),
        ("The Pulse 3 is $199 and the X200 is $249, so together they come to $458.", False),
        ("The X200 is $50 more than the Pulse 3: $249 versus $199.", True),
    ],
)
def test_computed_figures_come_from_what_the_answer_states(verifier, answer, ok):
    problems = verifier.verify(answer, [WATCH, HEADPHONES, SPLITPAY], "total?")
    assert (problems == []) is ok, problems


def test_derived_figures_keep_kinds_apart():
    texts = ["Warranty 24 months. Care+ adds 24 months. Pay in 4 instalments every 2 weeks."]
    derived = derived_figures(texts, "24 months and 24 more months: 48 months in total")
    assert "48 months" in derived and "4 years" in derived
    assert not any(value in derived for value in ("$2", "2", "$8"))
    assert "$12.25" in derived_figures(["4 bulbs for $49"], "4 bulbs for $49: $12.25 each")


@pytest.mark.parametrize(
    "answer, unsupported",
    [
        ("The Lumora Smart Bulbs work over Wi-Fi.", []),  # a plural of the product's name
        ("The Lumora Smart Lamps work over Wi-Fi.", ["Lumora Smart Lamps"]),
        ("Orders paid before 2 pm ET ship the same day.", []),  # initials of "Eastern Time"
        ("You'll charge it about once a month.", []),  # a rate, no duration
        ("Orders paid before 3 pm ET ship the same day.", ["3 pm"]),
    ],
)
def test_short_forms_and_rates_are_no_new_facts(answer, unsupported):
    evidence = ["Lumora Smart Bulb E27 (4-pack). price: 49.00\nconnectivity: Wi-Fi",
                "Orders paid before 2 pm Eastern Time ship the same business day."]
    guard = FactGuard(["Lumora Smart Bulb E27 (4-pack)", "Lumora Smart Plug (2-pack)"])
    assert unsupported_claims(guard, answer, evidence) == unsupported


@pytest.mark.parametrize(
    "answer, unsupported",
    [
        ("With the case the B30 goes 32 hours, 8 hours on its own.", []),
        ("With the case the B30 goes 36 hours.", ["36 hours"]),
        ("The Trail Pro lasts 21 days, or 40 hours in GPS mode.", []),
        ("The Trail Pro lasts 21 days, or 40 days in GPS mode.", ["40 days"]),  # its own unit
    ],
)
def test_every_figure_of_a_field_value_has_the_fields_unit(answer, unsupported):
    evidence = ["Buds B30. specs: battery_hours: 8 (32 with case); weight: 5 g",
                "Trail Pro. specs: battery_days: 21 (40 hours in GPS mode); gps: multi-band"]
    assert unsupported_claims(FactGuard([]), answer, evidence) == unsupported


def test_a_stated_duration_may_be_added_to_the_rows_own():
    row = "Corvane Fit 2. warranty_months: 12\nprice: 59.00"
    care = "Care+ adds 24 months of warranty."
    derived = derived_figures([row, care], "Care+ adds 24 months, so 36 months in total")
    assert "36 months" in derived and "3 years" in derived
    assert "36 months" not in derived_figures([row, care], "Care+ adds 36 months in total")


RETURNS = (
    "Returns. Returns are free within the United States with our prepaid UPS label, and there is "
    "no restocking fee. From the UK the customer pays the return shipping unless the item is "
    "defective or we sent the wrong item. No, the return window is 30 days from delivery and "
    "nobody can extend it. If tracking hasn't changed for 7 business days, we open an "
    "investigation with the carrier."
)


@pytest.mark.parametrize(
    "answer, ok",
    [
        # "and there is no restocking fee" denies the fee, not the free label
        ("Returns within the US are free with our prepaid UPS label.", True),
        ("Returns within the United States are not free with our prepaid UPS label.", False),
        # what follows "unless" is an exception to the rule
        ("From the UK you pay the return shipping, but not when we sent the wrong item.", True),
        ("From the UK you pay the return shipping, even when we sent the wrong item.", False),
        ("Customers in the UK pay the return shipping, even if the item is defective.", False),
        # a FAQ's "No," answers its question and denies nothing
        ("The return window is 30 days from delivery.", True),
        ("The return window isn't 30 days from delivery.", False),
        # a denial inside a condition leaves the clause affirmative
        ("We open an investigation with the carrier once tracking hasn't changed for 7 business "
         "days.", True),
        ("We don't open an investigation with the carrier when tracking hasn't changed for 7 "
         "business days.", False),
    ],
)
def test_polarity_is_read_per_part_of_a_sentence(verifier, answer, ok):
    problems = verifier.verify(answer, [RETURNS], "returns?")
    assert (problems == []) is ok, problems


@pytest.mark.parametrize(
    "answer, question, wrong",
    [
        ("At 35 days you're still inside the 30-day return window.", "it's been 35 days", True),
        ("No, at 35 days you're past the 30-day return window.", "it's been 35 days", False),
        ("You're still within the 30-day window, so return it.", "bought it 6 weeks ago", True),
        ("You're past the 30-day window.", "got it 3 days ago", True),
        ("You're still within the 24-month warranty.", "i bought it 2 months ago", False),
        ("Returns are accepted within 30 days of delivery.", "its been 40 days", False),  # a rule
        ("Cover applies within the first 12 months, and 18 months is still within that.",
         "battery died after 18 months", True),
        ("Cover applies within the first 12 months, and 18 months is past that.",
         "battery died after 18 months", False),
    ],
)
def test_the_customers_time_against_a_window(answer, question, wrong):
    assert bool(windows(answer, question)) is wrong


def test_a_condition_restates_a_sentence_of_its_own():
    evidence = ["Returns. Items must be complete (all accessories, cables and manuals) and free "
                "of damage caused after delivery. Opened items can be returned within 30 days."]
    verifier = ClaimVerifier(FactGuard([]), KnowledgeVocabulary.build(evidence),
                             min_sentence_coverage=0.4)
    answer = ("Yes, opened items can be returned within 30 days, as long as they're complete "
              "(all accessories, cables and manuals) and free of damage.")
    assert verifier.verify(answer, evidence, "can i return it opened?") == []
    invented = ("Yes, opened items can be returned within 30 days, as long as you bring the "
                "receipt to a partner store near you.")
    assert verifier.verify(invented, evidence, "can i return it opened?") != []


def test_a_rate_in_mbps_is_a_speed():
    # "speed" is rare in this knowledge, so it states a fact that the evidence must back
    rare = KnowledgeVocabulary.build(["The charging speed is 20 W.", *["Other text."] * 99])
    verifier = ClaimVerifier(FactGuard([]), rare)
    evidence = ["Veltro Braided USB-C Cable. sku: VEL-C2\nprice: 19.00\ndata: USB 2.0 (480 Mbps)"]
    assert verifier.verify("Data runs at USB 2.0 speed, 480 Mbps.", evidence, "how fast?") == []
    assert verifier.verify("Data runs at USB 2.0 speed.", evidence[:0] + ["data: USB 2.0"],
                           "how fast?") != []


def test_mic_is_short_for_microphone():
    verifier = ClaimVerifier(FactGuard([]))
    evidence = ["Auralis G9 Gaming Headset. microphone: detachable boom with noise filter"]
    assert verifier.verify("Yes, the mic on the G9 is detachable.", evidence,
                           "can u take the mic off?") == []
    assert verifier.verify("Yes, the mic on the G9 is detachable.",
                           ["Auralis G9 Gaming Headset. battery_hours: 40"],
                           "can u take the mic off?") != []


DISPATCH = ("Dispatch. Orders paid later ship the next business day. We do not ship on weekends or "
            "public holidays.")


@pytest.mark.parametrize(
    "answer, evidence, ok",
    [
        # a fact word inside a phrase that states no fact
        ("In that case, orders paid later ship the next day.", ACCOUNTS, True),
        ("Orders paid later ship the next day, so check back tomorrow.", ACCOUNTS, True),
        ("The Pulse 3 comes with a case.", WATCH, False),  # the same word as an item
        ("You can pay by check in 4 instalments.", SPLITPAY, False),
        # a condition may name what the evidence names in a denial
        ("Paid late, it ships the next business day, unless that is a public holiday.",
         DISPATCH, True),
        ("Paid late, it ships the next business day, even on a public holiday.", DISPATCH, False),
    ],
)
def test_phrases_and_conditions_that_state_no_fact(verifier, answer, evidence, ok):
    problems = verifier.verify(answer, [evidence], "when does it ship")
    assert (problems == []) is ok, problems


def test_an_instalment_may_divide_the_price_it_states(verifier):
    barista = "Oxenford Barista One. sku: OXE-BARISTA1\nprice: 449.00"
    question = "can i splitpay the barista one, how much is each payment"
    good = "The Barista One is $449, so with SplitPay that's 4 instalments of $112.25."
    assert verifier.verify(good, [barista, SPLITPAY], question) == []
    assert verifier.verify(good.replace("112.25", "120.25"), [barista, SPLITPAY], question)


MINI = ("Tidewell Wave Mini Speaker. sku: TID-WAVEMINI\ncategory: speakers\nprice: 49.00\n"
        "features: IP67 waterproof; carabiner clip; PartyLink pairing with other speakers")
WAVE = ("Tidewell Wave 2 Portable Speaker. sku: TID-WAVE2\ncategory: speakers\nprice: 89.00\n"
        "features: IP67 waterproof; PartyLink pairing; stereo pairing; built-in speakerphone")
FRYER = ("Brevik AirCrisp Air Fryer. sku: BRE-AIRFRY55\ncategory: kitchen\nprice: 119.00\n"
         "features: 8 cooking presets; dishwasher-safe basket; shake reminder; viewing window")
NOT_SERVED = ("Can you ship to Australia or Switzerland?. No. We do not ship to Australia, "
              "Switzerland or any other country outside our list.")
PRICE_DROP = ("Price drop protection: we refund the difference once, on request. Flash sales and "
              "clearance prices are excluded.")


@pytest.fixture(scope="module")
def shop_verifier() -> ClaimVerifier:
    # other passages, so that a country named once is rare, as in a shop's knowledge
    others = [f"Topic {number}. Orders ship within the United States." for number in range(8)]
    knowledge = [*KNOWLEDGE, MINI, WAVE, FRYER, NOT_SERVED, PRICE_DROP, *others]
    names = [*NAMES, "Tidewell Wave Mini Speaker", "Tidewell Wave 2 Portable Speaker",
             "Brevik AirCrisp Air Fryer"]
    return ClaimVerifier(FactGuard(names), KnowledgeVocabulary.build(knowledge))


@pytest.mark.parametrize(
    "answer, evidence, ok",
    [
        # said of both products: each row must have it ("speaker" is no "speakerphone")
        ("The Wave 2 has a speakerphone. Both are IP67 and support PartyLink.", [MINI, WAVE],
         True),
        ("Both are IP67 and have a built-in speakerphone.", [MINI, WAVE], False),
        # an item of a list in words the knowledge never uses
        ("The AirCrisp has 8 presets, a shake reminder, a viewing window and a dishwasher-safe "
         "basket.", [FRYER], True),
        ("The AirCrisp has 8 presets, a shake reminder, a viewing window, a rotisserie spit and "
         "a dishwasher-safe basket.", [FRYER], False),
        # a FAQ's title answered "No." states nothing
        ("Sorry, we don't ship to Switzerland.", [NOT_SERVED], True),
        ("Yes, we ship to Switzerland.", [NOT_SERVED], False),
        # "applies" is no "app"; what the evidence excludes is not included "too"
        ("Flash sales and clearance prices are excluded.", [PRICE_DROP], True),
        ("That applies to flash sale and clearance prices too.", [PRICE_DROP], False),
    ],
)
def test_features_of_both_lists_and_exclusions(shop_verifier, answer, evidence, ok):
    problems = shop_verifier.verify(answer, evidence, "tell me more")
    assert (problems == []) is ok, problems


def test_a_denial_of_anything_else_states_what_is_done():
    # "we do not ship to ... any other country outside our list": shipping to the list is
    # stated, so "we only deliver to the US, ..." restates it
    assert "ship" in _affirmed_terms(_units([NOT_SERVED]))
    assert "ship" not in _affirmed_terms(_units(["We do not ship to Australia or Norway."]))


SCALE = ("Brevik Precision Kitchen Scale. sku: BRE-SCALE\nprice: 29.00\n"
         "specs: units: g/kg/oz/lb/ml; precision: 1 g")


@pytest.mark.parametrize(
    "answer, ok",
    [
        # units written out are the abbreviations of the evidence
        ("Yes, it shows grams, kilograms, ounces, pounds and millilitres.", True),
        ("Yes, it weighs in grams and ounces, accurate to 1 gram.", True),
        ("Yes, it shows ounces and has Bluetooth.", False),
    ],
)
def test_units_written_out_are_their_abbreviations(answer, ok):
    verifier = ClaimVerifier(FactGuard(["Brevik Precision Kitchen Scale"]),
                             KnowledgeVocabulary.build([*KNOWLEDGE, SCALE]),
                             min_sentence_coverage=STRICT_COVERAGE)
    problems = verifier.verify(answer, [SCALE], "does it do ounces?")
    assert (problems == []) is ok, problems


def test_a_fact_word_used_as_a_verb_states_nothing(verifier):
    # "matter" is a smart-home standard; "does that matter?" asks whether it makes a difference
    assert verifier.verify("Yes, the Pulse 3 has NFC payments, so that does not matter.",
                           [WATCH], "does the pulse 3 do contactless? does that matter") == []
    assert verifier.verify("Yes, the Pulse 3 supports Matter.", [WATCH],
                           "does the pulse 3 support matter") != []

