"""Evidence sentences: ranking passage sentences for a question, checking answers against them.

`rank_sentences` scores every sentence of the retrieved passages with the formula of
`knowledge.extractive.best_extractive_answer` (0.6 cosine + 0.2 term overlap + 0.2 passage
score) in one encoder pass; the ranking gives both the compact prompt context and the
extractive fallback answer.

`sentence_support` is a strict check the fact guard does not make: every answer sentence must
be (mostly) made of the words of one evidence sentence and keep its polarity, so "we do not ship
to Canada" is rejected when the evidence says "Yes. Shipping to Canada takes ...".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rasa_llm_components.knowledge.extractive import candidate_sentences
from rasa_llm_components.knowledge.text import tokenize

_NEGATION = re.compile(
    r"\b(no|not|never|none|nothing|nobody|cannot|can't|cant|won't|don't|doesn't|didn't|isn't|"
    r"aren't|wasn't|weren't|haven't|hasn't|without|neither|nor|unavailable)\b|n't\b",
    re.IGNORECASE,
)
_ANSWER_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_KEYED_UNIT = re.compile(
    r"\b([a-z]+)_(minutes|hours|days|weeks|months|years)\s*:\s*(\d+(?:\.\d+)?)\b"
)
_LEAD_IN = re.compile(r"^(yes|no|never|not|only|sure|none)\b[^.!?]{0,40}[.!?]?$", re.IGNORECASE)

# Sentence relevance = cosine + term overlap + the passage's retrieval score.
COSINE_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.2
PASSAGE_WEIGHT = 0.2


@dataclass(frozen=True)
class EvidenceSentence:
    """A sentence of a retrieved passage with its relevance to the question."""

    passage_id: str
    title: str
    text: str
    score: float
    hit_rank: int
    position: int


class SentenceCache:
    """Sentences of each passage with their embeddings, encoded once per passage.

    Ranking then costs one query encoding per turn instead of encoding every candidate
    sentence again, which keeps CPU (and GIL) time in the Rasa process small.
    """

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self._entries: dict[str, tuple[list[str], np.ndarray, list[set[str]]]] = {}

    def get(self, hit: Any) -> tuple[list[str], np.ndarray, list[set[str]]]:
        key = hit.passage.id
        if key not in self._entries:
            sentences = candidate_sentences(hit)
            vectors = self.encoder.encode(sentences) if sentences else np.zeros((0, 1))
            self._entries[key] = (sentences, vectors, [set(tokenize(s)) for s in sentences])
        return self._entries[key]


def rank_sentences(
    question: str,
    hits: Sequence[Any],
    encoder: Any,
    max_passages: int = 3,
    query_vector: np.ndarray | None = None,
    cache: SentenceCache | None = None,
) -> list[EvidenceSentence]:
    """All sentences of the top `max_passages` hits, most relevant first."""
    cache = cache or SentenceCache(encoder)
    if query_vector is None:
        query_vector = encoder.encode([question])[0]
    terms = set(tokenize(question))
    ranked = []
    for rank, hit in enumerate(list(hits)[:max_passages]):
        sentences, vectors, sentence_terms = cache.get(hit)
        for position, sentence in enumerate(sentences):
            overlap = len(terms & sentence_terms[position]) / len(terms) if terms else 0.0
            score = (
                COSINE_WEIGHT * float(vectors[position] @ query_vector)
                + OVERLAP_WEIGHT * overlap
                + PASSAGE_WEIGHT * hit.score
            )
            passage = hit.passage
            ranked.append(
                EvidenceSentence(passage.id, passage.title, sentence, score, rank, position)
            )
    ranked.sort(key=lambda item: -item.score)
    return ranked


def extractive_answer(
    ranked: Sequence[EvidenceSentence], max_sentences: int = 3, margin: float = 0.12
) -> tuple[str, list[str]]:
    """The best sentence plus close runners-up from the same passage, in passage order.

    A short lead-in of that passage ("Yes." / "No." / "Never.") is kept in front, and a short
    best sentence ("We do not swap items directly.") brings the sentence after it, since
    these only make sense together.
    """
    if not ranked:
        return "", []
    best = ranked[0]
    same_passage = [item for item in ranked if item.passage_id == best.passage_id]
    chosen = [best]
    for item in same_passage[1:]:
        if len(chosen) >= max_sentences:
            break
        if item.score >= best.score - margin:
            chosen.append(item)
    if len(best.text.split()) < 8:
        following = [item for item in same_passage if item.position == best.position + 1]
        if following and following[0] not in chosen:
            chosen.append(following[0])
    lead = [item for item in same_passage if item.position == 0]
    if lead and lead[0] not in chosen and _LEAD_IN.match(lead[0].text.strip()):
        chosen.append(lead[0])
    chosen.sort(key=lambda item: item.position)
    text = " ".join(_finish(humanize(item.text)) for item in chosen)
    return text, [best.passage_id]


def _finish(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def humanize(sentence: str) -> str:
    """Turns table keys such as "warranty_months: 36" into "warranty: 36 months"."""
    sentence = _KEYED_UNIT.sub(lambda m: f"{m.group(1)}: {m.group(3)} {m.group(2)}", sentence)
    return re.sub(r"(?<=[a-z])_(?=[a-z])", " ", sentence)


def prompt_context(
    ranked: Sequence[EvidenceSentence], hits: Sequence[Any], per_passage: int = 3
) -> list[tuple[str, str, str]]:
    """(id, title, text) per passage with only its most relevant sentences, in passage order."""
    by_passage: dict[str, list[EvidenceSentence]] = {}
    for item in ranked:
        chosen = by_passage.setdefault(item.passage_id, [])
        if len(chosen) < per_passage:
            chosen.append(item)
    context = []
    for hit in hits:
        sentences = by_passage.get(hit.passage.id)
        if not sentences:
            continue
        sentences = sorted(sentences, key=lambda item: item.position)
        text = " ".join(_finish(item.text) for item in sentences)
        context.append((hit.passage.id, hit.passage.title, text))
    return context


def is_negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def sentence_support(
    answer: str, evidence: Sequence[str], min_coverage: float = 0.6
) -> tuple[bool, list[str]]:
    """Checks each answer sentence against its best-matching evidence sentence.

    A sentence is supported when at least `min_coverage` of its content terms occur in one
    evidence sentence (with the passage title), its numbers all occur there, and both are
    negated or neither is. Returns (all supported, the unsupported sentences).
    """
    evidence_units = []
    for block in evidence:
        for line in re.split(r"(?<=[.!?])\s+|\n", block):
            if line.strip():
                evidence_units.append(line.strip())
    evidence_terms = [set(tokenize(unit)) for unit in evidence_units]
    problems = []
    for sentence in _ANSWER_SENTENCE.split(answer.strip()):
        terms = set(tokenize(sentence))
        if not terms:
            continue  # "Yes." / "Sure!"
        best_index, best_coverage = -1, 0.0
        for index, unit_terms in enumerate(evidence_terms):
            coverage = len(terms & unit_terms) / len(terms)
            if coverage > best_coverage:
                best_index, best_coverage = index, coverage
        if best_index < 0 or best_coverage < min_coverage:
            problems.append(sentence)
            continue
        unit = evidence_units[best_index]
        numbers = set(_NUMBER.findall(sentence))
        if not numbers <= set(_NUMBER.findall(" ".join(evidence_units))):
            problems.append(sentence)
            continue
        if is_negated(sentence) != is_negated(unit):
            problems.append(sentence)
    return not problems, problems


def key_numbers(text: str) -> set[str]:
    """Numbers (prices, durations, amounts) in a text, normalised ("12.99", "5")."""
    return {value.replace(",", "") for value in _NUMBER.findall(text)}


# "x200" (joined) always; "iphone 16" only before the end, punctuation or a model suffix, so
# that "use 2 promo codes" is not a model name.
_JOINED_MODEL = re.compile(r"\b([a-z]+)(\d+[a-z0-9]*)\b", re.IGNORECASE)
_NAME_NUMBER = re.compile(
    r"\b([a-z][a-z]+)[ -](\d+(?:\.\d+)?[a-z]*)(?=\s*(?:$|[?.!,;:)]|"
    r"(?:pro|max|plus|mini|ultra|lite|se|series|edition|gen)\b))",
    re.IGNORECASE,
)
_CODE = re.compile(r"\b(?=[a-z0-9-]*\d)(?=[a-z0-9-]*[a-z])[a-z0-9]+(?:-[a-z0-9]+)+\b", re.I)
_NOT_NAMES = frozenset(
    """after before within under over than about for in on at last first every only next
    up to from by around nearly almost least most ord order orders rma item items and or
    of the a an is are was be my your our it its this that these those with without
    between since until till per each all any some more less""".split()
)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", text.lower())


def unknown_model_names(question: str, evidence: Sequence[str]) -> list[str]:
    """Product-model mentions of the question ("iphone 16", "wh-1000xm5") the evidence lacks.

    A question about a model the knowledge does not mention must not be answered with a
    similar product's facts ("iPhone 15 case" for an "iPhone 16" question).
    """
    haystack = _squash(" ".join(evidence))
    missing = []
    matches = list(_NAME_NUMBER.finditer(question)) + list(_JOINED_MODEL.finditer(question))
    for match in matches:
        word = match.group(1).lower()
        if word in _NOT_NAMES or word.startswith("ord"):
            continue
        if _squash(match.group(0)) not in haystack:
            missing.append(match.group(0))
    for match in _CODE.finditer(question):
        if match.group(0).lower().startswith(("ord-", "rma-")):
            continue
        if _squash(match.group(0)) not in haystack:
            missing.append(match.group(0))
    return missing
