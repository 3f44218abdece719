"""Repair plans: the actions that answer a turn nothing else answers well.

Each case of Rasa Pro's conversation-repair patterns becomes a short plan of actions, decided
from the turn alone (`Turn`), so that the policy can replay it step by step:

- cancel: leave the form, clear what it collected, confirm that nothing was changed;
- human handoff, asked for or accepted after an offer;
- frustration (a complaint, or a miss in a clearly negative message): empathy and an offer;
- correction: a new value for a slot the form already has; re-validated by the form;
- digression: a question inside a form, answered as outside it, then the form resumes;
- switching task: a request that starts another form leaves the current one;
- not understood inside a form: say so, ask the form's question again;
- internal error: an action failed without a word; apologise;
- fallback outside a form: a low-confidence reply offering help, a human after repeated misses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.repair.settings import TASK_SLOT, RepairSettings
from rasa_llm_components.repair.turn import BotTurn, Turn

DEACTIVATE_LOOP = "action_deactivate_loop"
_QUESTION = re.compile(
    r"\?\s*$|^\s*(what|where|when|why|how|which|who|whose|can|could|do|does|did|is|are|will|"
    r"would|should|may)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DomainFacts:
    """What the plans need to know about the domain."""

    form_slots: dict[str, list[str]]
    custom_actions: frozenset[str]
    responses: frozenset[str]

    def is_form(self, action: str | None) -> bool:
        return action in self.form_slots


@dataclass
class Plan:
    """Actions for this turn (after the user message), and events applied with the first one."""

    case: str
    actions: list[str]
    events: list[Event] = field(default_factory=list)
    listen_after: bool = True

    def next_action(self, done: list[str]) -> str | None:
        """The plan's next action given the actions already run this turn, if on track."""
        if done[: len(self.actions)] != self.actions[: len(done)]:
            return None
        if len(done) < len(self.actions):
            return self.actions[len(done)]
        if len(done) == len(self.actions) and self.listen_after:
            return ACTION_LISTEN_NAME
        return None


def looks_like_question(text: str) -> bool:
    return bool(_QUESTION.search(text or ""))


def _is_miss(turn: BotTurn, settings: RepairSettings) -> bool:
    """Whether the bot's reply to an earlier message showed it did not understand."""
    misses = {
        settings.response("fallback"),
        settings.response("fallback_handoff"),
        settings.response("not_understood"),
    }
    if any(action in misses for action in turn.actions):
        return True
    if settings.answer_action and turn.actions and turn.actions[-1] == settings.answer_action:
        kinds = {
            ((message.get("data") or {}).get("custom") or {}).get("answer_kind")
            for message in turn.messages
        }
        return bool(kinds & settings.abstain_answer_kinds)
    return False


def misses_in_a_row(turn: Turn, settings: RepairSettings) -> int:
    """How many of the bot's latest replies in a row were misses."""
    count = 0
    for previous in reversed(turn.previous_turns):
        if not _is_miss(previous, settings):
            break
        count += 1
    return count


def _offered_handoff(turn: Turn, settings: RepairSettings) -> bool:
    previous = turn.previous
    if previous is None or not previous.actions:
        return False
    offers = {settings.response("offer_handoff"), settings.response("fallback_handoff")}
    return previous.actions[-1] in offers or previous.last_response in offers or (
        previous.actions[-1] == settings.answer_action and _is_miss(previous, settings)
    )


def _asked_confirmation(turn: Turn, settings: RepairSettings) -> bool:
    previous = turn.previous
    return bool(previous and previous.last_action in settings.confirmation_actions)


def _restore(turn: Turn, slots: list[str]) -> list[Event]:
    """Events that undo what this message wrote into `slots`."""
    return [
        SlotSet(slot, turn.slots_before.get(slot))
        for slot in slots
        if slot in turn.slots_filled and turn.slots_filled[slot] != turn.slots_before.get(slot)
    ]


def _reset_form(turn: Turn, facts: DomainFacts, keep: set[str] | None = None) -> list[Event]:
    slots = facts.form_slots.get(turn.loop or "", [])
    current = {**turn.slots_before, **turn.slots_filled}
    return [
        SlotSet(slot, None)
        for slot in [*slots, REQUESTED_SLOT]
        if current.get(slot) is not None and slot not in (keep or set())
    ]


def _handoff(turn: Turn, settings: RepairSettings) -> Plan | None:
    if not settings.handoff_action:
        return None
    prefix = [DEACTIVATE_LOOP] if turn.loop else []
    return Plan("handoff", [*prefix, settings.handoff_action], listen_after=True)


def _offer(turn: Turn, settings: RepairSettings, case: str, first: str) -> Plan:
    return Plan(case, [first, settings.response("offer_handoff")])


def _resume(turn: Turn, settings: RepairSettings) -> tuple[list[str], list[Event]]:
    """The actions that bring the customer back to the form's pending question."""
    if not turn.loop:
        return [], []
    return (
        [settings.response("resume"), turn.loop],
        [SlotSet(TASK_SLOT, settings.form_title(turn.loop))],
    )


def _digression_answer(
    turn: Turn,
    settings: RepairSettings,
    facts: DomainFacts,
    learned: tuple[str, ...] | None,
) -> list[str] | None:
    """How a question or small talk inside a form is answered, if the message is one."""
    intent = turn.intent or ""
    if intent in settings.slot_intents | settings.frustration_intents:
        return None
    if learned and not facts.is_form(learned[0]):
        return list(learned)
    if settings.answer_action and (
        intent in settings.answer_intents
        or (intent == settings.fallback_intent and looks_like_question(turn.text))
    ):
        return [settings.answer_action]
    return None


def _plan_in_form(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan | None:
    form = turn.loop or ""
    intent = turn.intent or ""
    title_event = SlotSet(TASK_SLOT, settings.form_title(form))
    reset = _reset_form(turn, facts)
    if intent in settings.cancel_intents or (
        intent in settings.deny_intents and not _asked_confirmation(turn, settings)
    ):
        if _offered_handoff(turn, settings) and intent in settings.deny_intents:
            actions, events = _resume(turn, settings)
            return Plan("handoff_declined", [settings.response("no_handoff"), *actions], events,
                        listen_after=False)
        return Plan(
            "cancel",
            [DEACTIVATE_LOOP, settings.response("cancelled")],
            [*reset, title_event],
        )
    if intent in settings.exit_intents:
        goodbye = [settings.goodbye_action] if settings.goodbye_action else []
        return Plan(
            "cancel", [DEACTIVATE_LOOP, settings.response("cancelled"), *goodbye],
            [*reset, title_event],
        )
    if intent in settings.handoff_intents or (
        intent in settings.affirm_intents and _offered_handoff(turn, settings)
    ):
        plan = _handoff(turn, settings)
        if plan:
            plan.events = reset
        return plan
    form_slots = facts.form_slots.get(form, [])
    requested = turn.requested_slot
    corrected = [slot for slot in turn.changed_slots() if slot in form_slots and slot != requested]
    if corrected:
        return Plan("correction", [form], _restore(turn, [requested] if requested else []),
                    listen_after=False)

    learned = settings.digressions.get(intent)
    answer = _digression_answer(turn, settings, facts, learned)
    if answer:
        resume, resume_events = _resume(turn, settings)
        # A question is not a slot value: undo what the message wrote into the form's slots.
        return Plan("digression", [*answer, *resume],
                    [*_restore(turn, form_slots), *resume_events], listen_after=False)
    if requested and turn.slots_filled.get(requested) is not None:
        return None  # an answer to the form's question: the form validates it
    if any(turn.slots_filled.get(slot) is not None for slot in form_slots):
        return None  # a value for one of the form's next questions
    if learned and facts.is_form(learned[0]) and learned[0] != form:
        keep = set(turn.slots_filled)
        return Plan(
            "switch", [DEACTIVATE_LOOP, settings.response("cancelled"), learned[0]],
            [*_reset_form(turn, facts, keep), title_event], listen_after=False,
        )
    if intent in settings.frustration_intents:
        return _offer(turn, settings, "frustration", settings.response("empathy"))
    if misses_in_a_row(turn, settings) + 1 >= settings.misses_before_handoff:
        return _offer(turn, settings, "repeated_miss", settings.response("not_understood"))
    if turn.sentiment is not None and turn.sentiment <= settings.frustration_threshold:
        return _offer(turn, settings, "frustration", settings.response("empathy"))
    return Plan("not_understood", [settings.response("not_understood"), form],
                listen_after=False)


def _plan_outside_form(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan | None:
    intent = turn.intent or ""
    if intent in settings.handoff_intents:
        return _handoff(turn, settings)
    if _offered_handoff(turn, settings):
        if intent in settings.affirm_intents:
            return _handoff(turn, settings)
        if intent in settings.deny_intents | settings.cancel_intents:
            return Plan("handoff_declined", [settings.response("no_handoff")])
    if intent in settings.frustration_intents:
        return _offer(turn, settings, "frustration", settings.response("empathy"))
    if _asked_confirmation(turn, settings) and intent not in (
        settings.affirm_intents | settings.deny_intents | settings.cancel_intents
    ):
        # A question at a yes/no confirmation: answer it, then ask for the confirmation again.
        answer = _digression_answer(turn, settings, facts, settings.digressions.get(intent))
        if answer:
            return Plan("digression", [*answer, turn.previous.last_action])
    if intent == settings.fallback_intent and not looks_like_question(turn.text):
        return fallback_plan(turn, settings)  # not a question for the knowledge base either
    return None


def fallback_plan(turn: Turn, settings: RepairSettings) -> Plan:
    """The low-confidence reply when nothing else answers a turn outside a form."""
    if turn.sentiment is not None and turn.sentiment <= settings.frustration_threshold:
        return _offer(turn, settings, "frustration", settings.response("empathy"))
    if misses_in_a_row(turn, settings) + 1 >= settings.misses_before_handoff:
        return Plan("repeated_miss", [settings.response("fallback_handoff")])
    return Plan("fallback", [settings.response("fallback")])


def failed_action(turn: Turn, facts: DomainFacts) -> str | None:
    """The custom action (or form) that just ran and failed without a word, if any.

    Rasa drops the events of an action that raised (e.g. the action server is down) and logs
    only its `ActionExecuted`: the customer would get no reply at all. Story trackers (training,
    `rasa test`) never contain the bot's messages, so only live conversations are checked.
    """
    if not turn.live or turn.bot_spoke or not turn.actions:
        return None
    last = turn.actions[-1]
    event = turn.last_event
    if getattr(event, "action_name", None) != last:
        return None
    if last in facts.custom_actions or facts.is_form(last):
        return last
    return None


def form_ended_incomplete(turn: Turn, tracker: DialogueStateTracker, facts: DomainFacts) -> bool:
    """Whether a form just ended itself with required slots still empty."""
    form = turn.actions[-1] if turn.actions else None
    if not facts.is_form(form) or tracker.active_loop_name:
        return False
    return any(tracker.get_slot(slot) is None for slot in facts.form_slots.get(form, []))


def plan_turn(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan | None:
    """The repair plan for this turn, or None when the bot's own rules and stories answer it."""
    if turn.loop:
        return _plan_in_form(turn, settings, facts)
    return _plan_outside_form(turn, settings, facts)
