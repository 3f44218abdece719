"""Formats the intent benchmark's JSON results as a Markdown table against the DIET baseline."""

from __future__ import annotations

from statistics import mean
from typing import Any

COLUMNS = (
    "accuracy",
    "macro_f1",
    "in_scope_accuracy",
    "oos_recall",
    "train_seconds",
    "parse_p50_ms",
    "parse_p95_ms",
)


def group_by_setting(results: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Groups runs by (setting, pipeline); the seeds of a few-shot setting form one group."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, result in sorted(results.items()):
        dataset, pipeline = key.rsplit("/", 1)
        setting = dataset.split("-seed")[0]
        groups.setdefault((setting, pipeline), []).append(result)
    return groups


def averaged(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {
        column: round(mean(run[column] for run in runs), 2)
        for column in COLUMNS
        if all(column in run for run in runs)
    }


def format_report(results: dict[str, Any]) -> str:
    groups = group_by_setting(results)
    lines = [
        "| setting | pipeline | runs | " + " | ".join(COLUMNS) + " | p50 vs DIET |",
        "|" + "---|" * (len(COLUMNS) + 4),
    ]
    for (setting, pipeline), runs in sorted(groups.items()):
        row = averaged(runs)
        baseline = (
            averaged(groups.get((setting, "diet"), [])) if (setting, "diet") in groups else {}
        )
        ratio = (
            f"{row['parse_p50_ms'] / baseline['parse_p50_ms']:.2f}x"
            if baseline.get("parse_p50_ms")
            else "-"
        )
        cells = [str(row.get(column, "-")) for column in COLUMNS]
        lines.append(
            f"| {setting} | {pipeline} | {len(runs)} | " + " | ".join(cells) + f" | {ratio} |"
        )
    return "\n".join(lines)
