"""Faithfulness benchmark of the claim verifier on team-written answer pairs.

    python -m benchmarks.faithfulness [--pairs data/faithfulness/pairs.yml] [--split dev|test]
    python -m benchmarks.faithfulness --pairs data/faithfulness/pairs_dev2.yml   # second DEV set

Each pair holds a faithful answer (as a strong LLM would paraphrase the passages) and its twin
with one wrong or invented fact. The verifier sees the question and the pair's passages, as the
answerer does. Reported per split: faithful answers kept (target >= 95%) and unfaithful answers
let through (target 0), per error kind, with the reasons of every miss under --verbose.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from rasa_llm_components.answering.fact_guard import FactGuard
from rasa_llm_components.answering.verification import (
    STRICT_COVERAGE,
    ClaimVerifier,
    KnowledgeVocabulary,
    encoder_words,
)
from rasa_llm_components.encoders import resolve_model_path
from rasa_llm_components.retrieval import Passage, known_names, load_passages

DEFAULT_PAIRS = Path("data/faithfulness/pairs.yml")


@dataclass(frozen=True)
class AnswerPair:
    """One question with a faithful and an unfaithful answer over the same passages."""

    id: str
    split: str
    question: str
    passages: tuple[str, ...]
    faithful: str
    unfaithful: str
    error: str


def load_pairs(path: str | Path, passage_ids: set[str]) -> list[AnswerPair]:
    """Reads the pairs; raises ValueError on a missing field or an unknown passage id."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    pairs = []
    for number, entry in enumerate(data.get("pairs") or [], start=1):
        missing = {"id", "split", "question", "passages", "faithful", "unfaithful", "error"} - set(
            entry
        )
        if missing:
            raise ValueError(f"{path} pair {number}: missing {sorted(missing)}")
        unknown = set(entry["passages"]) - passage_ids
        if unknown:
            raise ValueError(f"{path} pair {entry['id']}: unknown passages {sorted(unknown)}")
        pairs.append(AnswerPair(
            str(entry["id"]), str(entry["split"]), str(entry["question"]),
            tuple(entry["passages"]), str(entry["faithful"]), str(entry["unfaithful"]),
            str(entry["error"]),
        ))
    return pairs


def build_verifier(passages: list[Passage], claim_check: str = "strict") -> ClaimVerifier:
    """The verifier as the answering runtime builds it for a knowledge base."""
    vocabulary = KnowledgeVocabulary.build(f"{p.title}. {p.text}" for p in passages)
    words = encoder_words(resolve_model_path(None)) if claim_check == "lenient" else ()
    coverage = STRICT_COVERAGE if claim_check == "strict" else 0.0
    return ClaimVerifier(FactGuard(known_names(passages)), vocabulary, english_words=words,
                         min_sentence_coverage=coverage)


def evaluate(pairs: list[AnswerPair], passages: list[Passage], claim_check: str = "strict") -> dict:
    verifier = build_verifier(passages, claim_check)
    by_id = {passage.id: passage for passage in passages}
    results: dict = {"splits": {}, "misses": []}
    for split in sorted({pair.split for pair in pairs}):
        chosen = [pair for pair in pairs if pair.split == split]
        kept = 0
        through: Counter[str] = Counter()
        kinds: Counter[str] = Counter(pair.error for pair in chosen)
        for pair in chosen:
            evidence = [f"{by_id[i].title}. {by_id[i].text}" for i in pair.passages]
            faithful_problems = verifier.verify(pair.faithful, evidence, pair.question)
            unfaithful_problems = verifier.verify(pair.unfaithful, evidence, pair.question)
            if not faithful_problems:
                kept += 1
            else:
                results["misses"].append(
                    {"id": pair.id, "split": split, "answer": "faithful rejected",
                     "text": pair.faithful, "problems": faithful_problems}
                )
            if not unfaithful_problems:
                through[pair.error] += 1
                results["misses"].append(
                    {"id": pair.id, "split": split, "answer": f"unfaithful kept ({pair.error})",
                     "text": pair.unfaithful}
                )
        results["splits"][split] = {
            "pairs": len(chosen),
            "faithful_kept": kept / max(1, len(chosen)),
            "unfaithful_through": sum(through.values()),
            "through_by_error": {kind: f"{through[kind]}/{kinds[kind]}" for kind in sorted(kinds)},
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default=str(DEFAULT_PAIRS))
    parser.add_argument("--knowledge", nargs="+", default=["example_bot/knowledge"])
    parser.add_argument("--split", choices=["dev", "test"], help="only this split")
    parser.add_argument("--claim-check", choices=["strict", "balanced", "lenient"],
                        default="strict", help="the answer setting claim_check")
    parser.add_argument("--json", help="write the figures and every miss to this file")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    passages = load_passages(args.knowledge)
    pairs = load_pairs(args.pairs, {passage.id for passage in passages})
    if args.split:
        pairs = [pair for pair in pairs if pair.split == args.split]
    results = evaluate(pairs, passages, args.claim_check)
    by_split = defaultdict(list)
    for miss in results["misses"]:
        by_split[miss["split"]].append(miss)
    for split, figures in results["splits"].items():
        print(f"{split}: {figures['pairs']} pairs, faithful kept {figures['faithful_kept']:.1%}, "
              f"unfaithful through {figures['unfaithful_through']} "
              f"({', '.join(f'{k} {v}' for k, v in figures['through_by_error'].items())})")
        if args.verbose:
            for miss in by_split[split]:
                print(f"  {miss['id']} {miss['answer']}: {miss['text']}")
                for problem in miss.get("problems", []):
                    print(f"      - {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
