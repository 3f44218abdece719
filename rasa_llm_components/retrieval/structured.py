"""FAQ-style knowledge in YAML or JSON.

Accepted shapes: a list of entries, or a mapping with one list under ``faqs``/``faq``/
``passages``/``entries``/``items``/``documents``. An entry needs a ``question`` or ``title`` and an
``answer`` or ``text``; ``id`` is optional (a slug of the question otherwise); ``topic`` and any
other scalar fields go to the passage metadata.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml

from rasa_llm_components.retrieval.files import read_text
from rasa_llm_components.retrieval.passage import KnowledgeBaseError, Passage, slugify

logger = logging.getLogger(__name__)

LIST_KEYS = ("faqs", "faq", "passages", "entries", "items", "documents")
TITLE_KEYS = ("question", "title", "q")
TEXT_KEYS = ("answer", "text", "a", "content")


def _parse(path: Path) -> Any:
    text = read_text(path)
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text) if text.strip() else None
        return yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise KnowledgeBaseError(
            f"Knowledge file '{path.name}' line {error.lineno}, column {error.colno}: not valid "
            f"JSON ({error.msg}). Fix the file or remove it from 'knowledge_paths'."
        ) from error
    except yaml.YAMLError as error:
        raise KnowledgeBaseError(_yaml_message(path, error)) from error


def _yaml_message(path: Path, error: yaml.YAMLError) -> str:
    """One line for a YAML error: the file, the line and column, and the problem."""
    mark = getattr(error, "problem_mark", None)
    where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    detail = f"{context}: {problem}" if context else problem
    return (
        f"Knowledge file '{path.name}'{where}: not valid YAML ({detail}). Check the indentation "
        "and quote answers that contain ': ' or start with a special character."
    )


def _entries(data: Any, path: Path) -> list[Any]:
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if key in data:
                value = data[key]
                if not isinstance(value, list):
                    raise KnowledgeBaseError(
                        f"Knowledge file '{path.name}': '{key}' must be a list of entries."
                    )
                return value
    raise KnowledgeBaseError(
        f"Knowledge file '{path.name}' must contain a list of entries or a mapping with one of "
        f"the keys {', '.join(LIST_KEYS)}."
    )


def _first(entry: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = entry.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _json_safe(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return str(value)


def load_structured(path: Path) -> list[Passage]:
    """Loads an FAQ YAML/JSON file into one passage per entry."""
    entries = _entries(_parse(path), path)
    if not entries:
        logger.warning("Knowledge file '%s' contains no entries.", path.name)
    passages = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise KnowledgeBaseError(
                f"Knowledge file '{path.name}': entry {number} is not a mapping."
            )
        title = _first(entry, TITLE_KEYS)
        text = _first(entry, TEXT_KEYS)
        if title is None or text is None:
            raise KnowledgeBaseError(
                f"Knowledge file '{path.name}': entry {number} needs a question/title and an "
                "answer/text."
            )
        key = str(entry["id"]).strip() if entry.get("id") not in (None, "") else slugify(title)
        metadata = {
            name: _json_safe(value)
            for name, value in entry.items()
            if name not in ("id",) + TITLE_KEYS + TEXT_KEYS
        }
        metadata["kind"] = "faq"
        passages.append(
            Passage(id=f"{path.stem}:{key}", title=title, text=text, source=path.name,
                    metadata=metadata)
        )
    return passages
