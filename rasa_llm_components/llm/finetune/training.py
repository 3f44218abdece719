"""LoRA fine-tuning (peft) of the packaged GGUF model on the training set, on the CPU.

The base weights come from the GGUF file itself through transformers' GGUF loader (dequantized
to float32), so the model that is fine-tuned is the model that runs. Prompts are rendered with
the model's chat template and tokenized as llama.cpp does (with its BOS token); the loss covers
only the answer tokens and the end-of-turn token, and only their logits are computed.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasa.shared.exceptions import RasaException

from rasa_llm_components.llm.finetune.dataset import TrainingExample

LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
END_OF_TURN = "<|im_end|>"


class FineTuneError(RasaException):
    """The fine-tuning cannot run (missing packages, no examples, bad settings)."""


@dataclass
class TrainSettings:
    """How the LoRA adapter is trained; the same settings and seed give the same weights."""

    steps: int = 80
    seed: int = 42
    batch_size: int = 4
    learning_rate: float = 1e-3
    warmup_ratio: float = 0.1
    rank: int = 16
    alpha: int = 32
    # LoRA on the last `layers` transformer blocks only (None = all 30): the blocks below need
    # no backward pass, which makes a step about 1.8 times cheaper than with all blocks.
    layers: int | None = 10
    num_threads: int = 0
    # Stop after this many minutes of training (0 = run all steps): on a busy machine the
    # adapter trained so far is exported rather than nothing.
    max_minutes: float = 0.0
    show_progress: bool = True

    def validate(self) -> None:
        for name in ("steps", "batch_size", "rank", "alpha"):
            if int(getattr(self, name)) < 1:
                raise FineTuneError(f"Fine-tuning option '{name}' must be a positive integer.")
        if self.max_minutes < 0:
            raise FineTuneError("Fine-tuning option 'max_minutes' must be >= 0.")
        if not self.learning_rate > 0:
            raise FineTuneError("Fine-tuning option 'learning_rate' must be > 0.")
        if self.layers is not None and self.layers < 1:
            raise FineTuneError("Fine-tuning option 'layers' must be a positive integer or None.")


@dataclass
class TrainResult:
    """The trained adapter model and what the training did."""

    model: Any
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    target_layers: list[int] = field(default_factory=list)


def _allow_gguf_import() -> None:
    """transformers finds `gguf`'s version through `top_level.txt`, which the gguf wheel lacks
    (Python 3.10's `packages_distributions` reads nothing else): tell it the distribution."""
    from transformers.utils import import_utils

    import_utils.PACKAGE_DISTRIBUTION_MAPPING.setdefault("gguf", ["gguf"])


def load_base_model(gguf_path: str | os.PathLike) -> tuple[Any, Any]:
    """(float32 model, tokenizer) from a GGUF file, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gguf  # noqa: F401
        import peft  # noqa: F401
    except ImportError as error:
        raise FineTuneError(
            f"Fine-tuning needs the packages 'peft' and 'gguf' ({error}). "
            "Install them with: pip install peft gguf"
        ) from error
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _allow_gguf_import()
    path = Path(gguf_path)
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )
    return model, tokenizer


def encode(example: TrainingExample, tokenizer: Any) -> tuple[list[int], int]:
    """(token ids of prompt + answer + end of turn, number of answer tokens at the end)."""
    prompt = tokenizer.apply_chat_template(
        list(example.messages), tokenize=False, add_generation_prompt=True
    )
    prompt_ids = tokenizer(prompt).input_ids  # with BOS, as llama.cpp tokenizes it
    answer_ids = tokenizer(example.answer + END_OF_TURN, add_special_tokens=False).input_ids
    return list(prompt_ids) + list(answer_ids), len(answer_ids)


def _learning_rate(step: int, settings: TrainSettings) -> float:
    warmup = max(1, int(settings.steps * settings.warmup_ratio))
    if step < warmup:
        return settings.learning_rate * (step + 1) / warmup
    progress = (step - warmup) / max(1, settings.steps - warmup)
    return settings.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))


def train_lora(
    model: Any, tokenizer: Any, examples: Sequence[TrainingExample], settings: TrainSettings
) -> TrainResult:
    """Trains a LoRA adapter on `examples` for `settings.steps` optimizer steps."""
    import torch

    settings.validate()
    if not examples:
        raise FineTuneError("The training set is empty: no question's answer passed the checks.")
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        if settings.num_threads:
            torch.set_num_threads(settings.num_threads)
        torch.use_deterministic_algorithms(True)
        return _train(model, tokenizer, examples, settings)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(
    model: Any, tokenizer: Any, examples: Sequence[TrainingExample], settings: TrainSettings
) -> TrainResult:
    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm import tqdm

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    layer_count = model.config.num_hidden_layers
    layers = list(range(layer_count - min(settings.layers or layer_count, layer_count),
                        layer_count))
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=0.0,
        target_modules=list(LORA_MODULES),
        layers_to_transform=layers,
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, config)
    peft_model.train()
    encoded = [encode(example, tokenizer) for example in examples]
    parameters = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=settings.learning_rate, weight_decay=0.0)
    order: list[int] = []
    losses: list[float] = []
    started = time.perf_counter()
    bar = tqdm(range(settings.steps), desc="Fine-tuning", unit="step",
               disable=not settings.show_progress)
    for step in bar:
        if settings.max_minutes and time.perf_counter() - started > 60 * settings.max_minutes:
            bar.write(f"Stopped after {step} of {settings.steps} steps: the {settings.max_minutes}"
                      "-minute budget is spent.")
            break
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(step, settings)
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for _ in range(settings.batch_size):
            if not order:
                order = list(range(len(encoded)))
                rng.shuffle(order)
            ids, answer_length = encoded[order.pop()]
            input_ids = torch.tensor([ids])
            # Only the logits that predict the answer: the last `answer_length` tokens.
            logits = peft_model(input_ids=input_ids, logits_to_keep=answer_length + 1).logits
            loss = torch.nn.functional.cross_entropy(
                logits[0, :-1].float(), input_ids[0, -answer_length:]
            )
            (loss / settings.batch_size).backward()
            total += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        losses.append(total / settings.batch_size)
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    peft_model.eval()
    return TrainResult(peft_model, losses, time.perf_counter() - started, layers)
