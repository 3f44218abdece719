"""Finding personal data in customer messages and replacing it with typed placeholders.

What is found (each kind can be switched off):

- `card`: payment card numbers, 13-19 digits with optional spaces or dashes, Luhn-checked (order
  ids, amounts, tracking and phone numbers fail the checksum or the length);
- `cvv`: 3-4 digit security codes next to a word such as "CVV", "CVC", "security code", or right
  after a card number; `expiry`: a card's "MM/YY" after a card number or an "exp" word;
- `email`: e-mail addresses;
- `phone`: phone numbers, found by the `phonenumbers` library (Google's libphonenumber) with the
  `VALID` leniency: "+1 415 555 0132", "(415) 555-0132", "415-555-0132", but no zip codes, order
  ids or tracking numbers;
- `address`: street addresses, found by `pyap` (US, Canada, UK) and by a pattern for the common
  "<number> <name> <street word>" form that pyap misses ("42 Oak Avenue", "12 main st new york ny
  10009"), extended over a following "City, ST 12345" or postcode.

    detector = PIIDetector()
    detector.redact("card 4111 1111 1111 1111 cvv 123")  # "card [CARD] cvv [CVV]"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import pyap
from rasa.shared.exceptions import RasaException

CARD, CVV, EXPIRY, EMAIL, PHONE, ADDRESS = "card", "cvv", "expiry", "email", "phone", "address"
PII_KINDS = (CARD, CVV, EXPIRY, EMAIL, PHONE, ADDRESS)
# The kinds that are payment card data (never to be sent in a chat).
CARD_DATA_KINDS = frozenset({CARD, CVV, EXPIRY})
PLACEHOLDERS = {kind: f"[{kind.upper()}]" for kind in PII_KINDS}
PYAP_COUNTRIES = ("US", "CA", "GB")
# When two findings overlap, the merged span gets the kind listed first.
_KIND_ORDER = {kind: rank for rank, kind in enumerate((CARD, EMAIL, CVV, EXPIRY, PHONE, ADDRESS))}

_CARD_CANDIDATE = re.compile(
    r"(?<![\w.-])(?<!\d[ -])\d(?:[ -]?\d){11,22}(?![ -]?\d)(?!\w)(?![.,]\d)"
)
_CARD_GROUPS = re.compile(r"\d+")
_CVV_WORDS = (
    r"cvv2?|cvc2?|cvn|csc|cid|security\s+(?:code|number|digits)|card\s+code|"
    r"verification\s+(?:code|number|value)|(?:\d|three|four)\s+digits?\s+on\s+the\s+back|"
    r"code\s+on\s+the\s+back|back\s+code"
)
_CVV_AFTER_WORD = re.compile(
    rf"(?i)\b(?:{_CVV_WORDS})\b[^\d\n]{{0,20}}?(?<![\w-])(\d{{3,4}})(?![\w/.-]|[.,]\d|\s\d)"
)
_CVV_BEFORE_WORD = re.compile(
    rf"(?i)(?<![\w./$-])(\d{{3,4}})(?![\w/.-]|[.,]\d)\s*(?:is\s+(?:the|my)\s+|=\s*|\(\s*)?(?:{_CVV_WORDS})\b"
)
_AFTER_CARD = re.compile(
    r"(?i)\s*[,;/|-]?\s*(?:(?:and|exp(?:iry|ires|iration)?|valid(?:\s+thru|\s+until)?|cvv2?|cvc)"
    r"\s*[:.]?\s*)?(?:(?P<expiry>(?:0?[1-9]|1[0-2])\s*/\s*(?:\d{4}|\d{2}))|(?P<cvv>\d{3,4}))(?![\w/])"
)
_EXPIRY_AFTER_WORD = re.compile(
    r"(?i)\b(?:exp(?:iry|ires|iration)?(?:\s+date)?|valid\s+(?:thru|through|until))\b\W{0,3}"
    r"(?:is\s+|on\s+)?((?:0?[1-9]|1[0-2])\s*/\s*(?:\d{4}|\d{2}))(?![\d/])"
)
# A run of digits with phone punctuation ("+1 (415) 555-0132"), not part of a word or a decimal.
_PHONE_CANDIDATE = re.compile(r"(?<![\w.])(?:\+|00)?[\s(]*\d[\d\s().\-/]{5,30}\d(?![\w]|\.\d)")
_DECIMAL = re.compile(r"\s*\d+\.\d+")  # "0.8444218515250481": a confidence, not a phone
_EMAIL = re.compile(
    r"(?i)(?<![\w.+-])[a-z0-9](?:[a-z0-9._%+-]{0,63})@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}\b"
)

_STREET_WORDS = (
    "street|st|str|road|rd|avenue|ave|av|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|"
    "parkway|pkwy|highway|hwy|terrace|ter|circle|cir|square|sq|trail|trl|row|close|crescent|cres|"
    "walk|alley|plaza|grove|gardens|mews|hill|broadway|expressway|pike|loop"
)
_DIRECTION = r"(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)\.?"
_UNIT = r"(?:,?\s*(?:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm|#)\.?\s*#?\s*[\w-]{1,6})"
_US_STATES = (
    "al|ak|az|ar|ca|co|ct|de|dc|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|"
    "nm|ny|nc|nd|oh|ok|or|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|pr|"
    "ab|bc|mb|nb|nl|ns|nt|nu|on|pe|qc|sk|yt"
)
_POSTCODE = (
    rf"(?:(?:{_US_STATES})\.?,?\s+\d{{5}}(?:-\d{{4}})?(?!\d)"  # US state and ZIP
    rf"|(?:(?:{_US_STATES})\.?,?\s+)?[a-z]\d[a-z]\s?\d[a-z]\d"  # Canadian postcode
    r"|[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2})"  # UK postcode
)
_CITY_AND_POSTCODE = (
    rf"(?:,?\s+(?:[a-z][a-z.'-]*\s+){{0,3}}?(?:[a-z][a-z.'-]*,?\s+)?{_POSTCODE}\b"
    r"(?:,?\s+(?:usa|us|united\s+states|canada|uk|united\s+kingdom|england))?)"
)
_NAME_WORD = r"(?:\d{1,3}(?:st|nd|rd|th)|[a-z][\w.'-]*)"  # "Elm", "O'Connor", "2nd"
_STREET_ADDRESS = re.compile(
    rf"(?i)(?<![\w-])(?:(?:apt|apartment|flat|unit|suite)\.?\s*#?\s*\w{{1,5}},?\s+)?"
    rf"(?P<number>\d{{1,6}}[a-z]?(?:-\d{{1,4}})?),?\s+(?:{_DIRECTION}\s+)?"
    rf"(?P<name>(?:{_NAME_WORD}\s+){{0,3}}?{_NAME_WORD}\s+)"
    rf"(?:{_STREET_WORDS})\b\.?(?:\s+{_DIRECTION}(?![\w']))?{_UNIT}?{_CITY_AND_POSTCODE}?"
)
_PO_BOX = re.compile(rf"(?i)\bp\.?\s*o\.?\s*box\s+\d{{1,8}}{_CITY_AND_POSTCODE}?")
# Where the street pattern is tried: every number (also inside "10002 to 5 Elm Rd") and unit word.
_ADDRESS_START = re.compile(r"(?i)(?<![\w-])(?:\d|(?:apt|apartment|flat|unit|suite)\b)")
# Words that never make up a street name: "10031 on its way", "30 days of delivery and place".
_NOT_IN_STREET_NAMES = frozenset(
    "a an and are be been but by did do for from had has have i is it its my not of on or that "
    "the this to was were will with you your order orders item items days day weeks week months "
    "ago in at me we our us they them he she his her units unit pcs pieces x times tb gb mb kb mm "
    "cm kg lb lbs inch inches ft hz mah port ports pack".split()
)
# A number, a few words and another number: the address starts at the second number.
_LEADING_NUMBER = re.compile(r"(?i)\d+[a-z]?[\s,]+(?P<words>(?:[a-z]+[\s,]+){0,3})(?=\d)")
# Cheap test before the slow address search (most messages and log lines have no address).
_ADDRESS_HINT = re.compile(rf"(?i)\b(?:{_STREET_WORDS}|box|{_POSTCODE})\b")


class PIIConfigError(RasaException, ValueError):
    """An option of the personal-data detection is invalid."""


@dataclass(frozen=True)
class PIISpan:
    """One piece of personal data in a text: its kind and where it is."""

    kind: str
    start: int
    end: int
    text: str


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum of payment card numbers."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_at(candidate: re.Match) -> tuple[int, int] | None:
    """The card number in a run of digit groups: the whole run, or the run without its last
    group ("4111 1111 1111 1111 123": card and CVV typed in one go)."""
    groups = list(_CARD_GROUPS.finditer(candidate.group(0)))
    # The last group may be a CVV ("... 1111 123") or an expiry month ("... 1111 12/27").
    last_is_code = len(groups) > 1 and (
        len(groups[-1].group(0)) in (3, 4) or candidate.string.startswith("/", candidate.end())
    )
    for count in (len(groups), len(groups) - 1) if last_is_code else (len(groups),):
        digits = "".join(group.group(0) for group in groups[:count])
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return candidate.start(), candidate.start() + groups[count - 1].end()
    return None


def _address_start(text: str, start: int, end: int) -> int:
    """Where an address found by pyap really starts: pyap takes a number before the house number
    into the address ("ORD-10002 to 77 Massachusetts Ave", "415 555 0132, 9 Lake Ave")."""
    while True:
        lead = _LEADING_NUMBER.match(text, start, end)
        if not lead:
            return start
        words = set(lead.group("words").lower().split())
        glued = start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-#")
        if not (glued or not words or words & _NOT_IN_STREET_NAMES):
            return start
        start = lead.end()


def validate_kinds(option: str, kinds: Iterable[str], owner: str) -> tuple[str, ...]:
    """The configured PII kinds; raises `PIIConfigError` naming the option for unknown ones."""
    if isinstance(kinds, str) or not isinstance(kinds, Iterable):
        raise PIIConfigError(f"{owner} option '{option}' must be a list of {list(PII_KINDS)}.")
    kinds = tuple(kinds)
    unknown = sorted(set(kinds) - set(PII_KINDS))
    if unknown:
        raise PIIConfigError(
            f"{owner} option '{option}' has unknown kind(s) {unknown}; the kinds are "
            f"{list(PII_KINDS)}."
        )
    return kinds


class PIIDetector:
    """Finds card numbers, CVVs, expiry dates, e-mails, phone numbers and street addresses."""

    def __init__(
        self,
        kinds: Iterable[str] = PII_KINDS,
        phone_region: str = "US",
        address_countries: Iterable[str] = PYAP_COUNTRIES,
    ) -> None:
        self.kinds = frozenset(validate_kinds("kinds", kinds, "PIIDetector"))
        if not isinstance(phone_region, str) or (
            phone_region.upper() not in phonenumbers.SUPPORTED_REGIONS
        ):
            raise PIIConfigError(
                f"PII option 'phone_region' must be a two-letter region code that phonenumbers "
                f"supports, such as 'US' or 'GB'; got {phone_region!r}."
            )
        self.phone_region = phone_region.upper()
        countries = tuple(str(country).upper() for country in address_countries)
        unknown = sorted(set(countries) - set(PYAP_COUNTRIES))
        if unknown:
            raise PIIConfigError(
                f"PII option 'address_countries' has unsupported countries {unknown}; pyap "
                f"knows {list(PYAP_COUNTRIES)} (other countries are found by the street pattern)."
            )
        self.address_countries = countries

    # -- finding ---------------------------------------------------------------------------
    def find(self, text: str | None) -> list[PIISpan]:
        """The personal data in `text`, sorted and without overlaps."""
        if not text:
            return []
        found: list[tuple[str, int, int]] = []
        digits = sum(character.isdigit() for character in text)
        if digits >= 3:  # a CVV has 3 digits, a phone number 7 or more
            found.extend(self._cards_and_codes(text))
            if PHONE in self.kinds and digits >= 7:
                found.extend(self._phones(text))
        if digits and ADDRESS in self.kinds and _ADDRESS_HINT.search(text):
            found.extend(self._addresses(text))
        if EMAIL in self.kinds and "@" in text:
            found.extend((EMAIL, m.start(), m.end()) for m in _EMAIL.finditer(text))
        return [
            PIISpan(kind, start, end, text[start:end]) for kind, start, end in _merge(found)
        ]

    def _cards_and_codes(self, text: str) -> Iterator[tuple[str, int, int]]:
        cards = []
        for candidate in _CARD_CANDIDATE.finditer(text):
            span = _card_at(candidate)
            if span:
                cards.append(span)
        if CARD in self.kinds:
            yield from ((CARD, start, end) for start, end in cards)
        for _, end in cards:
            match = _AFTER_CARD.match(text, end)
            if match and match.group("cvv") and CVV in self.kinds:
                yield CVV, match.start("cvv"), match.end("cvv")
            elif match and match.group("expiry") and EXPIRY in self.kinds:
                yield EXPIRY, match.start("expiry"), match.end("expiry")
                after = _AFTER_CARD.match(text, match.end())
                if after and after.group("cvv") and CVV in self.kinds:
                    yield CVV, after.start("cvv"), after.end("cvv")
        if CVV in self.kinds:
            for pattern in (_CVV_AFTER_WORD, _CVV_BEFORE_WORD):
                yield from ((CVV, m.start(1), m.end(1)) for m in pattern.finditer(text))
        if EXPIRY in self.kinds:
            yield from ((EXPIRY, m.start(1), m.end(1)) for m in _EXPIRY_AFTER_WORD.finditer(text))

    def _phones(self, text: str) -> Iterator[tuple[str, int, int]]:
        # libphonenumber's matcher is slow on long digit-heavy text (Rasa's debug lines are
        # full of confidences): it only gets the runs that could be one phone number.
        for candidate in _PHONE_CANDIDATE.finditer(text):
            digits = sum(character.isdigit() for character in candidate.group(0))
            if not 7 <= digits <= 17 or _DECIMAL.fullmatch(candidate.group(0)):
                continue
            matcher = phonenumbers.PhoneNumberMatcher(
                candidate.group(0), self.phone_region, leniency=phonenumbers.Leniency.VALID
            )
            for match in matcher:
                yield PHONE, candidate.start() + match.start, candidate.start() + match.end

    def _addresses(self, text: str) -> Iterator[tuple[str, int, int]]:
        for country in self.address_countries:
            for address in pyap.parse(text, country=country):
                start = _address_start(text, address.match_start, address.match_end)
                yield ADDRESS, start, address.match_end
        covered = 0
        for start in (m.start() for m in _ADDRESS_START.finditer(text)):
            match = _STREET_ADDRESS.match(text, start) if start >= covered else None
            if match and not set(match.group("name").lower().split()) & _NOT_IN_STREET_NAMES:
                covered = match.end()
                yield ADDRESS, match.start(), match.end()
        yield from ((ADDRESS, m.start(), m.end()) for m in _PO_BOX.finditer(text))

    # -- using the findings ---------------------------------------------------------------------
    def kinds_in(self, text: str | None) -> list[str]:
        """The kinds of personal data in `text`, in the order of `PII_KINDS`."""
        present = {span.kind for span in self.find(text)}
        return [kind for kind in PII_KINDS if kind in present]

    def redact(self, text: str) -> str:
        """`text` with every finding replaced by its placeholder (`[CARD]`, `[EMAIL]`, ...)."""
        spans = self.find(text)
        if not spans:
            return text
        parts, position = [], 0
        for span in spans:
            parts.extend((text[position : span.start], PLACEHOLDERS[span.kind]))
            position = span.end
        parts.append(text[position:])
        return "".join(parts)


@lru_cache(maxsize=1)
def default_detector() -> PIIDetector:
    """A detector with the default options, shared by the code that has no configuration of its
    own (the LLM prompt); it holds no state, so sharing it is safe."""
    return PIIDetector()


def _merge(found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Overlapping findings become one span (of the kind ranked first), so nothing leaks."""
    merged: list[tuple[str, int, int]] = []
    for kind, start, end in sorted(found, key=lambda item: (item[1], -item[2])):
        if start >= end:
            continue
        if merged and start < merged[-1][2]:
            last_kind, last_start, last_end = merged[-1]
            best = min(last_kind, kind, key=_KIND_ORDER.__getitem__)
            merged[-1] = (best, last_start, max(last_end, end))
        else:
            merged.append((kind, start, end))
    return merged
