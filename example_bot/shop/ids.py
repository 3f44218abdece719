"""Parsing and formatting of the shop's public identifiers (order ids)."""

from __future__ import annotations

import re

ORDER_ID_PREFIX = "ORD-"
# Accepts "ORD-10001", "ord10001", "ORD 10001", "#10001", "10001" and the same inside a sentence.
_ORDER_ID_PATTERN = re.compile(r"(?i)(?<![\w-])(?:ORD[-\s]?|#)?(\d{5})(?![\w-])")


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
    return format_order_id(int(matches[0]))
