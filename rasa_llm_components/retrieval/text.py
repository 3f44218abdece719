"""Tokenizer for lexical retrieval: lower-case words, numbers and SKU-like codes, light stemming."""

from __future__ import annotations

import re

STOP_WORDS = frozenset(
    """a an the and or but if then of to in on at by for from with without about into over
    is are was were be been being am do does did done have has had having i me my we our us you
    your yours he she it its they them their this that these those there here what which who whom
    whose when where why how can could would should will shall may might must just so too very
    also not no yes any some all as than up out off again once only own same other such both each
    few more most please hi hello hey thanks thank get got let lets i'm i'd i've im whats what's
    hows how's wheres where's u ur pls plz""".split()
)

# Code-like tokens keep inner hyphens/dots/slashes ("aur-x200", "5.3", "24/7").
_TOKEN = re.compile(r"[a-z0-9]+(?:[-./][a-z0-9]+)*")
_NUMBER = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d+(?:\.\d+)?$")


def _normalise_number(token: str) -> str:
    value = token.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


# Plurals no suffix rule reaches ("the mice" is the mouse a customer ordered two of).
IRREGULAR_PLURALS = {"mice": "mouse", "knives": "knife", "shelves": "shelf", "feet": "foot"}


def stem(word: str) -> str:
    """A light English suffix stripper (plurals, -ing, -ed, -ly, final -e)."""
    word = IRREGULAR_PLURALS.get(word, word)
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def tokenize(text: str, remove_stop_words: bool = True) -> list[str]:
    """Turns text into index terms.

    ``"The AUR-X200 costs $1,299.00"`` ->
    ``["aur-x200", "aurx200", "aur", "x200", "cost", "1299"]``: codes are kept whole and also
    split into their parts and a joined form, so "x200", "AUR X200" and "aurx200" all meet.
    """
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0).strip(".-/")
        if not token:
            continue
        if _NUMBER.match(token):
            terms.append(_normalise_number(token))
            continue
        parts = re.split(r"[-./]", token)
        if len(parts) > 1:
            if any(ch.isdigit() for ch in token):
                terms.append(token)
                terms.append("".join(parts))
            for part in parts:
                if part and not (remove_stop_words and part in STOP_WORDS):
                    terms.append(stem(part) if part.isalpha() else part)
            continue
        if remove_stop_words and token in STOP_WORDS:
            continue
        terms.append(stem(token))
    return terms
