"""The held-out NLU paraphrase set and its accuracy report (benchmarks/nlu_heldout.py).

The data checks are fast. The integration test parses the set through the trained example-bot
model of the session (the `example_bot_model` fixture of the root conftest.py, which honours
$EXAMPLE_BOT_MODEL). Accuracy is reported, never asserted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from benchmarks import nlu_heldout
from benchmarks.nlu_heldout import FALLBACK, Example, Prediction

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_DIR = REPO_ROOT / "example_bot"
HELDOUT = BOT_DIR / "tests" / "nlu_heldout.yml"
MIN_EXAMPLES_PER_INTENT = 10


def domain_intents() -> list[str]:
    """The intents of example_bot/domain.yml (plain names or `name: {properties}`) that the NLU
    classifies: intents that only front ends send as `/intent` (the web chat's
    `answer_feedback`) have no training examples and are left out."""
    domain = yaml.safe_load((BOT_DIR / "domain.yml").read_text(encoding="utf-8"))
    trained = {
        example.intent
        for path in (BOT_DIR / "data").glob("nlu*.yml")
        for example in nlu_heldout.load_examples(path)
    }
    names = [next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]]
    return [name for name in names if name in trained]


def normalised(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: how duplicates are compared."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def training_texts() -> set[str]:
    """Normalised texts of every intent example in the bot's NLU training files."""
    files = sorted((BOT_DIR / "data").glob("nlu*.yml"))
    assert files, "example_bot/data/nlu.yml not found"
    return {normalised(e.text) for f in files for e in nlu_heldout.load_examples(f)}


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return nlu_heldout.load_examples(HELDOUT)


def check_valid_nlu_file(path: Path, examples: list[Example]) -> None:
    """The file passes Rasa's NLU schema and every example has a text and an intent."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import NLU_SCHEMA_FILE
    from rasa.shared.utils.validation import validate_yaml_schema

    validate_yaml_schema(path.read_text(encoding="utf-8"), NLU_SCHEMA_FILE)
    assert examples and all(e.text and e.intent for e in examples)


def check_covers_the_domain(examples: list[Example], minimum: int, name: str) -> None:
    """At least `minimum` examples for every intent of the domain, and no other intents."""
    counts = Counter(e.intent for e in examples)
    too_few = {i: counts[i] for i in domain_intents() if counts[i] < minimum}
    assert not too_few, f"{name} examples per intent below {minimum}: {too_few}"
    unknown = set(counts) - set(domain_intents())
    assert not unknown, f"{name} intents not in the domain: {sorted(unknown)}"


def check_unique(examples: list[Example], name: str) -> None:
    """No example twice (compared normalised)."""
    repeated = [t for t, n in Counter(normalised(e.text) for e in examples).items() if n > 1]
    assert not repeated, f"repeated {name} examples: {repeated}"


def test_heldout_set_is_valid_rasa_nlu_data(heldout: list[Example]) -> None:
    check_valid_nlu_file(HELDOUT, heldout)


def test_every_domain_intent_has_enough_heldout_examples(heldout: list[Example]) -> None:
    check_covers_the_domain(heldout, MIN_EXAMPLES_PER_INTENT, "held-out")


def test_heldout_examples_are_unique(heldout: list[Example]) -> None:
    check_unique(heldout, "held-out")


def test_no_heldout_example_is_in_the_training_data(heldout: list[Example]) -> None:
    trained = training_texts()
    leaked = sorted({e.text for e in heldout if normalised(e.text) in trained})
    assert not leaked, f"held-out examples also in the training data: {leaked}"


# --- the report, without a model ------------------------------------------------------------------
class StubAgent:
    """Answers `parse_message` from a table, like a loaded Rasa agent would."""

    def __init__(self, answers: dict[str, list[tuple[str, float]]]) -> None:
        self.answers = answers

    async def parse_message(self, text: str) -> dict:
        ranking = [{"name": n, "confidence": c} for n, c in self.answers[text]]
        return {"text": text, "intent": ranking[0], "intent_ranking": ranking}


def test_report_counts_fallback_apart_and_lists_confusions() -> None:
    examples = [
        Example("hi", "greet"),
        Example("hello", "greet"),
        Example("bye", "goodbye"),
        Example("cya", "goodbye"),
    ]
    agent = StubAgent(
        {
            "hi": [("greet", 0.9)],
            "hello": [(FALLBACK, 0.5), ("greet", 0.4)],
            "bye": [("greet", 0.7), ("goodbye", 0.2)],
            "cya": [("goodbye", 0.8)],
        }
    )
    report = nlu_heldout.summarise(nlu_heldout.predict(agent, examples))
    assert (report["total"], report["correct"], report["accuracy"]) == (4, 2, 50.0)
    assert (report["fallback"], report["fallback_classifier_right"]) == (1, 1)
    assert report["accuracy_not_fallback"] == pytest.approx(66.67)
    assert report["accuracy_classifier_top"] == 75.0
    rows = {r["intent"]: r for r in report["per_intent"]}
    assert rows["greet"]["accuracy"] == 50.0 and rows["greet"]["fallback"] == 1
    assert rows["goodbye"]["precision"] == 100.0
    assert report["confusions"][0] == {
        "true": "goodbye",
        "predicted": "greet",
        "count": 1,
        "example": "bye",
    }
    text = nlu_heldout.format_report(report)
    assert "Macro-F1" in text and "| goodbye | greet | 1 | bye |" in text


def test_classifier_top_skips_the_fallback() -> None:
    parsed = {
        "intent": {"name": FALLBACK, "confidence": 0.5},
        "intent_ranking": [
            {"name": FALLBACK, "confidence": 0.5},
            {"name": "faq", "confidence": 0.3},
        ],
    }
    prediction = nlu_heldout.to_prediction(Example("do you ship to peru", "faq"), parsed)
    assert prediction == Prediction("do you ship to peru", "faq", FALLBACK, 0.5, "faq")


def test_missing_model_or_data_exits_non_zero(tmp_path: Path, capsys) -> None:
    assert nlu_heldout.main(["--model", str(tmp_path / "none.tar.gz")]) != 0
    assert "Model not found" in capsys.readouterr().err
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    assert nlu_heldout.main(["--model", str(model), "--data", str(tmp_path / "x.yml")]) != 0
    assert "Held-out data not found" in capsys.readouterr().err


# --- the report on a trained model ----------------------------------------------------------------
@pytest.mark.integration
def test_report_on_the_trained_bot(example_bot_model: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "heldout.json"
    assert nlu_heldout.main(["--model", str(example_bot_model), "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    examples = nlu_heldout.load_examples(HELDOUT)
    assert report["total"] == len(examples) == len(report["predictions"])
    assert sorted(r["intent"] for r in report["per_intent"]) == sorted(domain_intents())
    assert sum(r["examples"] for r in report["per_intent"]) == report["total"]
    printed = capsys.readouterr().out
    assert "Intent accuracy" in printed and "nlu_fallback" in printed
    assert all(f"| {intent} |" in printed for intent in domain_intents())
