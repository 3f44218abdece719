"""The whole fine-tune: training set from the knowledge, LoRA training, GGUF export."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rasa_llm_components.llm.finetune.dataset import (
    DatasetBuilder,
    TrainingExample,
    build_index,
    write_jsonl,
)
from rasa_llm_components.llm.finetune.export import export_gguf, merged_weights
from rasa_llm_components.llm.finetune.training import (
    FineTuneError,
    TrainSettings,
    load_base_model,
    train_lora,
)

MODEL_FILE = "finetuned.gguf"
DATASET_FILE = "train.jsonl"
SUMMARY_FILE = "finetune.json"


@dataclass
class FineTuneSummary:
    """What a fine-tune produced, written to `finetune.json` next to the model."""

    model_path: str
    dataset_path: str
    examples: int
    examples_by_kind: dict[str, int]
    drafts_dropped: dict[str, int]
    settings: dict[str, Any]
    steps_done: int = 0
    first_losses: list[float] = field(default_factory=list)
    last_losses: list[float] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def build_dataset(
    knowledge: Sequence[str],
    seed: int,
    limit: int = 0,
    answer_settings: dict[str, Any] | None = None,
) -> tuple[list[TrainingExample], Counter[str]]:
    """The training examples of a knowledge base and why the other drafts were dropped."""
    builder = DatasetBuilder(build_index(knowledge), answer_settings)
    return builder.build(seed, limit), builder.rejected


def fine_tune(
    knowledge: Sequence[str],
    out_dir: str | os.PathLike,
    settings: TrainSettings,
    limit: int = 0,
    answer_settings: dict[str, Any] | None = None,
    base_model: str | None = None,
    quantization: str = "q8_0",
) -> FineTuneSummary:
    """Builds the set, trains, exports `out_dir/finetuned.gguf`; returns the summary."""
    from rasa_llm_components.llm.llamacpp import resolve_model_path

    settings.validate()
    base = resolve_model_path(base_model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    examples, dropped = build_dataset(knowledge, settings.seed, limit, answer_settings)
    if not examples:
        raise FineTuneError(
            f"No training example could be built from {list(knowledge)}: every drafted "
            f"question was dropped ({dict(dropped)})."
        )
    write_jsonl(examples, out / DATASET_FILE)
    seconds["dataset"] = time.perf_counter() - started

    started = time.perf_counter()
    model, tokenizer = load_base_model(base)
    seconds["load"] = time.perf_counter() - started
    result = train_lora(model, tokenizer, examples, settings)
    seconds["training"] = result.seconds
    result.model.save_pretrained(str(out / "adapter"))

    started = time.perf_counter()
    model_path = export_gguf(
        base, merged_weights(result.model, result.target_layers), out / MODEL_FILE, quantization
    )
    seconds["export"] = time.perf_counter() - started
    summary = FineTuneSummary(
        model_path=str(model_path),
        dataset_path=str(out / DATASET_FILE),
        examples=len(examples),
        examples_by_kind=dict(Counter(example.kind for example in examples)),
        drafts_dropped=dict(dropped),
        settings={**asdict(settings), "base_model": base, "quantization": quantization,
                  "limit": limit, "answer_settings": answer_settings or {}},
        steps_done=len(result.losses),
        first_losses=[round(loss, 4) for loss in result.losses[:5]],
        last_losses=[round(loss, 4) for loss in result.losses[-5:]],
        seconds={key: round(value, 1) for key, value in seconds.items()},
    )
    (out / SUMMARY_FILE).write_text(json.dumps(asdict(summary), indent=1), encoding="utf-8")
    return summary
