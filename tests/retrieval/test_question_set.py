"""The benchmark question set is valid, consistent with the example bot's knowledge, and the
retrieval defaults keep their measured quality on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.question_set import contains_fact, load_questions
from benchmarks.retrieval import choose_threshold, report, run
from rasa_llm_components.encoders import SentenceEncoder
from rasa_llm_components.retrieval import DEFAULT_SCORE_THRESHOLD, KnowledgeIndex, load_passages

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "data" / "llm_questions.yml"
KNOWLEDGE = ROOT / "example_bot" / "knowledge"

needs_knowledge = pytest.mark.skipif(
    not KNOWLEDGE.is_dir(), reason="example_bot/knowledge is not there"
)


def test_question_set_has_the_required_size_and_shape() -> None:
    questions = load_questions(QUESTIONS)
    answerable = [q for q in questions if q.answerable]
    assert len(questions) >= 60
    assert len(answerable) >= 45
    assert len(questions) - len(answerable) >= 15


@needs_knowledge
def test_expected_passages_exist_and_contain_the_facts() -> None:
    passages = {passage.id: passage for passage in load_passages([KNOWLEDGE])}
    for question in load_questions(QUESTIONS):
        for expected in question.expected_passages:
            assert any(question.expects(pid) for pid in passages if pid.startswith(
                expected.split("#")[0])), f"{question.id}: unknown passage {expected}"
        expected_text = "\n".join(
            passage.content for pid, passage in passages.items() if question.expects(pid)
        )
        for fact in question.must_contain:
            assert contains_fact(expected_text, fact), f"{question.id}: {fact} not in passages"


def test_load_questions_rejects_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "q.yml"
    path.write_text("questions:\n  - {id: a, question: Q}\n")
    with pytest.raises(ValueError, match="expected_passages"):
        load_questions(path)
    path.write_text("questions:\n  - {id: a, question: Q, answerable: false, must_contain: [x]}\n")
    with pytest.raises(ValueError, match="unanswerable"):
        load_questions(path)
    path.write_text("questions: [unclosed\n")
    with pytest.raises(ValueError, match="q.yml"):
        load_questions(path)


def test_choose_threshold_separates_scores() -> None:
    import numpy as np

    threshold, accuracy = choose_threshold(np.array([0.7, 0.8, 0.9]), np.array([0.2, 0.3, 0.4]))
    assert 0.4 < threshold <= 0.7
    assert accuracy == 1.0


@needs_knowledge
def test_retrieval_quality_on_the_example_bot(encoder: SentenceEncoder) -> None:
    index = KnowledgeIndex.build(load_passages([KNOWLEDGE]), encoder)
    metrics = report(run(load_questions(QUESTIONS), index))
    # Measured: recall@1 0.887, recall@3 0.968, 93.5% answered / 94.7% refused at 0.60.
    assert metrics["recall@1"] >= 0.85
    assert metrics["recall@3"] >= 0.93
    assert metrics["answered_at_threshold"] >= 0.88
    assert metrics["refused_at_threshold"] >= 0.85
    assert abs(metrics["best_threshold"] - DEFAULT_SCORE_THRESHOLD) <= 0.05
