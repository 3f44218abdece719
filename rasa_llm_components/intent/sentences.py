"""The request in a message of several sentences.

Customers often give the background first and the request last: "I bought a dock and a charger
(order 10009). The charger gets super hot so I want to return it please." Read as a whole, such a
message looks like a statement about an order. When the whole message is no confident request and
one of its sentences is, that sentence's intent is the message's.

Customers also ask for two things at once: "where's order 10019, and can the watch go in the
pool?". `other_requests` finds the parts of a message (sentences, and clauses that open a new
question or request) whose confident intent is not the message's, so that the dialogue can
answer them after the first one (`ConversationRepairPolicy`'s `next_request_action`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from rasa_llm_components.retrieval.chunking import split_sentences

Ranking = list[dict[str, Any]]

# The message data key (and parse-data key) of the other requests of a message.
REQUESTS_KEY = "requests"
# Shorter parts ("hi", "thanks!", "ok so") are no request of their own.
MIN_PART_WORDS = 3
_QUESTION_OR_REQUEST = (
    r"(?:can|could|would|will|is|are|do|does|did|how|what|whats|what's|when|where|wheres|"
    r"where's|why|which|who|just|please|pls|tell|show|i\s+(?:want|need|wanna|would)|i'?d)\b"
)
# Where a new part starts: after a sentence end or a semicolon; at "also" after a comma or
# "and"; at a comma (or ", and") followed by a question, a request or an aside ("i think");
# at "and" followed by a question about something ("and is it", "and where is my").
_PART_BREAK = re.compile(
    r"(?<=[.!?])\s+|\n+|;\s*"
    r"|,\s*(?:and\s+|but\s+|plus\s+)?(?=also\b)|\s+and\s+(?=also\b)"
    rf"|,\s*(?:(?:and|but|plus|oh and|oh)\s+)?(?={_QUESTION_OR_REQUEST})"
    # "i want to return it please, i think i still have time?": an aside after the request
    r"|,\s*(?=i\s+(?:think|guess|hope|believe|suppose)\b)"
    r"|\s+and\s+(?=(?:can|could|will|would|do|does|is|are|how|what|when|where|why|which)\s+"
    r"(?:i|you|u|it|its|the|my|this|that|they|we|there)\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+")
# "and also", "oh and", "plus" in front of a part join it to the message; they are no part of it
_CONNECTOR = re.compile(r"^(?:(?:and|also|plus|but|oh|so|btw)\b[\s,]*)+", re.IGNORECASE)


def request_sentences(text: str) -> list[str]:
    """The sentences of a message that has more than one; [] for a single sentence."""
    sentences = split_sentences(text or "")
    return sentences if len(sentences) > 1 else []


def request_parts(text: str) -> list[tuple[int, int]]:
    """(start, end) of each part of a message that has more than one part of at least
    `MIN_PART_WORDS` words; [] otherwise."""
    text = text or ""
    spans, start = [], 0
    for match in [*_PART_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[start:end]
        stripped = _CONNECTOR.sub("", piece.strip(" \t,"), count=1)
        if len(_WORD.findall(stripped)) >= MIN_PART_WORDS:
            offset = start + piece.index(stripped)
            spans.append((offset, offset + len(stripped)))
        if match:
            start = match.end()
    return spans if len(spans) > 1 else []


_OPENS_REQUEST = re.compile(
    rf"^\W*(?:(?:also|and|oh|so|but|plus)\W+)*{_QUESTION_OR_REQUEST}", re.IGNORECASE
)


def asks_something(part: str) -> bool:
    """Whether a part of a message asks a question or makes a request (rather than giving
    background: "they plug into the wall, 230v")."""
    return "?" in part or bool(_OPENS_REQUEST.match(part))


def other_requests(
    text: str,
    intent: str,
    spans: Sequence[tuple[int, int]],
    rankings: Sequence[Ranking],
    threshold: float,
    question_threshold: float | None = None,
) -> list[dict[str, Any]]:
    """The parts of `text` that ask something and whose top intent is confident (`threshold`,
    or `question_threshold` for a part with a question mark) and not `intent`, the message's,
    each with the background that follows it: {"text", "start", "end", "intent": {"name",
    "confidence"}}, in message order."""
    requests: list[dict[str, Any]] = []
    latest: dict[str, Any] | None = None  # the request that the background after it belongs to
    for (start, end), ranking in zip(spans, rankings, strict=True):
        part = text[start:end]
        if not asks_something(part):
            if latest is not None:
                latest.update(end=end, text=text[latest["start"]:end])
            continue
        latest = None
        needed = threshold
        if question_threshold is not None and "?" in part:
            needed = min(threshold, question_threshold)
        if ranking and ranking[0]["name"] != intent and ranking[0]["confidence"] >= needed:
            latest = {"text": part, "start": start, "end": end, "intent": dict(ranking[0])}
            requests.append(latest)
    return requests


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
