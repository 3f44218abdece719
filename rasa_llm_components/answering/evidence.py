"""The evidence of an answer: the retrieved passages' sentences and the facts they state.

- `rank_sentences` scores every sentence of the retrieved passages (0.6 cosine + 0.2 term
  overlap + 0.2 passage score) in one encoder pass; the ranking gives both the compact prompt
  context and the extractive answer. Catalog rows count as one sentence per fact.
- `EvidenceFacts` normalises the checkable facts of the evidence texts (amounts, durations,
  names ...) and `supports` looks a claim up in them, for the `FactGuard`.
- `unknown_model_names` finds product models a question names that the evidence lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rasa_llm_components.answering import claim_patterns as p
from rasa_llm_components.answering.claims import ClaimExtractor
from rasa_llm_components.answering.numbers import WORD_NUMBER
from rasa_llm_components.retrieval.chunking import split_sentences
from rasa_llm_components.retrieval.text import tokenize

# Sentence relevance = cosine + term overlap + the passage's retrieval score.
COSINE_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.2
PASSAGE_WEIGHT = 0.2


# Between a product's name and one of its facts: "Auralis X200 Headphones - battery_hours: 38".
FACT_SEPARATOR = " - "
# Row fields whose values are lists of facts ("a; b; c") or of "key: value" facts.
_LIST_SEPARATOR = re.compile(r"\s*;\s*")


def row_facts(fields: dict[str, Any]) -> list[str]:
    """A table row as atomic ``"<field>: <value>"`` facts.

    Nested specs ("specs: type: over-ear; battery_hours: 38") and lists ("features: a; b") give
    one fact per item, so that a question about the battery is answered with the battery.
    """
    facts = []
    for key, raw in fields.items():
        value = str(raw).strip()
        if not value or str(key).strip().lower() in ("name", "product_name"):
            continue
        items = _LIST_SEPARATOR.split(value) if ";" in value else [value]
        for item in items:
            inner_key, colon, inner_value = item.partition(":")
            if colon and re.fullmatch(r"[A-Za-z_ ]{2,30}", inner_key.strip()) and ";" in value:
                facts.append(f"{inner_key.strip()}: {inner_value.strip()}")
            elif item:
                facts.append(f"{key}: {item}")
    return facts


def candidate_sentences(hit: Any) -> list[str]:
    """Sentences of a passage; a table row gives ``"<name> - <field>: <value>"`` facts."""
    passage = hit.passage
    fields = passage.metadata.get("fields")
    if passage.metadata.get("kind") == "row" and passage.title and fields:
        return [f"{passage.title}{FACT_SEPARATOR}{fact}" for fact in row_facts(fields)]
    return split_sentences(passage.text)


def fact_field(sentence: str) -> str:
    """The field of a catalog fact sentence ("codecs" of "X200 - codecs: SBC/AAC/LDAC");
    empty for any other sentence."""
    if FACT_SEPARATOR not in sentence:
        return ""
    return sentence.split(FACT_SEPARATOR, 1)[1].partition(":")[0].strip().lower()


@dataclass(frozen=True)
class EvidenceSentence:
    """A sentence of a retrieved passage with its relevance to the question."""

    passage_id: str
    title: str
    text: str
    score: float
    hit_rank: int
    position: int
    cosine: float = 0.0


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
            ranked.append(EvidenceSentence(
                passage.id, passage.title, sentence, score, rank, position,
                float(vectors[position] @ query_vector),
            ))
    ranked.sort(key=lambda item: -item.score)
    return ranked


def prompt_context(
    ranked: Sequence[EvidenceSentence], hits: Sequence[Any], per_passage: int = 3
) -> list[tuple[str, str, str]]:
    """(id, title, text) per passage with only its most relevant sentences, the passage with the
    best sentence first. A table row's facts stay in order of relevance (a small model tends
    to state the first one it reads); prose keeps its own order, which its sentences need."""
    by_passage: dict[str, list[EvidenceSentence]] = {}
    for item in ranked:
        chosen = by_passage.setdefault(item.passage_id, [])
        if len(chosen) < per_passage:
            chosen.append(item)
    titles = {hit.passage.id: hit.passage.title for hit in hits}
    context = []
    for passage_id, sentences in by_passage.items():
        if passage_id not in titles:
            continue
        prefix = f"{titles[passage_id]}{FACT_SEPARATOR}"
        if all(item.text.startswith(prefix) for item in sentences):
            text = "; ".join(item.text[len(prefix):] for item in sentences)
        else:
            text = " ".join(
                item.text if item.text.endswith((".", "!", "?")) else f"{item.text}."
                for item in sorted(sentences, key=lambda item: item.position)
            )
        context.append((passage_id, titles[passage_id], text))
    return context


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
    between since until till per each all any some more less her his him she he me we you they
    them us their theyre thats im ive lower upper contiguous top bottom""".split()
)
# "theyre 240v", "a 65w charger": a number with a unit is an amount, not a model.
_AMOUNT = re.compile(
    r"\d+(?:\.\d+)?(?:v|w|mah|wh|hz|khz|ghz|mb|gb|tb|mm|cm|m|km|kg|g|lbs?|l|ml|db|in|ft|a|"
    r"k|p|mp|fps|ms|min|h|hrs?)", re.IGNORECASE)
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)
# Short forms customers type for models the knowledge spells out ("ps5": "PlayStation 5").
_MODEL_ALIASES = {"ps": "playstation"}
# "the pulse 4", "a wave 3": not "fit 2 laptops", not "the blender 2 years ago".
_WORD_NUMBER = re.compile(
    r"\b(?:the|a|an|my|your|new|old|this|that)\s+([a-z]{3,})[ -](\d+(?:\.\d+)?)\b"
    r"(?!\s*(?:years?|months?|weeks?|days?|hours?|hrs?|min\w*|people|times|pieces|pcs|items?"
    r"|of|%|kg|g|lbs?|cm|mm|m|in|inch\w*|ft|w|v|l|ml|gb|tb)\b)",
    re.IGNORECASE,
)
_QUANTITY = re.compile(r"\d+(?:\.\d+)?-")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", text.lower())


def unknown_model_names(question: str, evidence: Sequence[str],
                        names: Sequence[str] = ()) -> list[str]:
    """Product-model mentions of the question ("iphone 16", "wh-1000xm5") the evidence lacks.

    A question about a model the knowledge does not mention must not be answered with a
    similar product's facts ("iPhone 15 case" for an "iPhone 16" question).
    """
    return missing_model_names(question, squashed(evidence), model_words(names))


def squashed(texts: Iterable[str]) -> str:
    """`texts` as `missing_model_names` searches them (lower case, letters and digits only)."""
    return _squash(" ".join(texts))


def model_words(names: Iterable[str]) -> frozenset[str]:
    """Words that a number follows in product names ("pulse" of "Nimbra Pulse 3"): with another
    number anywhere in a question ("is the pulse 4 coming out soon?") they name a model."""
    return frozenset(
        word for name in names for word in re.findall(r"([a-z]{3,})[ -]\d", name.lower())
        if word not in _NOT_NAMES
    )


def missing_model_names(question: str, haystack: str, named_by: frozenset[str] = frozenset()
                        ) -> list[str]:
    """`unknown_model_names` against texts squashed once (`squashed`), e.g. the whole
    knowledge base; `named_by` are `model_words` of the catalog."""
    missing = []
    matches = list(_NAME_NUMBER.finditer(question)) + list(_JOINED_MODEL.finditer(question))
    matches += [match for match in _WORD_NUMBER.finditer(question)
                if match.group(1).lower() in named_by]
    for match in matches:
        word = match.group(1).lower()
        if word in _NOT_NAMES or word.startswith("ord") or _ORDINAL.fullmatch(match.group(2)) or (
            _AMOUNT.fullmatch(match.group(2))
        ):
            continue  # "order 10003", "her 60th", "theyre 240v"
        found = question[match.start(1):match.end(2)]
        spellings = [found]
        if word in _MODEL_ALIASES:
            spellings.append(f"{_MODEL_ALIASES[word]} {match.group(2)}")
        if not any(_squash(spelling) in haystack for spelling in _with_singular(spellings)):
            missing.append(found)
    missing = list(dict.fromkeys(missing))
    for match in _CODE.finditer(question):
        if match.group(0).lower().startswith(("ord-", "rma-")) or _QUANTITY.match(match.group(0)):
            continue  # "ORD-10003"; "25-30m", "24-month" are amounts, not models
        if not any(_squash(spelling) in haystack for spelling in _with_singular([match.group(0)])):
            missing.append(match.group(0))
    return missing


def _with_singular(spellings: list[str]) -> list[str]:
    """The spellings, and each plural of a model number as its singular ("x200s": "x200")."""
    return spellings + [spelling[:-1] for spelling in spellings
                        if re.search(r"\ds$", spelling, re.IGNORECASE)]


def covered_by_family(name: str, texts: Sequence[str]) -> bool:
    """Whether texts that speak of a model's family only in general ("works with iPhone") cover
    the model a question names ("my iphone 14"); texts that name models of the family ("fits
    iPhone 15 and 15 Pro") do not cover another one."""
    family = re.escape(name.split()[0]) if name.split() else ""
    if not family or not re.fullmatch(r"[A-Za-z]{3,}", name.split()[0]):
        return False
    text = "\n".join(texts)
    mentioned = re.search(rf"\b{family}\b", text, re.IGNORECASE)
    return bool(mentioned) and not re.search(rf"\b{family}\s*\d", text, re.IGNORECASE)


# -- facts of the evidence, for the fact guard ---------------------------------------------
MAX_NAME_TOKENS = 8
_ANY_NUMBER = re.compile(rf"(?<![A-Za-z\d.,]){p.DIGIT_NUMBER}|\b{WORD_NUMBER}\b", re.IGNORECASE)


class EvidenceFacts:
    """Everything checkable in the evidence texts, by kind, plus name windows and all numbers."""

    def __init__(self, texts: Sequence[str], extractor: ClaimExtractor) -> None:
        text = "\n\n".join(texts)
        self.values: dict[str, list] = {}
        for claim in extractor.extract(text, names=False):
            self.values.setdefault(claim.kind, []).append(claim.value)
        for match in p.KEYED_DURATION.finditer(text):
            unit_class, scale = p.unit_scale(match.group(1))
            # a figure with a unit of its own ("21 (40 hours in GPS mode)") is not the field's
            others = re.findall(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])(?!\s*(?:[a-z]{1,3}\b|"
                                r"(?:minute|hour|day|week|month|year)s?\b))", match.group(3))
            for figure in [match.group(2), *others]:
                value = float(figure) * scale
                self.values.setdefault("duration", []).append((unit_class, value, value))
        self.bare_numbers = set(self.values.get("number", []))
        self.all_numbers = set(self.bare_numbers)
        for match in _ANY_NUMBER.finditer(text):
            if match.group(0).lower() not in ("a", "an"):
                value = p.parse_number(match.group(0))
                if value is not None:
                    self.all_numbers.add(value)
        self.all_numbers.update(float(digits) for digits in self.values.get("order_id", []))
        self.emails = set(self.values.get("email", []))
        domains = {email.split("@", 1)[1] for email in self.emails}
        self.urls = set(self.values.get("url", [])) | domains
        self.windows = self._name_windows(text)

    @staticmethod
    def _name_windows(text: str) -> set[str]:
        tokens = p.name_tokens(text)
        windows: set[str] = set()
        for start in range(len(tokens)):
            joined = ""
            for token in tokens[start : start + MAX_NAME_TOKENS]:
                joined += token
                windows.add(joined)
        return windows

    def of(self, kind: str) -> list:
        return self.values.get(kind, [])


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 0.005


def supports(
    evidence: EvidenceFacts, kind: str, value: object, default_currency: str | None = "USD"
) -> bool:
    """Whether a claim of ``kind`` with normalised ``value`` is backed by the evidence.

    A bare number in the evidence ("price: 249.00") backs an amount in ``default_currency``
    ("$249"), or in any currency when ``default_currency`` is None.
    """
    if kind == "name":  # "Lumora Smart Bulbs" is the plural of "Lumora Smart Bulb E27"
        return value in evidence.windows or (value.endswith("s") and value[:-1] in evidence.windows)
    if kind == "email":
        return value in evidence.emails
    if kind == "url":
        return any(url == value or url.startswith(f"{value}/") for url in evidence.urls)
    if kind == "phone":
        return any(
            digits == value or (min(len(digits), len(value)) >= 7
                                and (digits.endswith(value) or value.endswith(digits)))
            for digits in evidence.of("phone")
        )
    if kind == "order_id":
        return value in evidence.of("order_id") or float(value) in evidence.bare_numbers
    if kind == "money":
        currency, amount = value
        if any(c == currency and _close(a, amount) for c, a in evidence.of("money")):
            return True
        if default_currency is not None and currency != default_currency:
            return False
        return any(_close(number, amount) for number in evidence.bare_numbers)
    if kind == "percent":
        return any(_close(v, value) for v in evidence.of("percent")) or any(
            _close(v, value) for v in evidence.bare_numbers
        )
    if kind == "duration":
        unit_class, low, high = value
        for other_class, other_low, other_high in evidence.of("duration"):
            if other_class != unit_class:
                continue
            if _close(low, other_low) and _close(high, other_high):
                return True
            if low == high and (_close(low, other_low) or _close(low, other_high)):
                return True  # "up to 8 days" from "5 to 8 days"
        return False
    if kind == "date":
        return any(
            _same_date(reading, other)
            for reading in value
            for others in evidence.of("date")
            for other in others
        )
    if kind == "weekday":
        covered = set().union(*evidence.of("weekday")) if evidence.of("weekday") else set()
        return value <= covered
    if kind == "time":
        return value in evidence.of("time")
    if kind == "number":
        return any(_close(value, number) for number in evidence.all_numbers)
    return False


def _same_date(a: tuple, b: tuple) -> bool:
    year_a, month_a, day_a = a
    year_b, month_b, day_b = b
    if month_a != month_b:
        return False
    if day_a is not None and day_a != day_b:
        return False
    return year_a is None or year_a == year_b


