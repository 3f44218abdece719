"""A trained intent model with its tokenizer and label map: train, predict, save, load."""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import PreTrainedTokenizerBase

from rasa_llm_components.encoders import load_encoder, resolve_model_path
from rasa_llm_components.intent.model import CosineIntentModel
from rasa_llm_components.intent.training import FineTuningSettings, fine_tune, seed_everything

logger = logging.getLogger(__name__)

ENCODER_DIR = "encoder"
HEAD_FILE = "intent_head.safetensors"
META_FILE = "intent_model.json"


CHARS_PER_TOKEN = 16


class IntentPredictor:
    """Scores texts against the intents a `CosineIntentModel` was fine-tuned on."""

    def __init__(
        self,
        model: CosineIntentModel,
        tokenizer: PreTrainedTokenizerBase,
        labels: list[str],
        max_length: int,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.labels = labels
        self.max_length = max_length

    @classmethod
    def train(
        cls,
        texts: list[str],
        labels: list[str],
        model_name_or_path: str | None,
        settings: FineTuningSettings,
        scale: float = 30.0,
    ) -> tuple[IntentPredictor, list[float]]:
        """Fine-tunes a fresh copy of the encoder on labelled texts."""
        intent_names = sorted(set(labels))
        index = {name: i for i, name in enumerate(intent_names)}
        seed_everything(settings.random_seed)
        tokenizer, encoder = load_encoder(resolve_model_path(model_name_or_path))
        model = CosineIntentModel(encoder, len(intent_names), scale=scale)
        losses = fine_tune(model, tokenizer, texts, [index[label] for label in labels], settings)
        return cls(model, tokenizer, intent_names, settings.max_length), losses

    @torch.inference_mode()
    def logits(self, texts: list[str]) -> torch.Tensor:
        """Scaled cosine similarities to every intent, shape (len(texts), len(labels))."""
        if not texts:
            return torch.zeros(0, len(self.labels))
        # Only the first `max_length` tokens count; cutting the text first keeps a huge message
        # from being tokenized in full (a token is rarely longer than CHARS_PER_TOKEN chars).
        limit = self.max_length * CHARS_PER_TOKEN
        batch = self.tokenizer(
            [text[:limit] for text in texts],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return self.model(batch["input_ids"], batch["attention_mask"])

    @torch.inference_mode()
    def predict(self, texts: list[str], rejection_similarity: float | None = None) -> torch.Tensor:
        """Returns intent confidences, shape (len(texts), len(labels)); see `confidences`."""
        return confidences(self.logits(texts), self.model.scale, rejection_similarity)

    def save(self, directory: Path, settings: FineTuningSettings | None = None) -> None:
        """Writes encoder weights, tokenizer, intent vectors and label map to a directory."""
        self.model.encoder.save_pretrained(directory / ENCODER_DIR)
        self.tokenizer.save_pretrained(directory / ENCODER_DIR)
        save_file({"intent_vectors": self.model.intent_vectors.detach()}, directory / HEAD_FILE)
        meta = {
            "labels": self.labels,
            "max_length": self.max_length,
            "scale": self.model.scale,
            "settings": asdict(settings) if settings else None,
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, quantize: bool = False) -> IntentPredictor:
        """Loads what `save` wrote; `quantize` converts Linear layers to dynamic int8."""
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        tokenizer, encoder = load_encoder(str(directory / ENCODER_DIR))
        model = CosineIntentModel(encoder, len(meta["labels"]), scale=meta["scale"])
        with torch.no_grad():
            model.intent_vectors.copy_(load_file(directory / HEAD_FILE)["intent_vectors"])
        predictor = cls(model, tokenizer, meta["labels"], meta["max_length"])
        return predictor.quantize() if quantize else predictor

    def quantize(self) -> IntentPredictor:
        """Turns the Linear layers into dynamic int8 with one scale per output channel, in place.

        Per-channel scales keep accuracy within a few tenths of a point of fp32 while reading a
        quarter of the weight bytes, which is what bounds single-message latency on a CPU.
        """
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        with warnings.catch_warnings():
            # torch announces the move of eager-mode quantisation to torchao on every call.
            warnings.simplefilter("ignore")
            quantize_dynamic(
                self.model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True
            )
        return self


def confidences(
    logits: torch.Tensor, scale: float, rejection_similarity: float | None = None
) -> torch.Tensor:
    """Intent confidences from scaled cosine logits.

    Without `rejection_similarity` they are the softmax over the intents and sum to 1. With it,
    the softmax also holds an implicit "none of these" option whose logit is that cosine
    similarity times the scale; its share is left out, so a message far from every intent gets
    low confidences even when one intent is much closer than the others.
    """
    if rejection_similarity is None:
        return torch.softmax(logits, dim=-1)
    rejection = torch.full((logits.shape[0], 1), scale * rejection_similarity)
    return torch.softmax(torch.cat([logits, rejection], dim=1), dim=-1)[:, :-1]
