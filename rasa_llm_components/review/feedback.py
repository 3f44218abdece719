"""What customers said about the bot: thumbs-down answers and handoffs to a colleague."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from rasa_llm_components.answering.results import ABSTAINED, FAILED, REFUSED
from rasa_llm_components.review.events import FALLBACK_INTENT, Turn, previous_answer
from rasa_llm_components.review.redaction import redact

FEEDBACK_INTENT = "answer_feedback"
FEEDBACK_ENTITY = "feedback"
THUMBS_DOWN = "down"
HANDOFF_ACTION = "action_handoff"
HANDOFF_INTENTS = frozenset({"human_handoff"})
TICKET_SLOT = "handoff_ticket"
# Customer messages shown with a handoff (the latest ones before it).
HANDOFF_CONTEXT_MESSAGES = 3
# Intents of messages that do not say what the problem is ("yes", "hi", "agent please").
NOT_A_REASON = frozenset(
    {"affirm", "deny", "greet", "goodbye", "thanks", "stop", "bot_challenge"}
) | HANDOFF_INTENTS
# Answers after which a bot offers a colleague.
UNANSWERED_KINDS = frozenset({ABSTAINED, REFUSED, FAILED})


def _clean(text: str) -> str:
    return " ".join(redact(text).split())


@dataclass
class DislikedAnswer:
    """An answer a customer gave a thumbs down, with why it was answered that way."""

    sender_id: str
    timestamp: float
    question: str
    answer: str
    kind: str
    reason: str
    retrieval_score: float
    query: str
    # id and title of each source (ids only when the bot message carried no titles).
    sources: list[dict[str, str]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sources(turn: Turn) -> list[dict[str, str]]:
    message = turn.answer
    assert message is not None
    if message.sources:
        return [
            {"id": str(s.get("id") or ""), "title": str(s.get("title") or "")}
            for s in message.sources
        ]
    ids = (message.answer or {}).get("sources") or []
    return [{"id": str(source), "title": ""} for source in ids]


def disliked_answers(turns: list[Turn]) -> list[DislikedAnswer]:
    """The answers followed by `/answer_feedback{"feedback": "down"}` (the answer before the
    feedback in the same conversation)."""
    found = []
    for index, turn in enumerate(turns):
        user = turn.user
        if user is None or user.intent != FEEDBACK_INTENT:
            continue
        if str(user.entity(FEEDBACK_ENTITY) or "").lower() != THUMBS_DOWN:
            continue
        answered = previous_answer(turns, index, frozenset({FEEDBACK_INTENT}))
        if answered is None or answered.answer is None:
            continue
        diagnostics = answered.answer.answer or {}
        found.append(
            DislikedAnswer(
                sender_id=turn.sender_id,
                timestamp=turn.timestamp,
                question=_clean(answered.user.text) if answered.user else "",
                answer=_clean(answered.answer.text),
                kind=str(diagnostics.get("answer_kind") or ""),
                reason=str(diagnostics.get("reason") or ""),
                retrieval_score=float(diagnostics.get("retrieval_score") or 0.0),
                query=_clean(str(diagnostics.get("query") or "")),
                sources=_sources(answered),
                unsupported=[_clean(str(c)) for c in diagnostics.get("unsupported") or []],
            )
        )
    return found


@dataclass
class Handoff:
    """A handoff to a colleague: what led to it and the customer's latest messages."""

    sender_id: str
    timestamp: float
    ticket: str | None
    trigger: str
    # The customer's latest message that says what the problem is (else the last message).
    reason: str
    messages: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _offer_cause(turn: Turn) -> str | None:
    """Why the bot offered a colleague in `turn`, if it did."""
    answer = turn.answer
    diagnostics = (answer.answer or {}) if answer is not None else {}
    if diagnostics.get("answer_kind") in UNANSWERED_KINDS:
        kind, reason = diagnostics.get("answer_kind"), diagnostics.get("reason")
        return f"answer {kind}" + (f" ({reason})" if reason else "")
    offers = [m.utter_action for m in turn.bot if m.utter_action and "handoff" in m.utter_action]
    offers = [name for name in offers if "no_handoff" not in name]
    if offers:
        if turn.user is not None and turn.user.intent == FALLBACK_INTENT:
            return f"not understood ({offers[-1]})"
        return offers[-1]
    return None


def handoffs(
    turns: list[Turn],
    action: str = HANDOFF_ACTION,
    intents: Iterable[str] = HANDOFF_INTENTS,
) -> list[Handoff]:
    """The turns in which the handoff `action` ran, with their trigger: asked for (a handoff
    intent), accepted after an offer (and why the bot offered), or started by the repair layer."""
    intents = frozenset(intents)
    found = []
    for index, turn in enumerate(turns):
        if action not in turn.actions:
            continue
        start = index  # turns are ordered by conversation, then time
        while start > 0 and (turns[start - 1].sender_id, turns[start - 1].episode) == (
            turn.sender_id, turn.episode
        ):
            start -= 1
        episode = turns[start : index + 1]
        before = episode[-2] if len(episode) > 1 else None
        cause = _offer_cause(before) if before is not None else None
        if turn.user is not None and turn.user.intent in intents:
            trigger = "asked for a person"
        elif cause:
            trigger = f"accepted an offer after: {cause}"
        else:
            trigger = "started by the bot"
        said = [t.user for t in episode if t.user is not None and not t.user.is_command]
        messages = [_clean(message.text) for message in said]
        reasons = [_clean(m.text) for m in said if m.intent not in NOT_A_REASON]
        found.append(
            Handoff(
                sender_id=turn.sender_id,
                timestamp=turn.timestamp,
                ticket=turn.slots.get(TICKET_SLOT),
                trigger=trigger,
                reason=(reasons or messages or [""])[-1],
                messages=messages[-HANDOFF_CONTEXT_MESSAGES:],
            )
        )
    return found
