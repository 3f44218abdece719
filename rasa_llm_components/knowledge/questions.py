"""The answer-quality question set (data/llm_questions.yml): loading and validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Question:
    """One benchmark question; ``must_contain`` items are lists of alternatives."""

    id: str
    question: str
    answerable: bool = True
    expected_passages: tuple[str, ...] = ()
    must_contain: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    def expects(self, passage_id: str) -> bool:
        """Whether ``passage_id`` is expected; ``"a:b"`` also matches its chunks ``"a:b#n"``."""
        return any(
            passage_id == expected
            or ("#" not in expected and passage_id.startswith(f"{expected}#"))
            for expected in self.expected_passages
        )


def _alternatives(item: object, where: str) -> tuple[str, ...]:
    values = item if isinstance(item, list) else [item]
    if not values or not all(isinstance(value, str) and value.strip() for value in values):
        raise ValueError(f"{where}: must_contain items are strings or lists of strings.")
    return tuple(values)


def load_questions(path: str | Path) -> list[Question]:
    """Reads and validates the question set.

    Raises:
        ValueError: a missing field, a duplicate id, an answerable question without expected
            passages or facts, or an unanswerable one with them.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from error
    entries = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a mapping with a 'questions' list.")
    questions: list[Question] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{Path(path).name} question {number}"
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("question"):
            raise ValueError(f"{where}: needs 'id' and 'question'.")
        if entry["id"] in seen:
            raise ValueError(f"{where}: duplicate id '{entry['id']}'.")
        seen.add(entry["id"])
        answerable = bool(entry.get("answerable", True))
        expected = tuple(str(item) for item in entry.get("expected_passages") or ())
        facts = tuple(_alternatives(item, where) for item in entry.get("must_contain") or ())
        if answerable and not (expected and facts):
            raise ValueError(f"{where}: answerable questions need expected_passages and "
                             "must_contain.")
        if not answerable and (expected or facts):
            raise ValueError(f"{where}: unanswerable questions have no expected passages/facts.")
        questions.append(Question(str(entry["id"]), str(entry["question"]), answerable,
                                  expected, facts))
    return questions


def contains_fact(text: str, alternatives: tuple[str, ...]) -> bool:
    """Case-insensitive: does ``text`` contain one of the alternatives?"""
    lowered = text.lower()
    return any(alternative.lower() in lowered for alternative in alternatives)
