"""Hybrid retrieval: ranking, score scale, persistence and speed."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from rasa_llm_components.encoders import SentenceEncoder
from rasa_llm_components.retrieval import (
    DEFAULT_SCORE_THRESHOLD,
    KnowledgeBaseError,
    KnowledgeIndex,
    Passage,
    RetrievalConfig,
    load_passages,
)
from rasa_llm_components.retrieval.bm25 import BM25
from rasa_llm_components.retrieval.text import tokenize


@pytest.fixture(scope="module")
def index(knowledge_dir: Path, encoder: SentenceEncoder) -> KnowledgeIndex:
    return KnowledgeIndex.build(load_passages([knowledge_dir]), encoder)


def test_dense_paraphrase_without_shared_words_ranks_first(index: KnowledgeIndex) -> None:
    hits = index.search("How long have I got to return something I bought?", top_k=3)
    assert hits[0].passage.id == "faq:send-back"
    assert hits[0].lexical == 0.0  # found by meaning alone
    assert hits[0].dense > hits[1].dense


def test_lexical_sku_query_ranks_the_product_first(index: KnowledgeIndex) -> None:
    hits = index.search("tid-wave2", top_k=3)
    assert hits[0].passage.id == "catalog:TID-WAVE2"
    assert hits[0].lexical == pytest.approx(1.0)
    assert index.search("x200 price", top_k=1)[0].passage.id == "catalog:AUR-X200"


def test_scores_are_sorted_bounded_and_consistent(index: KnowledgeIndex) -> None:
    hits = index.search("Do you deliver to Canada?", top_k=len(index))
    assert len(hits) == len(index)
    assert hits[0].passage.id == "faq:shipping-canada"
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= hit.score <= 1.0 and 0.0 <= hit.lexical <= 1.0 for hit in hits)
    assert hits[0].score >= DEFAULT_SCORE_THRESHOLD
    config = index.config
    for hit in hits:
        dense = np.clip((hit.dense - config.cosine_floor)
                        / (config.cosine_ceiling - config.cosine_floor), 0, 1)
        expected = config.dense_weight * dense + (1 - config.dense_weight) * hit.lexical
        assert hit.score == pytest.approx(expected, abs=1e-5)


def test_unrelated_question_scores_below_the_threshold(index: KnowledgeIndex) -> None:
    hits = index.search("Who won the football world cup in 1998?", top_k=1)
    assert hits[0].score < DEFAULT_SCORE_THRESHOLD
    assert index.search("Who won the football world cup?", min_score=DEFAULT_SCORE_THRESHOLD) == []


def test_top_k_min_score_and_empty_inputs(index: KnowledgeIndex, encoder: SentenceEncoder) -> None:
    assert len(index.search("kettle", top_k=2)) == 2
    assert index.search("kettle", top_k=0) == []
    assert index.search("   ") == []
    empty = KnowledgeIndex.build([], encoder)
    assert empty.search("anything") == []


def test_persist_and_load_give_identical_results(
    index: KnowledgeIndex, encoder: SentenceEncoder, tmp_path: Path
) -> None:
    index.persist(tmp_path / "index")
    assert not list((tmp_path / "index").glob("*.pkl"))
    loaded = KnowledgeIndex.load(tmp_path / "index", encoder)
    assert loaded.passages == index.passages
    assert loaded.config == index.config
    for query in ["do you ship to canada", "AUR-X200", "battery warranty", "personal data"]:
        before = index.search(query, top_k=4)
        after = loaded.search(query, top_k=4)
        assert [hit.passage.id for hit in after] == [hit.passage.id for hit in before]
        assert [hit.score for hit in after] == [hit.score for hit in before]


def test_load_rejects_missing_or_inconsistent_files(
    index: KnowledgeIndex, encoder: SentenceEncoder, tmp_path: Path
) -> None:
    with pytest.raises(KnowledgeBaseError):
        KnowledgeIndex.load(tmp_path / "nothing", encoder)
    index.persist(tmp_path / "index")
    np.save(tmp_path / "index" / "vectors.npy", np.zeros((1, encoder.dimension), np.float32))
    with pytest.raises(KnowledgeBaseError, match="inconsistent"):
        KnowledgeIndex.load(tmp_path / "index", encoder)


def test_search_is_fast_on_a_few_hundred_passages(encoder: SentenceEncoder) -> None:
    passages = [
        Passage(id=f"kb:{i}", title=f"Product {i} question", text=f"Answer {i} about item "
                f"SKU-{i} with {i % 17} extra words on shipping, returns and warranty terms.",
                source="kb.yml", metadata={})
        for i in range(400)
    ]
    vectors = np.random.default_rng(0).normal(size=(400, encoder.dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = KnowledgeIndex(passages, vectors, vectors.copy(), encoder, RetrievalConfig())
    query_vector = vectors[7]
    index.search("warmup", query_vector=query_vector)
    start = time.perf_counter()
    for _ in range(20):
        hits = index.search("what is the warranty for sku-7 items?", query_vector=query_vector)
    elapsed = (time.perf_counter() - start) / 20
    assert hits[0].passage.id == "kb:7"
    assert elapsed < 0.030


def test_build_rejects_unknown_settings(encoder: SentenceEncoder) -> None:
    with pytest.raises(ValueError, match="Unknown retrieval settings"):
        KnowledgeIndex.build([], encoder, dense_wieght=0.5)
    with pytest.raises(ValueError):
        KnowledgeIndex.build([], encoder, dense_weight=1.5)


def test_bm25_normalised_score_counts_unknown_query_terms() -> None:
    bm25 = BM25([tokenize("we ship to canada"), tokenize("we ship to france"),
                 tokenize("kettles and toasters")])
    covered = bm25.normalised_scores(tokenize("ship to canada"))
    partly = bm25.normalised_scores(tokenize("ship to brazil"))
    assert covered[0] > 0.9
    assert partly[0] < 0.5
    assert covered[2] == 0.0


def test_tokenizer_keeps_codes_and_numbers() -> None:
    terms = tokenize("The AUR-X200 costs $1,299.00 and ships in 2 days")
    assert {"aur-x200", "aurx200", "x200", "1299", "2", "ship", "day"} <= set(terms)
    assert "the" not in terms

