"""Normalised facts found in the evidence, ready for support look-ups."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rasa_llm_components.fact_guard import patterns as p
from rasa_llm_components.fact_guard.claims import ClaimExtractor
from rasa_llm_components.fact_guard.numbers import WORD_NUMBER

MAX_NAME_TOKENS = 8
_ANY_NUMBER = re.compile(rf"(?<![A-Za-z\d.,]){p.DIGIT_NUMBER}|\b{WORD_NUMBER}\b", re.IGNORECASE)


class Evidence:
    """Everything checkable in the evidence texts, by kind, plus name windows and all numbers."""

    def __init__(self, texts: Sequence[str], extractor: ClaimExtractor) -> None:
        text = "\n\n".join(texts)
        self.values: dict[str, list] = {}
        for claim in extractor.extract(text, names=False):
            self.values.setdefault(claim.kind, []).append(claim.value)
        for match in p.KEYED_DURATION.finditer(text):
            unit_class, scale = p.unit_scale(match.group(1))
            value = float(match.group(2)) * scale
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
    evidence: Evidence, kind: str, value: object, default_currency: str | None = "USD"
) -> bool:
    """Whether a claim of ``kind`` with normalised ``value`` is backed by the evidence.

    A bare number in the evidence ("price: 249.00") backs an amount in ``default_currency``
    ("$249"), or in any currency when ``default_currency`` is None.
    """
    if kind == "name":
        return value in evidence.windows
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


