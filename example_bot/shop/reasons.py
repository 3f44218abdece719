"""The reason for a return, when the request already gives it.

"I'd like to return the X200 from order 10001 - the left earcup crackles" states the reason
after the request; asking "why are you returning it?" again would make the customer repeat it.
"""

from __future__ import annotations

import re

# Where one part of a message ends and another begins: sentence ends, dashes, commas, and the
# words that introduce a reason.
_PARTS = re.compile(
    r"(?:[.!;:]+\s+|\s[-\u2013\u2014]+\s|,\s*|\s*\((?=[^)]*\)))"
    r"|\s+(?:because|cause|cuz|coz|since|as)\s+",
    re.IGNORECASE,
)
# A part that makes the request or names the order, not the reason.
_REQUEST = re.compile(
    r"\b(?:return|send(?:ing)? (?:\w+ )?back|refund|exchange|swap|want to|wanna|would like|"
    r"i'?d like|order|rma)\b|\d{4,}|\bord-",
    re.IGNORECASE,
)
_PLEASANTRY = re.compile(
    r"^\W*(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks?|thank you|thx|please|pls|"
    r"same order|ok(?:ay)?|so)\b",
    re.IGNORECASE,
)
# Not a reason: a question ("is that ok"), or what was bought and when ("I bought a dock and a
# charger", "got it about a month ago").
_NO_REASON = re.compile(
    r"^\W*(?:(?:is|are|can|could|do|does|did|will|would|how|what|when|why|where|which)\b"
    r"|(?:(?:i|we)\s+)?(?:just\s+)?(?:bought|ordered|purchased|got|received|had)\s+"
    r"(?:it|them|this|these|those|a|an|the|my|some)\b)",
    re.IGNORECASE,
)
# A slip in what the customer typed before ("sorry wrong number, its 10009"), not about the item.
_SLIP = re.compile(
    r"\b(?:wrong (?:order )?(?:number|no|nr|id)|typo|mistyped|my bad|i meant|not (?:that|this) "
    r"(?:one|order)|wrong (?:one|order)|the other (?:one|order)|mixed (?:them|it|those) up)\b",
    re.IGNORECASE,
)
MIN_REASON_WORDS = 3
_WORDS = re.compile(r"[a-z0-9]+")
_FILLER = {"the", "my", "a", "an", "this", "that", "one", "ones", "it", "them", "those", "these",
           "item", "thing", "stuff", "other", "new", "old", "pair", "of",
           # a correction of the item ("... no actually the charger")
           "no", "actually", "wait", "sorry", "i", "meant", "mean", "instead", "rather", "oops"}


def stated_reason(text: str | None, item: str = "") -> str | None:
    """The parts of a return request that say why ("the left earcup crackles at high volume"),
    or None when it gives no reason. A part that only names the `item` ("the usb-c cable")
    is no reason."""
    item_words = set(_WORDS.findall(item.lower())) | _FILLER
    sentences = [sentence for sentence in re.split(r"(?<=\?)\s*", text or "") if sentence]
    pieces = [(part.strip(" )("), sentence.rstrip().endswith("?")) for sentence in sentences
              for part in _PARTS.split(sentence) if part and part.strip()]
    if len(pieces) < 2:
        return None  # the request alone ("i wnat to retrun the kdis headphnes")
    parts = [part for part, in_question in pieces if not in_question]
    reasons = [
        part for part in parts
        if len(part.split()) >= MIN_REASON_WORDS
        and not _REQUEST.search(part)
        and not _PLEASANTRY.match(part)
        and not _NO_REASON.match(part)
        and not _SLIP.search(part)
        and not set(_WORDS.findall(part.lower())) <= item_words
    ]
    return "; ".join(reasons) or None
