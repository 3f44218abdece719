"""Evidence, rendering and claim verification, without models."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from rasa_llm_components.answering.comparison import (
    asked_aspects,
    aspect_facts,
    distinguishing_facts,
    is_comparison,
)
from rasa_llm_components.answering.evidence import (
    EvidenceSentence,
    candidate_sentences,
    row_facts,
    unknown_model_names,
)
from rasa_llm_components.answering.fact_guard import FactGuard
from rasa_llm_components.answering.follow_ups import is_follow_up, resolve
from rasa_llm_components.answering.rendering import (
    denies_something_else,
    extractive_answer,
    fact_sentence,
    unasked_denials_last,
)
from rasa_llm_components.answering.value_fields import ValueFields
from rasa_llm_components.answering.verification import ClaimVerifier, KnowledgeVocabulary
from rasa_llm_components.retrieval import Passage
from rasa_llm_components.retrieval.products import ProductCatalog


def _sentence(
    text: str, score: float, position: int, passage: str = "faq:a", title: str = "Title"
) -> EvidenceSentence:
    return EvidenceSentence(passage, title, text, score, 0, position)


def _row(sku: str, name: str, **fields: str) -> Passage:
    fields = {"sku": sku, "name": name, **fields}
    text = "\n".join(f"{key}: {value}" for key, value in fields.items())
    return Passage(f"catalog:{sku}", name, text, "catalog.csv", {"kind": "row", "fields": fields})


ROWS = [
    _row("AUR-X200", "Auralis X200 Headphones", brand="Auralis", category="headphones",
         price="249.00", stock="34", specs="battery_hours: 38; weight: 254 g",
         features="multipoint pairing with 2 devices; hard case included"),
    _row("AUR-X100", "Auralis X100 Headphones", brand="Auralis", category="headphones",
         price="149.00", stock="0",
         features="active noise cancelling; no multipoint; hard case included"),
    _row("NIM-PULSE3", "Nimbra Pulse 3 Smartwatch", brand="Nimbra", category="smartwatches",
         price="199.00"),
    _row("NIM-PULSE3L", "Nimbra Pulse 3 Lite Smartwatch", brand="Nimbra",
         category="smartwatches", price="129.00"),
    _row("KES-MH7", "Kestrel Studio MH7 Monitor Headphones", brand="Kestrel",
         category="headphones", price="99.00"),
    _row("LUM-SB31", "Lumora Soundbar 3.1", brand="Lumora", category="speakers",
         price="399.00"),
]
FAQ = Passage("faq:canada", "Do you ship to Canada?",
              "Yes. Shipping to Canada takes 5 to 8 business days and costs $12.99.",
              "faq.yml", {"kind": "faq"})


def test_extractive_answer_does_not_copy_another_questions_opener():
    ranked = [
        _sentence("We share personal data only with carriers and payment providers.", 0.6, 1),
        _sentence("Data is stored in the United States.", 0.3, 2),
        _sentence("Never.", 0.2, 0),
        _sentence("Other passage sentence.", 0.55, 0, "faq:b"),
    ]
    text, ids = extractive_answer(ranked)
    assert text == "We share personal data only with carriers and payment providers."
    assert ids == ["faq:a"]


def test_extractive_short_best_sentence_brings_the_next_one():
    ranked = [
        _sentence("We do not swap items directly.", 0.35, 0),
        _sentence("Shipping is free.", 0.2, 2),
        _sentence("Return the item and place a new order.", 0.2, 1),
    ]
    text, _ = extractive_answer(ranked)
    assert text == "We do not swap items directly. Return the item and place a new order."


def test_extractive_answer_covers_the_questions_own_term_and_drops_a_denied_yes():
    """"with express to hawaii": the FAQ's "Yes" is about express shipping in general; the
    sentence that names Hawaii says no."""
    title = "Do you offer express shipping?"
    ranked = [
        _sentence("Express shipping takes 1 to 2 business days and costs $14.99.", 0.6, 1,
                  title=title),
        _sentence("Yes, within the United States.", 0.5, 0, title=title),
        _sentence("It is not available for PO boxes, Alaska or Hawaii.", 0.3, 2, title=title),
    ]
    text, _ = extractive_answer(ranked, question="do u ship to hawaii with express")
    assert "Hawaii" in text
    assert not text.lower().startswith("yes")
    assert text.startswith("Express shipping takes 1 to 2 business days")


def test_extractive_answer_keeps_the_yes_when_nothing_denies_the_question():
    title = "Do you offer express shipping?"
    ranked = [
        _sentence("Express shipping takes 1 to 2 business days and costs $14.99.", 0.6, 1,
                  title=title),
        _sentence("Yes, within the United States.", 0.5, 0, title=title),
        _sentence("It is not available for PO boxes, Alaska or Hawaii.", 0.3, 2, title=title),
    ]
    text, _ = extractive_answer(ranked, question="do you offer express shipping?")
    assert text.startswith("Yes, within the United States.")
    # the limit of what it says comes with it, and does not take back the yes
    assert text.endswith("It is not available for PO boxes, Alaska or Hawaii.")


def test_an_faq_answer_that_leans_on_its_question_brings_the_next_sentence():
    ranked = [
        _sentence("Under Account → Privacy or by email to privacy@voltnest.example.", 0.5, 0),
        _sentence("Deletion is completed within 30 days.", 0.3, 1),
        _sentence("Invoices are kept for 7 years.", 0.2, 2),
    ]
    text, _ = extractive_answer(ranked, question="how do i get rid of my account")
    assert text == ("Under Account → Privacy or by email to privacy@voltnest.example. "
                    "Deletion is completed within 30 days.")


def test_a_question_asking_for_an_amount_gets_the_sentence_that_states_one():
    ranked = [
        _sentence("The return window is counted from the delivery date, not the order date.",
                  0.62, 1),
        _sentence("Only delivered orders can be returned.", 0.45, 3),
        _sentence("You can return any item within 30 calendar days of delivery.", 0.42, 0),
        _sentence("Refunds take 5 business days.", 0.6, 0, "faq:b"),
    ]
    text, _ = extractive_answer(ranked, question="whats ur return window")
    assert text.startswith("You can return any item within 30 calendar days")
    assert "counted from the delivery date" in text
    # not for a question that asks no amount, nor below the margin
    assert "30" not in extractive_answer(ranked, question="is the return window fair")[0]
    far = [ranked[0], replace(ranked[2], score=0.3)]
    assert "30" not in extractive_answer(far, question="how long is the return window")[0]


@pytest.mark.parametrize(
    "fact, sentence",
    [
        ("Nimbra Pulse 3 Smartwatch - water_resistance: 5 ATM",
         "The Nimbra Pulse 3 Smartwatch is water resistant to 5 ATM."),
        ("Auralis X200 Headphones - price: 249.00", "The Auralis X200 Headphones cost $249.00."),
        ("Auralis X100 Headphones - stock: 0",
         "The Auralis X100 Headphones are currently out of stock."),
        ("Auralis X200 Headphones - features: hard case included",
         "A hard case is included with the Auralis X200 Headphones."),
        ("Kestrel MK850 - features: Mac and Windows key caps included",
         "Mac and Windows key caps are included with the Kestrel MK850."),
        ("Quillon Dock - features: USB-C cable not included",
         "A USB-C cable is not included with the Quillon Dock."),
        ("Auralis X200 Headphones - features: foldable",
         "The Auralis X200 Headphones are foldable."),
        ("Brevik Kettle - features: dishwasher safe", "The Brevik Kettle is dishwasher safe."),
        ("Kestrel MH7 - features: detachable cable", "The Kestrel MH7 has detachable cable."),
        ("Lumora Soundbar 3.1 - warranty_months: 36",
         "The Lumora Soundbar 3.1 comes with a 36-month warranty."),
        ("Kettle - capacity: 1.7 L", "The Kettle's capacity is 1.7 L."),
        ("Quillon Sleeve 14 - compatibility: not MacBook Pro 16",
         "The Quillon Sleeve 14 is not compatible with MacBook Pro 16."),
        ("Auralis X200 Headphones - codecs: SBC/AAC/LDAC",
         "The Auralis X200 Headphones' codecs are SBC/AAC/LDAC."),
        ("Lumora Smart Plug (2-pack) - energy_monitoring: yes",
         "The Lumora Smart Plug (2-pack) has energy monitoring."),
        ("Kestrel B2 Speakers - specs: built-in phono preamp: yes",
         "The Kestrel B2 Speakers have built-in phono preamp."),
        ("Tidewell Wave 2 - description: Rugged portable speaker that floats.",
         "The Tidewell Wave 2 is a rugged portable speaker that floats."),
        ("Lumora RoboClean S7 - description: LiDAR robot vacuum that also mops",
         "The Lumora RoboClean S7 is a LiDAR robot vacuum that also mops."),
        ("Halcyra Classic - description: Analog-looking hybrid watch.",
         "The Halcyra Classic is an analog-looking hybrid watch."),
        ("Veltro Hub - description: Works with any USB-C laptop.",
         "Works with any USB-C laptop."),
        ("Shipping is free", "Shipping is free."),
    ],
)
def test_catalog_facts_become_sentences(fact, sentence):
    assert fact_sentence(fact) == sentence


def test_rows_split_into_atomic_facts():
    facts = row_facts(ROWS[0].metadata["fields"])
    assert "battery_hours: 38" in facts
    assert "features: hard case included" in facts
    assert not any(fact.startswith("name:") for fact in facts)


@pytest.mark.parametrize(
    "text, names",
    [
        ("does the pulse 3 lite have gps", ["Nimbra Pulse 3 Lite Smartwatch"]),
        ("is the pulse 3 waterproof", ["Nimbra Pulse 3 Smartwatch"]),
        ("x100 or x200?", ["Auralis X100 Headphones", "Auralis X200 Headphones"]),
        ("AUR-X200 price", ["Auralis X200 Headphones"]),
        ("do you ship to canada", []),
        # a brand and one word of the name; a clash names nothing
        ("is the nimbra lite any good", ["Nimbra Pulse 3 Lite Smartwatch"]),
        ("auralis headphones", []),
        # "monitor" is what the MH7 headphones are for, not what they are
        ("will my external monitor work", []),
        ("kestrel monitor headphones, wired?", ["Kestrel Studio MH7 Monitor Headphones"]),
        ("is the soundbar wall mountable", ["Lumora Soundbar 3.1"]),
        ("how many pulse 3s can one phone pair with", ["Nimbra Pulse 3 Smartwatch"]),
    ],
)
def test_product_mentions_prefer_the_longest_name(text, names):
    catalog = ProductCatalog.from_passages(ROWS)
    assert [mention.name for mention in catalog.mentions(text)] == names


def test_follow_up_takes_product_and_topic_from_the_earlier_turn():
    catalog = ProductCatalog.from_passages(ROWS)
    history = [("user", "how long does the x200 battery last"), ("bot", "Up to 38 hours.")]
    query, products = resolve("and how heavy is it?", history, {}, catalog)
    assert [m.name for m in products] == ["Auralis X200 Headphones"]
    assert "battery" in query
    # "those" after a product named by the customer is that product
    history = [("user", "whats the price of the x100 headphones"), ("bot", "$149.")]
    _, products = resolve("do those come with a case or anything?", history, {}, catalog)
    assert [m.name for m in products] == ["Auralis X100 Headphones"]
    _, products = resolve("are those fees refundable?", history, {}, catalog)
    assert products == []
    assert is_follow_up("what about germany?")
    assert not is_follow_up("how long does delivery to the netherlands take for a big order")


def test_a_follow_up_inside_a_form_is_about_the_product_in_its_slots():
    catalog = ProductCatalog.from_passages(ROWS)
    history = [("user", "i want to return something from order 10001"),
               ("bot", "Which item do you want to send back?"), ("user", "the headphones"),
               ("bot", "Why are you returning it?")]
    slots = {"order_id": "ORD-10001", "product": None,
             "return_item": "Auralis X200 Headphones"}
    _, products = resolve("wait how heavy are they", history, slots, catalog)
    assert [m.name for m in products] == ["Auralis X200 Headphones"]
    assert resolve("how heavy are they", [], {"order_id": "ORD-10001"}, catalog)[1] == []


def test_the_other_one_is_the_product_named_before_the_last_one():
    catalog = ProductCatalog.from_passages(ROWS)
    history = [("user", "whats the difference between the x200 and the x100"),
               ("bot", "Auralis X200 Headphones vs Auralis X100 Headphones: ..."),
               ("user", "and how much is the x200"), ("bot", "The X200 costs $249.00.")]
    _, products = resolve("and the other one?", history, {}, catalog)
    assert [m.name for m in products] == ["Auralis X100 Headphones"]
    # right after a turn that named both, "the other one" says nothing about which
    _, products = resolve("and the other one?", history[:2], {}, catalog)
    assert len(products) == 2


@pytest.fixture(scope="module")
def verifier() -> ClaimVerifier:
    passages = [*ROWS, FAQ]
    vocabulary = KnowledgeVocabulary.build(f"{p.title}. {p.text}" for p in passages)
    names = [p.metadata["fields"]["name"] for p in ROWS] + [p.metadata["fields"]["sku"]
                                                             for p in ROWS]
    return ClaimVerifier(FactGuard(names), vocabulary)


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("Delivery to Canada usually takes 5–8 business days and costs $12.99.", True),
        ("Yes, we ship to Canada: it takes 5-8 business days.", True),
        ("We do not ship to Canada.", False),  # polarity flipped
        ("Shipping to Canada takes 9 business days.", False),  # number
        ("Shipping to Canada takes 5 to 8 weeks.", False),  # unit
        ("Shipping to Canada with UPS takes 5 to 8 business days.", False),  # name
    ],
)
def test_claims_of_a_policy_answer(verifier, answer, ok):
    evidence = [f"{FAQ.title} {FAQ.text}"]
    assert (verifier.verify(answer, evidence, "do u ship to canada") == []) is ok


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("The X200 lasts up to 38 hours and weighs 254 g.", True),
        ("It pairs with 2 devices at once and comes with a hard case.", True),
        ("The X200 has a built-in radio.", False),  # invented feature
        ("The frequency response of the X200 is 38 hours.", False),  # a spec the row lacks
        ("The X200 weighs 254 kg.", False),  # unit
        ("At 254 g it is under the 300 g limit.", True),  # inference within the evidence
        ("At 254 g it is over the 300 g limit.", False),  # wrong inference
        ("At 254 g the Auralis X200 stays under a 300 g limit.", True),
        ("At 254 g the Auralis X200 stays under a 200 g limit.", False),  # a name between
    ],
)
def test_claims_of_a_product_answer(verifier, answer, ok):
    evidence = [f"{ROWS[0].title}. {ROWS[0].text}", "limit: 300 g"]
    assert (verifier.verify(answer, evidence, "tell me about the x200") == []) is ok


def test_a_feature_denied_in_the_evidence_is_not_support(verifier):
    evidence = [f"{ROWS[1].title}. {ROWS[1].text}"]
    assert verifier.verify("Yes, the X100 supports multipoint.", evidence, "multipoint?")
    assert verifier.verify("Yes, it is in stock.", evidence, "is the x100 in stock")
    assert not verifier.verify("No, the X100 has no multipoint.", evidence, "multipoint?")


def test_a_model_word_of_the_catalog_with_another_number_is_an_unknown_model():
    evidence = ["Nimbra Pulse 3 Smartwatch", "Corvane Fit 2 Fitness Band"]
    for question, missing in [
        ("is the pulse 4 coming out soon?", ["pulse 4"]),
        ("is the pulse 3 any good", []),
        ("does it fit 2 laptops", []),  # no article: not a name
        ("i got the fit 2 years ago", []),  # a duration
    ]:
        assert unknown_model_names(question, evidence, evidence) == missing, question
    assert unknown_model_names("is the pulse 4 coming out soon?", evidence) == []


@pytest.mark.parametrize(
    "question, missing",
    [
        ("do you have a case for the iphone 16 pro max?", ["iphone 16"]),
        ("does the x300 work with iphone?", ["x300"]),
        ("does the X200 work with iPhone?", []),
        ("is the nimbra pulse 3 waterproof", []),
        ("can I use 2 promo codes on one order?", []),
        ("my battery died after 8 months", []),
        ("where is my order ORD-10001?", []),
        # amounts and ordinary words before a number are no models
        ("would it work with my heaters? theyre 240v", []),
        ("is shipping to alaska dearer than the lower 48", []),
        ("can u ship it to her? its her 60th", []),  # an ordinal after a pronoun
        ("i dive to 25-30m, which watch can come with me", []),  # an amount, not a model code
        ("does it work with my ps5", []),  # "PlayStation 5" in the evidence
        ("does it work with my ps4", ["ps4"]),
        # a plural of a model the evidence names is that model
        ("my x200s keep cutting out", []),
        ("are the x300s any good", ["x300s"]),
    ],
)
def test_unknown_model_names(question, missing):
    evidence = ["Auralis X200 Headphones. works with iPhone, PlayStation 5",
                "Nimbra Pulse 3 Smartwatch"]
    assert unknown_model_names(question, evidence) == missing


def test_strict_check_wants_each_sentence_to_restate_the_evidence(verifier):
    strict = ClaimVerifier(verifier.guard, verifier.vocabulary, min_sentence_coverage=0.4)
    row = [f"{ROWS[0].title}. {ROWS[0].text}"]
    faq = [f"{FAQ.title} {FAQ.text}"]
    # Several facts of one product in one sentence restate its row.
    assert not strict.verify("The X200 lasts 38 hours, weighs 254 g and comes with a hard case.",
                             row, "tell me about the x200")
    # A condition made of ordinary words that no passage states does not.
    invented = ("Orders leave whenever someone on the customs team approves the import "
                "paperwork and signs the release form by hand.")
    assert strict.verify(invented, faq, "canada?")
    assert not verifier.verify(invented, faq, "canada?")
    # A short lead without a fact has nothing to restate; a short invented fact does.
    assert not strict.verify("Not necessarily. Shipping to Canada costs $12.99.", faq, "canada?")
    assert strict.verify("Not necessarily. Parcels travel by carrier pigeon.", faq, "canada?")
    # A negation restates the evidence however it is written, and hedges restate nothing.
    denial = ["Can you ship to Australia?. No. We currently do not ship to Australia or Japan."]
    for answer in ("Sorry, we don't ship to Australia.", "We can't ship to Australia.",
                   "Unfortunately we currently cannot ship to Australia."):
        assert not strict.verify(answer, denial, "can i get it shipped to my brother in sydney"), (
            answer)
    assert strict.verify("Unfortunately we only send bulky parcels by sea freight to Australia.",
                         denial, "sydney?")


def test_a_denial_the_evidence_shares_is_no_contradiction(verifier):
    # the product's short code ("X100") names it; it is not a fact the clause denies
    x100 = [f"{ROWS[1].title}. {ROWS[1].text}"]
    assert not verifier.verify("No, the X100 doesn't have multipoint.", x100, "multipoint?")
    assert verifier.verify("Yes, the X100 has multipoint.", x100, "multipoint?")
    # a sentence denying one kind of shipping says nothing against another kind
    express = ["Can you deliver to a PO box?. Yes, with standard shipping (USPS). Express "
               "shipping is not available for PO boxes or APO/FPO military addresses.",
               "United States (all 50 states, APO/FPO military addresses), standard: 3 to 5 "
               "business days, $4.99."]
    fillers = [f"Order question {n}. Orders ship from our warehouse." for n in range(30)]
    shipping = ClaimVerifier(verifier.guard, KnowledgeVocabulary.build([*express, *fillers]))
    assert not shipping.verify("Yes, we ship to APO/FPO military addresses with standard "
                               "shipping.", express, "can i ship to an APO address")
    assert shipping.verify("Yes, express shipping is available for APO/FPO military "
                           "addresses.", express, "express to APO?")


def test_an_offer_of_a_colleague_is_no_claim(verifier):
    strict = ClaimVerifier(verifier.guard, verifier.vocabulary, min_sentence_coverage=0.4)
    faq = [f"{FAQ.title} {FAQ.text}"]
    for offer in ("I can connect you with a colleague to look into it.",
                  "Would you like me to connect you with a colleague?",
                  "If you like, I can put you through to our support team."):
        answer = f"Shipping to Canada takes 5 to 8 business days. {offer}"
        assert not strict.verify(answer, faq, "canada?"), offer
    # what the colleague would do is a claim like any other
    assert strict.verify("Shipping to Canada takes 5 to 8 business days. I can connect you "
                         "with a colleague who can send you a discount code.", faq, "canada?")


def _row_sentences(*rows: Passage) -> list[EvidenceSentence]:
    ranked = []
    for row in rows:
        hit = SimpleNamespace(passage=row)
        for position, text in enumerate(candidate_sentences(hit)):
            ranked.append(EvidenceSentence(row.id, row.title, text, 1.0 - position / 100, 0,
                                           position))
    return ranked


def test_comparison_gives_the_facts_that_set_each_product_apart():
    x200, x100 = ROWS[0], ROWS[1]
    question = "whats actually different between the x100 and x200 apart from the price?"
    assert is_comparison(question)
    facts = distinguishing_facts(_row_sentences(x200, x100), [x200.id, x100.id], question)
    x200_facts = " ".join(item.text for item in facts[x200.id])
    x100_facts = " ".join(item.text for item in facts[x100.id])
    assert "multipoint pairing" in x200_facts and "no multipoint" in x100_facts
    assert "price" not in x200_facts + x100_facts  # set aside by the customer
    assert "stock" not in x200_facts + x100_facts  # says what a row is, not how they differ
    # a fact both have is no difference
    assert "hard case" not in x200_facts + x100_facts
    assert not is_comparison("how long is the battery of the x200")


def test_a_kind_word_next_to_a_named_product_is_a_part_of_it():
    catalog = ProductCatalog.from_passages([
        *ROWS, _row("VEL-CABLE", "Veltro Braided Cable", category="cables", price="15.00"),
    ])
    assert [m.name for m in catalog.mentions("how long is the cable on the x200")] == [
        "Auralis X200 Headphones"]
    assert [m.name for m in catalog.mentions("how long is the cable")] == [
        "Veltro Braided Cable"]


def test_comparison_with_one_name_finds_the_sibling_product():
    catalog = ProductCatalog.from_passages(ROWS)
    question = "im thinking of getting the pulse 3 but the lite is way cheaper. what would i miss?"
    _, products = resolve(question, [], {}, catalog)
    assert [m.name for m in products] == ["Nimbra Pulse 3 Smartwatch",
                                          "Nimbra Pulse 3 Lite Smartwatch"]
    # without a comparison, "lite" alone names nothing more
    _, products = resolve("is the pulse 3 light enough for running", [], {}, catalog)
    assert [m.name for m in products] == ["Nimbra Pulse 3 Smartwatch"]


def test_comparison_that_names_an_aspect_gets_each_products_fact_on_it():
    x200, x100 = ROWS[0], ROWS[1]
    ranked = _row_sentences(x200, x100)
    for question, field in [("which one is cheaper", "price"),
                            ("whats the price difference", "price")]:
        facts = aspect_facts(ranked, [x200.id, x100.id], question)
        assert [item.text.split(" - ")[1].split(":")[0] for items in facts.values()
                for item in items] == [field, field], question
    # a product without the field: no aspect answer, the other rules answer
    assert aspect_facts(ranked, [x200.id, x100.id], "which one has the better battery") == {}
    assert aspect_facts(ranked, [x200.id, x100.id], "and which is lighter?") == {}
    # stated, not asked: the customer knows the lite is cheaper and asks what they would miss
    assert asked_aspects("im getting the pulse 3 but the lite is way cheaper. what would i "
                         "miss?") == []
    assert asked_aspects("apart from the price, whats different?") == []
    assert asked_aspects("and battery, he hates charging stuff") == ["battery"]


def test_the_cheaper_one_is_chosen_by_price():
    catalog = ProductCatalog.from_passages(ROWS)
    history = [("user", "the x200 or the x100 for my commute?"),
               ("bot", "The X200 costs $249.00 and the X100 $149.00.")]
    for question, name in [("does the cheap one fold?", "Auralis X100 Headphones"),
                           ("is the more expensive one worth it", "Auralis X200 Headphones"),
                           ("which one is lighter", None)]:
        _, products = resolve(question, history, {}, catalog)
        names = [mention.name for mention in products]
        assert names == ([name] if name else ["Auralis X200 Headphones",
                                              "Auralis X100 Headphones"]), question
    # from the slots a comparison set
    slots = {"product": "Auralis X200 Headphones", "product_b": "Auralis X100 Headphones"}
    _, products = resolve("ok and the cheaper one, is it in stock", [("user", "hi")], slots,
                          catalog)
    assert [mention.name for mention in products] == ["Auralis X100 Headphones"]


def test_comparison_of_one_attribute_is_left_to_each_products_best_fact():
    x200, x100 = ROWS[0], ROWS[1]
    ranked = _row_sentences(x200, x100)
    question = "which has better battery, x200 or x100"
    assert distinguishing_facts(ranked, [x200.id, x100.id], question) == {}


def test_a_sentence_that_limits_the_answer_comes_with_it():
    ranked = [
        _sentence("Yes, with SplitPay: 4 interest-free instalments every 2 weeks for orders "
                  "between $100 and $1,500.", 0.7, 0),
        _sentence("SplitPay is available for US billing addresses only.", 0.3, 1),
        _sentence("Refunds go to the original payment method only.", 0.5, 0, "faq:b"),
    ]
    text, _ = extractive_answer(ranked, question="can i pay in instalments")
    assert text.endswith("SplitPay is available for US billing addresses only.")
    # a restriction of something else stays out
    ranked = [
        _sentence("Orders paid with a gift card are refunded as gift card credit.", 0.7, 1),
        _sentence("Original shipping charges are refunded only if the item was defective.",
                  0.3, 2),
    ]
    text, _ = extractive_answer(ranked, question="can i get cash for a gift card")
    assert "shipping charges" not in text


def test_a_denial_of_other_things_does_not_answer_the_question():
    not_served = ("We do not ship to Australia, Switzerland, Norway or any other country "
                  "outside our list (US, Canada, UK and nine EU countries).")
    assert denies_something_else("do you ship to the uk", not_served)
    assert not denies_something_else("do you ship to switzerland", not_served)
    assert not denies_something_else("electric heaters 240v, nimbra climate?",
                                     "The Nimbra Climate is not compatible with 120/240 V "
                                     "line-voltage heaters.")
    ranked = [_sentence(not_served, 0.8, 1, "faq:not-served"),
              _sentence("UK and EU: 7 to 12 business days, $19.99.", 0.7, 0, "faq:uk")]
    assert [item.passage_id for item in unasked_denials_last("ship to the uk?", ranked)] == [
        "faq:uk", "faq:not-served"]


def test_a_word_only_lists_use_asks_for_the_field_of_the_value_beside_it():
    rows = [
        _row("TID-WAVE2", "Tidewell Wave 2", specs="water_resistance: IP67; weight: 540 g",
             features="IP67 waterproof; floats; stereo pairing"),
        _row("TID-BOOMXL", "Tidewell Boom XL", specs="water_resistance: IPX4; weight: 4 kg",
             features="karaoke input; party lights; stereo pairing"),
        _row("OXE-BARISTA1", "Oxenford Barista One", specs="water_tank: 2 L; weight: 5 kg",
             features="steam wand; cup warmer; two baskets"),
    ]
    fields = ValueFields.from_passages(rows)
    # "is the boom xl waterproof": its water rating answers it; an espresso machine has none
    assert fields.answered_by("waterproof", ["catalog:TID-BOOMXL"])
    assert not fields.answered_by("waterproof", ["catalog:OXE-BARISTA1"])
