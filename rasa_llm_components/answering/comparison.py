"""Comparison questions: what sets each named product apart from the others.

"whats actually different between the x100 and the x200 apart from the price?" is answered with
the catalog facts that differ between the two rows (multipoint pairing, 38 against 30 hours), not
with each product's best match for the question, which for such wording is usually its price.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rasa_llm_components.answering.evidence import FACT_SEPARATOR, EvidenceSentence, fact_field
from rasa_llm_components.intent.sentences import asks_something
from rasa_llm_components.retrieval.text import tokenize

COMPARISON = re.compile(
    r"\b(?:differen\w*|compar\w*|vs\.?|versus|better|worse|miss(?:ing)?|instead|upgrade|"
    r"diff|between|(?:which|what) (?:one|should)|or the)\b",
    re.IGNORECASE,
)
# "apart from the price": a fact the customer already knows and sets aside.
_SET_ASIDE = re.compile(
    r"\b(?:apart from|besides|other than|except(?: for)?|aside from|beyond|not counting)\s+"
    r"(?:the\s+)?(?P<topic>price|cost|colou?rs?|size|weight)\b",
    re.IGNORECASE,
)
_TOPIC_FIELDS = {
    "price": {"price"}, "cost": {"price"}, "colour": {"colours", "colors", "colour", "color"},
    "color": {"colours", "colors", "colour", "color"}, "size": {"size", "dimensions"},
    "weight": {"weight"},
}
# Fields that say what a row is rather than how the products differ.
_IDENTITY_FIELDS = frozenset({"sku", "category", "brand", "description", "stock", "name"})
# List items ("multipoint pairing with 2 devices") say more about a difference than a spec.
_SALIENT_FIELDS = frozenset({"features"})
FACTS_PER_PRODUCT = 3
# A comparative that names what to weigh: "which one is cheaper" asks for the prices, "and
# battery, he hates charging" for the battery fields. Values are words of the field names.
_ASPECTS = (
    ("price", re.compile(
        r"\b(?:cheap\w*|(?:more|less|most|least) expensive|pricier|priciest|costlier|price|prices|"
        r"cost(?:s|ing)? (?:more|less))\b", re.IGNORECASE)),
    ("weight", re.compile(r"\b(?:light(?:er|est)|heav(?:ier|iest)|weigh\w*)\b", re.IGNORECASE)),
    ("battery", re.compile(
        r"\b(?:batter(?:y|ies)|charging|charge|lasts? longer)\b", re.IGNORECASE)),
    ("warranty", re.compile(r"\bwarrant(?:y|ies)\b", re.IGNORECASE)),
    ("output", re.compile(r"\b(?:loud\w*|powerful|watts?|wattage)\b", re.IGNORECASE)),
    ("water", re.compile(r"\b(?:water\w*|swim\w*|shower\w*)\b", re.IGNORECASE)),
)


def is_comparison(question: str) -> bool:
    """Whether the question weighs products against each other."""
    return bool(COMPARISON.search(question))


def asked_aspects(question: str) -> list[str]:
    """The words of the fields a comparison weighs ("which one is cheaper": ["price"]); empty
    when it names none ("whats the difference"). A fact set aside ("apart from the price") is
    not asked, and neither is one only stated ("the lite is way cheaper. what would i miss?")."""
    clauses = re.split(r"(?<=[.!?])\s+|[,;]\s*", _SET_ASIDE.sub(" ", question))
    asking = " ".join(clause for clause in clauses if asks_something(clause))
    rest = asking or " ".join(clauses)
    return [word for word, pattern in _ASPECTS if pattern.search(rest)]


def field_is_about(field: str, aspects: Sequence[str]) -> bool:
    """Whether a catalog field ("battery_days", "water resistance") is about any of the
    `asked_aspects` words."""
    return any(word in re.split(r"[\s_]+", field.lower()) for word in aspects)


def aspect_facts(
    ranked: Sequence[EvidenceSentence], product_ids: Sequence[str], question: str
) -> dict[str, list[EvidenceSentence]]:
    """For each product, its catalog facts in the fields the comparison asks about (its price
    for "which one is cheaper"); empty unless every product has one."""
    aspects = asked_aspects(question)
    if not aspects:
        return {}
    result = {}
    for pid in product_ids:
        facts = [
            item for item in ranked
            if item.passage_id == pid and FACT_SEPARATOR in item.text
            and field_is_about(_fact(item)[0], aspects)
        ]
        if not facts:
            return {}
        result[pid] = facts
    return result


def _fact(item: EvidenceSentence) -> tuple[str, str]:
    """("field", "field: value" in lower case) of a catalog fact sentence."""
    fact = item.text.split(FACT_SEPARATOR, 1)[1].strip()
    return fact_field(item.text), " ".join(fact.lower().split())


def _set_aside(question: str) -> set[str]:
    fields: set[str] = set()
    for match in _SET_ASIDE.finditer(question):
        topic = match.group("topic").lower().rstrip("s")
        fields |= _TOPIC_FIELDS.get(topic, {topic})
    return fields


def distinguishing_facts(
    ranked: Sequence[EvidenceSentence], product_ids: Sequence[str], question: str
) -> dict[str, list[EvidenceSentence]]:
    """For each product, its facts that no other product of `product_ids` shares, features
    first, then by relevance (the order of `ranked`), at most `FACTS_PER_PRODUCT`.

    Empty when the question names what to compare ("which has the better battery"): each
    product's best fact for the question answers that.
    """
    facts = {
        pid: [item for item in ranked if item.passage_id == pid and FACT_SEPARATOR in item.text]
        for pid in product_ids
    }
    skipped = _IDENTITY_FIELDS | _set_aside(question)
    names = {term for items in facts.values() for item in items[:1]
             for term in tokenize(item.title)}
    asked = set(tokenize(_SET_ASIDE.sub(" ", question))) - names
    if any(asked & set(tokenize(item.text.split(FACT_SEPARATOR, 1)[1]))
           for items in facts.values() for item in items if _fact(item)[0] not in skipped):
        return {}
    result = {}
    for pid, items in facts.items():
        others = {_fact(item)[1] for other, rest in facts.items() if other != pid for item in rest}
        own = [item for item in items if _fact(item)[0] not in skipped
               and _fact(item)[1] not in others]
        own.sort(key=lambda item: _fact(item)[0] not in _SALIENT_FIELDS)  # stable: keeps rank
        result[pid] = own[:FACTS_PER_PRODUCT]
    return result
