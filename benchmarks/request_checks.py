"""False alarms and misses of the deterministic request checks (rasa_llm_components/request_checks).

    python -m benchmarks.request_checks [--data data/request_checks] [--split dev|test|all]
        [--failures] [--json out.json]

Reads the three data files of `data/request_checks/`:

- `ordinary.yml`: ordinary customer messages; `check_request` must refuse none of them;
- `attacks.yml`: prompt-injection / prompt-leak attempts and demands outside the policy, each with
  its expected category; `check_request` must refuse each with that category;
- `answers.yml`: policy statements (`expected: pass`, `grants_something` must be False) and
  promises outside the policy (`expected: stop`, `grants_something` must be True).

Every item has a `split`: DEV (may be looked at when tuning the checks) or TEST (held out). For
each split the report prints: ordinary messages refused (count/total), attacks caught per
category (with the category expected; an attack refused under the other category is counted
apart), policy statements wrongly stopped and promises let through. `--failures` lists the
failing items of the requested split(s); tune on DEV failures only.

The issue's targets are 0 ordinary refused, every attack caught, 0 statements stopped and 0
promises let through; tests/llm/test_request_checks.py asserts them item by item.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rasa_llm_components.answering.request_checks import check_request, grants_something

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / "data" / "request_checks"
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class Item:
    """One message or answer of the data files."""

    id: str
    split: str
    text: str
    expected: str | None = None  # attack category, or "pass"/"stop" for answers


def _load(path: Path, key: str, expected_field: str | None) -> list[Item]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for entry in data[key]:
        if entry["split"] not in SPLITS:
            raise ValueError(f"{path}: {entry['id']} has split {entry['split']!r}")
        expected = entry[expected_field] if expected_field else None
        items.append(Item(entry["id"], entry["split"], entry["text"], expected))
    return items


def load_ordinary(data_dir: Path = DEFAULT_DATA) -> list[Item]:
    """The ordinary messages (never to be refused)."""
    return _load(data_dir / "ordinary.yml", "messages", None)


def load_attacks(data_dir: Path = DEFAULT_DATA) -> list[Item]:
    """The attacks, `expected` being the category they must be refused with."""
    return _load(data_dir / "attacks.yml", "attacks", "category")


def load_answers(data_dir: Path = DEFAULT_DATA) -> list[Item]:
    """The answers, `expected` being "pass" (policy statement) or "stop" (promise)."""
    return _load(data_dir / "answers.yml", "answers", "expected")


@dataclass
class SplitReport:
    """The figures of one split."""

    split: str
    ordinary_total: int = 0
    ordinary_refused: list[str] = field(default_factory=list)
    attacks_total: dict[str, int] = field(default_factory=dict)
    attacks_caught: dict[str, int] = field(default_factory=dict)
    attacks_missed: list[str] = field(default_factory=list)
    attacks_wrong_category: list[str] = field(default_factory=list)
    statements_total: int = 0
    statements_stopped: list[str] = field(default_factory=list)
    promises_total: int = 0
    promises_let_through: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return (
            len(self.ordinary_refused)
            + len(self.attacks_missed)
            + len(self.attacks_wrong_category)
            + len(self.statements_stopped)
            + len(self.promises_let_through)
        )


def evaluate(
    ordinary: Sequence[Item], attacks: Sequence[Item], answers: Sequence[Item], split: str
) -> SplitReport:
    """Runs the checks on the items of `split` ("all" for both halves)."""

    def chosen(items: Sequence[Item]) -> list[Item]:
        return [item for item in items if split == "all" or item.split == split]

    report = SplitReport(split)
    for item in chosen(ordinary):
        report.ordinary_total += 1
        check = check_request(item.text)
        if check.refused:
            report.ordinary_refused.append(f"{item.id} [{check.category}] {item.text}")
    for item in chosen(attacks):
        category = str(item.expected)
        report.attacks_total[category] = report.attacks_total.get(category, 0) + 1
        report.attacks_caught.setdefault(category, 0)
        check = check_request(item.text)
        if check.category == category:
            report.attacks_caught[category] += 1
        elif check.refused:
            report.attacks_wrong_category.append(
                f"{item.id} [{check.category}, expected {category}] {item.text}"
            )
        else:
            report.attacks_missed.append(f"{item.id} [{category}] {item.text}")
    for item in chosen(answers):
        stopped = grants_something(item.text)
        if item.expected == "pass":
            report.statements_total += 1
            if stopped:
                report.statements_stopped.append(f"{item.id} {item.text}")
        else:
            report.promises_total += 1
            if not stopped:
                report.promises_let_through.append(f"{item.id} {item.text}")
    return report


def format_report(report: SplitReport, failures: bool = False) -> str:
    """The printed figures of one split (and its failing items with `failures`)."""
    lines = [f"== {report.split.upper()} =="]
    lines.append(
        f"ordinary refused:           {len(report.ordinary_refused)}/{report.ordinary_total}"
    )
    for category in sorted(report.attacks_total):
        lines.append(
            f"attacks caught {category + ':':<18} "
            f"{report.attacks_caught[category]}/{report.attacks_total[category]}"
        )
    if report.attacks_wrong_category:
        lines.append(f"attacks refused under the other category: "
                     f"{len(report.attacks_wrong_category)}")
    lines.append(
        f"statements wrongly stopped: {len(report.statements_stopped)}/{report.statements_total}"
    )
    lines.append(
        f"promises let through:       "
        f"{len(report.promises_let_through)}/{report.promises_total}"
    )
    if failures:
        for title, items in (
            ("ordinary refused", report.ordinary_refused),
            ("attacks missed", report.attacks_missed),
            ("attacks with the wrong category", report.attacks_wrong_category),
            ("statements stopped", report.statements_stopped),
            ("promises let through", report.promises_let_through),
        ):
            if items:
                lines.append(f"-- {title}:")
                lines.extend(f"   {item}" for item in items)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=(*SPLITS, "all", "both"), default="both",
                        help="dev, test, all (pooled) or both (each half apart; default)")
    parser.add_argument("--failures", action="store_true", help="list the failing items")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)

    ordinary = load_ordinary(args.data)
    attacks = load_attacks(args.data)
    answers = load_answers(args.data)
    splits = SPLITS if args.split == "both" else (args.split,)
    reports = [evaluate(ordinary, attacks, answers, split) for split in splits]
    print("\n\n".join(format_report(report, args.failures) for report in reports))
    if args.json:
        payload: dict[str, Any] = {
            report.split: {**asdict(report), "failures": report.failures} for report in reports
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
