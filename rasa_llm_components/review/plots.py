"""The report's charts as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from rasa_llm_components.review.gaps import GapGroup  # noqa: E402
from rasa_llm_components.review.timeline import Timeline  # noqa: E402

KIND_COLOURS = {
    "generated": "#2e7d32",
    "extractive": "#66bb6a",
    "abstained": "#ef6c00",
    "refused": "#8e24aa",
    "failed": "#c62828",
}
_LABEL_CHARACTERS = 60


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def _empty(axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def confidence_histogram(confidences: list[float], threshold: float) -> bytes:
    """How sure the intent classifier was: a histogram with the review threshold marked."""
    figure, axes = plt.subplots(figsize=(7, 3.2))
    if confidences:
        axes.hist(confidences, bins=20, range=(0, 1), color="#1565c0", edgecolor="white")
        axes.axvline(threshold, color="#c62828", linestyle="--", label=f"threshold {threshold:g}")
        axes.legend()
        axes.set_xlabel("confidence of the best intent (not nlu_fallback)")
        axes.set_ylabel("messages")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        _empty(axes, "no customer messages")
    axes.set_title("Intent confidence")
    return _png(figure)


def _labels(timeline: Timeline) -> list[str]:
    pattern = "%m-%d %H:00" if timeline.unit == "hour" else "%Y-%m-%d"
    return [bucket.start.strftime(pattern) for bucket in timeline.buckets]


def _ticks(axes, labels: list[str]) -> None:
    step = max(1, len(labels) // 12)
    axes.set_xticks(range(0, len(labels), step))
    axes.set_xticklabels(labels[::step], rotation=45, ha="right", fontsize=8)


def answer_kinds_over_time(timeline: Timeline) -> bytes:
    """LLM answers per hour or day, stacked by kind (generated, extractive, abstained, ...)."""
    figure, axes = plt.subplots(figsize=(7, 3.4))
    kinds = sorted({kind for b in timeline.buckets for kind in b.answer_kinds})
    if kinds:
        labels = _labels(timeline)
        bottom = [0] * len(labels)
        for kind in kinds:
            values = [b.answer_kinds.get(kind, 0) for b in timeline.buckets]
            axes.bar(range(len(labels)), values, bottom=bottom, label=kind,
                     color=KIND_COLOURS.get(kind, "#757575"))
            bottom = [a + b for a, b in zip(bottom, values, strict=True)]
        _ticks(axes, labels)
        axes.set_ylabel("answers")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(fontsize=8)
    else:
        _empty(axes, "no LLM answers")
    axes.set_title(f"LLM answers per {timeline.unit} by kind (UTC)")
    return _png(figure)


def rates_over_time(timeline: Timeline) -> bytes:
    """Share of messages that became nlu_fallback and of conversations handed to a person."""
    figure, axes = plt.subplots(figsize=(7, 3.4))
    if timeline.buckets:
        labels = _labels(timeline)
        positions = range(len(labels))
        axes.plot(positions, [100 * b.fallback_rate for b in timeline.buckets], marker="o",
                  label="nlu_fallback (% of messages)", color="#ef6c00")
        axes.plot(positions, [100 * b.handoff_rate for b in timeline.buckets], marker="s",
                  label="handoff (% of conversations)", color="#6a1b9a")
        _ticks(axes, labels)
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.legend(fontsize=8)
    else:
        _empty(axes, "no customer messages")
    axes.set_title(f"Fallback and handoff rates per {timeline.unit} (UTC)")
    return _png(figure)


def top_gaps(groups: list[GapGroup], limit: int = 10) -> bytes:
    """The most asked unanswered questions (one bar per group)."""
    shown = groups[:limit]
    figure, axes = plt.subplots(figsize=(7, 0.9 + 0.35 * max(len(shown), 1)))
    if shown:
        labels = [
            g.representative if len(g.representative) <= _LABEL_CHARACTERS
            else g.representative[: _LABEL_CHARACTERS - 1] + "\u2026"
            for g in shown
        ]
        axes.barh(range(len(shown)), [g.count for g in shown], color="#ef6c00")
        axes.set_yticks(range(len(shown)))
        axes.set_yticklabels(labels, fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel("questions")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        _empty(axes, "no knowledge gaps")
    axes.set_title("Top knowledge gaps")
    return _png(figure)
