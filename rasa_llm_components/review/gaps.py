"""Knowledge gaps: questions the bot abstained on or whose generated answer was rejected,
grouped by similar wording, so that the shop knows which help articles to write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from rasa_llm_components.answering.results import ABSTAINED
from rasa_llm_components.review.annotations import normalized
from rasa_llm_components.review.events import Turn
from rasa_llm_components.review.redaction import redact

# The answerer's reason when the fact check threw out the generated answer.
REJECTED_REASON = "generation rejected"
# Cosine similarity of MiniLM sentence vectors above which two questions are one gap.
DEFAULT_SIMILARITY = 0.6

Encoder = Callable[[list[str]], np.ndarray]


@dataclass
class GapQuestion:
    """A question the knowledge did not answer, with the answerer's diagnostics."""

    text: str
    query: str
    kind: str
    reason: str
    retrieval_score: float
    sender_id: str
    timestamp: float


@dataclass
class GapGroup:
    """Similar unanswered questions; `questions[0]` is the most asked wording."""

    questions: list[GapQuestion] = field(default_factory=list)

    @property
    def representative(self) -> str:
        return self.questions[0].text

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def conversations(self) -> int:
        return len({q.sender_id for q in self.questions})

    @property
    def wordings(self) -> list[str]:
        """The distinct wordings, most frequent first."""
        counts = Counter(q.text for q in self.questions)
        return [text for text, _ in counts.most_common()]

    @property
    def mean_score(self) -> float:
        return float(np.mean([q.retrieval_score for q in self.questions]))

    @property
    def max_score(self) -> float:
        return max(q.retrieval_score for q in self.questions)

    @property
    def reasons(self) -> dict[str, int]:
        return dict(Counter(q.reason or q.kind for q in self.questions).most_common())

    def as_dict(self) -> dict:
        return {
            "question": self.representative,
            "count": self.count,
            "conversations": self.conversations,
            "mean_retrieval_score": round(self.mean_score, 4),
            "max_retrieval_score": round(self.max_score, 4),
            "reasons": self.reasons,
            "wordings": self.wordings,
            "queries": sorted({q.query for q in self.questions if q.query}),
        }


def is_gap(answer: dict) -> bool:
    """Whether an answer's diagnostics show missing knowledge (abstained, or a rejected
    generation answered by extracts instead)."""
    return answer.get("answer_kind") == ABSTAINED or answer.get("reason") == REJECTED_REASON


def gap_questions(turns: Iterable[Turn]) -> list[GapQuestion]:
    """The (redacted) customer questions whose answer shows a knowledge gap."""
    questions = []
    for turn in turns:
        answer = turn.answer
        if turn.user is None or answer is None or not is_gap(answer.answer or {}):
            continue
        diagnostics = answer.answer or {}
        questions.append(
            GapQuestion(
                text=" ".join(redact(turn.user.text).split()),
                query=" ".join(redact(str(diagnostics.get("query") or "")).split()),
                kind=str(diagnostics.get("answer_kind") or ""),
                reason=str(diagnostics.get("reason") or ""),
                retrieval_score=float(diagnostics.get("retrieval_score") or 0.0),
                sender_id=turn.sender_id,
                timestamp=turn.timestamp,
            )
        )
    return questions


def group_gaps(
    questions: list[GapQuestion], encode: Encoder, similarity: float = DEFAULT_SIMILARITY
) -> list[GapGroup]:
    """Threshold clustering: the distinct wordings, most asked first, each join the group whose
    centroid is most similar (cosine >= `similarity`) or start a new one. Largest groups first."""
    by_wording: dict[str, list[GapQuestion]] = {}
    for question in questions:
        by_wording.setdefault(normalized(question.text), []).append(question)
    keys = sorted(by_wording, key=lambda key: (-len(by_wording[key]), key))
    if not keys:
        return []
    vectors = np.asarray(encode([by_wording[key][0].text for key in keys]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    groups: list[GapGroup] = []
    sums: list[np.ndarray] = []
    for key, vector in zip(keys, vectors, strict=True):
        best, best_similarity = -1, similarity
        for index, total in enumerate(sums):
            score = float(vector @ (total / np.linalg.norm(total)))
            if score >= best_similarity:
                best, best_similarity = index, score
        if best < 0:
            groups.append(GapGroup())
            sums.append(np.zeros_like(vector))
        groups[best].questions.extend(by_wording[key])
        sums[best] = sums[best] + vector * len(by_wording[key])
    return sorted(groups, key=lambda group: (-group.count, group.representative))
