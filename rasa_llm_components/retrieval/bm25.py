"""Okapi BM25 over an in-memory inverted index, with a query-relative normalised score."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


class BM25:
    """BM25 (k1, b) with per-term posting arrays, scoring all documents at once.

    ``normalised_scores`` divides the raw score by the query's "ideal" score, the sum of the
    idf of its distinct terms. A document that contains every query term once at average length
    gets about 1.0, one that contains none 0.0; the value is clipped to [0, 1]. Query terms
    the corpus never saw keep their (maximal) idf in the denominator, so a query about
    something the knowledge base does not mention gets a low lexical score.
    """

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self.size = len(documents)
        lengths = np.array([len(doc) for doc in documents], dtype=np.float32)
        average = float(lengths.mean()) if self.size and lengths.sum() > 0 else 1.0
        norm = k1 * (1.0 - b + b * lengths / average)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for doc_id, doc in enumerate(documents):
            for term, tf in Counter(doc).items():
                ids, weights = postings.setdefault(term, ([], []))
                ids.append(doc_id)
                weights.append(tf * (k1 + 1.0) / (tf + norm[doc_id]))
        self._postings = {
            term: (np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32))
            for term, (ids, weights) in postings.items()
        }
        self._idf = {term: self.idf(len(ids)) for term, (ids, _) in self._postings.items()}

    def idf(self, document_frequency: int) -> float:
        """Lucene's always-positive BM25 idf."""
        n = self.size
        return math.log(1.0 + (n - document_frequency + 0.5) / (document_frequency + 0.5))

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """Raw BM25 score of every document for the distinct query terms."""
        result = np.zeros(self.size, dtype=np.float32)
        for term in dict.fromkeys(query_terms):
            posting = self._postings.get(term)
            if posting is not None:
                ids, weights = posting
                result[ids] += self._idf[term] * weights
        return result

    def ideal_score(self, query_terms: Sequence[str]) -> float:
        return sum(self._idf.get(term, self.idf(0)) for term in dict.fromkeys(query_terms))

    def normalised_scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """Scores in [0, 1] comparable across queries (see the class docstring)."""
        ideal = self.ideal_score(query_terms)
        if ideal <= 0.0:
            return np.zeros(self.size, dtype=np.float32)
        return np.clip(self.scores(query_terms) / ideal, 0.0, 1.0)
