"""Evidence helpers: extractive selection, sentence support, unknown product models."""

from __future__ import annotations

import pytest

from rasa_llm_components.evidence import (
    EvidenceSentence,
    extractive_answer,
    humanize,
    sentence_support,
    unknown_model_names,
)


def _sentence(text: str, score: float, position: int, passage: str = "faq:a") -> EvidenceSentence:
    return EvidenceSentence(passage, "Title", text, score, 0, position)


def test_extractive_keeps_lead_in_and_passage_order():
    ranked = [
        _sentence("We share personal data only with carriers and payment providers.", 0.6, 1),
        _sentence("Data is stored in the United States.", 0.3, 2),
        _sentence("Never.", 0.2, 0),
        _sentence("Other passage sentence.", 0.55, 0, "faq:b"),
    ]
    text, ids = extractive_answer(ranked)
    assert text == "Never. We share personal data only with carriers and payment providers."
    assert ids == ["faq:a"]


def test_extractive_short_best_sentence_brings_the_next_one():
    ranked = [
        _sentence("We do not swap items directly.", 0.35, 0),
        _sentence("Shipping is free.", 0.30, 2),
        _sentence("Return the item and place a new order.", 0.2, 1),
    ]
    text, _ = extractive_answer(ranked)
    assert text.startswith("We do not swap items directly. Return the item and place a new order.")


def test_humanize_table_keys():
    assert humanize("Soundbar - warranty_months: 36") == "Soundbar - warranty: 36 months"
    assert humanize("battery_hours: 38; fast_charge: yes") == "battery: 38 hours; fast charge: yes"


@pytest.mark.parametrize(
    "answer, supported",
    [
        ("Shipping to Canada takes 5 to 8 business days.", True),
        ("We do not ship to Canada.", False),  # polarity flipped
        ("Shipping to Canada takes 9 business days.", False),  # number not in evidence
        ("Our shop sells gaming laptops in Berlin.", False),  # not covered by any sentence
        ("Yes. Shipping to Canada costs $12.99.", True),
    ],
)
def test_sentence_support(answer, supported):
    evidence = ["Yes. Shipping to Canada takes 5 to 8 business days and costs $12.99."]
    assert sentence_support(answer, evidence)[0] is supported


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
    ],
)
def test_unknown_model_names(question, missing):
    evidence = ["Auralis X200 Headphones. works with iPhone", "Nimbra Pulse 3 Smartwatch"]
    assert unknown_model_names(question, evidence) == missing
