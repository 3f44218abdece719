"""How dense and lexical similarity become one absolute confidence in [0, 1].

Scale (documented contract, see ``RetrievalConfig``)::

    dense_part   = clip((cosine - cosine_floor) / (cosine_ceiling - cosine_floor), 0, 1)
    lexical_part = BM25(query, passage) / sum(idf of the distinct query terms), clipped to [0, 1]
    score        = dense_weight * dense_part + (1 - dense_weight) * lexical_part

Both parts are absolute (they do not depend on the other candidates), so ``score`` can be
compared with a fixed threshold. For all-MiniLM-L6-v2 a cosine of ``cosine_floor`` (0.15) is
what unrelated shop text scores, ``cosine_ceiling`` (0.75) a close paraphrase. The lexical part
is about 1.0 when the passage contains every (stemmed, non-stop-word) query term.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

# Chosen on data/llm_questions.yml (62 answerable, 19 unanswerable questions) with
# ``python -m benchmarks.retrieval data/llm_questions.yml example_bot/knowledge``:
# best smoothed balanced accuracy; at 0.60, 93.5% of answerable questions are answered and
# 94.7% of unanswerable ones refused (top-1 score of unanswerable: median 0.42, max 0.68).
DEFAULT_SCORE_THRESHOLD = 0.60


@dataclass(frozen=True)
class RetrievalConfig:
    """Retrieval and fusion settings (all JSON-serialisable, persisted with the index)."""

    dense_weight: float = 0.6
    cosine_floor: float = 0.15
    cosine_ceiling: float = 0.75
    k1: float = 1.2
    b: float = 0.75
    title_repeat: int = 2
    title_vectors: bool = True
    remove_stop_words: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError("dense_weight must lie in [0, 1].")
        if self.cosine_ceiling <= self.cosine_floor:
            raise ValueError("cosine_ceiling must be larger than cosine_floor.")
        if self.title_repeat < 0:
            raise ValueError("title_repeat must not be negative.")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetrievalConfig:
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown retrieval settings: {', '.join(unknown)}.")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def dense_part(cosine: np.ndarray, config: RetrievalConfig) -> np.ndarray:
    span = config.cosine_ceiling - config.cosine_floor
    return np.clip((cosine - config.cosine_floor) / span, 0.0, 1.0)


def fuse(cosine: np.ndarray, lexical: np.ndarray, config: RetrievalConfig) -> np.ndarray:
    """The fused absolute confidence (see the module docstring)."""
    weight = config.dense_weight
    return weight * dense_part(cosine, config) + (1.0 - weight) * lexical
