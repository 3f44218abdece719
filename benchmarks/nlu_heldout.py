"""Intent accuracy of a trained example-bot model on the held-out NLU paraphrase set.

    python -m benchmarks.nlu_heldout --model example_bot/models/<model>.tar.gz \
        [--data example_bot/tests/nlu_heldout.yml] [--json out.json] [--top 15]

Loads the model with Rasa's `Agent` and parses the held-out examples one message at a time, as
Rasa does at run time (`Agent.parse_message` is the code behind `/model/parse`). Prints the
overall intent accuracy, how many messages went to `nlu_fallback` (and the accuracy with the
fallback counted apart), macro-F1, a per-intent table and the most frequent confusions.

A message that goes to `nlu_fallback` counts as wrong in the overall accuracy. Beside it: the
accuracy on the messages that did not go to the fallback, and the accuracy of the classifier's
own top intent (the best intent under the fallback, as if there were no threshold).

The set is held out from training: the figures are reported, never asserted, and the data must
not be tuned against them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / "example_bot" / "tests" / "nlu_heldout.yml"
FALLBACK = "nlu_fallback"
# Intents the LLMResponsePolicy answers, just as it answers nlu_fallback.
LLM_ANSWERED = frozenset({"faq", "product_question", "out_of_scope"})


@dataclass(frozen=True)
class Example:
    """One held-out message and its intended intent."""

    text: str
    intent: str


@dataclass(frozen=True)
class Prediction:
    """What the model made of one example."""

    text: str
    gold: str
    predicted: str
    confidence: float
    classifier_top: str  # best intent other than nlu_fallback (what the classifier said)

    @property
    def correct(self) -> bool:
        return self.predicted == self.gold

    @property
    def fallback(self) -> bool:
        return self.predicted == FALLBACK


def load_examples(path: Path) -> list[Example]:
    """The intent examples of a Rasa NLU file, read with Rasa's own loader."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [Example(m.get("text"), m.get("intent")) for m in data.intent_examples]


def classifier_top(parsed: dict[str, Any]) -> str:
    """The highest-ranked intent that is not nlu_fallback (the top intent if there is none)."""
    for entry in parsed.get("intent_ranking") or []:
        if entry.get("name") != FALLBACK:
            return str(entry.get("name"))
    return str((parsed.get("intent") or {}).get("name"))


def to_prediction(example: Example, parsed: dict[str, Any]) -> Prediction:
    """A `Prediction` from the dictionary `Agent.parse_message` returns."""
    intent = parsed.get("intent") or {}
    return Prediction(
        text=example.text,
        gold=example.intent,
        predicted=str(intent.get("name")),
        confidence=round(float(intent.get("confidence") or 0.0), 4),
        classifier_top=classifier_top(parsed),
    )


def predict(agent: Any, examples: list[Example]) -> list[Prediction]:
    """Parses every example through the loaded agent, one message at a time."""

    async def run() -> list[Prediction]:
        return [to_prediction(e, await agent.parse_message(e.text)) for e in examples]

    return asyncio.run(run())


def percent(part: int, whole: int) -> float:
    """`part` as a percentage of `whole`, 0 when `whole` is 0."""
    return round(100 * part / whole, 2) if whole else 0.0


def f1(precision: float, recall: float) -> float:
    """Harmonic mean of two percentages."""
    return round(2 * precision * recall / (precision + recall), 2) if precision + recall else 0.0


def intent_row(intent: str, predictions: list[Prediction]) -> dict[str, Any]:
    """Accuracy (= recall), precision, F1 and fallback count of one intent."""
    gold = [p for p in predictions if p.gold == intent]
    predicted = [p for p in predictions if p.predicted == intent]
    correct = sum(p.correct for p in gold)
    recall = percent(correct, len(gold))
    precision = percent(correct, len(predicted))
    return {
        "intent": intent,
        "examples": len(gold),
        "correct": correct,
        "accuracy": recall,
        "fallback": sum(p.fallback for p in gold),
        "precision": precision,
        "f1": f1(precision, recall),
    }


def confusions(predictions: list[Prediction], top: int) -> list[dict[str, Any]]:
    """The `top` most frequent (true → predicted) errors, each with its count and an example."""
    pairs = Counter((p.gold, p.predicted) for p in predictions if not p.correct)
    first_text = {}
    for p in predictions:
        first_text.setdefault((p.gold, p.predicted), p.text)
    return [
        {"true": g, "predicted": pr, "count": n, "example": first_text[(g, pr)]}
        for (g, pr), n in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[:top]
    ]


def summarise(predictions: list[Prediction], top: int = 15) -> dict[str, Any]:
    """The whole report as a JSON-serialisable dictionary."""
    total = len(predictions)
    fallback = [p for p in predictions if p.fallback]
    answered = total - len(fallback)
    rows = [intent_row(i, predictions) for i in sorted({p.gold for p in predictions})]
    return {
        "total": total,
        "correct": sum(p.correct for p in predictions),
        "accuracy": percent(sum(p.correct for p in predictions), total),
        "fallback": len(fallback),
        "fallback_percent": percent(len(fallback), total),
        "fallback_classifier_right": sum(p.classifier_top == p.gold for p in fallback),
        "fallback_on_llm_answered_intents": sum(p.gold in LLM_ANSWERED for p in fallback),
        "accuracy_not_fallback": percent(sum(p.correct for p in predictions), answered),
        "accuracy_classifier_top": percent(
            sum(p.classifier_top == p.gold for p in predictions), total
        ),
        "macro_f1": round(sum(r["f1"] for r in rows) / len(rows), 2) if rows else 0.0,
        "per_intent": rows,
        "confusions": confusions(predictions, top),
        "predictions": [asdict(p) for p in predictions],
    }


def table(header: list[str], rows: Iterable[list[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def headline(report: dict[str, Any]) -> list[str]:
    """The overall figures, one per line."""
    r = report
    return [
        f"Held-out examples: {r['total']}, intents: {len(r['per_intent'])}",
        f"Intent accuracy: {r['accuracy']:.2f}% ({r['correct']}/{r['total']}; "
        "nlu_fallback counts as wrong)",
        f"Went to nlu_fallback: {r['fallback']} ({r['fallback_percent']:.2f}%); the classifier's "
        f"own top intent was right for {r['fallback_classifier_right']} of them; "
        f"{r['fallback_on_llm_answered_intents']} were faq/product_question/out_of_scope "
        "(answered by the LLM policy either way)",
        f"Accuracy on messages not sent to nlu_fallback: {r['accuracy_not_fallback']:.2f}%",
        f"Accuracy of the classifier's top intent (no fallback threshold): "
        f"{r['accuracy_classifier_top']:.2f}%",
        f"Macro-F1: {r['macro_f1']:.2f}",
    ]


def intent_table(rows: list[dict[str, Any]]) -> str:
    """The per-intent rows as a table, worst accuracy first."""
    worst_first = sorted(rows, key=lambda row: (row["accuracy"], row["intent"]))
    header = ["intent", "examples", "correct", "accuracy %", "fallback", "precision %", "F1"]
    keys = ["intent", "examples", "correct", "accuracy", "fallback", "precision", "f1"]
    cells = [
        [f"{x[k]:.1f}" if isinstance(x[k], float) else x[k] for k in keys] for x in worst_first
    ]
    return table(header, cells)


def format_report(report: dict[str, Any]) -> str:
    """The report as text: headline figures, per-intent table, confusions."""
    confused = table(
        ["true", "predicted", "count", "example"],
        [[c["true"], c["predicted"], c["count"], c["example"]] for c in report["confusions"]],
    )
    return "\n".join(
        [
            *headline(report),
            "",
            "Per intent (worst first):",
            intent_table(report["per_intent"]),
            "",
            "Most frequent confusions:",
            confused,
        ]
    )


def missing_inputs(model: Path, data: Path, data_name: str = "Held-out data") -> list[str]:
    """A message for each input file that does not exist."""
    return [
        f"{what} not found: {path}"
        for what, path in (("Model", model), (data_name, data))
        if not path.is_file()
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="trained model (.tar.gz)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="held-out NLU YAML")
    parser.add_argument("--json", type=Path, help="also write the full report here")
    parser.add_argument("--top", type=int, default=15, help="how many confusions to list")
    return parser.parse_args(argv)


def load_model_and_examples(
    model: Path, data: Path, data_name: str = "Held-out data"
) -> tuple[Any, list[Example]] | None:
    """The loaded Rasa agent and the examples; None after saying what is missing."""
    problems = missing_inputs(model, data, data_name)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return None
    examples = load_examples(data)
    if not examples:
        print(f"No intent examples in {data}", file=sys.stderr)
        return None

    from rasa.core.agent import Agent

    from benchmarks.intents import quiet_rasa_logging

    quiet_rasa_logging()
    return Agent.load(str(model)), examples


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; 0 on success, 1 if the model or the data is missing or empty."""
    args = parse_args(argv)
    loaded = load_model_and_examples(args.model, args.data)
    if loaded is None:
        return 1
    agent, examples = loaded
    report = summarise(predict(agent, examples), args.top)
    report.update(model=str(args.model), data=str(args.data))
    print(format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
