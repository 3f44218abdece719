"""Fuzzy matching of what a customer types ("the x200", "pulse 3 lite") to catalog products."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shop.catalog import CATEGORY_SYNONYMS

STOPWORDS = frozenset(
    "a about an and any are at available can compare details do does for have how i in info "
    "information is it me much my need of on one or please price show stock tell that the "
    "this to versus vs want what which with you your".split()
)
# Words that describe a kind of product rather than one product: they never identify one alone.
GENERIC_WORDS = frozenset(
    word
    for synonyms in CATEGORY_SYNONYMS.values()
    for synonym in synonyms
    for word in re.split(r"[^a-z0-9]+", synonym)
    if word
) | frozenset("wireless smart pro portable pack new model item product".split())


class MatchableProduct(Protocol):
    """What matching needs to know about a product."""

    sku: str
    name: str
    brand: str
    description: str
    features: str


@dataclass(frozen=True)
class ScoredProduct:
    """A product and how well a query matches it."""

    score: float
    unmatched_name_words: int
    product: MatchableProduct
    distinctive: bool = True


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words of a text."""
    return [word for word in re.split(r"[^a-z0-9]+", text.lower()) if word]


def _query_words(query: str) -> list[str]:
    return [word for word in words(query) if word not in STOPWORDS]


def _singular_in(word: str, vocabulary: set[str]) -> str:
    """ "bulbs" -> "bulb" when only the singular is in the vocabulary (and the other way round)."""
    if word in vocabulary:
        return word
    if word.endswith("s") and word[:-1] in vocabulary:
        return word[:-1]
    if word + "s" in vocabulary:
        return word + "s"
    return word


def score_product(query: str, product: MatchableProduct) -> ScoredProduct | None:
    """Scores a product for a query; None when no word of the query is in the product's name.

    A match through generic words only ("blender", "headphones") is flagged `distinctive=False`.
    """
    query_words = _query_words(query)
    sku = product.sku.lower()
    normalized_query = query.strip().lower()
    if normalized_query in (sku, sku.replace("-", ""), product.name.lower()):
        return ScoredProduct(100.0, 0, product)
    # "Armor Case for iPhone 15": what follows "for" is what it fits, not what it is.
    identity, _, fits = product.name.partition(" for ")
    name_words = set(words(identity)) | set(words(product.brand)) | set(words(product.sku))
    name_words.add(sku.replace("-", ""))
    other_words = set(words(product.description)) | set(words(product.features)) | set(words(fits))
    score = 0.0
    distinctive_hit = False
    matched: set[str] = set()
    for word in query_words:
        word = _singular_in(word, name_words)
        if word in name_words and word.isdigit():
            score += 0.5  # "5" in "AirCrisp 5.5 L" never identifies a product on its own
        elif word in name_words:
            score += 0.5 if word in GENERIC_WORDS else 2.0
            distinctive_hit = distinctive_hit or word not in GENERIC_WORDS
            matched.add(word)
        elif word in other_words:
            score += 0.25
        elif word not in GENERIC_WORDS:
            score -= 1.0  # e.g. the "x300" in "Auralis X300": not this product
    # "power bank" should find "PowerBank": joined neighbours may only add to the score.
    for first, second in zip(query_words, query_words[1:], strict=False):
        if first + second in name_words:
            score += 2.0
            distinctive_hit = True
            matched.add(first + second)
    if not matched:
        return None
    unmatched = len(set(words(product.name)) - matched)
    return ScoredProduct(score, unmatched, product, distinctive_hit)


def rank_products(query: str, products: Iterable[MatchableProduct]) -> list[ScoredProduct]:
    """Products that match the query, best first.

    Matches through generic words count only when no product matches a distinctive word.
    """
    scored = [match for product in products if (match := score_product(query, product))]
    if any(match.distinctive for match in scored):
        scored = [match for match in scored if match.distinctive]
    scored.sort(key=lambda match: (-match.score, match.unmatched_name_words, match.product.name))
    return scored


def best_match(ranked: Sequence[ScoredProduct]) -> MatchableProduct | None:
    """The single best product, or None when nothing matched or the best ones tie."""
    if not ranked:
        return None
    if not ranked[0].distinctive and len(ranked) > 1 and ranked[0].score == ranked[1].score:
        return None  # "speaker" alone does not say which of several speakers
    if len(ranked) > 1 and (ranked[0].score, ranked[0].unmatched_name_words) == (
        ranked[1].score,
        ranked[1].unmatched_name_words,
    ):
        return None
    return ranked[0].product
