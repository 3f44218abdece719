"""Retrieval evaluation on the question set: recall@k, score distributions and a threshold.

Usage::

    python -m benchmarks.retrieval data/llm_questions.yml example_bot/knowledge
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.question_set import Question, contains_fact, load_questions
from rasa_llm_components.encoders import SentenceEncoder
from rasa_llm_components.retrieval.index import KnowledgeIndex, RetrievedPassage
from rasa_llm_components.retrieval.loaders import load_passages
from rasa_llm_components.retrieval.scoring import DEFAULT_SCORE_THRESHOLD


@dataclass
class QuestionResult:
    """The retrieval hits of one benchmark question."""

    question: Question
    hits: list[RetrievedPassage]

    @property
    def top_score(self) -> float:
        return self.hits[0].score if self.hits else 0.0

    def hit_at(self, k: int) -> bool:
        return any(self.question.expects(hit.passage.id) for hit in self.hits[:k])

    def facts_in_context(self, k: int) -> float:
        """Share of must_contain facts present in the top-k passages (context recall)."""
        facts = self.question.must_contain
        context = "\n".join(hit.passage.content for hit in self.hits[:k])
        return sum(contains_fact(context, fact) for fact in facts) / len(facts) if facts else 1.0


def run(
    questions: Sequence[Question], index: KnowledgeIndex, top_k: int = 5
) -> list[QuestionResult]:
    queries = [question.question for question in questions]
    vectors = index.encoder.encode(queries)
    return [
        QuestionResult(question, index.search(query, top_k=top_k, query_vector=vector))
        for question, query, vector in zip(questions, queries, vectors, strict=True)
    ]


def choose_threshold(
    answerable: np.ndarray, unanswerable: np.ndarray, window: int = 2
) -> tuple[float, float]:
    """Threshold with the best balanced accuracy (answer the answerable, refuse the rest).

    Balanced accuracy is averaged over ``window`` grid steps (0.01) on each side, so the choice
    sits in a stable region rather than on a knife edge between two questions; ties go to the
    middle of the best plateau. Returns (threshold, balanced accuracy at that threshold).
    """
    grid = np.round(np.arange(0.0, 1.0001, 0.01), 2)
    accuracy = np.array([
        ((answerable >= t).mean() + (unanswerable < t).mean()) / 2 for t in grid
    ])
    kernel = np.ones(2 * window + 1) / (2 * window + 1)
    smoothed = np.convolve(np.pad(accuracy, window, mode="edge"), kernel, mode="valid")
    best = np.flatnonzero(smoothed >= smoothed.max() - 1e-9)
    # The widest contiguous run of best thresholds, then its middle.
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    widest = max(runs, key=len)
    chosen = widest[len(widest) // 2]
    return float(grid[chosen]), float(accuracy[chosen])


def summary(values: np.ndarray) -> str:
    if len(values) == 0:
        return "n=0"
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return (f"n={len(values)} min={values.min():.3f} p10={p10:.3f} median={p50:.3f} "
            f"p90={p90:.3f} max={values.max():.3f}")


def report(results: list[QuestionResult], threshold: float | None = None) -> dict:
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    positive = np.array([r.top_score for r in answerable])
    negative = np.array([r.top_score for r in unanswerable])
    chosen, balanced = choose_threshold(positive, negative)
    threshold = DEFAULT_SCORE_THRESHOLD if threshold is None else threshold
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall@1": float(np.mean([r.hit_at(1) for r in answerable])),
        "recall@3": float(np.mean([r.hit_at(3) for r in answerable])),
        "recall@5": float(np.mean([r.hit_at(5) for r in answerable])),
        "facts_in_top3": float(np.mean([r.facts_in_context(3) for r in answerable])),
        "answerable_scores": summary(positive),
        "unanswerable_scores": summary(negative),
        "best_threshold": chosen,
        "best_balanced_accuracy": balanced,
        "threshold": threshold,
        "answered_at_threshold": float((positive >= threshold).mean()),
        "refused_at_threshold": float((negative < threshold).mean()),
        "misses@3": [r.question.id for r in answerable if not r.hit_at(3)],
    }


def print_details(results: list[QuestionResult], out=sys.stdout) -> None:
    for result in results:
        question = result.question
        mark = "NA " if not question.answerable else ("ok " if result.hit_at(1) else
                                                     ("@3 " if result.hit_at(3) else "MISS"))
        top = result.hits[0] if result.hits else None
        top_id = top.passage.id if top else "-"
        dense = f"{top.dense:.2f}" if top else "-"
        lexical = f"{top.lexical:.2f}" if top else "-"
        print(f"{mark:4} {result.top_score:.3f} (cos {dense}, lex {lexical}) "
              f"{question.id:28} -> {top_id}", file=out)


def print_sweep(results: list[QuestionResult], out=sys.stdout) -> None:
    positive = np.array([r.top_score for r in results if r.question.answerable])
    negative = np.array([r.top_score for r in results if not r.question.answerable])
    print("threshold  answered(answerable)  refused(unanswerable)  balanced", file=out)
    for threshold in np.arange(0.30, 0.751, 0.05):
        answered = (positive >= threshold).mean()
        refused = (negative < threshold).mean()
        print(f"  {threshold:.2f}       {answered:6.1%}               {refused:6.1%}"
              f"             {(answered + refused) / 2:6.1%}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("knowledge", type=Path, nargs="+")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--details", action="store_true", help="one line per question")
    parser.add_argument("--json", type=Path, help="also write the metrics here")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)
    index = KnowledgeIndex.build(load_passages(args.knowledge), SentenceEncoder())
    results = run(questions, index)
    if args.details:
        print_details(results)
    print_sweep(results)
    metrics = report(results, args.threshold)
    for key, value in metrics.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
