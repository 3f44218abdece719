"""Which catalog row a clause of an answer is about, when the evidence holds several.

"The Pulse 3 Lite also has NFC payments" is backed by the evidence as a whole when the Pulse 3's
row lists NFC, but not by the Lite's own row, which says "no NFC payments". A comparison is where
a fluent model most often moves a feature, a price or a colour to the wrong product, so each
clause that names exactly one row is checked against that row (and the prose passages).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FIELD_LINE = re.compile(r"^[A-Za-z][\w ]{0,40}:\s", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9]+")
# A clause that starts with one of these is about the product the previous clause named.
_PRONOUN_LEAD = re.compile(r"^\W*(?:it|its|it's|they|their|this one|that one|the latter)\b",
                           re.IGNORECASE)


@dataclass(frozen=True)
class CatalogRow:
    """One product's row among the evidence: its title's words and its whole text."""

    title: tuple[str, ...]
    text: str


def is_row(text: str) -> bool:
    """Whether an evidence text is a table row: three "field: value" lines or more."""
    return len(_FIELD_LINE.findall(text)) >= 3


def catalog_rows(texts: Sequence[str]) -> list[CatalogRow]:
    """The evidence texts that are catalog rows, titled by the words before the first ". "
    ("Nimbra Pulse 3 Smartwatch. sku: ...")."""
    rows = []
    for text in texts:
        if is_row(text) and ". " in text:
            title = tuple(_WORD.findall(text.split(". ", 1)[0].lower()))
            if title:
                rows.append(CatalogRow(title, text))
    return rows


def _is_code(word: str) -> bool:
    return any(ch.isdigit() for ch in word) and any(ch.isalpha() for ch in word)


def _mentions(words: list[str], rows: Sequence[CatalogRow]) -> list[tuple[int, int, int]]:
    """(length, start, row) of every run of the clause's words that is a run of a row's title
    and names that row: two words or more, a code ("x200"), or a word no other title has."""
    found = []
    for index, row in enumerate(rows):
        others = {word for other in rows if other is not row for word in other.title}
        for start in range(len(words)):
            for offset in range(len(row.title)):
                length = 0
                while (start + length < len(words) and offset + length < len(row.title)
                       and words[start + length] == row.title[offset + length]):
                    length += 1
                if length >= 2 or (length == 1 and (
                        _is_code(words[start])
                        or (words[start] not in others and not words[start].isdigit()))):
                    found.append((length, start, index))
    return found


def named_row(clause: str, rows: Sequence[CatalogRow]) -> CatalogRow | None:
    """The one row the clause names, or None when it names none or several.

    Longer mentions win ("Pulse 3 Lite" over "Pulse 3"); for mentions of equal length, the row
    with the shorter title ("Pulse 3" is the Pulse 3, not the Pulse 3 Lite).
    """
    words = _WORD.findall(clause.lower())
    mentions = sorted(_mentions(words, rows),
                      key=lambda m: (-m[0], len(rows[m[2]].title), m[1]))
    taken: set[int] = set()
    named: set[int] = set()
    for length, start, index in mentions:
        span = set(range(start, start + length))
        if span & taken:
            continue
        taken |= span
        named.add(index)
    return rows[named.pop()] if len(named) == 1 else None


def rows_of_clauses(clauses: Sequence[str], rows: Sequence[CatalogRow]) -> list[CatalogRow | None]:
    """The row each clause is about; a clause led by "it" or "they" keeps the previous one."""
    attributed: list[CatalogRow | None] = []
    previous: CatalogRow | None = None
    for clause in clauses:
        row = named_row(clause, rows)
        if row is None and _PRONOUN_LEAD.match(clause):
            row = previous
        attributed.append(row)
        previous = row
    return attributed
