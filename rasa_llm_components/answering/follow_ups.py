"""Follow-up questions: "and to germany?" or "is it waterproof?" read with the earlier turn."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rasa_llm_components.answering.comparison import is_comparison
from rasa_llm_components.repair.cues import looks_like_gibberish
from rasa_llm_components.retrieval.products import ProductCatalog, ProductMention
from rasa_llm_components.retrieval.text import tokenize

_FOLLOW_UP_START = re.compile(
    r"^\W*(and|also|or|but|what about|how about|what of|same for|then|ok(ay)? (and|so|what)|so)\b",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\b(it|its|it's|they|them|their|that|this|those|these|one|ones|there|that way|same|"
    r"the \w+ (?:thing|bit|part|option))\b",
    re.IGNORECASE,
)
# A reference to a product ("is it waterproof", "the cheaper one", "both"), not to a topic
# ("before that", "is there ...").
_PRODUCT_REFERENCE = re.compile(
    r"\b(it|its|it's|they|them|their|this one|that one|the other one|both|either|each|"
    r"(?:those|these)(?! (?:rules|fees|terms|options|ones? (?:you|we)|policies|methods)\b)|"
    r"which (?:one|ones|of (?:them|the two|these|those|both))|"
    r"the (?:cheap|cheaper|cheapest|expensive|more expensive|pricier|priciest|lighter|bigger|"
    r"smaller|first|second|other|same) (?:one|ones|model|version))\b"
    r"|^\W*(?:and|what about|how about|same for)\b(?![^?]*\b(?:to|in|for)\s+[a-z]+\W*$)",
    re.IGNORECASE,
)
# "the cheap one" of two products named before: the one with the lowest price.
_BY_PRICE = re.compile(
    r"\bthe (?:(?P<low>cheap|cheaper|cheapest|less expensive)|"
    r"(?P<high>expensive|more expensive|pricier|priciest|dearer)) (?:one|model|version)\b",
    re.IGNORECASE,
)
# Products the bot just listed: "which of those is the loudest".
_ONE_OF_THOSE = re.compile(
    r"\b(?:which|any|all|each|one|none|either) of (?:those|these|them|the ones)\b", re.IGNORECASE
)
# "does it matter what i say", "is it ok if i ...": an "it" that refers to nothing.
_DUMMY_IT = re.compile(
    r"\b(?:does it matter|would it matter|is it (?:possible|ok|okay|alright|true|normal|worth|"
    r"too late|fine)|it (?:seems|looks like|says|depends))\b",
    re.IGNORECASE,
)
_THE_OTHER = re.compile(r"\bthe other (?:one|ones|model|version)?\b", re.IGNORECASE)
SHORT_QUESTION_TERMS = 3


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the earlier turn (a lead word, a reference, or very short)."""
    return bool(
        _FOLLOW_UP_START.search(question)
        or _REFERENCE.search(question)
        or len(tokenize(question)) <= SHORT_QUESTION_TERMS
    )


def _variant(
    question: str, products: list[ProductMention], catalog: ProductCatalog
) -> list[ProductMention]:
    """ "and the lite one?" after the Pulse 3: the product of its kind that a word of the
    question tells apart from the earlier one (the Pulse 3 Lite)."""
    for mention in products:
        found = catalog.sibling(mention, question)
        if found:
            return found
    return []


def _by_price(
    question: str, products: list[ProductMention], catalog: ProductCatalog
) -> list[ProductMention]:
    """ "does the cheap one have gps" after two watches: the one of them it means, by price
    (all of them when the question says no price or a price is unknown)."""
    match = _BY_PRICE.search(question)
    prices = [catalog.prices.get(mention.passage_id) for mention in products]
    if match is None or len(products) < 2 or None in prices:
        return products
    pick = min if match.group("low") else max
    return [pick(zip(prices, products, strict=True), key=lambda pair: pair[0])[1]]


def _earlier_of_kinds(
    kinds: set[str],
    history: Sequence[tuple[str, str]],
    slots: dict[str, Any],
    catalog: ProductCatalog,
) -> list[ProductMention]:
    """The products of these kinds named most recently in the conversation or its slots."""
    texts = [text for _, text in reversed(history)] + [str(value) for value in slots.values()]
    for text in texts:
        found = catalog.of_kinds(catalog.mentions(text), kinds)
        if found:
            return found
    return []


def _the_other_product(
    history: Sequence[tuple[str, str]], catalog: ProductCatalog
) -> list[ProductMention]:
    """ "and the other one?" after a comparison of the X200 and the X100 and a question about
    the X200: the product named before that is not the one talked about last."""
    latest: set[str] | None = None
    for _, text in reversed(history):
        found = catalog.mentions(text)
        if not found:
            continue
        if latest is None:
            latest = {mention.passage_id for mention in found}
            if len(found) > 1:
                return []  # the last turn named both: which one is "the other" is unclear
            continue
        others = [mention for mention in found if mention.passage_id not in latest]
        if others:
            return others[:1]
    return []


def resolve(
    question: str,
    history: Sequence[tuple[str, str]],
    slots: dict[str, Any],
    catalog: ProductCatalog | None,
) -> tuple[str, list[ProductMention]]:
    """(retrieval query, the products the question is about).

    Products named in the question win. A follow-up that names none but refers to a product
    ("is it waterproof?") is about the products of the customer's latest message that named
    some, else of the bot's latest reply, else of the first slot that names one (the `product`
    slot, the item of a return), and its
    query carries the customer's previous message for the topic.
    """
    products = catalog.mentions(question) if catalog else []
    if len(products) == 1 and catalog is not None and is_comparison(question):
        # "the pulse 3 ... the lite is way cheaper": the other one is the Pulse 3 Lite.
        products += _variant(question, products, catalog)
    # Keyboard mashing ("asdfgh") is no earlier question to read this one with.
    previous = next((text for speaker, text in reversed(history)
                     if speaker == "user" and not looks_like_gibberish(text)), "")
    follow_up = bool(history) and is_follow_up(question)
    query = f"{question} {previous}".strip() if follow_up and previous else question
    if not products and catalog is not None:
        # "wait, is the speaker waterproof?" in a return of the Wave Mini Speaker.
        kinds = catalog.referenced_kinds(question)
        earlier = _earlier_of_kinds(kinds, history, slots, catalog) if kinds else []
        if earlier:
            return query, earlier
    # "hm ok how much": too short to name what it is about, so it is about the same product
    # ("are those fees refundable?" says what it is about: its reference decides)
    implicit = len(tokenize(question)) <= SHORT_QUESTION_TERMS and not _REFERENCE.search(question)
    if products or not follow_up or catalog is None or not (
        implicit or _PRODUCT_REFERENCE.search(_DUMMY_IT.sub(" ", question))
    ):
        return query, products
    last_bot = next((text for speaker, text in reversed(history) if speaker == "bot"), "")
    listed = catalog.mentions(last_bot)
    if (_ONE_OF_THOSE.search(question) or _BY_PRICE.search(question)) and len(listed) > 1:
        # "which of those is the loudest", "and the cheapest one?" after the bot listed several
        return query, _by_price(question, listed, catalog)
    if _THE_OTHER.search(question):
        other = _the_other_product(history, catalog)
        if other:
            return query, other
    for speaker, text in reversed(history):
        products = catalog.mentions(text) if speaker == "user" else []
        if products:
            return query, _variant(question, products, catalog) or _by_price(
                question, products, catalog
            )
    products = catalog.mentions(last_bot)
    if products:
        return query, _by_price(question, products, catalog)
    if _BY_PRICE.search(question):
        # "the cheaper one" of the `product` and `product_b` slots
        named = list({mention.passage_id: mention for value in slots.values() if value
                      for mention in catalog.mentions(str(value))[:1]}.values())
        if len(named) > 1:
            return query, _by_price(question, named, catalog)
    for value in slots.values():
        products = catalog.mentions(str(value)) if value else []
        if products:
            return query, products
    return query, []
