"""Which catalog field a specialist word belongs to: "ldac" is a codec, "ipx4" a water rating.

"does the x100 have ldac" asks about the X100's codecs although its row never says "ldac": the
catalog itself shows that "ldac" is a value of the `codecs` field (in the X200's row). So the
X100's codecs answer the question, and a row without codecs at all (the Buds B30) does not
state what is asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rasa_llm_components.answering.evidence import EvidenceSentence, fact_field, row_facts
from rasa_llm_components.retrieval.passage import Passage
from rasa_llm_components.retrieval.text import STOP_WORDS

_TERM = re.compile(r"[a-z][a-z0-9+]{2,}")
# Fields that say what a row is, not what it has.
_IDENTITY_FIELDS = frozenset({"name", "sku", "brand", "category", "description", "price", "stock"})
_MAX_FIELDS = 2


class ValueFields:
    """The fields each specialist word of the catalog's values appears in."""

    def __init__(self, fields_of: dict[str, frozenset[str]],
                 row_fields: dict[str, frozenset[str]]) -> None:
        self._fields_of = fields_of
        # row id -> the names of its facts ("codecs", "features")
        self._row_fields = row_fields

    @classmethod
    def from_passages(cls, passages: Iterable[Passage], common_words: Iterable[str] = ()
                      ) -> ValueFields:
        """From every table row; `common_words` (ordinary English) and the words of product
        names are never specialist words."""
        rows = [passage for passage in passages if passage.metadata.get("kind") == "row"]
        ordinary = {word.lower() for word in common_words} | STOP_WORDS
        ordinary |= {word for row in rows for word in _TERM.findall(row.title.lower())}
        fields_of: dict[str, set[str]] = {}
        # A list ("features: a; b; c") has no one fact that answers for a missing item.
        lists: set[str] = set()
        row_fields: dict[str, frozenset[str]] = {}
        values: list[tuple[str, str]] = []  # (field, value) of every row's facts
        for row in rows:
            seen: set[str] = set()
            for fact in row_facts(row.metadata.get("fields") or {}):
                field, _, value = fact.partition(":")
                field = field.strip().lower()
                values.append((field, value))
                if field in seen:
                    lists.add(field)
                seen.add(field)
                if field in _IDENTITY_FIELDS:
                    continue
                for term in _TERM.findall(value.lower()):
                    if term not in ordinary:
                        fields_of.setdefault(term, set()).add(field)
            row_fields[row.id] = frozenset(seen)
        kept = {term: frozenset(fields - lists) for term, fields in fields_of.items()}
        # A word only lists use takes the field of a value beside it: "IP67 waterproof" makes
        # "waterproof" a question for the water rating (the Boom XL's "IPX4" answers it).
        for field, value in values:
            if field not in lists:
                continue
            terms = [term for term in _TERM.findall(value.lower()) if term not in ordinary]
            beside = {other for term in terms for other in kept.get(term, ())}
            for term in terms:
                if not kept.get(term) and 0 < len(beside) <= _MAX_FIELDS:
                    kept[term] = frozenset(beside)
        # a word of many fields ("with", "hours" without a word list) says no field
        return cls({term: fields for term, fields in kept.items()
                    if 0 < len(fields) <= _MAX_FIELDS}, row_fields)

    def asked(self, question: str) -> dict[str, frozenset[str]]:
        """The question's specialist words, each with the fields it is a value of."""
        return {term: self._fields_of[term] for term in _TERM.findall(question.lower())
                if term in self._fields_of}

    def answered_by(self, term: str, row_ids: Iterable[str]) -> bool:
        """Whether every row has a fact in a field `term` is a value of: "bluetooth" of the
        kettle is answered by its connectivity."""
        fields = self._fields_of.get(term.lower(), frozenset())
        return bool(fields) and all(
            fields & self._row_fields.get(row, frozenset()) for row in row_ids)

    def facts_for(
        self, question: str, ranked: Sequence[EvidenceSentence], product_id: str
    ) -> tuple[list[EvidenceSentence], list[str]]:
        """(the product's facts in the fields of the specialist words it does not state,
        the words whose fields it has no fact in): "ldac" of the X100 gives its codecs fact."""
        own = [item for item in ranked if item.passage_id == product_id]
        stated = {term for item in own for term in _TERM.findall(item.text.lower())}
        facts: list[EvidenceSentence] = []
        missing: list[str] = []
        for term, fields in self.asked(question).items():
            if term in stated:
                continue
            found = [item for item in own if fact_field(item.text) in fields]
            if not found:
                missing.append(term)
            facts += [item for item in found if item not in facts]
        return facts, missing
