"""A content hash of the knowledge files, for Rasa's ``fingerprint_addon``."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from rasa_llm_components.retrieval.files import discover_files, read_bytes


def _display_name(path: Path, roots: list[Path]) -> str:
    resolved = path.resolve()
    for root in roots:
        try:
            return resolved.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name


def knowledge_fingerprint(paths: Sequence[str | Path] | str | Path) -> str:
    """SHA-256 hex digest over the names (relative to the given roots) and bytes of all files.

    Moving the whole knowledge directory keeps the fingerprint; renaming, adding, removing or
    editing a file changes it.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    roots = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        roots.append(path if path.is_dir() else path.parent)
    digest = hashlib.sha256()
    files = sorted(discover_files(paths), key=lambda p: _display_name(p, roots))
    for path, content in read_bytes(files):
        name = _display_name(path, roots).encode("utf-8")
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(len(content).to_bytes(8, "big") + content)
    digest.update(os.fsencode(str(len(files))))
    return digest.hexdigest()
