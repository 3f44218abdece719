"""Parsing and formatting of the shop's public identifiers (order ids)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ORDER_ID_PREFIX = "ORD-"
# Accepts "ORD-10001", "ord10001", "ORD 10001", "#10001", "10001", "#10,001" (a thousands
# separator, never after a currency sign) and the same inside a sentence.
_ORDER_ID_PATTERN = re.compile(
    r"(?i)(?<![\w$€£.,-])(?:ORD[-\s]?|#)?(\d{5}|\d{2},\d{3})(?![\w-]|[.,]\d)"
)
# "order 10001", "order number 10001", "order no. 10001", "order id: 10001", "order #10001".
_ORDER_WORD_BEFORE = re.compile(r"(?i)\border(?:\s+(?:number|no\.?|id|nr\.?))?[\s:#.]*$")


@dataclass(frozen=True)
class OrderIdMention:
    """An order id in a text: canonical form, where it starts, and whether it is marked as one.

    `explicit` is True for "ORD-10001", "#10001" and "order 10001"; a bare "10001" is not
    (it may be a ZIP code).
    """

    order_id: str
    start: int
    explicit: bool


def format_order_id(number: int) -> str:
    """The canonical order id for an order number, e.g. 10001 -> "ORD-10001"."""
    return f"{ORDER_ID_PREFIX}{number}"


def normalize_order_id(raw: object) -> str | None:
    """Returns the canonical order id found in `raw`, or None when it holds no valid order id."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or len(text) > 100:
        return None
    matches = _ORDER_ID_PATTERN.findall(text)
    if len(matches) != 1:
        return None
    return format_order_id(int(matches[0].replace(",", "")))


def find_order_ids(text: object) -> list[OrderIdMention]:
    """Every order id written in `text`, in order of appearance."""
    mentions = []
    value = str(text or "")
    for match in _ORDER_ID_PATTERN.finditer(value):
        marked = match.group(0)[0] in "#oO"
        after_word = _ORDER_WORD_BEFORE.search(value[: match.start()]) is not None
        order_id = format_order_id(int(match.group(1).replace(",", "")))
        mentions.append(OrderIdMention(order_id, match.start(), marked or after_word))
    return mentions
