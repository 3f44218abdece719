"""The fact guard catches invented facts and passes supported (normalised) ones."""

from __future__ import annotations

import pytest

from rasa_llm_components.answering.fact_guard import ALL_KINDS, FactGuard

EVIDENCE = [
    "Do you ship to Canada?\nYes. Shipping to Canada takes 5 to 8 business days with DHL Express "
    "and costs $12.99. It is free for orders of $1,500 or more.",
    "Auralis X200 Headphones\nsku: AUR-X200\nprice: 249.00\nwarranty_months: 24\n"
    "specs: battery_hours: 38; connectivity: Bluetooth 5.3\ncompatibility: works with iPhone",
    "Returns\nYou can return any item within 30 calendar days. Ship the item within two weeks. "
    "Batteries are covered if capacity falls below 80% within the first 12 months. "
    "Refunds take 3-5 business days. Password reset links are valid for 60 minutes.",
    "Support: Monday to Friday 8 am to 8 pm ET, email support@shop.example, phone "
    "+1 800 555 0199, see https://www.shop.example/help/. Policy updated on 2026-01-01.",
    "User: Hi, I'm Anna. Where is my order ORD-10001?",
]
KNOWN = ["Auralis X200 Headphones", "AUR-X200", "Auralis X100 Headphones", "Tidewell Wave 2"]


@pytest.fixture(scope="module")
def guard() -> FactGuard:
    return FactGuard(known_names=KNOWN)


@pytest.mark.parametrize(
    "answer",
    [
        "Hello Anna! Yes, we ship to Canada: it takes 5-8 business days and costs $12.99.",
        "Shipping to Canada is free for orders of $1500 and above.",
        "The Auralis X200 Headphones cost $249 and come with a 2-year warranty.",
        "The auralis x200 headphones (AUR-X200) have 38 hours of battery and Bluetooth 5.3.",
        "The X200 works with iPhone and costs 249.00 USD.",
        "You have 30 days to return it; the 30-day window is counted in calendar days.",
        "Please ship the item within 14 days, i.e. 2 weeks.",
        "Refunds take 3 to 5 business days.",
        "Refunds take up to 5 business days.",
        "Batteries are covered below 80 percent in the first year.",
        "The reset link works for an hour.",
        "Call +1 (800) 555-0199 or 1-800-555-0199, or write to support@shop.example.",
        "Details are on shop.example/help or https://shop.example/help.",
        "Our team is available Monday to Friday from 8am to 8pm ET, e.g. on Wednesday.",
        "Your order ORD-10001 is on its way. I hope this helps!",
        "Order #10001 is on its way.",
        "The policy was updated on January 1, 2026.",
        "Sure! I'd be happy to help. Unfortunately I can't change that. Thanks!",
        "1. Open the page.\n2. Follow the steps.",
    ],
)
def test_supported_answers_pass(guard: FactGuard, answer: str) -> None:
    result = guard.check(answer, EVIDENCE)
    assert result.supported, result.unsupported
    assert result.unsupported == []


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("Shipping to Canada takes 5 to 8 business days and costs $14.99.", "$14.99"),
        ("The X200 costs €249.", "€249"),
        ("It is free for orders of $150 or more.", "$150"),
        ("Shipping to Canada takes 4-6 business days.", "4-6 business days"),
        ("You can return any item within 60 days.", "60 days"),
        ("The warranty is 3 years.", "3 years"),
        ("Ship the item within three weeks.", "three weeks"),
        ("Batteries are covered below 70% capacity.", "70%"),
        ("The battery lasts 40 hours.", "40 hours"),
        ("It weighs 254 grams.", "254"),
        ("The Auralis X100 Headphones are cheaper.", "Auralis X100 Headphones"),
        ("The Auralis X300 is the newer model.", "X300"),
        ("Try the Zephyr Max speaker instead.", "Zephyr Max"),
        ("Your order ORD-10002 has shipped.", "ORD-10002"),
        ("See https://shop.example/returns for details.", "https://shop.example/returns"),
        ("Email returns@shop.example.", "returns@shop.example"),
        ("Call us at +1 800 555 0100.", "+1 800 555 0100"),
        ("We are open on Sunday.", "Sunday"),
        ("Support opens at 9 am.", "9 am"),
        ("The policy changed on March 3, 2025.", "March 3, 2025"),
        ("You can also pay with Apple Pay.", "Apple Pay"),
    ],
)
def test_invented_facts_are_caught(guard: FactGuard, answer: str, invented: str) -> None:
    result = guard.check(answer, EVIDENCE)
    assert not result.supported
    assert invented in result.unsupported
    assert invented in result.claims


def test_result_lists_every_claim_and_only_the_unsupported_ones(guard: FactGuard) -> None:
    result = guard.check(
        "The Auralis X200 Headphones cost $249, ship in 5 to 8 business days, and have 50 hours.",
        EVIDENCE,
    )
    assert result.claims == ["Auralis X200 Headphones", "$249", "5 to 8 business days",
                             "50 hours"]
    assert result.unsupported == ["50 hours"]
    assert [claim.kind for claim in result.details] == ["name", "money", "duration", "duration"]


def test_no_evidence_means_no_support_for_facts(guard: FactGuard) -> None:
    assert not guard.check("It costs $5.", []).supported
    assert guard.check("I'm not sure about that one.", []).supported


def test_known_names_need_evidence_even_in_lower_case(guard: FactGuard) -> None:
    result = guard.check("the tidewell wave 2 is great", EVIDENCE)
    assert result.unsupported == ["tidewell wave 2"]


def test_options_restrict_kinds_and_allow_names() -> None:
    relaxed = FactGuard(KNOWN, kinds=ALL_KINDS - {"number"}, always_allowed=["VoltNest"])
    assert relaxed.check("Thanks for contacting VoltNest. It weighs 254 grams.", EVIDENCE).supported
    strict = FactGuard(KNOWN)
    assert not strict.check("Thanks for contacting VoltNest.", EVIDENCE).supported
    no_caps = FactGuard(KNOWN, check_capitalised=False)
    assert no_caps.check("You can also pay with Apple Pay.", EVIDENCE).supported
    with pytest.raises(ValueError, match="Unknown claim kinds"):
        FactGuard(kinds=["colour"])


def test_amounts_are_normalised() -> None:
    guard = FactGuard()
    assert guard.check("It costs $1,299.00.", ["price: 1299"]).supported
    assert guard.check("It costs 1299 dollars.", ["Price $1,299"]).supported
    assert guard.check("It costs $1,299.", ["It costs USD 1299.00"]).supported
    assert not guard.check("It costs $1,299.", ["It costs USD 1199.00"]).supported
    assert not guard.check("It costs €249.", ["price: 249.00"]).supported
    assert FactGuard(default_currency=None).check("It costs €249.", ["price: 249.00"]).supported


def test_durations_are_normalised() -> None:
    guard = FactGuard()
    evidence = ["Return within a 30-day window. Ship within two weeks. Warranty: 1 year."]
    for answer in ["You have 30 days.", "Ship it within 14 days.", "Ship it within 2 weeks.",
                   "The warranty lasts 12 months.", "You have thirty days."]:
        assert guard.check(answer, evidence).supported, answer
    assert not guard.check("Ship it within 15 days.", evidence).supported
    assert guard.check("It has 24 months of warranty.", ["warranty_months: 24"]).supported


def test_every_evidence_text_supports_itself(guard: FactGuard) -> None:
    for text in EVIDENCE:
        result = guard.check(text, [text])
        assert result.supported, result.unsupported


def test_example_bot_knowledge_supports_itself() -> None:
    from pathlib import Path

    from rasa_llm_components.retrieval import known_names, load_passages

    knowledge = Path(__file__).resolve().parents[1] / "example_bot" / "knowledge"
    if not knowledge.is_dir():
        pytest.skip("example_bot/knowledge is not there")
    passages = load_passages([knowledge])
    guard = FactGuard(known_names(passages))
    failures = {
        passage.id: guard.check(passage.text, [passage.content]).unsupported
        for passage in passages
    }
    assert {key: value for key, value in failures.items() if value} == {}
