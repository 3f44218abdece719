"""What happened in the current turn, read from a Rasa tracker.

A turn starts with the latest user message. Everything the repair layer decides depends on the
state *at that message* (the form that was active, the slots it had filled, the question the bot
had asked) and on what happened after it (slots the message filled, actions already run). Those
are read from the event list, never from mutable state, so the decision for a turn is the same
however often it is recomputed while the turn's actions run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import (
    ACTION_LISTEN_NAME,
    ACTION_SESSION_START_NAME,
    REQUESTED_SLOT,
)
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import (
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)

from rasa_llm_components.answering import ANSWER_METADATA_KEY
from rasa_llm_components.repair.next_request import ACTION_NEXT_REQUEST, pending_request

SENTIMENT_KEY = "sentiment"


@dataclass(frozen=True)
class BotTurn:
    """The bot's reply to one earlier user message: the actions it ran and what it said."""

    actions: tuple[str, ...]
    messages: tuple[dict[str, Any], ...]

    @property
    def last_action(self) -> str | None:
        return self.actions[-1] if self.actions else None

    @property
    def last_response(self) -> str | None:
        """The domain response the bot's last message came from (also when an action sent it)."""
        return self.messages[-1].get("response") if self.messages else None


@dataclass
class Turn:
    """The current turn: the user message, the state before it, and what followed it."""

    text: str
    intent: str | None
    confidence: float
    entities: list[dict[str, Any]]
    ranking: list[tuple[str, float]]
    sentiment: float | None
    loop: str | None
    requested_slot: str | None
    slots_before: dict[str, Any]
    slots_filled: dict[str, Any]
    actions: list[str]
    last_event: Event | None
    bot_spoke: bool
    loop_rejected: bool
    live: bool
    previous_turns: list[BotTurn] = field(default_factory=list)
    # the message's next request, if it has several (`repair/next_request.py`)
    pending_request: dict[str, Any] | None = None
    # what the bot has said so far in reply to this message, its latest message last
    said: tuple[str, ...] = ()

    @property
    def asked(self) -> bool:
        """Whether the bot's latest message in this turn asks the customer something."""
        return bool(self.said) and "?" in self.said[-1]

    @property
    def previous(self) -> BotTurn | None:
        """The bot's reply to the message before this one."""
        return self.previous_turns[-1] if self.previous_turns else None

    def changed_slots(self) -> dict[str, Any]:
        """Slots this message set to a new value while they already held another one."""
        return {
            name: value
            for name, value in self.slots_filled.items()
            if self.slots_before.get(name) is not None and self.slots_before.get(name) != value
        }


def _is_turn_boundary(event: Event) -> bool:
    return isinstance(event, (Restarted, SessionStarted))


def _slot_state(events: list[Event]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for event in events:
        if isinstance(event, SlotSet):
            slots[event.key] = event.value
    return slots


def _loop_state(events: list[Event]) -> str | None:
    loop = None
    for event in events:
        if isinstance(event, ActiveLoop):
            loop = event.name
    return loop


def _bot_turns(events: list[Event]) -> list[BotTurn]:
    """The bot's replies, one per user message, oldest first."""
    turns: list[BotTurn] = []
    actions: list[str] = []
    messages: list[dict[str, Any]] = []
    started = False
    for event in events:
        if isinstance(event, UserUttered):
            if started:
                turns.append(BotTurn(tuple(actions), tuple(messages)))
            started, actions, messages = True, [], []
        elif isinstance(event, ActionExecuted) and started:
            # handing on the message's next request is no reply: the reply is what came before
            if event.action_name not in (ACTION_LISTEN_NAME, ACTION_NEXT_REQUEST, None):
                actions.append(event.action_name)
        elif isinstance(event, BotUttered) and started:
            metadata = event.metadata or {}
            answer = metadata.get(ANSWER_METADATA_KEY) or {}
            messages.append(
                {
                    "text": event.text,
                    "response": metadata.get("utter_action"),
                    "answer_kind": answer.get("answer_kind"),
                    "buttons": bool((event.data or {}).get("buttons")),
                }
            )
    if started:
        turns.append(BotTurn(tuple(actions), tuple(messages)))
    return turns


def read_turn(tracker: DialogueStateTracker) -> Turn | None:
    """The current turn, or None before the first user message of the session."""
    events = list(tracker.events)
    start = 0
    for index, event in enumerate(events):
        if _is_turn_boundary(event):
            start = index
    events = events[start:]
    user_index = next(
        (i for i in range(len(events) - 1, -1, -1) if isinstance(events[i], UserUttered)), None
    )
    if user_index is None:
        return None
    message: UserUttered = events[user_index]
    before, after = events[:user_index], events[user_index + 1 :]

    slots_filled: dict[str, Any] = {}
    for event in after:
        if not isinstance(event, SlotSet):
            break
        slots_filled[event.key] = event.value
    actions = [
        event.action_name
        for event in after
        if isinstance(event, ActionExecuted)
        and event.action_name not in (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME)
    ]
    slots_before = _slot_state(before)
    intent = message.intent or {}
    sentiment = (message.parse_data or {}).get(SENTIMENT_KEY) or {}
    return Turn(
        text=message.text or "",
        intent=intent.get(INTENT_NAME_KEY),
        confidence=float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
        entities=list(message.entities or []),
        ranking=[
            (str(item.get(INTENT_NAME_KEY)), float(item.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
            for item in (message.parse_data or {}).get(INTENT_RANKING_KEY) or []
        ],
        sentiment=sentiment.get("compound") if isinstance(sentiment, dict) else None,
        loop=_loop_state(before),
        requested_slot=slots_before.get(REQUESTED_SLOT),
        slots_before=slots_before,
        slots_filled=slots_filled,
        actions=actions,
        last_event=events[-1] if events else None,
        bot_spoke=any(isinstance(event, BotUttered) for event in after),
        loop_rejected=any(isinstance(event, ActionExecutionRejected) for event in after),
        # Messages of a running bot have ids; those of training and test stories do not.
        live=bool(message.message_id),
        previous_turns=_bot_turns(before),
        pending_request=pending_request(message.parse_data),
        said=tuple(event.text or "" for event in after if isinstance(event, BotUttered)),
    )
