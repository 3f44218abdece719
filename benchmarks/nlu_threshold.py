"""FallbackClassifier threshold sweep of a trained example-bot model on the NLU DEV set.

    python -m benchmarks.nlu_threshold --model /tmp/dev_models/dev.tar.gz \
        [--data example_bot/tests/nlu_dev.yml] [--thresholds 0.2 0.25 ... 0.6] \
        [--ambiguity 0.05] [--json out.json]

Parses every DEV message once through the model with Rasa's `Agent`, one message at a time as at
run time, and keeps the intent classifier's own ranking: when the model's FallbackClassifier fires,
it puts `nlu_fallback` first and leaves the classifier's intents below it, so the ranking without
`nlu_fallback` is what the classifier said. For each threshold the sweep then does what
FallbackClassifier would do (top confidence < threshold, or top minus second < ambiguity
threshold → `nlu_fallback`) and reports:

- accuracy: the final intent is the true one (`nlu_fallback` counts as wrong);
- fallback: the share of messages that end as `nlu_fallback`, of all messages and of the shop
  messages (all but out_of_scope);
- accuracy not fallback: accuracy on the messages that did not end as `nlu_fallback`;
- out_of_scope handled: the share of out_of_scope (unrelated, gibberish) messages that end as
  `nlu_fallback` or `out_of_scope`, both answered by the LLM policy's fallback;
- errors: messages handled wrongly: a wrong intent, or `nlu_fallback` on a shop message; for an
  out_of_scope message `nlu_fallback` is right.

The recommended threshold has the fewest errors; ties go to the higher threshold. Tune on the DEV
set only, never on the held-out test set (benchmarks/nlu_heldout.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.nlu_heldout import (
    FALLBACK,
    REPO_ROOT,
    Example,
    load_model_and_examples,
    percent,
    table,
)

DEFAULT_DATA = REPO_ROOT / "example_bot" / "tests" / "nlu_dev.yml"
DEFAULT_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
DEFAULT_AMBIGUITY = 0.05
OUT_OF_SCOPE = "out_of_scope"

Ranking = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Scored:
    """One DEV message, the classifier's ranking of it and what the loaded model returned."""

    text: str
    gold: str
    ranking: Ranking  # the classifier's intents, best first, without nlu_fallback
    model_intent: str  # the parse result's intent (after the model's own FallbackClassifier)


@dataclass(frozen=True)
class SweepRow:
    """The outcome of one fallback threshold on the whole set."""

    threshold: float
    total: int
    correct: int
    fallback: int
    shop_fallback: int  # fallbacks on messages that are not out_of_scope
    correct_not_fallback: int
    out_of_scope: int
    out_of_scope_handled: int
    right_intent_fell_back: int  # shop messages whose top intent was right but fell back
    errors: int

    @property
    def accuracy(self) -> float:
        return percent(self.correct, self.total)

    @property
    def fallback_percent(self) -> float:
        return percent(self.fallback, self.total)

    @property
    def shop_fallback_percent(self) -> float:
        return percent(self.shop_fallback, self.total - self.out_of_scope)

    @property
    def accuracy_not_fallback(self) -> float:
        return percent(self.correct_not_fallback, self.total - self.fallback)

    @property
    def out_of_scope_handled_percent(self) -> float:
        return percent(self.out_of_scope_handled, self.out_of_scope)


# --- parsing ----------------------------------------------------------------------------------
def classifier_ranking(parsed: dict[str, Any]) -> Ranking:
    """The parse result's `intent_ranking` without nlu_fallback: the classifier's own ranking."""
    return tuple(
        (str(entry.get("name")), float(entry.get("confidence") or 0.0))
        for entry in parsed.get("intent_ranking") or []
        if entry.get("name") != FALLBACK
    )


def to_scored(example: Example, parsed: dict[str, Any]) -> Scored:
    """A `Scored` from the dictionary `Agent.parse_message` returns."""
    model_intent = str((parsed.get("intent") or {}).get("name"))
    return Scored(example.text, example.intent, classifier_ranking(parsed), model_intent)


def parse_all(agent: Any, examples: Sequence[Example]) -> list[Scored]:
    """Parses every example once through the loaded agent, one message at a time."""

    async def run() -> list[Scored]:
        return [to_scored(e, await agent.parse_message(e.text)) for e in examples]

    return asyncio.run(run())


# --- the FallbackClassifier's decision --------------------------------------------------------
def falls_back(ranking: Ranking, threshold: float, ambiguity: float) -> bool:
    """Whether Rasa's FallbackClassifier would predict nlu_fallback for this ranking.

    Same comparisons as `FallbackClassifier._should_fallback`: the top confidence below the
    threshold, or the top two closer than the ambiguity threshold.
    """
    if not ranking:
        return True
    if ranking[0][1] < threshold:
        return True
    return len(ranking) >= 2 and ranking[0][1] - ranking[1][1] < ambiguity


def decide(scored: Scored, threshold: float, ambiguity: float) -> str:
    """The final intent of one message under the given thresholds."""
    if falls_back(scored.ranking, threshold, ambiguity):
        return FALLBACK
    return scored.ranking[0][0]


def handled(gold: str, final: str) -> bool:
    """Right intent, or an out_of_scope message that ends as nlu_fallback."""
    return final == gold or (gold == OUT_OF_SCOPE and final == FALLBACK)


# --- the sweep --------------------------------------------------------------------------------
def sweep_row(scored: Sequence[Scored], threshold: float, ambiguity: float) -> SweepRow:
    """What one threshold does to the whole set."""
    finals = [(s, decide(s, threshold, ambiguity)) for s in scored]
    in_scope_fallback = [s for s, f in finals if f == FALLBACK and s.gold != OUT_OF_SCOPE]
    return SweepRow(
        threshold=threshold,
        total=len(finals),
        correct=sum(f == s.gold for s, f in finals),
        fallback=sum(f == FALLBACK for _, f in finals),
        shop_fallback=len(in_scope_fallback),
        correct_not_fallback=sum(f == s.gold for s, f in finals if f != FALLBACK),
        out_of_scope=sum(s.gold == OUT_OF_SCOPE for s, _ in finals),
        out_of_scope_handled=sum(
            f in (FALLBACK, OUT_OF_SCOPE) for s, f in finals if s.gold == OUT_OF_SCOPE
        ),
        right_intent_fell_back=sum(
            bool(s.ranking) and s.ranking[0][0] == s.gold for s in in_scope_fallback
        ),
        errors=sum(not handled(s.gold, f) for s, f in finals),
    )


def sweep(
    scored: Sequence[Scored], thresholds: Sequence[float], ambiguity: float
) -> list[SweepRow]:
    """One row per threshold, lowest threshold first."""
    return [sweep_row(scored, t, ambiguity) for t in sorted(set(thresholds))]


def recommend(rows: Sequence[SweepRow]) -> SweepRow:
    """The row with the fewest errors; among equals, the highest threshold."""
    return min(rows, key=lambda row: (row.errors, -row.threshold))


def model_mismatches(scored: Sequence[Scored], threshold: float, ambiguity: float) -> list[str]:
    """Messages where the simulated decision differs from what the loaded model returned."""
    return [
        s.text
        for s in scored
        if (decide(s, threshold, ambiguity) == FALLBACK) != (s.model_intent == FALLBACK)
    ]


# --- the model's own FallbackClassifier -------------------------------------------------------
def model_fallback_config(agent: Any) -> tuple[float, float] | None:
    """(threshold, ambiguity_threshold) of the model's FallbackClassifier; None if it has none."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    for node in agent.processor.model_metadata.predict_schema.nodes.values():
        if issubclass(node.uses, FallbackClassifier):
            config = {**FallbackClassifier.get_default_config(), **node.config}
            return float(config["threshold"]), float(config["ambiguity_threshold"])
    return None


def consistency_line(scored: Sequence[Scored], config: tuple[float, float] | None) -> str:
    """Whether the simulation reproduces the model's own fallback decisions."""
    if config is None:
        return "The model has no FallbackClassifier: nothing to check the simulation against."
    threshold, ambiguity = config
    wrong = model_mismatches(scored, threshold, ambiguity)
    same = len(scored) - len(wrong)
    line = (
        f"Model's FallbackClassifier (threshold {threshold}, ambiguity {ambiguity}): the "
        f"simulation reproduces its decision for {same}/{len(scored)} messages"
    )
    return line + (f"; differs for: {wrong[:5]}" if wrong else ".")


# --- output -----------------------------------------------------------------------------------
def sweep_table(rows: Sequence[SweepRow], recommended: SweepRow) -> str:
    """The sweep as a Markdown table; the recommended row is marked."""
    header = [
        "threshold",
        "accuracy %",
        "fallback %",
        "shop msgs → fallback %",
        "acc. not fallback %",
        "out_of_scope handled %",
        "right top → fallback",
        "errors",
    ]
    cells = [
        [
            f"{r.threshold:.2f}" + (" ←" if r is recommended else ""),
            f"{r.accuracy:.1f}",
            f"{r.fallback_percent:.1f}",
            f"{r.shop_fallback_percent:.1f}",
            f"{r.accuracy_not_fallback:.1f}",
            f"{r.out_of_scope_handled_percent:.1f} ({r.out_of_scope_handled}/{r.out_of_scope})",
            r.right_intent_fell_back,
            r.errors,
        ]
        for r in rows
    ]
    return table(header, cells)


def format_report(
    scored: Sequence[Scored], rows: Sequence[SweepRow], ambiguity: float, check: str
) -> str:
    """The report as text: set size, consistency check, table, recommendation."""
    best = recommend(rows)
    return "\n".join(
        [
            f"DEV examples: {len(scored)}, intents: {len({s.gold for s in scored})}, "
            f"ambiguity threshold: {ambiguity}",
            check,
            "",
            sweep_table(rows, best),
            "",
            "errors = wrong intent, or nlu_fallback on a shop message (nlu_fallback is right "
            "for out_of_scope); right top → fallback = shop messages whose top intent was right "
            "but that fell back",
            f"Recommended threshold: {best.threshold:.2f} ({best.errors} errors, accuracy "
            f"{best.accuracy:.1f}%, fallback {best.fallback_percent:.1f}%; fewest errors, "
            "ties to the higher threshold)",
        ]
    )


def to_json(scored: Sequence[Scored], rows: Sequence[SweepRow], ambiguity: float) -> dict:
    """The sweep and the per-message rankings as a JSON-serialisable dictionary."""
    return {
        "ambiguity_threshold": ambiguity,
        "recommended_threshold": recommend(rows).threshold,
        "rows": [
            {
                **asdict(r),
                "accuracy": r.accuracy,
                "fallback_percent": r.fallback_percent,
                "shop_fallback_percent": r.shop_fallback_percent,
                "accuracy_not_fallback": r.accuracy_not_fallback,
                "out_of_scope_handled_percent": r.out_of_scope_handled_percent,
            }
            for r in rows
        ],
        "messages": [asdict(s) for s in scored],
    }


# --- command line -----------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="trained model (.tar.gz)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="DEV NLU YAML")
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="+",
        default=list(DEFAULT_THRESHOLDS),
        help="fallback thresholds to try",
    )
    parser.add_argument(
        "--ambiguity", type=float, default=DEFAULT_AMBIGUITY, help="ambiguity threshold"
    )
    parser.add_argument("--json", type=Path, help="also write the sweep and rankings here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Runs the sweep; 0 on success, 1 if the model or the data is missing or empty."""
    args = parse_args(argv)
    loaded = load_model_and_examples(args.model, args.data, "DEV data")
    if loaded is None:
        return 1
    agent, examples = loaded
    scored = parse_all(agent, examples)
    rows = sweep(scored, args.thresholds, args.ambiguity)
    check = consistency_line(scored, model_fallback_config(agent))
    print(format_report(scored, rows, args.ambiguity, check))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = to_json(scored, rows, args.ambiguity)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
