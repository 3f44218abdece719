"""The NLU DEV set and the fallback-threshold sweep (benchmarks/nlu_threshold.py), without a model.

The sweep's arithmetic runs on stand-in parse results; the DEV set is checked for coverage of the
domain's intents and for overlap with the training data. The sweep on a trained model is run by
hand (python -m benchmarks.nlu_threshold --model ...): its figures are reported, not asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import nlu_threshold
from benchmarks.nlu_heldout import FALLBACK, Example, load_examples
from benchmarks.nlu_threshold import Scored, SweepRow
from tests.benchmarks.test_nlu_heldout import (
    check_covers_the_domain,
    check_unique,
    check_valid_nlu_file,
    normalised,
    training_texts,
)

DEV = nlu_threshold.DEFAULT_DATA
MIN_EXAMPLES_PER_INTENT = 8


def parsed(*ranking: tuple[str, float], threshold: float | None = None) -> dict:
    """A parse result like `Agent.parse_message`'s; with `threshold`, as after a fallback."""
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    if threshold is not None:
        entries.insert(0, {"name": FALLBACK, "confidence": threshold})
    return {"text": "", "intent": entries[0], "intent_ranking": entries}


def scored(gold: str, *ranking: tuple[str, float]) -> Scored:
    """A stand-in parsed DEV message (the model's intent is its top intent)."""
    return nlu_threshold.to_scored(Example(gold, gold), parsed(*ranking))


# --- reading the classifier's ranking ---------------------------------------------------------
def test_the_ranking_under_a_fallback_is_the_classifiers() -> None:
    result = nlu_threshold.to_scored(
        Example("do u ship to peru", "faq"),
        parsed(("faq", 0.3), ("shipping_options", 0.2), threshold=0.5),
    )
    assert result == Scored(
        "do u ship to peru", "faq", (("faq", 0.3), ("shipping_options", 0.2)), FALLBACK
    )


# --- the FallbackClassifier's decision --------------------------------------------------------
@pytest.mark.parametrize(
    ("ranking", "threshold", "expected"),
    [
        ((("greet", 0.5), ("goodbye", 0.1)), 0.5, False),  # equal to the threshold: kept
        ((("greet", 0.49), ("goodbye", 0.1)), 0.5, True),  # below it: fallback
        ((("greet", 0.49), ("goodbye", 0.1)), 0.3, False),
        ((("greet", 0.62), ("goodbye", 0.6)), 0.3, True),  # top two closer than 0.05
        ((("greet", 0.75), ("goodbye", 0.5)), 0.3, False),
        ((("greet", 0.9),), 0.5, False),  # a single intent is never ambiguous
        ((), 0.5, True),
    ],
)
def test_falls_back_like_rasas_fallback_classifier(ranking, threshold, expected) -> None:
    assert nlu_threshold.falls_back(ranking, threshold, 0.05) is expected


def test_simulation_matches_rasas_fallback_classifier() -> None:
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
    from rasa.shared.nlu.training_data.message import Message

    rankings = [
        (("greet", 0.49), ("goodbye", 0.1)),
        (("greet", 0.62), ("goodbye", 0.6)),
        (("greet", 0.75), ("goodbye", 0.5)),
        (("greet", 0.3), ("goodbye", 0.28)),
    ]
    for threshold in (0.2, 0.5):
        classifier = FallbackClassifier({"threshold": threshold, "ambiguity_threshold": 0.05})
        for ranking in rankings:
            message = Message(data=parsed(*ranking))
            classifier.process([message])
            rasa_fell_back = message.get("intent")["name"] == FALLBACK
            assert nlu_threshold.falls_back(ranking, threshold, 0.05) is rasa_fell_back


# --- the sweep --------------------------------------------------------------------------------
@pytest.fixture()
def stand_in() -> list[Scored]:
    return [
        scored("greet", ("greet", 0.9), ("goodbye", 0.05)),  # always right
        scored("faq", ("faq", 0.35), ("warranty", 0.1)),  # right, falls back from 0.4
        scored("deny", ("affirm", 0.45), ("deny", 0.3)),  # wrong; from 0.5 a fallback
        scored("warranty", ("warranty", 0.62), ("faq", 0.6)),  # ambiguous: always a fallback
        scored("out_of_scope", ("greet", 0.3), ("inform", 0.1)),  # gibberish: falls back from 0.4
        scored("out_of_scope", ("out_of_scope", 0.8), ("faq", 0.1)),  # handled at any threshold
    ]


def test_sweep_row_counts(stand_in: list[Scored]) -> None:
    low, high = nlu_threshold.sweep(stand_in, [0.5, 0.3], 0.05)
    assert low == SweepRow(
        threshold=0.3,
        total=6,
        correct=3,
        fallback=1,
        shop_fallback=1,
        correct_not_fallback=3,
        out_of_scope=2,
        out_of_scope_handled=1,
        right_intent_fell_back=1,
        errors=3,  # deny, warranty, the gibberish
    )
    assert high == SweepRow(
        threshold=0.5,
        total=6,
        correct=2,
        fallback=4,
        shop_fallback=3,
        correct_not_fallback=2,
        out_of_scope=2,
        out_of_scope_handled=2,
        right_intent_fell_back=2,
        errors=3,  # faq, deny, warranty
    )
    assert (high.accuracy, high.fallback_percent, high.shop_fallback_percent) == (
        pytest.approx(33.33),
        pytest.approx(66.67),
        75.0,
    )
    assert (high.accuracy_not_fallback, high.out_of_scope_handled_percent) == (100.0, 100.0)
    assert low.accuracy_not_fallback == 60.0 and low.out_of_scope_handled_percent == 50.0


def test_recommendation_is_the_fewest_errors_with_ties_to_the_higher_threshold(
    stand_in: list[Scored],
) -> None:
    rows = nlu_threshold.sweep(stand_in, [0.3, 0.4, 0.5, 0.95], 0.05)
    assert [r.errors for r in rows] == [3, 3, 3, 4]
    assert nlu_threshold.recommend(rows).threshold == 0.5
    assert nlu_threshold.recommend(rows[:1] + rows[3:]).threshold == 0.3


def test_model_mismatches_and_report(stand_in: list[Scored]) -> None:
    assert nlu_threshold.model_mismatches(stand_in, 0.0, 0.0) == []
    assert nlu_threshold.model_mismatches(stand_in, 0.5, 0.05)  # the stand-ins never fell back
    rows = nlu_threshold.sweep(stand_in, [0.3, 0.5], 0.05)
    text = nlu_threshold.format_report(stand_in, rows, 0.05, "checked")
    assert "| 0.50 ← | 33.3 | 66.7 | 75.0 | 100.0 | 100.0 (2/2) | 2 | 3 |" in text
    assert "Recommended threshold: 0.50" in text
    report = nlu_threshold.to_json(stand_in, rows, 0.05)
    assert report["recommended_threshold"] == 0.5 and len(report["messages"]) == 6


def test_missing_model_or_data_exits_non_zero(tmp_path: Path, capsys) -> None:
    assert nlu_threshold.main(["--model", str(tmp_path / "none.tar.gz")]) != 0
    assert "Model not found" in capsys.readouterr().err
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    assert nlu_threshold.main(["--model", str(model), "--data", str(tmp_path / "x.yml")]) != 0
    assert "DEV data not found" in capsys.readouterr().err


# --- the DEV set ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dev() -> list[Example]:
    return load_examples(DEV)


def test_dev_set_is_valid_rasa_nlu_data(dev: list[Example]) -> None:
    check_valid_nlu_file(DEV, dev)


def test_every_domain_intent_has_enough_dev_examples(dev: list[Example]) -> None:
    check_covers_the_domain(dev, MIN_EXAMPLES_PER_INTENT, "DEV")


def test_dev_examples_are_unique_and_not_in_the_training_data(dev: list[Example]) -> None:
    check_unique(dev, "DEV")
    trained = training_texts()
    leaked = sorted({e.text for e in dev if normalised(e.text) in trained})
    assert not leaked, f"DEV examples also in the training data: {leaked}"
