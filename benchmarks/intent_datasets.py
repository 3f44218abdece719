"""The intent benchmark's datasets (BANKING77, CLINC150) as lists of (text, intent)."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

Example = tuple[str, str]
OUT_OF_SCOPE = "oos"


@dataclass
class IntentDataset:
    """A train/test split, plus validation data where the setting tunes a threshold."""

    name: str
    train: list[Example]
    test: list[Example]
    validation: list[Example] = field(default_factory=list)


def _read_csv(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def sample_per_intent(examples: list[Example], shots: int, seed: int) -> list[Example]:
    """`shots` random examples of every intent (all of them if an intent has fewer)."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples:
        by_intent.setdefault(intent, []).append(text)
    rng = random.Random(seed)
    sampled: list[Example] = []
    for intent in sorted(by_intent):
        texts = by_intent[intent][:]
        rng.shuffle(texts)
        sampled.extend((text, intent) for text in texts[:shots])
    return sampled


def banking77(data_dir: Path, shots: int | None = None, seed: int = 0) -> IntentDataset:
    """BANKING77 with its official test split; `shots` samples the training data per intent."""
    folder = data_dir / "banking77"
    train = _read_csv(folder / "train.csv")
    name = "banking77-full"
    if shots:
        train = sample_per_intent(train, shots, seed)
        name = f"banking77-{shots}shot-seed{seed}"
    return IntentDataset(name, train, _read_csv(folder / "test.csv"))


def clinc150(data_dir: Path) -> IntentDataset:
    """CLINC150 (full): in-scope train; validation and test include the out-of-scope queries,
    labelled `oos`, which no model is trained on."""
    data = json.loads((data_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))

    def items(*keys: str) -> list[Example]:
        return [(text, label) for key in keys for text, label in data[key]]

    return IntentDataset(
        "clinc150",
        train=items("train"),
        test=items("test", "oos_test"),
        validation=items("val", "oos_val"),
    )
