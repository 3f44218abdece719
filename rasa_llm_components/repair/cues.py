"""Cues in what a customer typed: a question, a correction (English).

Used by the repair policy and by form validators in action servers ("actually the mouse" at the
reason question is a new item, not a reason).
"""

from __future__ import annotations

import re

_CORRECTION = re.compile(
    r"\b(actually|sorry|oops|wait|meant|instead|rather|wrong|my bad|correction|typo)\b"
    r"|\bno\s*,|\bnot that\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"\?\s*$|^\s*(what|where|when|why|how|which|who|whose|can|could|do|does|did|is|are|will|"
    r"would|should|may)\b",
    re.IGNORECASE,
)


def looks_like_question(text: str) -> bool:
    """A question mark at the end, or a question word at the start."""
    return bool(_QUESTION.search(text or ""))


def looks_like_correction(text: str) -> bool:
    """Words that announce a changed value: "actually", "sorry", "I meant", "no, ...", ..."""
    return bool(_CORRECTION.search(text or ""))
