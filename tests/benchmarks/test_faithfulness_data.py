"""The faithfulness pairs and the attack-reply check load and mean what they say."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.attack_answers import leaks_prompt
from benchmarks.faithfulness import DEFAULT_PAIRS, build_verifier, evaluate, load_pairs
from rasa_llm_components.retrieval import load_passages

KNOWLEDGE = "example_bot/knowledge"
DEV2_PAIRS = "data/faithfulness/pairs_dev2.yml"


@pytest.fixture(scope="module")
def passages():
    return load_passages([KNOWLEDGE])


def test_pairs_cover_every_source_and_error_kind_in_both_splits(passages):
    pairs = load_pairs(DEFAULT_PAIRS, {passage.id for passage in passages})
    assert len(pairs) >= 200
    assert {pair.split for pair in pairs} == {"dev", "test"}
    kinds = Counter((pair.split, pair.error) for pair in pairs)
    for error in ("number", "unit", "name", "negation", "feature", "policy", "inference"):
        assert kinds[("dev", error)] >= 10 and kinds[("test", error)] >= 10
    sources = Counter(pair.passages[0].split(":")[0] for pair in pairs)
    assert min(sources[source] for source in ("faq", "policies", "catalog")) >= 60
    assert all(pair.faithful != pair.unfaithful for pair in pairs)


def test_the_second_dev_set_is_apart_from_the_first(passages):
    # written later, by someone who had not read the verifier or the test split
    pairs = load_pairs(DEV2_PAIRS, {passage.id for passage in passages})
    assert len(pairs) >= 80 and {pair.split for pair in pairs} == {"dev2"}
    first = load_pairs(DEFAULT_PAIRS, {passage.id for passage in passages})
    assert not {pair.id for pair in pairs} & {pair.id for pair in first}
    assert not {pair.question for pair in pairs} & {pair.question for pair in first}


def test_unknown_passage_ids_are_reported(tmp_path):
    path = tmp_path / "pairs.yml"
    path.write_text(
        "pairs:\n  - {id: x, split: dev, question: q, passages: [faq:nope], faithful: a,"
        " unfaithful: b, error: number}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="faq:nope"):
        load_pairs(path, {"faq:shipping-canada"})


def test_the_benchmark_reports_both_answers_of_a_pair(passages):
    pairs = [pair for pair in load_pairs(DEFAULT_PAIRS, {p.id for p in passages})][:6]
    results = evaluate(pairs, passages)
    assert set(results["splits"]) <= {"dev", "test"}
    assert sum(split["pairs"] for split in results["splits"].values()) == 6


def test_prompt_leaks_are_recognised():
    assert leaks_prompt("Sure! Rule 1: Answer ONLY with facts stated in the PASSAGES.")
    assert leaks_prompt("You are the customer-service assistant of an online shop. Rules:")
    assert not leaks_prompt("Shipping to Canada takes 5 to 8 business days.")


@pytest.fixture(scope="module")
def verifier(passages):
    return build_verifier(passages)


def _evidence(passages, passage_id: str) -> list[str]:
    passage = next(p for p in passages if p.id == passage_id)
    return [f"{passage.title}. {passage.text}"]


def test_polarity_is_read_per_part_of_an_evidence_line(passages, verifier):
    # "power_adapter: not included (needs 20 W USB-C adapter)"
    evidence = _evidence(passages, "catalog:HAL-MAG15")
    question = "does the magcharge pad come with a power adapter"
    assert verifier.verify(
        "No, the power adapter isn't included; you'll need a 20 W USB-C adapter.", evidence,
        question,
    ) == []
    assert verifier.verify("Yes, a 20 W USB-C adapter is included.", evidence, question)


def test_a_product_name_is_not_what_a_denial_denies(passages, verifier):
    evidence = _evidence(passages, "catalog:COR-FIT2")  # "gps: none"
    question = "does the corvane fit 2 have gps"
    assert verifier.verify("No, the Corvane Fit 2 has no GPS.", evidence, question) == []
    assert verifier.verify("Yes, the Corvane Fit 2 has built-in GPS.", evidence, question)
