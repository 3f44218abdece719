"""Sentence splitting and packing long text into chunks of bounded length."""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by space and an upper-case letter/digit/quote, or at a newline.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "approx.", "vs.", "no.", "incl.", "mr.", "ms.", "dr.")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def split_sentences(text: str) -> list[str]:
    """Splits text into sentences and list items (newlines always break)."""
    pieces = [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and merged[-1].lower().endswith(_ABBREVIATIONS) and "\n" not in merged[-1]:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return [_LIST_MARKER.sub("", piece).strip() for piece in merged if piece.strip()]


def _units(text: str, max_words: int) -> list[tuple[str, str]]:
    """(unit, separator before it): paragraphs, else list items, else sentences."""
    units: list[tuple[str, str]] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph.split()) <= max_words:
            units.append((paragraph, "\n\n"))
            continue
        for item in re.split(r"\n(?=\s*(?:[-*+]|\d+[.)])\s)", paragraph):
            item = item.strip()
            if len(item.split()) <= max_words:
                units.append((item, "\n"))
            else:
                sentences = re.split(r"(?<=[.!?])\s+", item)
                units.append((sentences[0], "\n"))
                units.extend((sentence, " ") for sentence in sentences[1:])
    return units


def chunk_text(text: str, max_words: int = 110) -> list[str]:
    """Packs paragraphs, list items, then sentences into chunks of at most ``max_words`` words.

    A single sentence longer than ``max_words`` becomes its own chunk. Short text is one chunk.
    """
    text = text.strip()
    if not text:
        return []
    if len(text.split()) <= max_words:
        return [text]
    chunks: list[str] = []
    current = ""
    count = 0
    for unit, separator in _units(text, max_words):
        words = len(unit.split())
        if current and count + words > max_words:
            chunks.append(current)
            current, count = "", 0
        current = f"{current}{separator}{unit}" if current else unit
        count += words
    if current:
        chunks.append(current)
    return chunks
