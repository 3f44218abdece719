"""Resolving what a customer typed against a list of choices, and asking when it stays unclear.

Generic helpers for any bot's action server (no Rasa or bot imports). A bot describes the things
the customer may mean as `Candidate`s (an order, an item of an order, a product): the `value` the
bot stores, the `label` it shows and `aliases` customers use (a category, a short name, a status
word such as "on its way"). `resolve` then reads answers such as "the auralis pair", "the one
that's on its way", "the second one", "not the cable, the headphones" or "the headphnes" (typo),
and `choice_message` turns the candidates that remain into a question with buttons whose payload is
the plain value, so that a click is resolved exactly.

    resolution = resolve(text, candidates)
    if resolution.kind == "match":
        use(resolution.match.value)
    else:
        dispatcher.utter_message(**choice_message("Which one do you mean?", resolution.options))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rapidfuzz.distance import OSA

from rasa_llm_components.repair.cues import corrected_part
from rasa_llm_components.retrieval.text import IRREGULAR_PLURALS

ResolutionKind = Literal["match", "ambiguous", "none"]

# Words that never identify a choice on their own ("the one that", "my pair please").
FILLER_WORDS = frozenset(
    """
    a about actually again also am an and any anything are as at be been being bit both but by
    can choose could did do does doing for from get got had has have here hey hi i i'd i'll i'm
    i've id if in into is it its item itself just kind let like ll me mean meant mine my need of
    oh ok okay on one ones or our pair pick please pls prefer rather re really select should so
    some something sort that the thing things these this those thx to uh um us ve want wanna
    was we well were what which whichever will with would yeah yes yep you your
    """.split()
)
NEGATION_WORDS = frozenset({"not", "no", "without", "except", "never", "nor", "neither", "nope"})
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "last": -1,
    "latter": -1,
    "former": 1,
}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_POSITION_MARKERS = frozenset({"number", "option", "no", "nr", "choice"})
_CLAUSE_BREAK = re.compile(r"[,;.!?()]+|\s+-\s+|\bbut\b|\binstead\b")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_CONTRACTIONS = (
    (re.compile(r"\b(can)'?t\b"), r"\1 not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    # typed without the apostrophe: "the one that hasnt shipped"
    (re.compile(r"\b(has|have|is|was|did|does|do|are|were|would|should|could)nt\b"), r"\1 not"),
    (re.compile(r"'(?:s|re|ll|ve|d|m)\b"), ""),
)
EXACT_SCORE = 1.0
TYPO_SCORE = 0.8
COMPOUND_SCORE = 0.6
# Candidates scoring within this margin of the best one are equally plausible.
TIE_MARGIN = 0.15


@dataclass(frozen=True)
class Candidate:
    """Something the customer may mean: the value a bot stores, the label it shows, aliases."""

    value: str
    label: str = ""
    aliases: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", self.label or self.value)
        object.__setattr__(self, "aliases", tuple(alias for alias in self.aliases if alias))


@dataclass(frozen=True)
class Resolution:
    """What `resolve` understood.

    kind: "match" (`match` is the one candidate meant), "ambiguous" (`options` are the equally
    plausible candidates) or "none" (nothing matched; `options` are all candidates still possible).
    """

    kind: ResolutionKind
    match: Candidate | None = None
    options: tuple[Candidate, ...] = field(default=())


def normalize(text: object) -> str:
    """Lower case, apostrophes unified, contractions expanded, runs of whitespace collapsed."""
    lowered = str(text or "").lower().replace("\u2019", "'").replace("`", "'")
    for pattern, replacement in _CONTRACTIONS:
        lowered = pattern.sub(replacement, lowered)
    return " ".join(lowered.split())


def stem(word: str) -> str:
    """A crude singular: "headphones" -> "headphone", "batteries" -> "battery", "mice" ->
    "mouse"."""
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _word_forms(word: str) -> list[str]:
    """A word, and for "in-ear" / "usb-c" also the joined form and the parts."""
    if "-" not in word and "'" not in word:
        return [stem(word)]
    parts = [part for part in re.split(r"[-']", word) if part]
    return [stem("".join(parts))] + [stem(part) for part in parts]


def tokens(text: str, ignore: Iterable[str] = ()) -> list[str]:
    """The meaningful, singularised words of a text (fillers and one-letter words dropped)."""
    skip = FILLER_WORDS | frozenset(ignore)
    found: list[str] = []
    for word in _WORD.findall(normalize(text)):
        if word in skip:
            continue
        for form in _word_forms(word):
            if form not in skip and (len(form) > 1 or form.isdigit()):
                found.append(form)
    return found


def _vocabulary(candidate: Candidate, ignore: Iterable[str]) -> frozenset[str]:
    phrases = (candidate.value, candidate.label, *candidate.aliases)
    return frozenset(token for phrase in phrases for token in tokens(phrase, ignore))


def _typo_distance(first: str, second: str) -> int:
    """Edits allowed between two words: 1, or 2 when both are long (9 letters or more)."""
    return 2 if min(len(first), len(second)) >= 9 else 1


def token_score(word: str, vocabulary: Iterable[str]) -> float:
    """How well one word of the customer matches a candidate's words (0 when it does not).

    Exact words score 1; typos (one edit, two between long words, same first letter) 0.8; a word
    that ends a compound ("watch" in "smartwatch") 0.6. Words with digits
    ("x200", "10004") must match exactly.
    """
    vocabulary = frozenset(vocabulary)
    if word in vocabulary:
        return EXACT_SCORE
    if len(word) < 4 or any(character.isdigit() for character in word):
        return 0.0
    for known in vocabulary:
        if len(known) < 4 or known[0] != word[0] or any(c.isdigit() for c in known):
            continue
        limit = _typo_distance(known, word)
        if abs(len(known) - len(word)) <= limit and (
            OSA.distance(word, known, score_cutoff=limit) <= limit
        ):
            return TYPO_SCORE
    # The head of a compound names the thing ("watch" in "smartwatch"); its first part only
    # describes it ("blue" in "bluetooth" is a colour, not the speaker).
    compound = any(len(known) >= len(word) + 3 and known.endswith(word) for known in vocabulary)
    return COMPOUND_SCORE if compound else 0.0


def _score(words: Sequence[str], vocabulary: frozenset[str]) -> float:
    return sum(token_score(word, vocabulary) for word in words)


def _with_joined_pairs(words: list[str]) -> list[str]:
    """Adds "powerbank" for "power bank" and "inear" for "in ear" (extra chances, no penalty)."""
    return words + [first + second for first, second in zip(words, words[1:], strict=False)]


@dataclass
class _Reading:
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    position: int | None = None


# "i do not want the air fryer anymore", "the one that does not charge": a negated verb of
# wanting or working says what is wrong with the thing meant, it does not set it aside.
_UNWANTED_OR_BROKEN = frozenset(
    "want wanna need like love use using work works working fit fits charge charges charging "
    "turn turns connect connects pair pairs hold holds".split()
)


def _says_why(after_negation: Sequence[str]) -> bool:
    """Whether the words after a negation open with a verb of wanting or working."""
    words = [word for word in after_negation[:3] if word not in ("longer", "really", "even")]
    return bool(words) and words[0] in _UNWANTED_OR_BROKEN


_FAVOUR_VERBS = frozenset({"can", "could", "would", "will", "why"})
_YOU = frozenset({"you", "u", "ya", "we"})


def _asks_a_favour(words: Sequence[str], position: int) -> bool:
    """Whether the negation at `position` asks rather than excludes: "can't you just cancel the
    car mount" ("can not you"), "why not the car mount", "couldn't we swap it"."""
    before = words[position - 1] if position else ""
    after = words[position + 1] if position + 1 < len(words) else ""
    return before in _FAVOUR_VERBS and (before == "why" or after in _YOU)


def _read(text: str, vocabulary: frozenset[str], ignore: Iterable[str]) -> _Reading:
    """Splits the answer into wanted words, unwanted words ("not the cable") and a position."""
    reading = _Reading()
    clauses = [clause for clause in _CLAUSE_BREAK.split(normalize(text)) if clause.strip()]
    for index, clause in enumerate(clauses):
        words = _WORD.findall(clause)
        if index == 0 and words and words[0] in ("no", "nope"):
            words = words[1:]  # "no, the cable" / "no the cable": a correction, not a negation
        negated_from = next(
            (position for position, word in enumerate(words)
             if word in NEGATION_WORDS and not _asks_a_favour(words, position)), None
        )
        if negated_from is not None and _says_why(words[negated_from + 1:]):
            negated_from = None
        for position, word in enumerate(words):
            previous = words[position - 1] if position else ""
            if word in NEGATION_WORDS or (word in _POSITION_MARKERS and word not in vocabulary):
                continue
            ordinal = ORDINALS.get(word)
            if ordinal is None and previous in _POSITION_MARKERS:
                ordinal = _NUMBER_WORDS.get(word) or (int(word) if word.isdigit() else None)
            if ordinal is not None and stem(word) not in vocabulary:
                if negated_from is None or position < negated_from:
                    reading.position = ordinal
                continue
            target = (
                reading.negative
                if negated_from is not None and position > negated_from
                else reading.positive
            )
            target.extend(tokens(word, ignore))
    if reading.position is None and len(reading.positive) == 1:
        only = reading.positive[0]
        if only.isdigit() and only not in vocabulary and len(only) <= 2:
            reading.position = int(only)  # a bare "2" answers a numbered list
            reading.positive = []
    return reading


def _at_position(options: Sequence[Candidate], position: int | None) -> Candidate | None:
    if position is None or not options:
        return None
    if position == -1:
        return options[-1]
    return options[position - 1] if 1 <= position <= len(options) else None


def resolve(text: str, candidates: Iterable[Candidate], ignore: Iterable[str] = ()) -> Resolution:
    """Which candidate the customer means by `text`.

    Matches the value or label exactly (a clicked button), then word by word against value,
    label and aliases with typo tolerance, ignoring filler words (and the domain words in
    `ignore`, e.g. "order"). Candidates matching a negated part ("not the cable", "the one that
    hasn't shipped") are set aside.
    Ordinals ("the second one", "the last", "2") count in the order of `candidates`, unless a
    candidate uses the word itself (an order aliased "last" for "my last order").
    A customer correcting themselves ("the dock... no actually the charger") means what follows
    the correction, when that names a candidate.
    """
    candidates = list(candidates)
    corrected = corrected_part(text)
    if corrected != text:
        resolution = resolve(corrected, candidates, ignore)
        if resolution.kind == "match":
            return resolution
    unique: dict[str, Candidate] = {}
    for candidate in candidates:
        unique.setdefault(candidate.value, candidate)
    pool = list(unique.values())
    normalized = normalize(text).strip(" .!?,;:'\"")
    if not pool:
        return Resolution("none")
    if not normalized:
        return Resolution("none", options=tuple(pool))

    exact = [
        candidate
        for candidate in pool
        if normalized in (normalize(candidate.value), normalize(candidate.label))
    ]
    if len(exact) == 1:
        return Resolution("match", exact[0], (exact[0],))

    ignore = frozenset(ignore)
    vocabularies = {candidate.value: _vocabulary(candidate, ignore) for candidate in pool}
    every_word = frozenset().union(*vocabularies.values())
    reading = _read(normalized, every_word, ignore)

    remaining = pool
    if reading.negative:
        unwanted = [
            candidate
            for candidate in pool
            if _score(reading.negative, vocabularies[candidate.value]) >= TYPO_SCORE
        ]
        if unwanted and len(unwanted) < len(pool):
            remaining = [candidate for candidate in pool if candidate not in unwanted]

    top: list[Candidate] = []
    wanted = _with_joined_pairs(reading.positive)
    if wanted:
        scores = {
            candidate.value: _score(wanted, vocabularies[candidate.value])
            for candidate in remaining
        }
        best = max(scores.values())
        if best > 0:
            top = [
                candidate for candidate in remaining if scores[candidate.value] >= best - TIE_MARGIN
            ]
    elif remaining is not pool:
        top = remaining  # only "not the cable": whatever is left

    if reading.position is not None:
        chosen = _at_position(top if len(top) > 1 else remaining, reading.position)
        if chosen is not None and (not top or chosen in top):
            return Resolution("match", chosen, (chosen,))
    if len(top) == 1:
        return Resolution("match", top[0], (top[0],))
    if top:
        return Resolution("ambiguous", None, tuple(top))
    return Resolution("none", None, tuple(remaining))


def choice_message(question: str, options: Iterable[Candidate], limit: int = 10) -> dict[str, Any]:
    """Keyword arguments for `dispatcher.utter_message`: the question and one button per option.

    The payload of a button is the option's plain value, so that the click comes back as text
    that `resolve` matches exactly (and that entity extractors see as the customer typing it).
    """
    buttons = [{"title": option.label, "payload": option.value} for option in list(options)[:limit]]
    return {"text": question, "buttons": buttons}
