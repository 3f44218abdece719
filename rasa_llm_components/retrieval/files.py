"""Finding knowledge files on disk and reading them with clear errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rasa_llm_components.retrieval.passage import KnowledgeBaseError

STRUCTURED_SUFFIXES = (".yml", ".yaml", ".json")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
TABLE_SUFFIXES = (".csv",)
SUPPORTED_SUFFIXES = STRUCTURED_SUFFIXES + MARKDOWN_SUFFIXES + TABLE_SUFFIXES


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def discover_files(paths: Sequence[str | Path] | str | Path) -> list[Path]:
    """Expands files and directories (recursively, hidden entries skipped) into a sorted list.

    Raises:
        KnowledgeBaseError: a path does not exist or a file has an unsupported extension.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            children = sorted(p for p in path.rglob("*") if p.is_file() and not _is_hidden(p, path))
            found.extend(children)
        elif path.is_file():
            found.append(path)
        else:
            raise KnowledgeBaseError(f"Knowledge path '{path}' does not exist.")
    for path in found:
        check_supported(path)
    return list(dict.fromkeys(found))


def check_supported(path: Path) -> None:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise KnowledgeBaseError(
            f"Knowledge file '{path.name}' has the unsupported extension '{path.suffix}'. "
            f"Supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )


def read_text(path: Path) -> str:
    """Reads a UTF-8 file (a BOM is dropped)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise KnowledgeBaseError(
            f"Knowledge file '{path.name}' is not valid UTF-8 text: {error}."
        ) from error
    except OSError as error:
        message = f"Knowledge file '{path.name}' cannot be read: {error}."
        raise KnowledgeBaseError(message) from error


def read_bytes(paths: Iterable[Path]) -> Iterable[tuple[Path, bytes]]:
    for path in paths:
        try:
            yield path, path.read_bytes()
        except OSError as error:
            raise KnowledgeBaseError(
                f"Knowledge file '{path.name}' cannot be read: {error}."
            ) from error
