"""The request in a message of several sentences.

Customers often give the background first and the request last: "I bought a dock and a charger
(order 10009). The charger gets super hot so I want to return it please." Read as a whole, such a
message looks like a statement about an order. When the whole message is no confident request and
one of its sentences is, that sentence's intent is the message's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from rasa_llm_components.retrieval.chunking import split_sentences

Ranking = list[dict[str, Any]]


def request_sentences(text: str) -> list[str]:
    """The sentences of a message that has more than one; [] for a single sentence."""
    sentences = split_sentences(text or "")
    return sentences if len(sentences) > 1 else []


def with_request_sentence(
    whole: Ranking,
    sentences: Sequence[Ranking],
    request_intents: Collection[str],
    threshold: float,
) -> Ranking:
    """The ranking of the message: `whole`, unless it is no confident request (an intent in
    `request_intents` at `threshold` or more) and a sentence is one; the last such sentence wins
    (the request usually ends the message)."""
    if not whole or not request_intents:
        return whole
    top = whole[0]
    if top["name"] in request_intents and top["confidence"] >= threshold:
        return whole
    for ranking in reversed(sentences):
        if (
            ranking
            and ranking[0]["name"] in request_intents
            and ranking[0]["confidence"] >= threshold
        ):
            return ranking
    return whole
