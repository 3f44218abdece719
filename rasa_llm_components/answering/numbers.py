"""Parsing numbers written with digits or (simple) English words."""

from __future__ import annotations

import re

UNITS = {
    "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "a couple of": 2, "couple of": 2, "a dozen": 12, "dozen": 12,
}
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "a hundred": 100, "one hundred": 100, "hundred": 100,
}
_SIMPLE_UNITS = [word for word in UNITS if UNITS[word] < 10 and word not in ("a", "an")]
_TENS_ONLY = [word for word in TENS if TENS[word] < 100]

WORD_NUMBER = (
    r"(?:(?:" + "|".join(_TENS_ONLY) + r")(?:[- ](?:" + "|".join(_SIMPLE_UNITS) + r"))?"
    r"|" + "|".join(sorted((w for w in list(UNITS) + list(TENS) if w not in _TENS_ONLY),
                           key=len, reverse=True)).replace(" ", r"\s+") + r")"
)
DIGIT_NUMBER = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d{1,2}(?!\d))?|\d+(?:\.\d+)?)"
NUMBER = rf"(?:{DIGIT_NUMBER}|\b{WORD_NUMBER}\b)"


def parse_number(text: str) -> float | None:
    """``"1,299.00"`` -> 1299.0, ``"49,99"`` -> 49.99, ``"twenty-four"`` -> 24.0, else None."""
    value = re.sub(r"\s+", " ", text.strip().lower())
    if not value:
        return None
    if re.fullmatch(r"\d+,\d{1,2}", value):
        return float(value.replace(",", "."))
    digits = value.replace(",", "")
    try:
        return float(digits)
    except ValueError:
        pass
    if value in UNITS:
        return float(UNITS[value])
    if value in TENS:
        return float(TENS[value])
    parts = re.split(r"[- ]", value)
    if len(parts) == 2 and parts[0] in TENS and parts[1] in UNITS and UNITS[parts[1]] < 10:
        return float(TENS[parts[0]] + UNITS[parts[1]])
    return None
