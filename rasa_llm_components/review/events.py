"""Stored events as conversation turns: a user message and what the bot did after it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rasa_llm_components.answering.results import ANSWER_METADATA_KEY
from rasa_llm_components.review.store import StoredEvent

FALLBACK_INTENT = "nlu_fallback"
# Messages that start with "/" name their intent ("/restart", a button's payload): no NLU ran.
COMMAND_PREFIX = "/"
# Events after which earlier turns are no longer the context of the next ones.
_NEW_EPISODE = frozenset({"restart", "session_started"})


@dataclass
class UserMessage:
    """A customer message with the NLU's reading of it."""

    text: str
    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]]
    entities: list[dict[str, Any]]

    @property
    def is_command(self) -> bool:
        """Whether the message named its intent ("/answer_feedback{...}"): no NLU confidence."""
        return self.text.startswith(COMMAND_PREFIX)

    def entity(self, name: str) -> Any:
        """The value of the first entity `name`, or None."""
        return next((e.get("value") for e in self.entities if e.get("entity") == name), None)

    def suggestion(self) -> tuple[str | None, float]:
        """The predicted intent, or the best ranked one that is not the fallback."""
        if self.intent and self.intent != FALLBACK_INTENT:
            return self.intent, self.confidence
        for name, confidence in self.ranking:
            if name != FALLBACK_INTENT:
                return name, confidence
        return None, 0.0


@dataclass
class BotMessage:
    """A bot message; `answer` holds the LLM answer's diagnostics when the NLG wrote it."""

    text: str
    utter_action: str | None
    answer: dict[str, Any] | None
    # The answer's sources as sent to the front end (id, title, ...).
    sources: list[dict[str, Any]]


@dataclass
class Turn:
    """One user message of a conversation and the bot's actions, messages and slots after it
    (`user` is None for what the bot did before the first message)."""

    sender_id: str
    episode: int
    timestamp: float
    user: UserMessage | None
    actions: list[str] = field(default_factory=list)
    bot: list[BotMessage] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)

    @property
    def answer(self) -> BotMessage | None:
        """The turn's last LLM answer (a bot message with answer diagnostics), if any."""
        return next((message for message in reversed(self.bot) if message.answer), None)


def _user_message(data: dict[str, Any]) -> UserMessage:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [
        (str(entry.get("name")), float(entry.get("confidence") or 0.0))
        for entry in parse.get("intent_ranking") or []
        if entry.get("name")
    ]
    return UserMessage(
        text=str(data.get("text") or ""),
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        ranking=ranking,
        entities=list(parse.get("entities") or []),
    )


def _bot_message(data: dict[str, Any]) -> BotMessage:
    metadata = data.get("metadata") or {}
    custom = (data.get("data") or {}).get("custom") or {}
    sources = custom.get("sources") if isinstance(custom, dict) else None
    answer = metadata.get(ANSWER_METADATA_KEY)
    return BotMessage(
        text=str(data.get("text") or ""),
        utter_action=metadata.get("utter_action"),
        answer=answer if isinstance(answer, dict) else None,
        sources=[source for source in sources or [] if isinstance(source, dict)],
    )


def conversation_turns(events: Iterable[StoredEvent]) -> Iterator[Turn]:
    """The turns of the stored events (ordered by conversation, then time)."""
    sender: str | None = None
    episode = 0
    turn: Turn | None = None
    for event in events:
        if event.sender_id != sender:
            if turn is not None:
                yield turn
            sender, episode = event.sender_id, 0
            turn = Turn(event.sender_id, episode, event.timestamp, None)
        assert turn is not None
        kind = event.type_name
        if kind in _NEW_EPISODE:
            if turn.user is not None or turn.bot or turn.actions:
                yield turn
            episode += 1
            turn = Turn(event.sender_id, episode, event.timestamp, None)
        elif kind == "user":
            if turn.user is not None or turn.bot or turn.actions:
                yield turn
            turn = Turn(event.sender_id, episode, event.timestamp, _user_message(event.data))
        elif kind == "bot":
            turn.bot.append(_bot_message(event.data))
        elif kind == "action" and event.data.get("name"):
            turn.actions.append(str(event.data["name"]))
        elif kind == "slot" and event.data.get("name"):
            turn.slots[str(event.data["name"])] = event.data.get("value")
    if turn is not None and (turn.user is not None or turn.bot or turn.actions):
        yield turn


def previous_answer(turns: list[Turn], index: int, skip_intents: frozenset[str]) -> Turn | None:
    """The turn right before `turns[index]` in the same conversation episode, if it has an LLM
    answer (turns of `skip_intents`, such as earlier feedback, and turns without a user message
    are skipped)."""
    current = turns[index]
    for earlier in reversed(turns[:index]):
        if earlier.sender_id != current.sender_id or earlier.episode != current.episode:
            return None
        if earlier.user is None or earlier.user.intent in skip_intents:
            continue
        return earlier if earlier.answer is not None else None
    return None
