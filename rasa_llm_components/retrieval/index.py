"""Hybrid (dense MiniLM + BM25) retrieval over knowledge passages."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rasa_llm_components.retrieval.bm25 import BM25
from rasa_llm_components.retrieval.passage import KnowledgeBaseError, Passage
from rasa_llm_components.retrieval.scoring import RetrievalConfig, fuse
from rasa_llm_components.retrieval.text import tokenize

if TYPE_CHECKING:
    from rasa_llm_components.encoders import SentenceEncoder

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
PASSAGES_FILE = "passages.json"
META_FILE = "index.json"
VECTORS_FILE = "vectors.npy"
TITLE_VECTORS_FILE = "title_vectors.npy"


@dataclass
class RetrievedPassage:
    """A search hit.

    Attributes:
        passage: The passage.
        score: Fused absolute confidence in [0, 1] (see ``knowledge.scoring``).
        dense: Cosine similarity of query and passage embeddings (the best of title and
            title+text when title vectors are on), in [-1, 1].
        lexical: Normalised BM25 in [0, 1].
    """

    passage: Passage
    score: float
    dense: float
    lexical: float


def _lexical_document(passage: Passage, config: RetrievalConfig) -> list[str]:
    title = tokenize(passage.title, config.remove_stop_words)
    return title * config.title_repeat + tokenize(passage.text, config.remove_stop_words)


class KnowledgeIndex:
    """An in-memory hybrid index: exact dense cosine plus BM25 over all passages.

    Build it once with ``build`` (encodes every passage), save with ``persist`` (JSON + NumPy,
    no pickle) and restore with ``load``. ``search`` encodes the query and returns the best
    passages with a fused, absolute confidence ``score``; compare it with
    ``DEFAULT_SCORE_THRESHOLD`` to decide whether the knowledge base covers the question.
    """

    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        title_vectors: np.ndarray | None,
        encoder: SentenceEncoder,
        config: RetrievalConfig,
    ) -> None:
        if len(vectors) != len(passages):
            raise ValueError("There must be one vector per passage.")
        if title_vectors is not None and title_vectors.shape != vectors.shape:
            raise ValueError("Title vectors must have the shape of the passage vectors.")
        self.passages = list(passages)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.title_vectors = (
            None if title_vectors is None
            else np.ascontiguousarray(title_vectors, dtype=np.float32)
        )
        self.encoder = encoder
        self.config = config
        self._bm25 = BM25(
            [_lexical_document(passage, config) for passage in self.passages],
            k1=config.k1,
            b=config.b,
        )
        self._by_id = {passage.id: passage for passage in self.passages}

    @classmethod
    def build(
        cls, passages: list[Passage], encoder: SentenceEncoder, **config: Any
    ) -> KnowledgeIndex:
        """Encodes the passages; ``config`` holds ``RetrievalConfig`` fields."""
        settings = RetrievalConfig.from_dict(config)
        vectors = encoder.encode([passage.content for passage in passages])
        title_vectors = None
        if settings.title_vectors:
            titles = [passage.title or passage.text for passage in passages]
            title_vectors = encoder.encode(titles)
        return cls(passages, vectors, title_vectors, encoder, settings)

    def __len__(self) -> int:
        return len(self.passages)

    def get(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    def encode_query(self, query: str) -> np.ndarray:
        return self.encoder.encode([query])[0]

    def cosines(self, query_vector: np.ndarray) -> np.ndarray:
        """Dense similarity of the query with every passage."""
        if not self.passages:
            return np.zeros(0, dtype=np.float32)
        cosine = self.vectors @ query_vector
        if self.title_vectors is not None:
            cosine = np.maximum(cosine, self.title_vectors @ query_vector)
        return cosine

    def search(
        self,
        query: str,
        top_k: int = 4,
        min_score: float | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[RetrievedPassage]:
        """Best passages first. ``min_score`` drops weaker hits; ``query_vector`` skips encoding."""
        if not self.passages or top_k <= 0 or not query.strip():
            return []
        if query_vector is None:
            query_vector = self.encode_query(query)
        cosine = self.cosines(np.asarray(query_vector, dtype=np.float32))
        lexical = self._bm25.normalised_scores(tokenize(query, self.config.remove_stop_words))
        score = fuse(cosine, lexical, self.config)
        count = min(top_k, len(score))
        best = np.argpartition(-score, count - 1)[:count]
        best = best[np.lexsort((best, -score[best]))]
        hits = [
            RetrievedPassage(
                passage=self.passages[i],
                score=float(score[i]),
                dense=float(cosine[i]),
                lexical=float(lexical[i]),
            )
            for i in best
        ]
        if min_score is not None:
            hits = [hit for hit in hits if hit.score >= min_score]
        return hits

    def persist(self, directory: Path | str) -> None:
        """Writes passages.json, index.json and vectors.npy (+ title_vectors.npy)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / VECTORS_FILE, self.vectors, allow_pickle=False)
        if self.title_vectors is not None:
            np.save(directory / TITLE_VECTORS_FILE, self.title_vectors, allow_pickle=False)
        passages = [passage.to_dict() for passage in self.passages]
        (directory / PASSAGES_FILE).write_text(
            json.dumps(passages, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "dimension": int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0,
            "encoder": Path(self.encoder.model_path).name,
            "size": len(self.passages),
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path | str, encoder: SentenceEncoder) -> KnowledgeIndex:
        """Restores an index written by ``persist``; the encoder must be the one it was built with.

        Raises:
            KnowledgeBaseError: files are missing or inconsistent.
        """
        directory = Path(directory)
        try:
            meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
            raw = json.loads((directory / PASSAGES_FILE).read_text(encoding="utf-8"))
            vectors = np.load(directory / VECTORS_FILE, allow_pickle=False)
            title_path = directory / TITLE_VECTORS_FILE
            title_vectors = np.load(title_path, allow_pickle=False) if title_path.exists() else None
        except (OSError, ValueError) as error:
            raise KnowledgeBaseError(
                f"The knowledge index in '{directory}' cannot be read: {error}"
            ) from error
        if meta.get("format_version") != FORMAT_VERSION:
            raise KnowledgeBaseError(
                f"The knowledge index in '{directory}' has format {meta.get('format_version')}, "
                f"expected {FORMAT_VERSION}. Retrain to rebuild it."
            )
        passages = [Passage.from_dict(item) for item in raw]
        if len(passages) != meta.get("size") or len(vectors) != len(passages):
            raise KnowledgeBaseError(f"The knowledge index in '{directory}' is inconsistent.")
        if passages and vectors.shape[1] != encoder.dimension:
            raise KnowledgeBaseError(
                f"The knowledge index in '{directory}' has {vectors.shape[1]}-dimensional "
                f"vectors, the encoder produces {encoder.dimension}."
            )
        if meta.get("encoder") != Path(encoder.model_path).name:
            logger.warning(
                "Knowledge index was built with encoder '%s', loading it with '%s'.",
                meta.get("encoder"),
                Path(encoder.model_path).name,
            )
        config = RetrievalConfig.from_dict(meta.get("config", {}))
        return cls(passages, vectors, title_vectors, encoder, config)
