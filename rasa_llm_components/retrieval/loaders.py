"""``load_passages``: every supported knowledge file under some paths, as passages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rasa_llm_components.retrieval.files import (
    MARKDOWN_SUFFIXES,
    STRUCTURED_SUFFIXES,
    TABLE_SUFFIXES,
    discover_files,
)
from rasa_llm_components.retrieval.markdown import load_markdown
from rasa_llm_components.retrieval.passage import KnowledgeBaseError, Passage
from rasa_llm_components.retrieval.structured import load_structured
from rasa_llm_components.retrieval.tabular import load_table


def load_file(path: Path, max_words: int = 110) -> list[Passage]:
    """Loads one file, choosing the reader by extension."""
    suffix = path.suffix.lower()
    if suffix in STRUCTURED_SUFFIXES:
        return load_structured(path)
    if suffix in MARKDOWN_SUFFIXES:
        return load_markdown(path, max_words=max_words)
    if suffix in TABLE_SUFFIXES:
        return load_table(path)
    raise KnowledgeBaseError(f"Knowledge file '{path.name}' has an unsupported extension.")


def load_passages(
    paths: Sequence[str | Path] | str | Path, max_words: int = 110
) -> list[Passage]:
    """Loads all passages from files and directories (searched recursively).

    Supported: FAQ YAML/JSON, Markdown/plain text (split on headings, chunked to ``max_words``),
    CSV (one passage per row).

    Raises:
        KnowledgeBaseError: a missing path, an unknown extension, an unreadable or malformed
            file, or the same passage id in two places. The message names the file(s).
    """
    passages: list[Passage] = []
    origin: dict[str, str] = {}
    for path in discover_files(paths):
        for passage in load_file(path, max_words=max_words):
            if passage.id in origin:
                raise KnowledgeBaseError(
                    f"Passage id '{passage.id}' occurs twice (in '{origin[passage.id]}' and "
                    f"'{passage.source}'). Ids must be unique: rename the file or the entry."
                )
            origin[passage.id] = passage.source
            passages.append(passage)
    return passages
