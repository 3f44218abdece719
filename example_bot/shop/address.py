"""Postal addresses in customer messages: recognising one, cleaning it, checking it.

Customers type addresses with chatter around them ("oops: 5 Elm Rd, ...", "sorry, it's ...", "my
new address is ...", "ship it to ..."). `clean_address` keeps only the address, `looks_like_address`
tells whether a message contains one (so that its ZIP code is never read as an order number), and
`is_plausible_address` is the check the change-address form applies.
"""

from __future__ import annotations

import re

from rasa_llm_components.repair.cues import corrected_part, looks_like_correction
from shop.ids import find_order_ids

MIN_ADDRESS_LENGTH = 10
MAX_ADDRESS_LENGTH = 300

STREET_WORDS = (
    "street st str road rd avenue ave av boulevard blvd lane ln drive dr way court ct place pl "
    "parkway pkwy highway hwy terrace ter circle cir square sq trail trl row close crescent cres "
    "walk path alley plaza grove gardens mews hill broadway rue"
).split()
# Continental street names: "Bergstrasse 12", "Via Garibaldi 8", "350 Rue Sainte-Catherine".
STREET_SUFFIXES = ("strasse", "straße", "str.", "weg", "gasse", "platz", "allee", "straat", "laan")
STREET_PREFIXES = "via viale piazza corso rue avenue calle avenida rua chemin".split()
US_STATES = frozenset(
    "al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj "
    "nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy pr".split()
)
# State codes that are also common words: only counted in capitals or after a comma.
_WORDLIKE_STATES = frozenset("al co de hi id in la ma me oh ok or pa".split())
_ADDRESS_KEYWORDS = re.compile(
    r"(?i)\b(?:zip(?:\s*code)?|zipcode|post\s*code|postcode|postal\s+code|p\.?\s*o\.?\s+box|"
    r"apt|apartment|suite)\b"
)
_HOUSE_NUMBER_FIRST = re.compile(r"^\s*\d{1,6}[a-z]?\s+[^\W\d]")
_POSTCODE_LAST = re.compile(r"(?i)\b(?!order\b|meant\b)[^\W\d]{2,}\s+\d{4,6}(?:-\d{3,4})?\s*$")
_HOUSE_AND_STREET = re.compile(
    r"(?i)\b\d{1,6}[a-z]?,?\s+(?P<name>(?:[a-z0-9.'-]+\s+){0,4}?)(?:"
    + "|".join(STREET_WORDS)
    + r")\b\.?"
)
# Words that never make up a street name: "10001 is on its way" is not an address.
_NOT_IN_STREET_NAMES = frozenset(
    "a an and are be been but by did for from had has have i is it its my not of on or that the "
    "this to was were will with you your order orders item items days weeks ago".split()
)
_PREFIXED_STREET = re.compile(
    r"(?i)\b(?:"
    + "|".join(STREET_PREFIXES)
    + r")\s+[a-z][\w'.-]*(?:\s+[a-z][\w'.-]*){0,3},?\s+\d{1,4}[a-z]?\b"
)
_SUFFIXED_STREET = re.compile(
    r"(?i)\b[a-zäöüß-]+(?:" + "|".join(re.escape(s) for s in STREET_SUFFIXES) + r")\s*\d{1,4}\b"
)
_STATE_AND_ZIP = re.compile(
    r"(?:^|(?P<comma>,)\s*|\s)(?P<state>[A-Za-z]{2})\.?,?\s+\d{5}(?:-\d{4})?\b"
)
_UK_POSTCODE = re.compile(r"(?i)\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b")
_CA_POSTCODE = re.compile(r"(?i)\b[a-z]\d[a-z]\s?\d[a-z]\d\b")
_EXPLICIT_ORDER = re.compile(r"(?i)\bord[-\s]?\d{5}\b")

# Words that may stand before an address without being part of it.
_CHATTER_WORDS = frozenset(
    """
    oops whoops oh ah uh um hmm sorry so apologies apologise apologize my bad ok okay well yes yeah
    yep right actually wait no nope hi hello hey please pls correction typo mistake i mean meant
    made a an the it its it's s that that's thats is was should be will would new correct updated
    proper actual full real shipping delivery postal home address addr ship send deliver mail
    change update move moved them order package parcel everything to at instead about for
    confusion wrong one here this use can you could like want we our now live living i've ive
    have has just sent typed meant: there in fine sure alright great cool good perfect thanks thank
    thx ty k kk yup ya lol here goes
    """.split()
)
_LEADING_CHATTER = re.compile(
    r"(?i)^\s*(?:"
    r"(?:oops|whoops|oh|ah|uh|um+|hmm+|sorry|apologies|my apologies|my bad|ok|okay|so|well|yes|"
    r"yeah|right|actually|wait|no|nope|hi|hello|hey|please|correction|typo)\b"
    r"|sorry (?:about|for) (?:that|the (?:typo|confusion|mistake))"
    r"|i (?:mean|meant)|i made a (?:typo|mistake)"
    r"|(?:it|that) (?:is|was|should be|will be)|it'?s|that'?s|its|thats"
    r"|(?:my|the) (?:new |correct |right |updated |proper |actual |full )?"
    r"(?:shipping |delivery |postal |home )?address(?: is| should be| will be)?"
    r"|(?:please )?(?:ship|send|deliver|mail)(?: it| them| the order| my order| the package| the "
    r"parcel| everything)?(?: to| at)?"
    r"|(?:change|update) it to|(?:use|to)"
    r")[\s,:;.!\-\u2013\u2014]*"
)
_TRAILING_CHATTER = re.compile(
    r"(?i)(?:[\s,;.!\-\u2013\u2014]+(?:please|thanks|thank you|thx|cheers|sorry|instead))?"
    r"[\s,;.!]*$"
)


def _state_zip_positions(text: str) -> list[int]:
    """Where a "<state code> <ZIP>" pair starts ("IL 62704", "ny 10009", ", oh 43215")."""
    positions = []
    for match in _STATE_AND_ZIP.finditer(text):
        state = match.group("state")
        if state.lower() not in US_STATES:
            continue
        if state.lower() in _WORDLIKE_STATES and not (state.isupper() or match.group("comma")):
            continue  # "ORD-10001 or 10002" is not Oregon
        positions.append(match.start("state"))
    return positions


def _street_positions(text: str) -> list[int]:
    """Where a street with its number starts: "5 Elm Rd", "Bergstrasse 12", "Via Garibaldi 8"."""
    positions = []
    for number in re.finditer(r"\b\d", text):  # every number: "10006 to 5 Elm Rd" overlaps
        match = _HOUSE_AND_STREET.match(text, number.start())
        if match and not set(match.group("name").lower().split()) & _NOT_IN_STREET_NAMES:
            positions.append(match.start())
    for pattern in (_PREFIXED_STREET, _SUFFIXED_STREET):
        positions.extend(match.start() for match in pattern.finditer(text))
    return sorted(positions)


def address_start(text: str | None) -> int | None:
    """Where the address in a message begins; None when the message does not look like one.

    Signals: house number and street word ("5 Elm Rd"), a continental street ("Bergstrasse 12",
    "Via Garibaldi 8"), a US state with ZIP ("IL 62704"), a UK or Canadian postcode, or a word
    such as "zip", "postcode", "apt", "suite".
    """
    if not text:
        return None
    starts = _street_positions(text)[:1]
    starts.extend(match.start() for match in [_ADDRESS_KEYWORDS.search(text)] if match)
    starts.extend(_state_zip_positions(text)[:1])
    for pattern in (_UK_POSTCODE, _CA_POSTCODE):
        match = pattern.search(text)
        # Postcodes alone are weak signals ("b30 4sx" could be anything): need a comma as well.
        if match and "," in text and not _EXPLICIT_ORDER.search(text):
            starts.append(match.start())
    return min(starts) if starts else None


def looks_like_address(text: str | None) -> bool:
    """Whether a message contains something that looks like a postal address."""
    return address_start(text) is not None


def order_ids_outside_address(text: str | None) -> list[str]:
    """The order ids in a message, leaving out numbers that belong to an address in it.

    "5 Elm Rd, Springfield, IL 62704" has none (62704 is a ZIP code); "change order 10006 to 5
    Elm Rd, ... IL 62704" has ORD-10006: marked ids ("ORD-", "#", "order 10006") always count,
    bare numbers only before the address starts.
    """
    start = address_start(text)
    found = [
        mention.order_id
        for mention in find_order_ids(text)
        if mention.explicit or start is None or mention.start < start
    ]
    return list(dict.fromkeys(found))


def clean_address(text: str | None) -> str:
    """The address without the chatter around it.

    "oops: 5 Elm Rd, Springfield, IL 62704" -> "5 Elm Rd, Springfield, IL 62704";
    "my new address is 10 main st new york ny 10009" -> "10 main st new york ny 10009";
    "c/o Jane Doe, 5 Elm Rd, ..." keeps the c/o line (it is part of the address);
    "5 Elm Rd, ... no wait, 7 Elm Rd, ..." -> the address after the correction.
    """
    cleaned = " ".join(str(text or "").split())
    corrected = corrected_part(cleaned)
    if corrected != cleaned and is_plausible_address(clean_address(corrected)):
        return clean_address(corrected)
    start = address_start(cleaned)
    if start:
        prefix = cleaned[:start]
        prefix_words = re.findall(r"[\w'’]+:?", prefix.lower())
        ends_with_connector = re.search(r"(?i)(?:\bto|\bat|\bis|:|\u2013|\u2014|\s-)\s*$", prefix)
        if ends_with_connector or all(
            word.rstrip(":").replace("’", "'") in _CHATTER_WORDS for word in prefix_words
        ):
            cleaned = cleaned[start:]
            if re.search(r"(?i)\bto\s*$", prefix):
                # "could you send it to 5 Elm Rd, ...? we moved": the question mark ends the
                # request, and what follows it is no part of the address
                cleaned = cleaned.split("?")[0]
    elif start is None:  # no recognisable street: strip the usual openings only
        previous = None
        while previous != cleaned:  # "oops, sorry, it's ..."
            previous = cleaned
            if _starts_with_chatter(cleaned):
                cleaned = _LEADING_CHATTER.sub("", cleaned, count=1)
    cleaned = _TRAILING_CHATTER.sub("", cleaned)
    return cleaned.strip(" ,;:-\u2013\u2014")


_ZIP_WORD = re.compile(r"(?i)\b(?:zip\s*code|zipcode|zip|post\s*code|postcode|postal\s+code)\b")
_US_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
# A ZIP code named as the wrong one: "not 78701", "instead of 78701", "78701 is wrong".
_REJECTED_ZIP = re.compile(
    r"(?i)(?:\bnot|\binstead\s+of|\b(?:is|was)n'?t)\s+$|^\s*(?:is|was)\s+(?:wrong|incorrect|a\s+typo)\b"
)


def corrected_zip(text: str | None) -> str | None:
    """The ZIP code a message corrects on its own: "oops the zip is wrong, its 78702", "sorry,
    zip should be 78702 not 78701". None when the message has a street too (then it is a whole
    address), names no ZIP code, or corrects nothing ("my zip 62704" is no address)."""
    text = text or ""
    word = _ZIP_WORD.search(text)
    if word is None or _street_positions(text) or not (
        looks_like_correction(text) or re.search(r"(?i)\b(?:should be|not)\b", text)
    ):
        return None
    candidates = [
        match.group() for match in _US_ZIP.finditer(text, word.end())
        if not _REJECTED_ZIP.search(text[max(0, match.start() - 12):match.start()])
        and not _REJECTED_ZIP.search(text[match.end():match.end() + 16])
    ]
    return candidates[0] if candidates else None


def with_zip(address: str, zip_code: str) -> str | None:
    """The address with its (last) US ZIP code replaced; None when it has none."""
    found = list(_US_ZIP.finditer(address or ""))
    if not found:
        return None
    last = found[-1]
    return f"{address[:last.start()]}{zip_code}{address[last.end():]}"


def _starts_with_chatter(text: str) -> bool:
    """Only strip leading words when something address-like follows (never eat the address)."""
    match = _LEADING_CHATTER.match(text)
    return bool(match and match.end() > 0 and any(c.isdigit() for c in text[match.end() :]))


def is_plausible_address(address: str | None) -> bool:
    """A postal address: some length, a number (house or postcode), letters, and an address shape.

    The shape is a recognised street with its number, or at least two comma-separated parts with
    a postcode, state or address word among them (a ZIP code alone is not an address). Questions
    and order numbers are not addresses.
    """
    if not address:
        return False
    text = address.strip()
    if not (MIN_ADDRESS_LENGTH <= len(text) <= MAX_ADDRESS_LENGTH):
        return False
    if not any(character.isdigit() for character in text):
        return False
    if sum(character.isalpha() for character in text) < 4:
        return False
    if "?" in text or _EXPLICIT_ORDER.search(text):
        return False
    parts = [part for part in text.split(",") if part.strip()]
    # Two parts need an address signal too ("5 Elm, Springfield 62704"): "wrong order, i meant
    # 10003 (the speaker)" has none.
    return bool(_street_positions(text)) or len(parts) >= 2 and (
        address_start(text) is not None
        or bool(_HOUSE_NUMBER_FIRST.match(parts[0]) or _POSTCODE_LAST.search(parts[-1]))
    )
