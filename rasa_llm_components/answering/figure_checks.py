"""Checks of the figures in an answer beyond "is this number in the evidence".

- units: "3 ft" where the evidence says "3 m", "14 business days" where it says "14 days";
- ranges: "ages 3 to 12" needs the range 3-12 in the evidence, not just a 3 and a 12 somewhere;
- stock: "in stock" against a row whose stock is 0;
- comparisons: "74 Wh is under the 100 Wh limit", "cheaper at $129 versus $79";
- arithmetic: "$30 more" must be the difference of the two prices it compares, "48 months in
  total" the sum of its parts; differences, totals and percentages of evidence figures are
  accepted as derived figures where the answer compares or adds;
- thresholds: "iOS 15 or later, so iOS 14 is fine" and "after 7 days ..., so at 5 days we can"
  draw a conclusion the threshold does not allow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rasa_llm_components.answering.numbers import parse_number

FIGURE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_FIGURE_TEXT = r"(?<![\w.])\$?\d+(?:[.,]\d+)*(?![\w])"
# Words between a figure and its comparison, with no other figure among them (a model name's
# digits, as in "the RoboClean S7", are no figure).
_BETWEEN = rf"\s*(?:(?!{_FIGURE_TEXT})[\w%$ ]){{0,40}}?\b"
_COMPARE_LESS = re.compile(
    rf"({_FIGURE_TEXT}){_BETWEEN}(?:under|below|less than|fewer than|lower than|cheaper than|"
    rf"shorter than|lighter than|smaller than)\b[a-zA-Z ]{{0,25}}?({_FIGURE_TEXT})",
    re.IGNORECASE,
)
_COMPARE_MORE = re.compile(
    rf"({_FIGURE_TEXT}){_BETWEEN}(?:over|above|more than|greater than|higher than|exceeds?|"
    rf"longer than|heavier than|bigger than|larger than|pricier than|more expensive than)\b"
    rf"[a-zA-Z ]{{0,25}}?({_FIGURE_TEXT})",
    re.IGNORECASE,
)
# "cheaper at $129, versus $79": the first figure belongs to the thing said to be cheaper.
_LOWER_AT = re.compile(
    rf"\b(?:cheaper|less expensive|lighter|smaller|shorter|slower)\b[^.;]{{0,20}}?"
    rf"({_FIGURE_TEXT})[^.;]{{0,40}}?\b(?:versus|vs\.?|compared (?:to|with)|against|than|while)"
    rf"[^.;\d$]{{0,40}}({_FIGURE_TEXT})",
    re.IGNORECASE,
)
_HIGHER_AT = re.compile(
    rf"\b(?:more expensive|pricier|heavier|bigger|larger|longer|faster)\b[^.;]{{0,20}}?"
    rf"({_FIGURE_TEXT})[^.;]{{0,40}}?\b(?:versus|vs\.?|compared (?:to|with)|against|than|while)"
    rf"[^.;\d$]{{0,40}}({_FIGURE_TEXT})",
    re.IGNORECASE,
)
ARITHMETIC = re.compile(r"\b(more|less|cheaper|difference|extra|total|together|combined|plus|"
                        r"saves?|saving|adds?|on top|per|each|altogether|longer|shorter|"
                        r"instal+ments?)\b", re.IGNORECASE)
_DIFFERENCE = re.compile(rf"({_FIGURE_TEXT})\s+(?:more|less|cheaper|extra)\b", re.IGNORECASE)
_TOTAL = re.compile(
    rf"({_FIGURE_TEXT})\s*(?:[a-z]+\s+){{0,2}}?(?:\([^)]*\)\s*)?(?:in total|total|altogether|"
    rf"combined)\b|\b(?:total of|totals?|altogether|combined)\s+({_FIGURE_TEXT})",
    re.IGNORECASE,
)
_RANGE = re.compile(
    r"(?<![\w.$])\$?(\d+(?:[.,]\d+)?)\s*(?:-|–|—|to|and)\s*\$?(\d+(?:[.,]\d+)?)(?![\w.])"
)
_BETWEEN_RANGE = re.compile(r"\bbetween\s+\$?(\d+(?:[.,]\d+)?)\b[^.;\d]{0,20}?\s+and\s+\$?"
                            r"(\d+(?:[.,]\d+)?)", re.IGNORECASE)
_MIN_THRESHOLD = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:\w+\s+)?(?:or|and)\s+(?:later|newer|above|up|higher|more)\b"
    r"|\b(?:once|after|at least|minimum of|from)\s+[^.;,]{0,30}?\b(\d+(?:\.\d+)?)\b",
    re.IGNORECASE,
)
_MAX_THRESHOLD = re.compile(
    r"\b(?:within|up to|until|at most|maximum of|no more than|limit of)\s+(?:the\s+)?"
    r"(?:first\s+)?\$?(\d+(?:[.,]\d+)?)",
    re.IGNORECASE,
)
_CONCLUSION = re.compile(r"\b(?:so|which means|therefore|meaning)\b\s*(.*)$", re.IGNORECASE)
_POSITIVE = re.compile(r"\b(can|could|qualif\w*|eligible|fine|supported|works?|within|still|"
                       r"open|ok|okay|covered|in time|allowed)\b", re.IGNORECASE)
_NEGATIVE = re.compile(r"\b(no|not|can't|cannot|isn't|won't|doesn't|too late|past|closed|"
                       r"expired|over|beyond|outside|too|unsupported)\b|n't\b", re.IGNORECASE)


def figures(text: str) -> list[float]:
    values = []
    for match in FIGURE.finditer(text):
        value = parse_number(match.group(0))
        if value is not None:
            values.append(value)
    return values


def _number(text: str) -> float | None:
    return parse_number(text.lstrip("$"))


def check_figures(answer: str, clauses: Sequence[str], evidence: Sequence[str],
                  question: str) -> list[str]:
    """All figure problems of an answer (see the module docstring)."""
    problems = measures(answer, [*evidence, question])
    problems += stock(answer, evidence)
    problems += ranges(answer, [*evidence, question])
    for sentence in re.split(r"(?<=[.!?])\s+", answer):
        problems += arithmetic(sentence)
        problems += thresholds(sentence, question)
        problems += windows(sentence, question)
    for clause in clauses:
        problems += comparison(clause)
    return problems


_DAYS = {"day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}
_SPAN = r"(\d+(?:\.\d+)?)[\s-](day|week|month|year)s?\b"
# "you're still within the 30-day return window", "at 35 days you're past the 30-day window"
_POSITION = re.compile(
    r"\b(?:still|you'?re|you are|it'?s|it is|that'?s|that is|is|are)\s+(?:still\s+)?(?:well\s+)?"
    r"(within|inside|in|past|outside|beyond|over)\s+(?:the|your|its|their)\s+(?:first\s+)?"
    + _SPAN, re.IGNORECASE)
# "... within the first 12 months, and 18 months is still within that"
_BACK_POSITION = re.compile(_SPAN + r"\s+(?:is|are)\s+(?:still\s+)?(?:well\s+)?"
                            r"(within|inside|past|outside|beyond|over)\s+(?:that|it|this)\b",
                            re.IGNORECASE)
_WINDOW = re.compile(r"\b(?:within|in|inside|of)\s+(?:the\s+)?(?:first\s+)?" + _SPAN + "|"
                     + r"\b" + _SPAN + r"\s+(?:return\s+|warranty\s+)?(?:window|period|limit)",
                     re.IGNORECASE)
_ELAPSED = re.compile(r"\b(?:at|after|been|for)\s+(?:about\s+|around\s+)?" + _SPAN, re.IGNORECASE)


def windows(sentence: str, question: str = "") -> list[str]:
    """Where the answer places the customer against a time window must match the time the
    customer gives: "it's been 35 days" is not "still within the 30-day return window"."""
    elapsed = [float(value) * _DAYS[unit.lower()] for value, unit in
               re.findall(_SPAN, question, re.IGNORECASE)]
    elapsed += [float(m.group(1)) * _DAYS[m.group(2).lower()] for m in _ELAPSED.finditer(sentence)]
    claims = [(m.group(1).lower(), float(m.group(2)) * _DAYS[m.group(3).lower()], m.group(0))
              for m in _POSITION.finditer(sentence)]
    for match in _BACK_POSITION.finditer(sentence):
        earlier = list(_WINDOW.finditer(sentence[: match.start()]))
        if earlier:
            value, unit = earlier[-1].group(1, 2) if earlier[-1].group(1) else \
                earlier[-1].group(3, 4)
            elapsed.append(float(match.group(1)) * _DAYS[match.group(2).lower()])
            claims.append((match.group(3).lower(), float(value) * _DAYS[unit.lower()],
                           match.group(0)))
    problems = []
    for side, window, text in claims:
        others = [days for days in elapsed if abs(days - window) > 0.5]
        if not others:
            continue
        inside = side in ("within", "inside", "in")
        if (inside and any(days > window for days in others)) or (
                not inside and all(days < window for days in others)):
            problems.append(f"wrong conclusion from the window: '{text}'")
    return problems


def comparison(clause: str) -> list[str]:
    """A clause comparing two figures ("74 Wh is under the 100 Wh limit") must hold."""
    checks = (
        (_COMPARE_LESS, lambda a, b: a <= b), (_COMPARE_MORE, lambda a, b: a >= b),
        (_LOWER_AT, lambda a, b: a <= b), (_HIGHER_AT, lambda a, b: a >= b),
    )
    for pattern, holds in checks:
        for match in pattern.finditer(clause):
            first, second = _number(match.group(1)), _number(match.group(2))
            if first is not None and second is not None and not holds(first, second):
                return [f"wrong comparison: '{match.group(0)}'"]
    return []


def arithmetic(sentence: str) -> list[str]:
    """"$30 more" between $89 and $49, or "36 months in total" from 24 + 24, must add up."""
    values = figures(sentence.replace("$", " "))
    amounts = [_number(m.group(0)) for m in re.finditer(r"\$\d+(?:[.,]\d+)*", sentence)]
    problems = []
    for match in _DIFFERENCE.finditer(sentence):
        claimed = _number(match.group(1))
        pool = amounts if match.group(1).startswith("$") else values
        others = [value for value in pool if value != claimed]
        if claimed is not None and len(others) == 2 and abs(abs(others[0] - others[1])
                                                             - claimed) > 0.005:
            problems.append(f"wrong difference: '{match.group(0)}'")
    for match in _TOTAL.finditer(sentence):
        claimed = _number(match.group(1) or match.group(2))
        parts = list(values)
        if claimed in parts:
            parts.remove(claimed)
        if claimed is not None and len(parts) >= 2 and abs(sum(parts) - claimed) > 0.005 \
                and claimed not in parts:
            problems.append(f"wrong total: '{match.group(0)}'")
    return problems


def thresholds(sentence: str, question: str = "") -> list[str]:
    """A conclusion ("so iOS 14 is fine") must respect the threshold stated before it."""
    conclusion = _CONCLUSION.search(sentence)
    if not conclusion:
        return []
    premise, result = sentence[: conclusion.start()], conclusion.group(1)
    values = [value for value in figures(result)]
    if len(values) != 1:
        return []
    value = values[0]
    negative = bool(_NEGATIVE.search(result))
    positive = bool(_POSITIVE.search(result)) and not negative
    for match in _MIN_THRESHOLD.finditer(premise):
        limit = _number(match.group(1) or match.group(2))
        if limit is None:
            continue
        if (value < limit and positive) or (value >= limit and negative and "past" not in
                                            result.lower()):
            return [f"wrong conclusion from the threshold {limit:g}: '{result.strip()}'"]
    for match in _BETWEEN_RANGE.finditer(premise):
        low, high = _number(match.group(1)), _number(match.group(2))
        if low is None or high is None:
            continue
        inside = low <= value <= high
        if (not inside and positive) or (inside and negative):
            return [f"wrong conclusion from the range {low:g}-{high:g}: '{result.strip()}'"]
    for match in _MAX_THRESHOLD.finditer(premise):
        limit = _number(match.group(1))
        if limit is None:
            continue
        if (value > limit and positive) or (value <= limit and negative):
            return [f"wrong conclusion from the limit {limit:g}: '{result.strip()}'"]
    return []


def _ranges(text: str) -> set[tuple[float, float]]:
    found = set()
    for pattern in (_RANGE, _BETWEEN_RANGE):
        for match in pattern.finditer(text):
            low, high = _number(match.group(1)), _number(match.group(2))
            if low is not None and high is not None and low < high:
                found.add((low, high))
    return found


def ranges(answer: str, texts: Sequence[str]) -> list[str]:
    """A range "3 to 12" must be a range of the evidence (or the customer's own words)."""
    stated = set().union(*(_ranges(text) for text in texts)) if texts else set()
    problems = []
    for low, high in _ranges(answer):
        if (low, high) in stated:
            continue
        # "$100 and $1,500" also appears as the range's two ends; "5 and 7" of a list is not
        # a range: only flag numbers that do form a different range in the evidence.
        if any(low == s_low or high == s_high for s_low, s_high in stated):
            problems.append(f"wrong range: {low:g} to {high:g}")
    return problems


_MONEY_FIGURE = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
_DURATION_FIGURE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[\s-]?(hour|day|week|month|year)s?\b",
                              re.IGNORECASE)


def amounts(text: str) -> list[float]:
    """The money amounts of a text ("$12.99", "$ 1,299")."""
    return [value for match in _MONEY_FIGURE.finditer(text)
            if (value := parse_number(match.group(1))) is not None]


_KEYED_DURATION = re.compile(r"\b[a-z]+_(hour|day|week|month|year)s:\s*(\d+(?:\.\d+)?)",
                             re.IGNORECASE)


def _typed_figures(text: str) -> set[tuple[str, float]]:
    """The figures of a text with their kind: ("$", 449.0), ("month", 24.0) also of
    "warranty_months: 24", ("", 4.0)."""
    typed: set[tuple[str, float]] = set()
    spans = []
    for match in _KEYED_DURATION.finditer(text):
        typed.add((match.group(1).lower(), float(match.group(2))))
        spans.append(match.span(2))
    for pattern, kind in ((_MONEY_FIGURE, "$"), (_DURATION_FIGURE, None)):
        for match in pattern.finditer(text):
            value = parse_number(match.group(1))
            if value is not None:
                typed.add((kind or match.group(2).lower(), value))
                spans.append(match.span(1))
    for match in FIGURE.finditer(text):
        value = parse_number(match.group(0))
        if value is not None and not any(a <= match.start() < b for a, b in spans):
            typed.add(("", value))
    return typed


def derived_figures(texts: Sequence[str], answer: str, question: str = "") -> list[str]:
    """Sums, differences and percentages that the answer may compute from figures it states.

    Only figures that the answer (or the customer) names and the evidence (or the customer)
    backs are operands, and kinds stay apart: "$449 and $129, so together $578" adds two
    prices, while "$2" is no difference of "4 instalments" and "2 weeks". A duration the answer
    states may also meet one of the evidence's own ("Care+ adds 24 months, so 36 months in
    total" on a "warranty_months: 12" row).
    """
    backed = set().union(*(_typed_figures(text) for text in [*texts, question]))
    bare = {value for kind, value in backed if kind == ""}
    operands = sorted(
        (kind, value) for kind, value in _typed_figures(f"{answer} {question}")
        if value >= 1 and ((kind, value) in backed or (kind == "$" and value in bare))
    )
    durations = {(kind, value) for kind, value in backed if kind in _LARGER_UNITS or kind
                 in ("week", "year")}
    percents = {float(m.group(1)) for text in [*texts, question] for m in _PERCENT.finditer(text)}
    derived: set[tuple[str, float]] = set()
    for index, (kind, a) in enumerate(operands):
        partners = [*operands[index:], *(pair for pair in durations if pair[0] == kind)]
        for other_kind, b in partners:  # "24 months and Care+ adds 24 months": a + a
            if other_kind == kind:
                derived |= {(kind, round(a + b, 2)), (kind, round(abs(b - a), 2))}
            elif kind == "" and other_kind == "$" and a >= 2 and a.is_integer():
                derived.add(("$", round(b / a, 2)))  # "$49 for 4, so $12.25 per bulb"
        for percent in percents:
            share = a * percent / 100
            derived |= {(kind, round(share, 2)), (kind, round(a - share, 2))}
    for kind, value in list(derived):
        larger = _LARGER_UNITS.get(kind)
        if larger and value and (value / larger[1]).is_integer():
            derived.add((larger[0], value / larger[1]))  # 48 months is "four years"
    return [
        f"${value:g}" if kind == "$" else f"{value:g} {kind}s" if kind else f"{value:g}"
        for kind, value in sorted(derived) if value
    ]


_LARGER_UNITS = {"month": ("year", 12), "day": ("week", 7), "hour": ("day", 24)}


_MEASURE = re.compile(
    r"(?<![\w.])(\d+(?:[.,]\d+)?)\s?-?\s?(business days?|working days?|calendar days?|"
    r"ft|feet|foot|lbs?|pounds?|kg|g|grams?|cm|mm|m|metres?|meters?|inch(?:es)?|in\b|\"|"
    r"wh|mah|w|watts?|hz|khz|ghz|gb|tb|mb/s|gb/s|atm|db|l|litres?|liters?|ml|oz|mph|km|miles?|"
    r"v|volts?|°c|c|°f|f)(?![\w/])",
    re.IGNORECASE,
)
_MEASURE_UNITS = {
    "feet": "ft", "foot": "ft", "lb": "lbs", "pound": "lbs", "pounds": "lbs", "gram": "g",
    "grams": "g", "metre": "m", "metres": "m", "meter": "m", "meters": "m", "inch": "in",
    "inches": "in", '"': "in", "watt": "w", "watts": "w", "litre": "l", "litres": "l",
    "liter": "l", "liters": "l", "mile": "miles", "volt": "v", "volts": "v", "°c": "c",
    "°f": "f", "business day": "business days", "working day": "business days",
    "working days": "business days", "calendar day": "days", "calendar days": "days",
}


def _measure_unit(unit: str) -> str:
    unit = re.sub(r"\s+", " ", unit.lower())
    return _MEASURE_UNITS.get(unit, unit)


def measures(answer: str, texts: Sequence[str]) -> list[str]:
    """Figures with a unit ("3 ft", "5 metres", "14 business days") need the same unit."""
    stated: set[tuple[float, str]] = set()
    for text in texts:
        for match in _MEASURE.finditer(text):
            value = parse_number(match.group(1))
            if value is not None:
                stated.add((value, _measure_unit(match.group(2))))
    problems = []
    for match in _MEASURE.finditer(answer):
        value = parse_number(match.group(1))
        unit = _measure_unit(match.group(2))
        if value is None or (value, unit) in stated:
            continue
        if unit == "days" and (value, "business days") in stated:
            continue
        if any(number == value for number, _ in stated):
            problems.append(f"wrong unit: '{match.group(0)}'")
    return problems


_IN_STOCK = re.compile(r"\b(in stock|available now|ready to ship|available to order)\b", re.I)
_OUT_OF_STOCK = re.compile(r"\b(out of stock|sold out|not in stock|unavailable)\b", re.I)
_STOCK_FIELD = re.compile(r"\bstock:\s*(\d+)")


def stock(answer: str, texts: Sequence[str]) -> list[str]:
    """"In stock" against a row whose stock is 0, and "out of stock" against one with stock."""
    levels = [int(match.group(1)) for text in texts for match in _STOCK_FIELD.finditer(text)]
    if len(levels) != 1:
        return []
    if levels[0] == 0 and _IN_STOCK.search(answer) and not _OUT_OF_STOCK.search(answer):
        return ["says in stock, but the stock is 0"]
    if levels[0] > 0 and _OUT_OF_STOCK.search(answer):
        return ["says out of stock, but it is in stock"]
    return []
