"""Reaching the TransformerIntentClassifier inside a trained Rasa model archive."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def unpacked_classifier(model: Path) -> Iterator[Path]:
    """The classifier's persisted directory, unpacked from `model` (a Rasa `.tar.gz`)."""
    with tempfile.TemporaryDirectory() as unpacked:
        with tarfile.open(model) as archive:
            archive.extractall(unpacked)
        found = next(Path(unpacked).glob("components/*TransformerIntentClassifier*"), None)
        if found is None:
            raise ValueError(f"{model} holds no trained TransformerIntentClassifier.")
        yield found
