"""The review command.

    python -m rasa_llm_components.review --tracker-store sqlite:///conversations.db --out review/
    python -m rasa_llm_components.review --endpoints endpoints.yml --out review/
    python -m rasa_llm_components.review merge review/annotations.yml --into data/nlu.yml
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from rasa_llm_components.review.annotations import merge_annotations
from rasa_llm_components.review.errors import ReviewError
from rasa_llm_components.review.gaps import DEFAULT_SIMILARITY
from rasa_llm_components.review.review import DEFAULT_THRESHOLD, ReviewOptions, run_review
from rasa_llm_components.review.store import url_from_endpoints

MERGE = "merge"


def _since(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"--since needs an ISO date or time such as 2026-11-01 or 2026-11-01T08:00; "
            f"got {value!r}"
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def review_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rasa_llm_components.review",
        description=(
            "Review the conversations in Rasa's SQL tracker store: messages to annotate, "
            "knowledge gaps, thumbs-down answers, handoffs and an HTML report. "
            f"'{MERGE}' merges annotated messages into the training data (see '{MERGE} --help')."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tracker-store", metavar="URL",
                        help="SQLAlchemy URL, e.g. sqlite:///conversations.db or "
                        "postgresql://rasa:PASSWORD@host:5432/rasa")
    source.add_argument("--endpoints", metavar="FILE", type=Path,
                        help="an endpoints.yml with an SQL tracker_store (relative SQLite paths "
                        "are relative to the file's folder)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the review files")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="messages below this intent confidence are to annotate "
                        f"(default {DEFAULT_THRESHOLD}); nlu_fallback ones always are")
    parser.add_argument("--similarity", type=float, default=DEFAULT_SIMILARITY,
                        help="cosine similarity at which questions form one knowledge gap "
                        f"(default {DEFAULT_SIMILARITY})")
    parser.add_argument("--since", type=_since, default=None, metavar="DATE",
                        help="only events from this UTC date/time on (ISO format)")
    return parser


def merge_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m rasa_llm_components.review {MERGE}",
        description="Add annotated examples to an NLU training file, without duplicates.",
    )
    parser.add_argument("annotations", type=Path, help="the annotated annotations.yml")
    parser.add_argument("--into", type=Path, required=True, help="the NLU file to extend")
    parser.add_argument("--domain", type=Path, default=None,
                        help="domain.yml: its intents count as known, too")
    parser.add_argument("--allow-new-intents", action="store_true",
                        help="accept intents that are neither in the file nor in the domain")
    return parser


def _merge(argv: list[str]) -> int:
    args = merge_parser().parse_args(argv)
    result = merge_annotations(args.annotations, args.into, args.domain, args.allow_new_intents)
    for intent, examples in result.added.items():
        print(f"{intent}: added {len(examples)}")
    print(f"Added {result.added_count} example(s) to {args.into}; "
          f"{len(result.duplicates)} already there.")
    for example, intent in result.conflicts:
        print(f"Left out (already an example of '{intent}'): {example}")
    return 0


def _review(argv: list[str]) -> int:
    args = review_parser().parse_args(argv)
    url = args.tracker_store or url_from_endpoints(args.endpoints)
    options = ReviewOptions(threshold=args.threshold, similarity=args.similarity, since=args.since)
    summary = run_review(url, args.out, options)
    print(
        f"{summary.conversations} conversation(s), {summary.messages} customer message(s): "
        f"{summary.annotations} message(s) to annotate, {summary.gap_groups} knowledge gap "
        f"group(s), {summary.disliked} thumbs down, {summary.handoffs} handoff(s)."
    )
    for path in summary.files.values():
        print(f"  {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == MERGE:
            return _merge(argv[1:])
        return _review(argv)
    except ReviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
