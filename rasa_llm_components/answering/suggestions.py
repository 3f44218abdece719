"""Questions that ask which product to take ("which of ur watches has the longest battery
life?", "looking for a speaker for the pool, ideally one that floats"): no single passage
matches them well, but the rows of the product kind they name (or of the kind the conversation
is about: "so no good for the garden then. what would work outside") hold the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rasa_llm_components.answering.comparison import asked_aspects, field_is_about
from rasa_llm_components.answering.evidence import FACT_SEPARATOR, EvidenceSentence
from rasa_llm_components.answering.numbers import DIGIT_NUMBER, parse_number

# Asking for a product rather than about one.
_ASKS_FOR_A_PRODUCT = re.compile(
    r"\b(?:recommend\w*|suggest\w*|which (?:one|ones|of|\w+ (?:is|are|has|have|would|should|"
    r"can|do|does))|what (?:\w+ )?(?:would|should|could|can i|"
    r"do (?:you|u) (?:have|recommend|suggest))|"
    r"anything|something|looking for|(?:need|want|after) (?:a|an|some)|any good|good for|"
    r"best|ideal)\b",
    re.IGNORECASE,
)
# "the longest battery", "the cheapest": the aspect's largest or smallest value wins.
_MOST = re.compile(r"\b(?:longest|most|biggest|largest|loudest|heaviest|best)\b", re.IGNORECASE)
_LEAST = re.compile(r"\b(?:cheapest|lightest|smallest|shortest|least|quietest)\b", re.IGNORECASE)
_HOURS_PER = {"hour": 1.0, "day": 24.0, "week": 168.0, "month": 720.0}
SUGGESTED_PRODUCTS = 3
# Without a superlative, a product is suggested when its best fact scores this close to the best
# product's: a "headphones for my 6 year old" question gets the kids' ones, not every pair.
SUGGESTION_MARGIN = 0.08


def asks_for_a_product(question: str) -> bool:
    """Whether the question asks which product to take."""
    return bool(_ASKS_FOR_A_PRODUCT.search(question)) or asks_for_the_most(question)


def asks_for_the_most(question: str) -> bool:
    """Whether the question asks for the product with the most or least of an aspect ("the
    cheapest speaker", "the longest battery")."""
    return bool((_MOST.search(question) or _LEAST.search(question)) and asked_aspects(question))


def most_wanted(question: str) -> int:
    """1 when the question asks for the most of an aspect ("the loudest"), -1 for the least
    ("the cheapest"), 0 when it asks for neither."""
    if not asks_for_the_most(question):
        return 0
    return -1 if _LEAST.search(question) and not _MOST.search(question) else 1


def amount_of(field: str, value: str) -> float | None:
    """The number a product fact states, times in hours ("battery_days", "30" -> 720; "2 x 40
    W" -> 80); None without a number."""
    numbers = [number for found in re.findall(DIGIT_NUMBER, value)
               if (number := parse_number(found)) is not None]
    if not numbers:
        return None
    times = re.match(r"\s*(\d+)\s*x\s*\d", value, re.IGNORECASE)
    amount = numbers[0] * numbers[1] if times and len(numbers) > 1 else numbers[0]
    for unit, hours in _HOURS_PER.items():
        if unit in field.lower() or re.search(rf"\b{unit}s?\b", value, re.IGNORECASE):
            return amount * hours
    return amount


def _amount(item: EvidenceSentence) -> float | None:
    field, _, value = item.text.split(FACT_SEPARATOR, 1)[-1].partition(":")
    return amount_of(field, value)


def suggested_rows(
    ranked: Sequence[EvidenceSentence], question: str, limit: int = SUGGESTED_PRODUCTS
) -> list[str]:
    """The ids of the rows that answer the question best, at most `limit`: by the value of the
    aspect a superlative asks for ("longest battery"), else by their best fact's relevance."""
    best: dict[str, float] = {}
    for item in ranked:
        best.setdefault(item.passage_id, item.score)
    top = max(best.values(), default=0.0)
    order = [pid for pid, score in best.items() if score >= top - SUGGESTION_MARGIN]
    aspects, wanted = asked_aspects(question), most_wanted(question)
    if wanted:
        amounts: dict[str, float] = {}
        for item in ranked:
            field = item.text.split(FACT_SEPARATOR, 1)[-1].partition(":")[0].lower()
            if item.passage_id not in amounts and field_is_about(field, aspects):
                amount = _amount(item)
                if amount is not None:
                    amounts[item.passage_id] = amount
        if amounts:
            order = sorted(amounts, key=lambda pid: -wanted * amounts[pid])
    return order[:limit]
