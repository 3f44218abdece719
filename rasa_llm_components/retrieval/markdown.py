"""Markdown (and plain text) knowledge: one passage per heading section, long ones chunked."""

from __future__ import annotations

import re
from pathlib import Path

from rasa_llm_components.retrieval.chunking import chunk_text
from rasa_llm_components.retrieval.files import read_text
from rasa_llm_components.retrieval.passage import Passage, slugify

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|[|>])")
_EMPHASIS = re.compile(r"(\*\*|__|`)(\S.*?)\1", re.S)
_LIST_ITEM = re.compile(r"^(\s*)[-*+]\s+(.*)$")


def plain(text: str) -> str:
    """Drops bold and code markers (``**30 days**`` -> ``30 days``); keeps everything else."""
    return _EMPHASIS.sub(r"\2", text)


def unwrap(text: str) -> str:
    """Joins soft-wrapped lines, so each paragraph or list item is one line."""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            lines.append("")
        elif lines and lines[-1] and not _BLOCK_START.match(line):
            lines[-1] = f"{lines[-1]} {stripped}"
        else:
            lines.append(line.rstrip())
    return "\n".join(lines)


def nest_list_items(text: str) -> str:
    """Gives each nested list item the lead of the items it is nested under, and drops a lead
    that only introduces them: "- United States:" then "  - Standard: 3 to 5 days" becomes
    "  - United States, standard: 3 to 5 days", a sentence that says what it is about."""
    lines = text.splitlines()
    kept: list[str] = []
    leads: list[tuple[int, str]] = []  # (indentation, lead text without its colon)
    for position, line in enumerate(lines):
        match = _LIST_ITEM.match(line)
        if not match:
            if line.strip():
                leads = []
            kept.append(line)
            continue
        indent, item = len(match.group(1)), match.group(2).strip()
        leads = [(level, lead) for level, lead in leads if level < indent]
        following = _LIST_ITEM.match(lines[position + 1]) if position + 1 < len(lines) else None
        if item.endswith(":") and following and len(following.group(1)) > indent:
            leads.append((indent, item[:-1].rstrip()))
            continue
        if leads:
            first, rest = item[:1], item[1:]
            item = f"{', '.join(lead for _, lead in leads)}, " + (
                f"{first.lower() if rest[:1].islower() else first}{rest}"
            )
        kept.append(f"{match.group(1)}- {item}")
    return "\n".join(kept)


def _sections(text: str) -> list[tuple[int, str, str]]:
    """Returns (level, heading, body) triples; text before the first heading has level 0."""
    sections: list[tuple[int, str, list[str]]] = [(0, "", [])]
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            sections.append((len(match.group(1)), plain(match.group(2)).strip(), []))
        else:
            sections[-1][2].append(line)
    return [
        (level, heading, nest_list_items(unwrap(plain("\n".join(body)))).strip())
        for level, heading, body in sections
    ]


def load_markdown(path: Path, max_words: int = 110) -> list[Passage]:
    """Splits a Markdown file on headings; sections longer than ``max_words`` become chunks.

    Ids are ``"<stem>:<heading-slug>"``, or ``"<stem>:<heading-slug>#<n>"`` (n from 1) when a
    section has several chunks. Text before the first heading gets the slug ``intro``.
    """
    passages: list[Passage] = []
    used: dict[str, int] = {}
    ancestors: list[tuple[int, str]] = []
    for level, heading, body in _sections(read_text(path)):
        if level:
            ancestors = [(lvl, name) for lvl, name in ancestors if lvl < level] + [(level, heading)]
        chunks = chunk_text(body, max_words=max_words)
        if not chunks:
            continue
        slug = slugify(heading) if heading else "intro"
        used[slug] = used.get(slug, 0) + 1
        if used[slug] > 1:
            slug = f"{slug}-{used[slug]}"
        section = " > ".join(name for _, name in ancestors) if level else ""
        for number, chunk in enumerate(chunks, start=1):
            suffix = f"#{number}" if len(chunks) > 1 else ""
            metadata = {"kind": "section", "section": section, "chunk": number,
                        "chunks": len(chunks)}
            passages.append(
                Passage(id=f"{path.stem}:{slug}{suffix}", title=heading, text=chunk,
                        source=path.name, metadata=metadata)
            )
    return passages
