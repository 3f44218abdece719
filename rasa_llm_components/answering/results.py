"""What the answerer is given (`ConversationContext`) and what it returns (`AnswerResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Outcomes (AnswerResult.kind)
GENERATED = "generated"
EXTRACTIVE = "extractive"
ABSTAINED = "abstained"
REFUSED = "refused"
FAILED = "failed"
# The bot message metadata key under which the NLG stores `AnswerResult.diagnostics()`.
ANSWER_METADATA_KEY = "llm_answer"


@dataclass
class ConversationContext:
    """What the answerer needs from a conversation: the question, earlier turns, slots."""

    question: str
    history: list[tuple[str, str]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    # The NLU intent of the question, for `intent_topics`.
    intent: str | None = None


@dataclass
class AnswerResult:
    """The final reply with its sources and diagnostics (`text` None: use the domain text)."""

    text: str | None
    kind: str
    sources: list[dict[str, str]] = field(default_factory=list)
    retrieval_score: float = 0.0
    generated: str | None = None
    unsupported: list[str] = field(default_factory=list)
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # The passages the answer was checked against (title + text).
    evidence: list[str] = field(default_factory=list)
    # The retrieval query after follow-up resolution, and the products it was pinned to.
    query: str = ""
    products: list[str] = field(default_factory=list)

    def custom_payload(self) -> dict[str, Any]:
        return {"sources": self.sources, "answer_kind": self.kind}

    def diagnostics(self) -> dict[str, Any]:
        """Why the turn ended as it did: stored with the bot message, not shown to customers."""
        return {
            "answer_kind": self.kind,
            "retrieval_score": round(float(self.retrieval_score), 4),
            "reason": self.reason,
            "unsupported": list(self.unsupported),
            "sources": [source.get("id") for source in self.sources],
            "query": self.query,
            "products": list(self.products),
        }
