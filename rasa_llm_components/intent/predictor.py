"""A trained intent model with its tokenizer and label map: train, predict, save, load."""

from __future__ import annotations

import json
import logging
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
    def predict(self, texts: list[str]) -> torch.Tensor:
        """Returns intent probabilities, shape (len(texts), len(labels))."""
        if not texts:
            return torch.zeros(0, len(self.labels))
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return torch.softmax(self.model(batch["input_ids"], batch["attention_mask"]), dim=-1)

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
        model.eval()
        if quantize:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, torch.qint8)
        return cls(model, tokenizer, meta["labels"], meta["max_length"])
