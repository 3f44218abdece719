"""Where a benchmark that starts servers keeps its logs and databases."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path


def in_work_dir(keep_dir: Path | None, prefix: str, run: Callable[[Path], int]) -> int:
    """Runs `run(work_dir)` in `keep_dir` (created and kept, for reading the logs afterwards),
    or in a temporary folder that is removed afterwards."""
    if keep_dir:
        keep_dir.mkdir(parents=True, exist_ok=True)
        return run(keep_dir.resolve())
    with tempfile.TemporaryDirectory(prefix=prefix) as work_dir:
        return run(Path(work_dir))
