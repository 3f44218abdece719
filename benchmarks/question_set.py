"""The answer-quality question sets: loading, validation and fact matching.

Files: `data/llm_questions.yml` (single questions) and `data/answers/{dev,heldout}.yml`, whose
entries may also have `history` (the earlier exchange, a list of `{user: ...}` / `{bot: ...}`
items), `strong_answer` (what a strong LLM grounded in the knowledge would reply) and
`unanswerable_kind` (why an unanswerable question has no answer: not_sold, missing_spec, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SPEAKERS = ("user", "bot")


@dataclass(frozen=True)
class Question:
    """One benchmark question; ``must_contain`` items are lists of alternatives.

    ``history`` holds the earlier turns as (speaker, text) pairs, speaker "user" or "bot",
    oldest first; a question with history is a follow-up.
    """

    id: str
    question: str
    answerable: bool = True
    expected_passages: tuple[str, ...] = ()
    must_contain: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    history: tuple[tuple[str, str], ...] = ()
    strong_answer: str = ""
    unanswerable_kind: str = ""

    @property
    def follow_up(self) -> bool:
        return bool(self.history)

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


def _history(items: object, where: str) -> tuple[tuple[str, str], ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ValueError(f"{where}: history is a list of {{user: ...}} / {{bot: ...}} items.")
    turns = []
    for item in items:
        if (
            not isinstance(item, dict)
            or len(item) != 1
            or next(iter(item)) not in SPEAKERS
            or not isinstance(next(iter(item.values())), str)
            or not next(iter(item.values())).strip()
        ):
            raise ValueError(
                f"{where}: history items are {{user: text}} or {{bot: text}}, got {item!r}."
            )
        ((speaker, text),) = item.items()
        turns.append((speaker, text))
    return tuple(turns)


def load_questions(path: str | Path) -> list[Question]:
    """Reads and validates the question set.

    Raises:
        ValueError: a missing field, a duplicate id, an answerable question without expected
            passages or facts, an unanswerable one with them, or a malformed history.
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
        kind = str(entry.get("unanswerable_kind") or "")
        if answerable and kind:
            raise ValueError(f"{where}: answerable questions have no unanswerable_kind.")
        strong = entry.get("strong_answer") or ""
        if not isinstance(strong, str):
            raise ValueError(f"{where}: strong_answer is a string.")
        questions.append(
            Question(
                str(entry["id"]),
                str(entry["question"]),
                answerable,
                expected,
                facts,
                history=_history(entry.get("history"), where),
                strong_answer=strong.strip(),
                unanswerable_kind=kind,
            )
        )
    return questions


# -- fact matching ---------------------------------------------------------------------------
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
}  # fmt: skip
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
# Hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign.
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ZERO_CENTS = re.compile(r"(?<=\d)\.00(?!\d|\.\d)")
# "5 to 8", "5 - 8", "$5-$8": the range joined by a bare hyphen.
_RANGE = re.compile(r"(?<=\d)\s*(?:-|\bto\b)\s*(?=\$?\d)")


def normalize_text(text: str) -> str:
    """Lower case, unicode dashes and quotes as ASCII, plain numbers and "X-Y" ranges.

    "$1,500.00" -> "$1500", "seven to twelve" -> "7-12", "5 – 8" -> "5-8"; runs of white space
    become one space.
    """
    text = text.lower().translate(_QUOTES)
    text = _DASHES.sub("-", text)
    text = _NUMBER_WORD.sub(lambda match: _NUMBER_WORDS[match.group(1)], text)
    text = _THOUSANDS.sub("", text)
    text = _ZERO_CENTS.sub("", text)
    text = _RANGE.sub("-", text)
    return re.sub(r"\s+", " ", text).strip()


def _find(needle: str, haystack: str) -> bool:
    """Substring match where a needle starting or ending with a digit does not match inside a
    longer number ("$5" is not in "$50", "12" is not in "2012"; "$12" is in "$12.99")."""
    if not needle:
        return False
    pattern = re.escape(needle)
    if needle[0].isdigit():
        pattern = r"(?<![\d.])" + pattern
    if needle[-1].isdigit():
        pattern += r"(?!\d)"
    return re.search(pattern, haystack) is not None


def contains_fact(text: str, alternatives: tuple[str, ...] | list[str] | str) -> bool:
    """Does ``text`` state one of the alternatives? Both sides go through `normalize_text`, so
    faithful paraphrases of numbers and ranges count ("seven to twelve" matches "7–12")."""
    if isinstance(alternatives, str):
        alternatives = (alternatives,)
    normalized = normalize_text(text)
    return any(_find(normalize_text(alternative), normalized) for alternative in alternatives)
