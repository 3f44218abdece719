"""Repair plans: the actions that answer a turn nothing else answers well.

Each case of Rasa Pro's conversation-repair patterns becomes a short plan of actions, decided
from the turn alone (`Turn`), so that the policy can replay it step by step:

- cancel: leave the form, clear what it collected, confirm that nothing was changed;
- human handoff, asked for or accepted after an offer;
- frustration (a complaint, or a miss in a clearly negative message): empathy and an offer;
- correction: a new value for a slot the form already has; re-validated by the form; right
  after a form finished ("oops the zip is wrong, its 78702"), the same form again;
- digression: a question inside a form, answered as outside it, then the form resumes;
- follow-up: "and the b30?" right after a knowledge answer is answered there too;
- two requests in one message: the other one becomes the customer's next message once the
  first is answered, or, when the first started a form, a question once the form has asked
  (`next_request_due`, `repair/next_request.py`);
- a reported fault outside forms ("MY BOOM XL WONT CHARGE ANYMORE"): the knowledge answer;
- switching task: a request that starts another form leaves the current one;
- not understood inside a form: say so, ask the form's question again;
- declined: a "no" to a yes/no confirmation the classifier did not recognise ("nah keep it"),
  answered as the rules answer a "no";
- internal error: an action failed without a word; apologise;
- fallback outside a form: a low-confidence reply offering help, a human after repeated misses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.answering.faults import reports_a_fault
from rasa_llm_components.repair.cues import (
    asks_before_buying,
    asks_for_a_person,
    asks_for_information,
    asks_what_if,
    asks_what_the_knowledge_answers,
    declines_a_human,
    is_non_answer,
    looks_fed_up,
    looks_like_correction,
    looks_like_gibberish,
    looks_like_question,
    looks_upset,
    offers_a_person,
    only_asking,
    opens_with_leaving,
    says_it_corrects,
    says_no,
    says_yes,
    takes_a_person,
)
from rasa_llm_components.repair.settings import CANCEL_RANKING_DEPTH, TASK_SLOT, RepairSettings
from rasa_llm_components.repair.turn import BotTurn, Turn

DEACTIVATE_LOOP = "action_deactivate_loop"
# A value that is most of the message ("10009", "the mouse") is a correction without a cue.
_DOMINANT_VALUE_SHARE = 0.5
# "wait, I meant order 10006" is a correction; a longer message at a free-text question is not.
_SHORT_CORRECTION_WORDS = 6
_SHORT_DENIAL_WORDS = 2
_FOLLOW_UP = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|so|hm+|um+|right|alright|cool|thanks)\W+)?"
    r"(?:and|or|also|what about|how about|what if|same for)\b",
    re.IGNORECASE,
)
_INSTEAD = re.compile(r"\binstead\b", re.IGNORECASE)
# "hm ok how much": a question this short right after an answer is about what was answered.
_SHORT_FOLLOW_UP_WORDS = 4
# "colours", "battery life": a word or two with no value of their own, right after an answer.
_BARE_FOLLOW_UP_WORDS = 2
# "STILL NO MONEY!!! this is a joke": a complaint whose runner-up intent (at least this
# confident) is a request gets that request answered too.
_REQUEST_IN_COMPLAINT = 0.2
# Negative reasons are normal at a free-text question ("it arrived broken"); only a very upset
# message there is taken as frustration (VADER compound score).
_STRONG_FRUSTRATION = -0.7


@dataclass(frozen=True)
class DomainFacts:
    """What the plans need to know about the domain."""

    form_slots: dict[str, list[str]]
    custom_actions: frozenset[str]
    responses: frozenset[str]
    text_slots: frozenset[str] = frozenset()  # slots filled from the message text

    def is_form(self, action: str | None) -> bool:
        return action in self.form_slots


@dataclass
class Plan:
    """Actions for this turn (after the user message), with events applied before some steps.

    `events[i]` are applied with step `i` (Rasa applies a prediction's events before the
    predicted action runs), e.g. slot resets with the first step, or restoring the form's slots
    before the form resumes.
    """

    case: str
    actions: list[str]
    events: dict[int, list[Event]] = field(default_factory=dict)
    listen_after: bool = True

    def next_step(
        self, done: list[str], follow_ups: frozenset[str] = frozenset()
    ) -> tuple[str, list[Event]] | None:
        """The plan's next action and its events, given the actions already run this turn.

        `follow_ups` are actions that an action of the plan may have run on its own (a product
        action handing a question on to the knowledge answer); after the plan's first step and
        outside the plan they are skipped. A turn that began with one is no turn of this plan.
        """
        done = [action for index, action in enumerate(done)
                if index == 0 or action not in follow_ups or action in self.actions]
        if done[: len(self.actions)] != self.actions[: len(done)]:
            return None
        if len(done) < len(self.actions):
            return self.actions[len(done)], self.events.get(len(done), [])
        if len(done) == len(self.actions) and self.listen_after:
            return ACTION_LISTEN_NAME, []
        return None


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
        kinds = {message.get("answer_kind") for message in turn.messages}
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


# How many of the bot's replies back an offer of a person can still be taken up ("I can connect
# you with a colleague" - "how long does a repair take?" - "ok yeah connect me then").
_OFFER_TURNS = 2


def _offered_a_person_lately(turn: Turn, settings: RepairSettings) -> bool:
    """Whether one of the bot's latest replies offered a person, in a response or in words."""
    if _offered_handoff(turn, settings):
        return True
    return any(offers_a_person(message.get("text") or "")
               for previous in turn.previous_turns[-_OFFER_TURNS:]
               for message in previous.messages)


def _asked_confirmation(turn: Turn, settings: RepairSettings) -> bool:
    previous = turn.previous
    return bool(previous and previous.last_action in settings.confirmation_actions)


def as_understood(turn: Turn, settings: RepairSettings) -> Turn:
    """The turn as the repair layer reads it: not understood, whatever intent the classifier
    picked, when the message is keyboard mashing ("gggggg", "???"), or when it answers a yes/no
    confirmation with a yes or no the classifier is unsure of ("xyz" read as "yes" with 0.8
    must not cancel an order)."""
    unsure_answer = (
        _asked_confirmation(turn, settings)
        and turn.intent in settings.affirm_intents | settings.deny_intents | settings.cancel_intents
        and turn.confidence < settings.confirmation_threshold
    )
    if unsure_answer or looks_like_gibberish(turn.text):
        return replace(turn, intent=settings.fallback_intent, confidence=0.0, ranking=[])
    return turn


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


def _handoff(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan | None:
    if not settings.handoff_action:
        return None
    if not turn.loop:
        return Plan("handoff", [settings.handoff_action])
    reset = _reset_form(turn, facts)
    return Plan("handoff", [DEACTIVATE_LOOP, settings.handoff_action], {0: reset})


def _offer(case: str, first: str, settings: RepairSettings) -> Plan:
    return Plan(case, [first, settings.response("offer_handoff")])


def _asks_for_an_answer(turn: Turn, settings: RepairSettings) -> bool:
    """Whether an upset message also asks what the knowledge answers."""
    return bool(settings.answer_action) and asks_what_the_knowledge_answers(turn.text)


def _frustrated(turn: Turn, settings: RepairSettings, threshold: float | None = None) -> bool:
    """Angry at the conversation, or a sentiment at or below `threshold` (default: the
    `frustration_threshold` setting)."""
    if threshold is None:
        threshold = settings.frustration_threshold
    return looks_fed_up(turn.text) or (turn.sentiment is not None and turn.sentiment <= threshold)


def _upset(turn: Turn, settings: RepairSettings) -> bool:
    """`_frustrated`, or words of frustration a sentiment score misses ("really disappointed")."""
    return looks_fed_up(turn.text) or looks_upset(
        turn.text, turn.sentiment, settings.frustration_threshold
    )


def _resume(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> tuple[list, list]:
    """The actions that bring the customer back to the form's pending question, and the events
    before them: the form's slots as they were before this message (a digression's answer may
    have set them, e.g. the order it talked about)."""
    if not turn.loop:
        return [], []
    slots = [*facts.form_slots.get(turn.loop, []), REQUESTED_SLOT]
    restore = [SlotSet(slot, turn.slots_before.get(slot)) for slot in slots]
    return (
        [settings.response("resume"), turn.loop],
        [*restore, SlotSet(TASK_SLOT, settings.form_title(turn.loop))],
    )


def _with_resume(case: str, answer: list[str], turn: Turn, settings: RepairSettings,
                 facts: DomainFacts, first_events: list[Event]) -> Plan:
    resume, resume_events = _resume(turn, settings, facts)
    events = {0: first_events}
    if resume:
        events[len(answer)] = resume_events
    return Plan(case, [*answer, *resume], events, listen_after=not resume)


def _digression_answer(
    turn: Turn,
    settings: RepairSettings,
    facts: DomainFacts,
    learned: tuple[str, ...] | None,
) -> list[str] | None:
    """How a question or small talk inside a form is answered, if the message is one."""
    intent = turn.intent or ""
    control = (
        settings.cancel_intents | settings.deny_intents | settings.affirm_intents
        | settings.exit_intents | settings.handoff_intents
    )
    if intent in settings.slot_intents | settings.frustration_intents | control:
        return None
    if learned and not facts.is_form(learned[0]):
        return list(learned)
    question = looks_like_question(turn.text)
    form_slots = set(facts.form_slots.get(turn.loop or "", []))
    if (
        learned and learned[0] == turn.loop and question and settings.answer_action
        and not any(value is not None for slot, value in turn.slots_filled.items()
                    if slot in form_slots)
    ):
        # "actually whats ur return window" inside the return form: a question about the task,
        # not a new start of it
        return [settings.answer_action]
    if settings.answer_action and (
        intent in settings.answer_intents
        or (intent in settings.question_only_intents and question)
        or (intent == settings.fallback_intent and question)
    ):
        return [settings.answer_action]
    return None


def _is_correction(turn: Turn, corrected: list[str]) -> bool:
    """Whether the message means to change a value the form already has."""
    if looks_like_correction(turn.text):
        return True
    values = [str(turn.slots_filled.get(slot) or "") for slot in corrected]
    text = re.sub(r"\W+", " ", turn.text).strip()
    covered = sum(len(value) for value in values if value.lower() in turn.text.lower())
    return bool(text) and covered >= _DOMINANT_VALUE_SHARE * len(text)


def _leave_form(turn: Turn, settings: RepairSettings, facts: DomainFacts, case: str,
                then: list[str] | None = None, keep: set[str] | None = None) -> Plan:
    title = SlotSet(TASK_SLOT, settings.form_title(turn.loop or ""))
    return Plan(
        case,
        [DEACTIVATE_LOOP, settings.response("cancelled"), *(then or [])],
        {0: [*_reset_form(turn, facts, keep), title]},
        listen_after=not then or not facts.is_form(then[-1]),
    )


def _instead_form(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> str | None:
    """The other form a message asks for "instead" ("scratch that, cancel it instead", which
    the classifier may read as a plain stop with the other task ranked next)."""
    if not _INSTEAD.search(turn.text) or says_no(turn.text):
        return None
    names = [turn.intent or "", *(name for name, _ in turn.ranking[:CANCEL_RANKING_DEPTH])]
    for name in names:
        learned = settings.digressions.get(name)
        if learned and facts.is_form(learned[0]) and learned[0] != turn.loop:
            return learned[0]
    return None


# At a free-text question, a change of mind with what is wrong is the answer (a return reason).
_CHANGE_OF_MIND_AS_REASON = re.compile(
    r"\bchanged? my mind\b.{0,40}\b(?:do not|don'?t|dont|no longer) (?:need|want|like|use)\b",
    re.IGNORECASE,
)
_STOPS_OR_KEEPS = re.compile(r"\b(?:keep|stop|forget|never ?mind|nvm|cancel)\b", re.IGNORECASE)


def _change_of_mind_as_reason(text: str) -> bool:
    """ "i just changed my mind, dont need it": why the item goes back, not a stop."""
    return bool(_CHANGE_OF_MIND_AS_REASON.search(text)) and not _STOPS_OR_KEEPS.search(text)


def _wants_to_cancel(turn: Turn, settings: RepairSettings, free_text: bool) -> bool:
    """A change of mind: the cancel intent, or a cancel phrase the NLU also found plausible.

    At a free-text question (a reason, an address) the phrase is needed too: "don't need it
    anymore" is a return reason, "never mind, I'll keep it" is not.
    """
    phrase = any(pattern.search(turn.text) for pattern in settings.cancel_patterns)
    if free_text and _change_of_mind_as_reason(turn.text):
        return False  # it answers "why return it?"
    if turn.intent in settings.cancel_intents and (phrase or not free_text or not turn.text):
        return True
    if opens_with_leaving(turn.text):
        # ... unless it goes on with a new value ("forget that, it's order 10005"); entities,
        # not the slots after the message, which hold this plan's own resets once it runs
        return not turn.entities and not says_it_corrects(turn.text)
    top = [name for name, _ in turn.ranking if name != settings.fallback_intent]
    return phrase and bool(set(top[:CANCEL_RANKING_DEPTH]) & settings.cancel_intents)


def _empathy_and_offer(turn: Turn, settings: RepairSettings) -> Plan:
    """An apology and the offer of a person, with the knowledge's answer between them when the
    upset message also asks something."""
    if _asks_for_an_answer(turn, settings):
        return Plan("frustration", [settings.response("empathy"), str(settings.answer_action),
                                    settings.response("offer_handoff")])
    return _offer("frustration", settings.response("empathy"), settings)


def _upset_without_an_answer(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> bool:
    """An upset message inside a form that neither answers its question nor asks to stop,
    to say yes or no, or for a person (those have their own plans)."""
    if (turn.intent or "") in (
        settings.handoff_intents | settings.exit_intents | settings.affirm_intents
        | settings.deny_intents
    ):
        return False
    if any(pattern.search(turn.text) for pattern in settings.cancel_patterns):
        return False
    form_slots = set(facts.form_slots.get(turn.loop or "", []))
    if any(value is not None for slot, value in turn.slots_filled.items() if slot in form_slots):
        return False
    return _upset(turn, settings)


def _is_small_talk(answer: list[str] | None, facts: DomainFacts) -> bool:
    """Answered with responses only (greetings, thanks, "are you a bot?"), not by a task."""
    return bool(answer) and all(action in facts.responses for action in answer)


def _plan_in_form(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan | None:
    form = turn.loop or ""
    intent = turn.intent or ""
    requested = turn.requested_slot
    # Story messages (training, `rasa test`) may have an intent and no text: no text to judge.
    free_text = requested in facts.text_slots and bool(turn.text.strip())
    offered = _offered_handoff(turn, settings)
    if intent in settings.deny_intents and offered:
        return _with_resume("handoff_declined", [settings.response("no_handoff")], turn,
                            settings, facts, [])
    if not free_text and _upset_without_an_answer(turn, settings, facts):
        # "wtf i want it cancelled now" after a refusal: not a change of mind, whatever intent
        return _empathy_and_offer(turn, settings)
    learned = settings.digressions.get(intent)
    other_task = bool(learned) and facts.is_form(learned[0]) and learned[0] != form
    instead = _instead_form(turn, settings, facts)
    if instead:
        # "scratch that, cancel it instead": another task for the same order, not only a stop
        shared = set(facts.form_slots.get(form, [])) & set(facts.form_slots.get(instead, []))
        return _leave_form(turn, settings, facts, "switch", [instead],
                           set(turn.slots_filled) | shared)
    # "no" is a change of mind; "not needed anymore" at the reason question is a reason.
    short = len(turn.text.split()) <= _SHORT_DENIAL_WORDS
    if _wants_to_cancel(turn, settings, free_text) or (
        intent in settings.deny_intents
        and not _asked_confirmation(turn, settings)
        and (short or not free_text)
    ):
        return _leave_form(turn, settings, facts, "cancel")
    if only_asking(turn.text) and not other_task:
        # "no no im not returning it, just asking. how long do i have?": no task, an answer
        answer = [settings.answer_action] if settings.answer_action and looks_like_question(
            turn.text) else []
        return _leave_form(turn, settings, facts, "cancel", answer)
    if free_text and requested and requested not in turn.slots_filled and (
        _change_of_mind_as_reason(turn.text)
    ):
        # the answer, whatever intent the words of a change of mind suggested
        return Plan("answer", [form], {0: [SlotSet(requested, turn.text)]}, listen_after=False)
    if intent in settings.exit_intents:
        goodbye = [settings.goodbye_action] if settings.goodbye_action else []
        return _leave_form(turn, settings, facts, "cancel", goodbye)
    if intent in settings.handoff_intents and declines_a_human(turn.text):
        return _with_resume("handoff_declined", [settings.response("no_handoff")], turn,
                            settings, facts, [])
    if intent in settings.handoff_intents or (intent in settings.affirm_intents and offered):
        return _handoff(turn, settings, facts)
    if free_text and _frustrated(turn, settings, _STRONG_FRUSTRATION):
        # "ugh this is so frustrating", "you're useless" answer nothing; a negative reason does
        return _offer("frustration", settings.response("empathy"), settings)

    form_slots = facts.form_slots.get(form, [])
    corrected = [slot for slot in turn.changed_slots() if slot in form_slots and slot != requested]
    # At a free-text question a long message is more likely the answer with a value inside
    # ("actually it's 12 Oak Lane, OH 43081": a ZIP code, no new order): the validators decide.
    long_answer = free_text and len(turn.text.split()) > _SHORT_CORRECTION_WORDS
    if corrected and (not long_answer or says_it_corrects(turn.text)) and _is_correction(
        turn, corrected
    ):
        # Only the corrected value changes: the message is not also the answer to the question.
        restore = _restore(turn, [requested] if requested else [])
        return Plan("correction", [form], {0: restore}, listen_after=False)

    if free_text and (looks_like_gibberish(turn.text) or is_non_answer(turn.text)):
        # "hmm", "???", "umm not sure" at "why are you returning it?" is no reason: ask again,
        # keep nothing.
        plan = rejected_plan(turn, settings)
        plan.events[0] = _restore(turn, [requested]) + plan.events.get(0, [])
        return plan

    answer = _digression_answer(turn, settings, facts, learned)
    if (
        free_text
        and not looks_like_question(turn.text)
        and not _is_small_talk(answer, facts)
        and not other_task
        and intent not in settings.affirm_intents
    ):
        # A statement at a free-text question ("too big for my daughter" as the return reason)
        # answers it, whatever intent it looks like.
        if turn.slots_filled.get(requested) is not None:
            return None
        return Plan("answer", [form], {0: [SlotSet(requested, turn.text)]}, listen_after=False)
    if intent in settings.frustration_intents or (
        _frustrated(turn, settings) and intent in {settings.fallback_intent}
        | settings.question_only_intents
    ):
        return _empathy_and_offer(turn, settings)
    filled = [slot for slot in form_slots if turn.slots_filled.get(slot) is not None
              and not (free_text and slot == requested)]
    if (
        not answer and not other_task and not filled and settings.answer_action
        and intent not in settings.slot_intents and looks_like_question(turn.text)
    ):
        # "ugh fine, who's the carrier then?" at the order question: a question no rule
        # answers goes to the knowledge answer, then the form asks again
        answer = [settings.answer_action]
    if answer:
        # A question is not a slot value: undo what the message wrote into the form's slots.
        return _with_resume("digression", answer, turn, settings, facts,
                            _restore(turn, form_slots))
    if other_task and not (requested and turn.slots_filled.get(requested) is not None):
        return _leave_form(turn, settings, facts, "switch", [learned[0]], set(turn.slots_filled))
    return None  # the form validates the message; a rejection is handled by `rejected_plan`


def rejected_plan(turn: Turn, settings: RepairSettings) -> Plan:
    """Inside a form, a message the form could not use (it rejected it)."""
    if misses_in_a_row(turn, settings) + 1 >= settings.misses_before_handoff:
        return _offer("repeated_miss", settings.response("not_understood"), settings)
    if _frustrated(turn, settings):
        return _offer("frustration", settings.response("empathy"), settings)
    return Plan("not_understood", [settings.response("not_understood"), turn.loop or ""],
                listen_after=False)


def _confirmation_plan(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan | None:
    """A message at a yes/no confirmation that the classifier did not read as a sure yes or
    no: a "no" in other words, a correction, a question, or nothing the bot understood."""
    intent = turn.intent or ""
    question = turn.previous.last_action if turn.previous else None
    if not question or intent in settings.deny_intents | settings.cancel_intents:
        return None
    changed = set(turn.changed_slots())
    form = next(
        (
            action
            for previous in reversed(turn.previous_turns)
            for action in reversed(previous.actions)
            if changed & set(facts.form_slots.get(action, []))
        ),
        None,
    )
    if form:  # "wait, i meant order 10006": the form checks the new value and asks again
        return Plan("correction", [form], listen_after=False)
    declined = settings.declines.get(question)
    if declined and says_no(turn.text) and not looks_like_question(turn.text):
        # "nah keep it": answered as the rules answer a "no"; even a "yes" the classifier was
        # sure of does not go ahead against a clear no in the words
        return Plan("declined", list(declined), listen_after=not facts.is_form(declined[-1]))
    if intent in settings.affirm_intents:
        return None
    accepted = settings.accepts.get(question)
    if accepted and says_yes(turn.text):
        # "yes the whole thing, kettle too": answered as the rules answer a "yes"
        return Plan("accepted", list(accepted), listen_after=not facts.is_form(accepted[-1]))
    answer = _digression_answer(turn, settings, facts, settings.digressions.get(intent))
    if answer:  # a question: answer it, then ask for the confirmation again
        return Plan("digression", [*answer, question], {0: _restore(turn, list(changed))})
    if settings.answer_action and looks_like_question(turn.text) and (
        intent in settings.slot_intents or not settings.digressions.get(intent)
    ):
        # "wait is it the keyboard one?": answered as a question, then the same yes/no question
        return Plan("digression", [settings.answer_action, question],
                    {0: _restore(turn, list(changed))})
    missed = intent == settings.fallback_intent or intent in settings.slot_intents or (
        intent in settings.question_only_intents and not looks_like_question(turn.text)
    )
    if missed and misses_in_a_row(turn, settings) + 1 < settings.misses_before_handoff:
        # "xyz": ask the same yes/no question again, so that the next "yes" still answers it
        return Plan("not_understood", [settings.response("not_understood"), question])
    return None


def _names_a_value(turn: Turn) -> bool:
    """Whether the message filled a slot with a value of its own (an order id, a product), not
    just with its whole text."""
    text = turn.text.strip()
    return any(value is not None and str(value).strip() != text
               for value in turn.slots_filled.values())


def _follows_up_an_answer(turn: Turn, settings: RepairSettings) -> bool:
    """A message right after a knowledge answer (or the handoff's "a colleague will reply")
    that leans on it, whatever the classifier made of it: "and the b30" (a bare value), "and
    if it had just died on its own?" (read as "stop"), "and my old orders get wiped too?" (read
    as an order request), "hm ok how much" (read as "yes"). A message that names an order or a
    product for a task is not one."""
    previous = turn.previous
    informed = {settings.answer_action, settings.handoff_action} - {None}
    if not settings.answer_action or previous is None or previous.last_action not in informed:
        return False
    intent = turn.intent or ""
    if not looks_like_question(turn.text):
        # "and the b30" without a question mark: only a bare value after an answer; "colours"
        # alone asks about what was answered
        bare = len(turn.text.split()) <= _BARE_FOLLOW_UP_WORDS and not turn.entities
        return (previous.last_action == settings.answer_action
                and intent in settings.slot_intents
                and (bool(_FOLLOW_UP.match(turn.text)) or bare))
    if intent in settings.slot_intents:
        return True
    if intent in settings.handoff_intents | settings.exit_intents or _names_a_value(turn):
        return False
    short = len(turn.text.split()) <= _SHORT_FOLLOW_UP_WORDS
    return bool(_FOLLOW_UP.match(turn.text)) or (
        short and intent in settings.affirm_intents | settings.deny_intents
    )


def _ended_without_a_question(turn: Turn) -> bool:
    """Whether the bot's last reply said something and asked nothing."""
    previous = turn.previous
    if previous is None or not previous.messages:
        return False
    return "?" not in (previous.messages[-1].get("text") or "")


def _offered_nothing(turn: Turn) -> bool:
    """Whether the bot's last reply asked nothing and offered no choice ("Refunds for order
    ORD-10023: ... refunded to your Mastercard"): a question after it is a new one ("which card
    did it go to"), not an answer."""
    previous = turn.previous
    return _ended_without_a_question(turn) and not any(
        message.get("buttons") for message in previous.messages)


def _runner_up(turn: Turn, intents: frozenset[str]) -> bool:
    """Whether one of `intents` is the message's second intent."""
    return len(turn.ranking) > 1 and turn.ranking[1][0] in intents


def _plan_outside_form(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan | None:
    intent = turn.intent or ""
    if intent in settings.handoff_intents and declines_a_human(turn.text):
        return Plan("handoff_declined", [settings.response("no_handoff")])
    if intent in settings.handoff_intents and settings.answer_action and asks_for_information(
        turn.text
    ):
        # "when are your human agents available": a question about the people, answered from
        # the knowledge, with the offer of one
        return Plan("question", [settings.answer_action, settings.response("offer_handoff")])
    if intent in settings.handoff_intents or (
        asks_for_a_person(turn.text)
        and (_offered_handoff(turn, settings) or _runner_up(turn, settings.handoff_intents))
    ) or (takes_a_person(turn.text) and _offered_a_person_lately(turn, settings)):
        return _handoff(turn, settings, facts)
    if intent in settings.frustration_intents and settings.handoff_action and (
        asks_for_a_person(turn.text)
    ):
        # "nobody answers. i want a real person NOW": an apology and the colleague, not an
        # offer the customer has already answered
        return Plan("handoff", [settings.response("empathy"), settings.handoff_action])
    if _follows_up_an_answer(turn, settings):
        return Plan("follow_up", [settings.answer_action])
    task = _task_to_correct(turn, settings, facts)
    if task:
        # "oops the zip is wrong, its 78702" right after "Done: ... shipped to ... 78701": the
        # task again, with the corrected value (its form validates it as any answer)
        return Plan("correction", [task], listen_after=False)
    if _offered_handoff(turn, settings):
        if intent in settings.affirm_intents:
            return _handoff(turn, settings, facts)
        if intent in settings.deny_intents | settings.cancel_intents:
            return Plan("handoff_declined", [settings.response("no_handoff")])
    if intent in settings.frustration_intents:
        answer = _request_in_complaint(turn, settings, facts)
        if not answer and _asks_for_an_answer(turn, settings):
            # "seriously? it's one day over. what if it breaks later then": the question too
            answer = (settings.answer_action,)
        return _frustration_plan(turn, settings, facts, answer)
    learned = settings.digressions.get(intent)
    if (
        _frustrated(turn, settings)
        and learned
        and not facts.is_form(learned[0])
        and intent not in settings.affirm_intents | settings.deny_intents | settings.slot_intents
    ):
        # An upset customer with a request: empathy, the answer, and the offer of a human.
        return Plan(
            "frustration", [settings.response("empathy"), *learned,
                            settings.response("offer_handoff")]
        )
    if _asked_confirmation(turn, settings):
        plan = _confirmation_plan(turn, settings, facts)
        if plan:
            return plan
    task = _task_behind_a_stop(turn, settings, facts)
    if task:
        # "ugh i dont even want it anymore, cant you just cancel it" after an order's status:
        # read as "stop", but there is nothing to stop; the task it names is meant (its form
        # still asks before anything changes)
        return Plan("unsure_request", list(task), listen_after=not facts.is_form(task[-1]))
    acknowledged = settings.optional_response("anything_else")
    if acknowledged and intent in settings.affirm_intents and _ended_without_a_question(turn):
        # "yes thats right" after "Done: order ORD-10045 will be shipped to ...": no task to
        # confirm, nothing misunderstood
        return Plan("acknowledged", [acknowledged])
    own_order = _own_order_request(turn, settings, facts)
    if own_order:
        # "i ordered earbuds a day ago ... when will they arrive?": the customer's order, not
        # the shipping times in general
        return Plan("own_order", list(own_order))
    starts_form = bool(learned) and facts.is_form(learned[0])
    if settings.answer_action and (
        (starts_form and asks_for_information(turn.text) and not _names_a_value(turn))
        or ((starts_form or intent == settings.fallback_intent) and (
            asks_what_if(turn.text) or (
                (only_asking(turn.text) or asks_before_buying(turn.text))
                and looks_like_question(turn.text))
        ))
    ):
        # "whats ur return window" or "if my scale arrives broken, what happens?" read as a
        # return request: a question about the task, not the start of one
        return Plan("question", [settings.answer_action])
    unsure = {settings.fallback_intent} | settings.question_only_intents
    if settings.answer_action and intent in unsure | settings.slot_intents and (
        reports_a_fault(turn.text)
    ):
        # "MY BOOM XL WONT CHARGE ANYMORE": no question, but the knowledge says what to do
        return Plan("fault", [settings.answer_action])
    if settings.answer_action and intent in settings.slot_intents and (
        looks_like_question(turn.text) and len(turn.text.split()) > 1
        and (turn.previous is None or _offered_nothing(turn) and (
            # "and the b30?" after the stock of the b30 asks the same task again
            turn.previous.last_action not in facts.custom_actions
            or not (turn.entities or _FOLLOW_UP.match(turn.text))))
    ):
        # "x200 battery?", "where the hell is my watch": a value with a question, when nothing
        # asked for a value; the runner-up request's answer, else the knowledge's
        ranked = [name for name, _ in turn.ranking[1:2] if name in settings.request_intents]
        learned = settings.digressions.get(ranked[0], ()) if ranked else ()
        answer = list(learned) if learned and not facts.is_form(learned[0]) else [
            settings.answer_action]
        if _frustrated(turn, settings):
            answer.insert(0, settings.response("empathy"))
        return Plan("question", answer)
    runner_up = _runner_up_request(turn, settings, facts)
    if intent == settings.fallback_intent and runner_up:
        # "whatever. then return the usb hub from 10009 instead": an unsure request that names
        # what it is about
        return Plan("unsure_request", list(runner_up), listen_after=not facts.is_form(
            runner_up[-1]))
    if intent in unsure and turn.text.strip() and not looks_like_question(turn.text):
        return fallback_plan(turn, settings, facts)  # not a question for the knowledge base either
    return None


def _task_to_correct(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> str | None:
    """The task (a form) that ended in the bot's last reply, when this message corrects what
    it was given and asks nothing: "sorry wrong order, i meant 10046", "oops the zip is wrong,
    its 78702"."""
    previous = turn.previous
    if previous is None or turn.loop or not _ended_without_a_question(turn):
        return None
    intent = turn.intent or ""
    if intent not in settings.slot_intents | settings.deny_intents | {settings.fallback_intent}:
        return None
    if not looks_like_correction(turn.text) or looks_like_question(turn.text) or (
        intent in settings.deny_intents and not turn.entities
    ):
        return None
    finished = [action for action in previous.actions if facts.is_form(action)]
    return finished[-1] if finished else None


# "i ordered ...", "my parcel": the customer's own order; "when", "where": its whereabouts.
_OWN_PURCHASE = re.compile(
    r"\b(?:i|we)\s+(?:just\s+|recently\s+|already\s+)?(?:ordered|bought|purchased|paid for)\b"
    r"|\b(?:my|our)\s+(?:order|package|parcel|delivery|shipment)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"\b(?:it|they|them)\b", re.IGNORECASE)
# ("how long do i have to return it" is no question about the order's whereabouts)
_WHEREABOUTS = re.compile(r"\b(?:when|where|eta|arrive|arriving|get here|ship|shipped)\b",
                          re.IGNORECASE)

# A runner-up request at least this likely, and the tasks of this many earlier turns, count.
_OWN_ORDER_RUNNER_UP = 0.15
_TASK_TURNS = 3


def _own_order_request(turn: Turn, settings: RepairSettings, facts: DomainFacts
                       ) -> tuple[str, ...]:
    """How the rules answer the runner-up request (an action that looks the order up) when a
    question the knowledge would answer asks where or when the customer's own order is: "i
    ordered earbuds a day ago ... when will they arrive?", or "when is it gonna ship" right
    after a task about an order. Without such a runner-up, a question about "it" right after a
    task (a form) gets the `own_order_action`, when one is set."""
    if not settings.answer_action or not _WHEREABOUTS.search(turn.text):
        return ()
    answered = settings.digressions.get(turn.intent or "")
    if answered and tuple(answered) != (settings.answer_action,):
        return ()
    recent = [action for previous in turn.previous_turns[-_TASK_TURNS:]
              for action in previous.actions]
    form_lately = any(facts.is_form(action) for action in recent)
    task_lately = form_lately or any(action in facts.custom_actions for action in recent)
    if not (_OWN_PURCHASE.search(turn.text) or (_PRONOUN.search(turn.text) and task_lately)):
        return ()
    for name, confidence in turn.ranking[1:3]:
        learned = settings.digressions.get(name, ())
        if (name in settings.request_intents and name not in settings.handoff_intents
                and confidence >= _OWN_ORDER_RUNNER_UP and learned
                and learned[0] in facts.custom_actions):
            return tuple(learned)
    if settings.own_order_action and form_lately and _PRONOUN.search(turn.text) and not (
        turn.entities
    ):
        # "so when does it ship then" after "No problem, order ORD-10025 is not cancelled."
        return (settings.own_order_action,)
    return ()


# A "stop" outside any task whose runner-up task is at least this likely means the task.
_TASK_BEHIND_A_STOP = 0.15


def _task_behind_a_stop(turn: Turn, settings: RepairSettings, facts: DomainFacts
                        ) -> tuple[str, ...]:
    """How the rules answer the runner-up task (a form) of a "stop" with nothing to stop: no
    form active, no yes/no question asked, no "never mind" first."""
    if (turn.intent or "") not in settings.cancel_intents or turn.loop or (
        _asked_confirmation(turn, settings) or opens_with_leaving(turn.text)
    ):
        return ()
    for name, confidence in turn.ranking[1:2]:
        learned = settings.digressions.get(name, ())
        if (name in settings.request_intents and confidence >= _TASK_BEHIND_A_STOP
                and learned and facts.is_form(learned[0])):
            return tuple(learned)
    return ()


# An unsure message whose runner-up is a task at least this likely, and which names a value
# (an order id, a product), is taken as that task.
_UNSURE_REQUEST = 0.5


def _runner_up_request(turn: Turn, settings: RepairSettings, facts: DomainFacts
                       ) -> tuple[str, ...]:
    """How the rules answer the message's runner-up intent, when the classifier was unsure
    between it and nothing ("fallback") and the message names a value."""
    ranked = [(name, confidence) for name, confidence in turn.ranking
              if name != settings.fallback_intent]
    if not ranked or not turn.entities:
        return ()
    name, confidence = ranked[0]
    if name not in settings.request_intents or confidence < _UNSURE_REQUEST:
        return ()
    learned = settings.digressions.get(name, ())
    # only a task (a form); an unsure question is the knowledge answer's (LLMResponsePolicy)
    return learned if learned and facts.is_form(learned[0]) else ()


def _request_in_complaint(
    turn: Turn, settings: RepairSettings, facts: DomainFacts
) -> tuple[str, ...]:
    """How the rules answer the request an upset message also makes (its runner-up intent,
    "I SENT THE PAD BACK AGES AGO AND STILL NO MONEY!!!": refund status), if it makes one."""
    for name, confidence in turn.ranking[:CANCEL_RANKING_DEPTH]:
        if name in settings.handoff_intents:
            continue  # the offer of a human follows anyway
        if name in settings.request_intents and confidence >= _REQUEST_IN_COMPLAINT:
            learned = settings.digressions.get(name)
            if learned and not facts.is_form(learned[0]):
                return learned
    return ()


def _frustration_plan(turn: Turn, settings: RepairSettings, facts: DomainFacts,
                      answer: tuple[str, ...] | None = None) -> Plan:
    """Empathy, the answer to the request the message makes (`answer`, else the request of
    its runner-up intent, if any), the offer of a human."""
    if answer is None:
        answer = _request_in_complaint(turn, settings, facts)
    return Plan("frustration", [settings.response("empathy"), *answer,
                                settings.response("offer_handoff")])


def fallback_plan(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan:
    """The low-confidence reply when nothing else answers a turn outside a form."""
    if _upset(turn, settings):
        if settings.answer_action and looks_like_question(turn.text) and (
            turn.intent in settings.slot_intents
        ):
            # "so im just stuck with a broken soundbar??": upset, and a question to answer
            return _frustration_plan(turn, settings, facts, (settings.answer_action,))
        return _frustration_plan(turn, settings, facts)
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


def _question_beside_a_form(
    turn: Turn, settings: RepairSettings, facts: DomainFacts, intent: str, step: str | None,
    active_loop: str | None,
) -> bool:
    """Whether a form that the message started (or its confirmation) has just asked its
    question, and the message's other request is a question answered outside forms."""
    asked = {active_loop} if active_loop else settings.confirmation_actions
    if turn.loop or turn.actions[-1] not in asked or step is not None:
        return False
    if intent in settings.answer_intents | settings.question_only_intents:
        return True
    learned = settings.digressions.get(intent, ())
    return bool(learned) and not facts.is_form(learned[-1])


def next_request_due(
    turn: Turn, settings: RepairSettings, facts: DomainFacts, step: str | None,
    active_loop: str | None,
) -> bool:
    """Whether the message's other request (`Turn.pending_request`) should now become the
    customer's next message: the first one has been answered (`step`, the repair plan's next
    action, is to listen, or the rules' learned answer to the intent has run), and the other
    request is one the bot answers differently; while a form runs, only a question, once the
    form has asked (`_question_beside_a_form`)."""
    request, action = turn.pending_request, settings.next_request_action
    if not request or not action or not turn.actions:
        return False
    if action in turn.actions or request["intent"].get("name") not in settings.request_intents:
        return False
    intent = request["intent"]["name"]
    if turn.loop or active_loop or turn.actions[-1] in settings.confirmation_actions:
        # "pls cancel the camera order, how long does the refund take?": once the form (or
        # its confirmation) has asked its question, the question is answered as a digression
        # and the question is asked again
        return _question_beside_a_form(turn, settings, facts, intent, step, active_loop)
    if intent in settings.handoff_intents and settings.handoff_action in turn.actions:
        return False  # "... i want a real person NOW": the colleague has it already
    learned = settings.digressions.get(turn.intent or "")
    answer = settings.answer_action
    if answer and answer in turn.actions and (
        intent in settings.answer_intents | settings.question_only_intents
        or settings.digressions.get(intent, ())[:1] == (answer,)
    ):
        return False  # the knowledge answer saw the whole message
    if step is not None:
        return step == ACTION_LISTEN_NAME
    if answer and turn.actions[-1] == answer:
        return True
    return bool(learned) and not facts.is_form(learned[-1]) and (
        tuple(turn.actions[-len(learned):]) == learned
    )
