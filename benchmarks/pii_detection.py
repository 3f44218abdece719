"""Precision and recall of the personal-data detection on customer-written messages.

    python -m benchmarks.pii_detection [--data data/pii/messages.yml data/pii/heldout.yml]
        [--json out.json]

Each message lists its personal data (`pii`: kind and exact text) and the text that must survive
(`keep`: order ids, product codes, prices, tracking numbers, ...). Per data set and kind:

- recall: gold items whose text is gone from the redacted message and that a finding of the
  same kind overlaps;
- precision: findings that overlap a gold item (of any kind: what matters is that personal data
  is removed) among all findings;
- kept: `keep` strings still in the redacted message (must be all of them);
- exact spans: findings whose text is exactly a gold item's.

`data/pii/messages.yml` is the set the detector was tuned on; `data/pii/heldout.yml` was written
afterwards and never tuned on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rasa_llm_components.nlu.pii_detection import PII_KINDS, PIIDetector

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = (REPO_ROOT / "data/pii/messages.yml", REPO_ROOT / "data/pii/heldout.yml")


@dataclass(frozen=True)
class GoldItem:
    kind: str
    text: str


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    pii: tuple[GoldItem, ...]
    keep: tuple[str, ...]


def load_messages(path: Path) -> list[LabelledMessage]:
    """The labelled messages of one data file; raises ValueError on a malformed entry."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    messages = []
    for number, entry in enumerate(raw.get("messages") or [], start=1):
        text = entry.get("text")
        if not isinstance(text, str) or not text:
            raise ValueError(f"{path}: message {number} has no text")
        items = []
        for item in entry.get("pii") or []:
            ((kind, value),) = item.items()
            if kind not in PII_KINDS or value not in text:
                raise ValueError(f"{path}: message {number}: bad pii item {item!r}")
            items.append(GoldItem(kind, value))
        keep = tuple(entry.get("keep") or ())
        if any(value not in text for value in keep):
            raise ValueError(f"{path}: message {number}: a keep string is not in the text")
        messages.append(LabelledMessage(text, tuple(items), keep))
    return messages


@dataclass
class Scores:
    messages: int = 0
    gold: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)  # gold items removed and found as their kind
    predicted: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)  # findings overlapping a gold item
    exact: int = 0
    keep_total: int = 0
    keep_kept: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    ms_per_message: float = 0.0

    def summary(self) -> dict[str, Any]:
        gold, predicted = sum(self.gold.values()), sum(self.predicted.values())
        found, correct = sum(self.found.values()), sum(self.correct.values())
        per_kind = {
            kind: {
                "gold": self.gold[kind],
                "recall": _ratio(self.found[kind], self.gold[kind]),
                "predicted": self.predicted[kind],
                "precision": _ratio(self.correct[kind], self.predicted[kind]),
            }
            for kind in PII_KINDS
            if self.gold[kind] or self.predicted[kind]
        }
        return {
            "messages": self.messages,
            "recall": _ratio(found, gold),
            "precision": _ratio(correct, predicted),
            "exact_spans": _ratio(self.exact, predicted),
            "kept": f"{self.keep_kept}/{self.keep_total}",
            "ms_per_message": round(self.ms_per_message, 2),
            "per_kind": per_kind,
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "lost": self.lost,
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _spans_of(text: str, value: str) -> tuple[int, int]:
    start = text.index(value)
    return start, start + len(value)


def score(messages: Sequence[LabelledMessage], detector: PIIDetector) -> Scores:
    """Runs the detector over the messages and counts hits, misses and false alarms."""
    scores = Scores(messages=len(messages))
    started = time.perf_counter()
    for message in messages:
        spans = detector.find(message.text)
        redacted = detector.redact(message.text)
        gold_spans = [(item, *_spans_of(message.text, item.text)) for item in message.pii]
        for item, start, end in gold_spans:
            scores.gold[item.kind] += 1
            same_kind = any(
                s.kind == item.kind and s.start < end and start < s.end for s in spans
            )
            if same_kind and item.text not in redacted:
                scores.found[item.kind] += 1
            else:
                scores.misses.append(f"{item.kind}: {item.text!r} in {message.text!r}")
        for span in spans:
            scores.predicted[span.kind] += 1
            if any(span.start < end and start < span.end for _, start, end in gold_spans):
                scores.correct[span.kind] += 1
            else:
                scores.false_alarms.append(f"{span.kind}: {span.text!r} in {message.text!r}")
            scores.exact += any(span.text == item.text for item, _, _ in gold_spans)
        for value in message.keep:
            scores.keep_total += 1
            if value in redacted:
                scores.keep_kept += 1
            else:
                scores.lost.append(f"{value!r} in {message.text!r} -> {redacted!r}")
    scores.ms_per_message = (time.perf_counter() - started) * 1000 / max(1, len(messages))
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", type=Path, default=list(DEFAULT_DATA))
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args(argv)
    detector = PIIDetector()
    results = {}
    for path in args.data:
        messages = load_messages(path)
        summary = score(messages, detector).summary()
        results[str(path)] = summary
        with_pii = sum(1 for message in messages if message.pii)
        print(
            f"{path.name}: {summary['messages']} messages ({with_pii} with personal data): "
            f"precision {summary['precision']}, recall {summary['recall']}, exact spans "
            f"{summary['exact_spans']}, kept {summary['kept']}, "
            f"{summary['ms_per_message']} ms/message"
        )
        for kind, figures in summary["per_kind"].items():
            print(f"  {kind:8} {figures}")
        for label in ("misses", "false_alarms", "lost"):
            for line in summary[label]:
                print(f"  {label[:-1] if label != 'misses' else 'miss'}: {line}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
