"""Regular expressions and normalisers for each kind of checkable fact.

Every ``parse_*`` function turns a regex match into a comparable value (or None to ignore it).
"""

from __future__ import annotations

import re

from rasa_llm_components.answering.numbers import DIGIT_NUMBER, NUMBER, WORD_NUMBER, parse_number

TLDS = (
    "com|net|org|io|co|shop|store|example|info|biz|us|uk|de|eu|ca|fr|nl|es|it|at|se|dk|ie|be|app"
    "|dev|ai|me|online|site|test|help"
)
URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"')\]]+"
    rf"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{TLDS})\b(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
ORDER_ID = re.compile(
    r"\bORD[-\s#]?(\d{4,})\b|(?<![\w#])#(\d{4,})\b|\border\s+(?:id\s+|number\s+|no\.?\s*)?#?(\d{4,})\b",
    re.IGNORECASE,
)
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]\d{2,4}){1,4}(?![\w])"
    r"|(?<![\w+])\+\d{7,15}\b"
)
# A question (or one sentence of it) that asks for a yes or a no: "does it have gps?".
YES_NO_QUESTION = re.compile(r"^\W*(do|does|did|is|are|can|could|will|would|r|have|has)\b",
                             re.IGNORECASE)
MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
_MONTH_ABBREVIATIONS = {name[:3]: number for name, number in MONTHS.items()} | {"sept": 9}
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b"
)
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
DATE = re.compile(
    r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"
    r"|\b(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\b"
    rf"|\b{_ORDINAL}\s+(?:of\s+)?({_MONTH})(?:,?\s+(\d{{4}}))?"
    rf"|\b({_MONTH})(?:\s+{_ORDINAL}\b)?(?:,?\s+(\d{{4}}))?"
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = (
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Tues|Wed|Thu|Thur"
    r"|Thurs|Fri|Sat|Sun)s?\b\.?"
)
WEEKDAY = re.compile(
    rf"\b({_WEEKDAY})(?:\s*(?:-|–|—|to|through|until|till)\s*({_WEEKDAY}))?"
)
TIME = re.compile(
    r"\b(\d{1,2})(?::([0-5]\d))?\s?([ap])\.?m\b\.?|\b([01]?\d|2[0-3]):([0-5]\d)\b|\b(noon|midnight)\b",
    re.IGNORECASE,
)
_CURRENCY_PREFIX = r"(?:US\$|USD|C\$|CA\$|CAD|A\$|AU\$|\$|€|EUR|£|GBP)"
MONEY = re.compile(
    rf"(?P<prefix>{_CURRENCY_PREFIX})\s?(?P<amount>{DIGIT_NUMBER})(?P<thousands>\s?[kK]\b)?"
    rf"|(?P<amount2>{DIGIT_NUMBER})\s?"
    r"(?:(?P<suffix>USD|EUR|GBP|CAD|dollars?|bucks|euros?|pounds?)\b|(?P<symbol>[€£]))",
)
PERCENT = re.compile(rf"({NUMBER})\s?(?:%|\s(?:percent|per\s+cent|pct)\b)", re.IGNORECASE)
_UNIT = (
    r"(?:(?P<qualifier>business|working|calendar|week)[\s-]+)?"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?)\b"
)
DURATION = re.compile(
    rf"(?:\bbetween\s+(?P<between>{NUMBER})\s+and\s+"
    rf"|(?P<low>{DIGIT_NUMBER})\s*(?:-|–|—|to)\s*|\b(?P<wordlow>{WORD_NUMBER})\s+to\s+)?"
    rf"(?P<value>{NUMBER})(?:\s+|-){_UNIT}"
    r"|\b(?P<short>\d+)\s?(?P<shortunit>h|hrs?|d|wk|mo)\b",
    re.IGNORECASE,
)
# A key such as "warranty_months: 24" or "battery (hours): 38" in evidence tables.
# "battery_hours: 8 (32 with case)": the field's unit holds for every figure of its value.
KEYED_DURATION = re.compile(
    r"\b[\w ]*?(minutes|hours|days|weeks|months|years)\)?\s*[:=]\s*(\d+(?:\.\d+)?)([^;\n|]*)",
    re.IGNORECASE,
)
CODE = re.compile(r"(?<![\w-])[A-Za-z]+(?:-?[A-Za-z]+)*-?\d[\w]*(?:-[A-Za-z0-9]+)*(?![\w-])")
PLAIN_NUMBER = re.compile(rf"(?<![\w.,]){DIGIT_NUMBER}(?![\d])")

_UNIT_SCALE = {
    "minute": ("minutes", 1), "min": ("minutes", 1), "hour": ("minutes", 60),
    "hr": ("minutes", 60), "h": ("minutes", 60), "day": ("days", 1), "d": ("days", 1),
    "week": ("days", 7), "wk": ("days", 7), "month": ("months", 1), "mo": ("months", 1),
    "year": ("months", 12), "yr": ("months", 12),
}
_CURRENCY_CODES = {
    "$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
    "c$": "CAD", "ca$": "CAD", "cad": "CAD", "a$": "AUD", "au$": "AUD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
}


def unit_scale(unit: str) -> tuple[str, int]:
    key = unit.lower().rstrip("s") or unit.lower()
    return _UNIT_SCALE[key]


def parse_duration(match: re.Match[str]) -> tuple[str, float, float] | None:
    """(unit class, low, high); weeks become days, years months, hours minutes."""
    if match.group("short"):
        unit_class, scale = unit_scale(match.group("shortunit"))
        value = float(match.group("short")) * scale
        return unit_class, value, value
    high = parse_number(match.group("value"))
    low_text = match.group("between") or match.group("low") or match.group("wordlow")
    low = parse_number(low_text) if low_text else high
    if high is None or low is None:
        return None
    if (match.group("qualifier") or "").lower() == "week":  # "week days"
        return None
    unit_class, scale = unit_scale(match.group("unit"))
    return unit_class, low * scale, high * scale


def parse_money(match: re.Match[str]) -> tuple[str, float] | None:
    """(ISO currency code, amount): "$1,299.00" -> ("USD", 1299.0)."""
    if match.group("prefix"):
        symbol, amount_text = match.group("prefix"), match.group("amount")
    else:
        symbol = match.group("suffix") or match.group("symbol")
        amount_text = match.group("amount2")
    amount = parse_number(amount_text)
    if amount is None:
        return None
    if match.group("thousands"):
        amount *= 1000
    return _CURRENCY_CODES.get(symbol.lower(), symbol.upper()), round(amount, 2)


def parse_percent(match: re.Match[str]) -> float | None:
    return parse_number(match.group(1))


def parse_time(match: re.Match[str]) -> int | None:
    """Minutes after midnight."""
    if match.group(6):
        return 12 * 60 if match.group(6).lower() == "noon" else 0
    if match.group(1):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
        return hour * 60 + minute
    return int(match.group(4)) * 60 + int(match.group(5))


def _month_number(text: str) -> int:
    key = text.lower().rstrip(".")
    return MONTHS.get(key) or _MONTH_ABBREVIATIONS[key[:4] if key == "sept" else key[:3]]


def parse_date(match: re.Match[str]) -> frozenset[tuple[int | None, int, int | None]] | None:
    """The possible (year, month, day) readings of a date (dd/mm and mm/dd are both kept)."""
    groups = match.groups()
    if groups[0]:
        return frozenset({(int(groups[0]), int(groups[1]), int(groups[2]))})
    if groups[3]:
        first, second, year = int(groups[3]), int(groups[4]), int(groups[5])
        year = year + 2000 if year < 100 else year
        readings = {(year, first, second), (year, second, first)}
        return frozenset((y, m, d) for y, m, d in readings if 1 <= m <= 12 and 1 <= d <= 31)
    if groups[7]:
        day, month, year = int(groups[6]), _month_number(groups[7]), groups[8]
        return frozenset({(int(year) if year else None, month, day)})
    month_text, day, year = groups[9], groups[10], groups[11]
    if month_text.lower().startswith("may") and not (day or year):
        return None  # "you may ..." is not a date
    return frozenset({(int(year) if year else None, _month_number(month_text),
                       int(day) if day else None)})


def weekday_number(text: str) -> int:
    key = text.lower().rstrip(".").rstrip("s")[:3]
    return [day[:3] for day in WEEKDAYS].index(key)


def parse_weekdays(match: re.Match[str]) -> frozenset[int]:
    """A day or a range of days ("Mon-Fri" -> Monday..Friday)."""
    first = weekday_number(match.group(1))
    if not match.group(2):
        return frozenset({first})
    last = weekday_number(match.group(2))
    days = {first}
    while first != last:
        first = (first + 1) % 7
        days.add(first)
    return frozenset(days)


def normalise_url(text: str) -> str:
    value = text.strip().rstrip(".,;:!?").lower()
    value = re.sub(r"^https?://", "", value)
    value = re.sub(r"^www\.", "", value)
    return value.rstrip("/")


def phone_digits(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    return digits if 7 <= len(digits) <= 15 else None


def name_tokens(text: str) -> list[str]:
    """Lower-case alphanumeric tokens; possessive 's dropped."""
    text = re.sub(r"['’]s\b", "", text)
    return re.findall(r"[a-z0-9]+", text.lower())
