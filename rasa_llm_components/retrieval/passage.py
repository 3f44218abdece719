"""The unit of knowledge: a passage with a stable id, plus the loader error type."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.exceptions import RasaException


class KnowledgeBaseError(RasaException, ValueError):
    """A knowledge file cannot be used: unknown type, unreadable or malformed.

    The message is one line that names the file (and the line where known) and says why; as a
    `RasaException` it reaches the `rasa train` command line as that line, without a traceback.
    """


@dataclass(frozen=True)
class Passage:
    """One retrievable piece of shop knowledge.

    Attributes:
        id: Stable id ``"<file stem>:<key>"``, e.g. ``"faq:shipping-canada"``,
            ``"catalog:AUR-X200"`` or ``"policies:returns#2"`` (chunk 2 of a long section).
        title: Question, product name or section heading.
        text: The passage body (an FAQ answer, ``"column: value"`` lines, a section chunk).
        source: Name of the file it came from.
        metadata: JSON-serialisable extras (``topic``, ``sku``, ``kind``, ``section`` ...).
    """

    id: str
    title: str
    text: str
    source: str
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    @property
    def content(self) -> str:
        """Title and text together, the form that is indexed and shown to an LLM."""
        if not self.title:
            return self.text
        if not self.text:
            return self.title
        return f"{self.title}\n{self.text}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "source": self.source,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(
            id=str(data["id"]),
            title=str(data.get("title", "")),
            text=str(data.get("text", "")),
            source=str(data.get("source", "")),
            metadata=dict(data.get("metadata") or {}),
        )


def slugify(text: str, max_length: int = 60) -> str:
    """Lower-case ASCII slug: ``"Returns & Refunds"`` -> ``"returns-refunds"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"
