"""Shop knowledge: loading passages from files and hybrid (dense + BM25) retrieval.

``KnowledgeIndex.search`` returns hits whose ``score`` is an absolute confidence in [0, 1]
(the scale is documented in ``retrieval.scoring``); below ``DEFAULT_SCORE_THRESHOLD`` the
knowledge base most likely does not answer the question. ``benchmarks/retrieval.py``
measures recall and the threshold on a question set.
"""

from rasa_llm_components.retrieval.fingerprint import knowledge_fingerprint
from rasa_llm_components.retrieval.index import KnowledgeIndex, RetrievedPassage
from rasa_llm_components.retrieval.loaders import load_passages
from rasa_llm_components.retrieval.names import known_names
from rasa_llm_components.retrieval.passage import KnowledgeBaseError, Passage
from rasa_llm_components.retrieval.scoring import DEFAULT_SCORE_THRESHOLD, RetrievalConfig

__all__ = [
    "DEFAULT_SCORE_THRESHOLD",
    "KnowledgeBaseError",
    "KnowledgeIndex",
    "Passage",
    "RetrievalConfig",
    "RetrievedPassage",
    "known_names",
    "knowledge_fingerprint",
    "load_passages",
]
