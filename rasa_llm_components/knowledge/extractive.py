"""The extractive fallback: the retrieved sentence(s) that best answer a query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rasa_llm_components.knowledge.chunking import split_sentences
from rasa_llm_components.knowledge.index import RetrievedPassage
from rasa_llm_components.knowledge.text import tokenize

if TYPE_CHECKING:
    from rasa_llm_components.encoders import SentenceEncoder


def candidate_sentences(hit: RetrievedPassage) -> list[str]:
    """Sentences of a passage; table rows become ``"<name> - <column>: <value>"`` lines."""
    passage = hit.passage
    sentences = split_sentences(passage.text)
    if passage.metadata.get("kind") == "row" and passage.title:
        return [f"{passage.title} - {sentence}" for sentence in sentences]
    return sentences


def _overlap(query_terms: set[str], sentence: str) -> float:
    if not query_terms:
        return 0.0
    return len(query_terms & set(tokenize(sentence))) / len(query_terms)


def best_extractive_answer(
    query: str,
    retrieved: Sequence[RetrievedPassage],
    encoder: SentenceEncoder,
    max_sentences: int = 2,
    max_passages: int = 2,
    query_vector: np.ndarray | None = None,
) -> str:
    """Verbatim sentence(s) from the retrieved passages that best match the query.

    Each sentence of the top ``max_passages`` hits is scored by
    ``0.6 * cosine(query, sentence) + 0.2 * query-term overlap + 0.2 * passage score``; the best
    sentence and, up to ``max_sentences``, the next best ones *of the same passage* are returned
    in their original order (table cells as ``"<name> - <column>: <value>; ..."``). The text is
    copied from the knowledge base, so it passes the fact guard by construction. Returns ""
    when nothing was retrieved.
    """
    hits = list(retrieved)[:max_passages]
    candidates: list[tuple[int, int, str]] = []
    for hit_number, hit in enumerate(hits):
        for position, sentence in enumerate(candidate_sentences(hit)):
            candidates.append((hit_number, position, sentence))
    if not candidates:
        return ""
    vectors = encoder.encode([sentence for _, _, sentence in candidates])
    if query_vector is None:
        query_vector = encoder.encode([query])[0]
    terms = set(tokenize(query))
    scores = [
        0.6 * float(vectors[i] @ query_vector)
        + 0.2 * _overlap(terms, sentence)
        + 0.2 * hits[hit_number].score
        for i, (hit_number, _, sentence) in enumerate(candidates)
    ]
    ranked = sorted(range(len(candidates)), key=lambda i: -scores[i])
    best_hit = candidates[ranked[0]][0]
    chosen = [i for i in ranked if candidates[i][0] == best_hit][:max_sentences]
    chosen.sort(key=lambda i: candidates[i][1])
    passage = hits[best_hit].passage
    if passage.metadata.get("kind") == "row" and passage.title:
        prefix = f"{passage.title} - "
        cells = [candidates[i][2].removeprefix(prefix) for i in chosen]
        return prefix + "; ".join(cells)
    return " ".join(candidates[i][2] for i in chosen)
