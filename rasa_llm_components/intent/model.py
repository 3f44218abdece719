"""The intent model: a transformer encoder, mean pooling and a cosine-similarity head."""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import PreTrainedModel

from rasa_llm_components.encoders import mean_pool


class CosineIntentModel(nn.Module):
    """Encoder + mean pooling + one learned unit vector per intent.

    The logit of an intent is `scale * cos(sentence, intent_vector)`. Starting the intent vectors at
    the class centroids of the pretrained embeddings makes the untrained model a nearest-centroid
    classifier, which is already strong with few examples; fine-tuning then moves both the encoder
    and the vectors. Cosine logits also keep confidences comparable across intents, which helps the
    out-of-scope threshold.
    """

    def __init__(self, encoder: PreTrainedModel, num_intents: int, scale: float = 30.0) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.intent_vectors = nn.Parameter(torch.randn(num_intents, hidden) / math.sqrt(hidden))
        self.scale = scale

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Unit-length sentence embeddings."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        hidden_states = self.encoder(**kwargs).last_hidden_state
        return nn.functional.normalize(mean_pool(hidden_states, attention_mask), dim=-1)

    def logits_from_embeddings(self, embeddings: torch.Tensor) -> torch.Tensor:
        vectors = nn.functional.normalize(self.intent_vectors, dim=-1)
        return self.scale * embeddings @ vectors.T

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.logits_from_embeddings(self.embed(input_ids, attention_mask))

    @torch.no_grad()
    def initialise_from_centroids(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """Sets each intent vector to the mean embedding of its training examples."""
        for intent in range(self.intent_vectors.shape[0]):
            members = embeddings[labels == intent]
            if len(members):
                self.intent_vectors[intent] = nn.functional.normalize(members.mean(dim=0), dim=-1)
