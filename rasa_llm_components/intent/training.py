"""Fine-tuning loop for `CosineIntentModel` with length-bucketed batches and a progress bar."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm
from transformers import PreTrainedTokenizerBase

from rasa_llm_components.intent.model import CosineIntentModel

logger = logging.getLogger(__name__)


@dataclass
class FineTuningSettings:
    """Hyper-parameters of one fine-tuning run."""

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-4
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    label_smoothing: float = 0.0
    max_length: int = 64
    random_seed: int = 42
    show_progress: bool = True


def seed_everything(seed: int) -> None:
    """Makes a run repeatable: same seed, same data → same weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def length_bucketed_batches(
    lengths: list[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Shuffled batches of examples with similar length, so padding stays small."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    # Sort within windows of a few batches: similar lengths together, still random overall.
    window = batch_size * 8
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def tokenize(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int
) -> dict[str, torch.Tensor]:
    return tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    )


@torch.no_grad()
def embed_texts(
    model: CosineIntentModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    max_length: int,
    batch_size: int = 64,
) -> torch.Tensor:
    """Embeds texts with the model's current encoder (eval mode), in the input order."""
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    result = torch.zeros(len(texts), model.intent_vectors.shape[1])
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = tokenize(tokenizer, [texts[i] for i in chunk], max_length)
        result[chunk] = model.embed(batch["input_ids"], batch["attention_mask"])
    return result


def fine_tune(
    model: CosineIntentModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    labels: list[int],
    settings: FineTuningSettings,
) -> list[float]:
    """Trains encoder and head together; returns the mean loss of each epoch."""
    seed_everything(settings.random_seed)
    label_tensor = torch.tensor(labels)
    model.initialise_from_centroids(
        embed_texts(model, tokenizer, texts, settings.max_length), label_tensor
    )
    encoded = [tokenizer(text, truncation=True, max_length=settings.max_length) for text in texts]
    lengths = [len(item["input_ids"]) for item in encoded]
    rng = random.Random(settings.random_seed)
    steps_per_epoch = -(-len(texts) // settings.batch_size)
    total_steps = max(1, steps_per_epoch * settings.epochs)

    optimizer = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": settings.learning_rate},
            {"params": [model.intent_vectors], "lr": settings.head_learning_rate},
        ],
        weight_decay=settings.weight_decay,
    )
    warmup = int(total_steps * settings.warmup_ratio)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    loss_function = nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
    epoch_losses: list[float] = []
    progress = tqdm(
        total=total_steps,
        desc="Fine-tuning intent classifier",
        disable=not settings.show_progress,
        unit="step",
    )
    model.train()
    for epoch in range(settings.epochs):
        running, seen = 0.0, 0
        for batch_indices in length_bucketed_batches(lengths, settings.batch_size, rng):
            batch = tokenizer.pad(
                [encoded[i] for i in batch_indices], padding=True, return_tensors="pt"
            )
            logits = model(batch["input_ids"], batch["attention_mask"])
            loss = loss_function(logits, label_tensor[batch_indices])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running += loss.item() * len(batch_indices)
            seen += len(batch_indices)
            progress.update(1)
            progress.set_postfix(epoch=epoch + 1, loss=f"{running / seen:.4f}")
        epoch_losses.append(running / max(1, seen))
        logger.debug("Epoch %d/%d: loss %.4f", epoch + 1, settings.epochs, epoch_losses[-1])
    progress.close()
    model.eval()
    return epoch_losses
