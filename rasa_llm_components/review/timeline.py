"""Per-hour or per-day counts of a review period: answer kinds, fallbacks and handoffs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from rasa_llm_components.review.events import FALLBACK_INTENT, Turn

# Periods up to this long are shown per hour, longer ones per day.
HOURLY_UP_TO = timedelta(days=2)


@dataclass
class Bucket:
    """The counts of one hour or day."""

    start: datetime
    messages: int = 0  # customer messages the NLU read (no "/intent" commands)
    fallbacks: int = 0
    conversations: set = field(default_factory=set)
    handoff_conversations: set = field(default_factory=set)
    answer_kinds: Counter = field(default_factory=Counter)

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.messages if self.messages else 0.0

    @property
    def handoff_rate(self) -> float:
        if not self.conversations:
            return 0.0
        return len(self.handoff_conversations) / len(self.conversations)


@dataclass
class Timeline:
    """The buckets of the review period, oldest first, and their size ("hour" or "day")."""

    unit: str
    buckets: list[Bucket]


def _floor(moment: datetime, unit: str) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if unit == "day" else moment


def timeline(turns: list[Turn], handoff_action: str) -> Timeline:
    """Counts per hour (periods up to two days) or per day, with empty buckets filled in."""
    stamps = [turn.timestamp for turn in turns if turn.user is not None and turn.timestamp > 0]
    if not stamps:
        return Timeline("hour", [])
    first = datetime.fromtimestamp(min(stamps), timezone.utc)
    last = datetime.fromtimestamp(max(stamps), timezone.utc)
    unit = "hour" if last - first <= HOURLY_UP_TO else "day"
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    buckets: dict[datetime, Bucket] = {}
    moment = _floor(first, unit)
    while moment <= last:
        buckets[moment] = Bucket(moment)
        moment += step
    for turn in turns:
        if turn.timestamp <= 0:
            continue
        bucket = buckets.get(_floor(datetime.fromtimestamp(turn.timestamp, timezone.utc), unit))
        if bucket is None:
            continue
        conversation = (turn.sender_id, turn.episode)
        if turn.user is not None and not turn.user.is_command:
            bucket.messages += 1
            bucket.fallbacks += turn.user.intent == FALLBACK_INTENT
            bucket.conversations.add(conversation)
        if handoff_action in turn.actions:
            bucket.handoff_conversations.add(conversation)
            bucket.conversations.add(conversation)
        for message in turn.bot:
            if message.answer:
                bucket.answer_kinds[str(message.answer.get("answer_kind") or "unknown")] += 1
    return Timeline(unit, list(buckets.values()))
