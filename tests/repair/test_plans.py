"""Repair plans decided from trackers built event by event (no trained model needed)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.repair.plans import DomainFacts, Plan, as_understood, plan_turn
from rasa_llm_components.repair.settings import RepairSettings, repair_settings
from rasa_llm_components.repair.turn import read_turn

SETTINGS = repair_settings(
    {
        "digressions": {"check_stock": ["action_check_stock"]},
        "form_titles": {"return_form": "return"},
    }
)
FACTS = DomainFacts(
    form_slots={"return_form": ["order_id", "return_item", "return_reason"]},
    custom_actions=frozenset({"action_check_stock", "action_handoff"}),
    responses=frozenset(),
)


def _user(text: str, intent: str, ranking: list[tuple[str, float]] | None = None,
          entities: list[dict[str, Any]] | None = None) -> UserUttered:
    ranking = ranking or [(intent, 0.9)]
    return UserUttered(
        text,
        {"name": intent, "confidence": ranking[0][1]},
        entities or [],
        parse_data={"intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]},
        message_id="m1",
    )


def _in_return_form(*message_events: Any, asked: str = "return_reason") -> DialogueStateTracker:
    """A return form that has its order and item and asks for `asked`."""
    events = [
        ActionExecuted("action_listen"),
        _user("i want to return the x200 from 10001", "return_request"),
        ActionExecuted("return_form"),
        ActiveLoop("return_form"),
        SlotSet("order_id", "ORD-10001"),
        SlotSet("return_item", "Auralis X200 Headphones"),
        SlotSet("requested_slot", asked),
        BotUttered("Why are you returning it?"),
        ActionExecuted("action_listen"),
        *message_events,
    ]
    return DialogueStateTracker.from_events("C1001", events)


def _plan(tracker: DialogueStateTracker, settings: RepairSettings = SETTINGS) -> Plan | None:
    turn = read_turn(tracker)
    assert turn is not None
    return plan_turn(turn, settings, FACTS)


def test_a_change_of_mind_in_a_free_text_slot_leaves_the_form() -> None:
    text = "oh wait i changed my mind, i'll keep them"
    tracker = _in_return_form(
        _user(text, "inform", [("inform", 0.6), ("stop", 0.2), ("deny", 0.1)]),
        SlotSet("return_reason", text),
    )
    plan = _plan(tracker)
    assert plan is not None and plan.case == "cancel"
    assert plan.actions == ["action_deactivate_loop", "utter_repair_cancelled"]
    resets = {event.key: event.value for event in plan.events[0] if isinstance(event, SlotSet)}
    assert resets["return_reason"] is None and resets["order_id"] is None
    assert resets["repair_task"] == "return"


def test_a_reason_that_mentions_no_change_of_mind_is_the_answer() -> None:
    text = "i changed nothing, it just broke"
    tracker = _in_return_form(
        _user(text, "inform", [("inform", 0.9), ("stop", 0.05)]),
        SlotSet("return_reason", text),
    )
    assert _plan(tracker) is None  # the form validates the reason


def test_a_correction_with_a_cue_changes_only_the_corrected_slot() -> None:
    text = "actually the mouse"
    tracker = _in_return_form(
        _user(text, "inform"),
        SlotSet("return_item", "Kestrel Glide M3 Mouse"),
        SlotSet("return_reason", text),
    )
    plan = _plan(tracker)
    assert plan is not None and plan.case == "correction"
    assert plan.actions == ["return_form"]
    assert plan.events[0] == [SlotSet("return_reason", None)]


def test_a_long_answer_that_happens_to_contain_another_value_is_not_a_correction() -> None:
    text = "the cable is fine but the headset from 10009 crackles on the left side"
    tracker = _in_return_form(
        _user(text, "inform"),
        SlotSet("order_id", "10009"),
        SlotSet("return_reason", text),
    )
    assert _plan(tracker) is None


def test_a_question_in_a_form_is_answered_and_the_form_slots_come_back() -> None:
    tracker = _in_return_form(
        _user("is the pulse 3 in stock?", "check_stock"), SlotSet("order_id", "ORD-10002")
    )
    plan = _plan(tracker)
    assert plan is not None and plan.case == "digression"
    assert plan.actions == ["action_check_stock", "utter_repair_resume", "return_form"]
    assert SlotSet("order_id", "ORD-10001") in plan.events[0]  # undo what the message set
    restored = {e.key: e.value for e in plan.events[1] if isinstance(e, SlotSet)}
    assert restored["order_id"] == "ORD-10001"  # and what the answer may have set
    assert restored["requested_slot"] == "return_reason"
    assert plan.next_step(["action_check_stock"])[0] == "utter_repair_resume"
    assert plan.next_step(["action_order_status"]) is None  # another policy took over


def test_yes_after_an_offer_sent_by_an_action_hands_over() -> None:
    events = [
        ActionExecuted("action_listen"),
        _user("return my kettle", "return_request"),
        ActionExecuted("return_form"),
        BotUttered("The return window closed ...", metadata={"utter_action": None}),
        BotUttered(
            "Would you like a colleague?", metadata={"utter_action": "utter_repair_offer_handoff"}
        ),
        ActionExecuted("action_listen"),
        _user("yes please", "affirm"),
    ]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.actions == ["action_handoff"]


def test_connect_me_takes_a_person_offered_in_words_a_reply_or_two_ago() -> None:
    def plan_for(text: str, offer: str) -> Plan | None:
        events = [
            ActionExecuted("action_listen"),
            _user("my kettle from the old order leaks, whats my options", "return_request"),
            ActionExecuted("action_check_stock"),
            BotUttered(offer),
            ActionExecuted("action_listen"),
            _user("how long does a warranty repair take", "faq"),
            ActionExecuted("utter_llm_answer"),
            BotUttered("We answer within 2 business days."),
            ActionExecuted("action_listen"),
            _user(text, "affirm", [("affirm", 0.8)]),
        ]
        return _plan(DialogueStateTracker.from_events("C1001", events))

    offer = "The window closed. I can connect you with a colleague for a warranty claim."
    plan = plan_for("ok yeah connect me then", offer)
    assert plan is not None and plan.actions == ["action_handoff"]
    # no offer, or no request for the person: no handoff
    plan = plan_for("ok yeah connect me then", "The window closed on November 17.")
    assert plan is None or "action_handoff" not in plan.actions
    plan = plan_for("ok thanks", offer)
    assert plan is None or "action_handoff" not in plan.actions


def test_an_upset_request_gets_empathy_the_answer_and_the_offer_of_a_human() -> None:
    message = _user("where is my order, this is ridiculous", "check_stock")
    events = [ActionExecuted("action_listen"), message]
    message.parse_data["sentiment"] = {"compound": -0.6}
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.case == "frustration"
    assert plan.actions == [
        "utter_repair_empathy", "action_check_stock", "utter_repair_offer_handoff"
    ]


TEXT_FACTS = DomainFacts(
    form_slots=FACTS.form_slots,
    custom_actions=FACTS.custom_actions,
    responses=frozenset({"utter_you_are_welcome"}),
    text_slots=frozenset({"return_reason"}),
)
TEXT_SETTINGS = repair_settings(
    {"digressions": {"check_stock": ["action_check_stock"], "thanks": ["utter_you_are_welcome"]}}
)


def _plan_at_reason(text: str, intent: str, ranking: list[tuple[str, float]] | None = None,
                    sentiment: float | None = None):
    message = _user(text, intent, ranking)
    if sentiment is not None:
        message.parse_data["sentiment"] = {"compound": sentiment}
    turn = read_turn(_in_return_form(message))
    assert turn is not None
    return plan_turn(turn, TEXT_SETTINGS, TEXT_FACTS)


def test_a_statement_at_a_free_text_question_is_the_answer_whatever_its_intent() -> None:
    plan = _plan_at_reason("too big for my daughter", "check_stock")
    assert plan is not None and plan.case == "answer"
    assert plan.actions == ["return_form"]
    assert plan.events[0] == [SlotSet("return_reason", "too big for my daughter")]
    # "don't need it anymore" is a reason, although the NLU calls it a change of mind.
    assert _plan_at_reason("dont need it anymore", "stop").case == "answer"


def test_a_question_or_small_talk_at_a_free_text_question_is_not_the_answer() -> None:
    assert _plan_at_reason("is the pulse 3 in stock?", "check_stock").case == "digression"
    assert _plan_at_reason("thanks", "thanks").case == "digression"
    assert _plan_at_reason("never mind, i'll keep them", "stop").case == "cancel"


def test_at_a_free_text_question_only_short_denials_and_strong_anger_are_not_answers() -> None:
    assert _plan_at_reason("not needed anymore", "deny").case == "answer"
    assert _plan_at_reason("nope", "deny").case == "cancel"
    angry = _plan_at_reason("ugh this is so frustrating", "complaint", sentiment=-0.76)
    assert angry.case == "frustration"
    negative = _plan_at_reason(
        "it stopped working after a week, terrible quality", "complaint", sentiment=-0.61
    )
    assert negative.case == "answer"


def test_a_hum_or_noise_at_a_free_text_question_is_asked_again_not_kept() -> None:
    for text in ("hmm", "???", "asdfgh", "umm not sure", "idk"):
        message = _user(text, "affirm")
        tracker = _in_return_form(message, SlotSet("return_reason", text))
        turn = as_understood(read_turn(tracker), TEXT_SETTINGS)
        plan = plan_turn(turn, TEXT_SETTINGS, TEXT_FACTS)
        assert plan is not None and plan.case == "not_understood", text
        assert plan.actions[-1] == "return_form"
        assert SlotSet("return_reason", None) in plan.events[0]
    # a short real reason is still the answer
    assert _plan_at_reason("wrong size", "inform").case == "answer"


def test_a_question_no_rule_answers_inside_a_form_goes_to_the_knowledge_answer() -> None:
    events = [_user("ugh fine, who's the carrier then and how do i reach them", "greet")]
    plan = _plan(_in_return_form(*events, asked="order_id"))
    assert plan is not None and plan.case == "digression"
    assert plan.actions[0] == "utter_llm_answer" and plan.actions[-1] == "return_form"
    # a value for the form is no question, even with a question mark
    events = [_user("10001?", "inform"), SlotSet("order_id", "ORD-10001")]
    assert _plan(_in_return_form(*events, asked="order_id")) is None


def test_an_unmistakable_correction_in_a_long_free_text_answer_is_a_correction() -> None:
    events = [_user("sorry wrong order, i meant 10003 (the speaker)", "inform"),
              SlotSet("order_id", "ORD-10003"),
              SlotSet("return_reason", "sorry wrong order, i meant 10003 (the speaker)")]
    plan = plan_turn(read_turn(_in_return_form(*events)), TEXT_SETTINGS, TEXT_FACTS)
    assert plan is not None and plan.case == "correction"
    assert SlotSet("return_reason", None) in plan.events[0]


def test_another_task_at_a_free_text_question_switches_to_it() -> None:
    settings = repair_settings({"digressions": {"cancel_order": ["cancel_order_form"]}})
    facts = DomainFacts(
        form_slots={**FACTS.form_slots, "cancel_order_form": ["order_id"]},
        custom_actions=FACTS.custom_actions,
        responses=frozenset(),
        text_slots=frozenset({"return_reason"}),
    )
    message = _user("actually can you cancel order 10003 instead", "cancel_order")
    turn = read_turn(_in_return_form(message))
    plan = plan_turn(turn, settings, facts)
    assert plan is not None and plan.case == "switch"
    assert plan.actions == ["action_deactivate_loop", "utter_repair_cancelled", "cancel_order_form"]


def test_fed_up_with_the_conversation_at_a_free_text_question_is_no_answer() -> None:
    """Sentiment alone misses it (-0.54); a complaint about the product stays a reason."""
    fed_up = _plan_at_reason("why do you keep asking me things", "inform", sentiment=-0.2)
    assert fed_up.case == "frustration"
    reason = _plan_at_reason(
        "the charger takes forever to charge, useless", "inform", sentiment=-0.2
    )
    assert reason.case == "answer"


CONFIRMING = replace(
    repair_settings({"confirmation_actions": ["utter_confirm_cancel"]}),
    declines={"utter_confirm_cancel": ("utter_order_kept",)},
    accepts={"utter_confirm_cancel": ("action_cancel_order",)},
)


def _at_confirmation(text: str, intent: str, confidence: float):
    """The turn of `text` right after the bot asked a yes/no confirmation, as the repair layer
    reads it."""
    events = [
        ActionExecuted("action_listen"),
        _user("cancel order 10003", "cancel_order"),
        ActionExecuted("utter_confirm_cancel"),
        BotUttered("Do you want me to cancel ORD-10003?"),
        ActionExecuted("action_listen"),
        _user(text, intent, [(intent, confidence)]),
    ]
    turn = read_turn(DialogueStateTracker.from_events("C1001", events))
    assert turn is not None
    return as_understood(turn, CONFIRMING)


def test_an_unsure_yes_at_a_confirmation_is_not_understood() -> None:
    assert _at_confirmation("xyz", "affirm", 0.81).intent == "nlu_fallback"
    assert _at_confirmation("k", "deny", 0.76).intent == "nlu_fallback"
    assert _at_confirmation("yes do it", "affirm", 0.99).intent == "affirm"
    assert _at_confirmation("no keep it", "deny", 0.97).intent == "deny"
    # Keyboard mashing is not understood anywhere, however sure the classifier is.
    assert _at_confirmation("oiuoiu", "affirm", 0.99).intent == "nlu_fallback"


def test_an_unsure_yes_elsewhere_is_left_to_the_classifier() -> None:
    message = _user("yeah", "affirm", [("affirm", 0.7)])
    turn = read_turn(DialogueStateTracker.from_events(
        "C1001", [ActionExecuted("action_listen"), message]
    ))
    assert as_understood(turn, SETTINGS).intent == "affirm"


def test_declining_in_other_words_at_a_free_text_question_leaves_the_form() -> None:
    leave = [("leave it as it is", "change_address", [("change_address", 0.9), ("stop", 0.05)]),
             ("nah im good", "deny", [("deny", 0.9), ("goodbye", 0.05), ("stop", 0.02)]),
             ("actually no need", "deny", [("deny", 0.9), ("stop", 0.05)])]
    for text, intent, ranking in leave:
        assert _plan_at_reason(text, intent, ranking).case == "cancel", text
    # Without a cancel intent among the classifier's guesses, the phrase alone decides nothing.
    assert _plan_at_reason("no need to explain, it broke", "inform").case == "answer"


def test_an_upset_message_at_an_order_question_gets_empathy_not_a_cancel() -> None:
    message = _user("wtf i want it cancelled now", "stop", [("stop", 0.89)])
    turn = read_turn(_in_return_form(message, asked="order_id"))
    assert plan_turn(turn, TEXT_SETTINGS, TEXT_FACTS).case == "frustration"
    calm = _user("stop please", "stop", [("stop", 0.95)])
    turn = read_turn(_in_return_form(calm, asked="order_id"))
    assert plan_turn(turn, TEXT_SETTINGS, TEXT_FACTS).case == "cancel"


def test_an_upset_message_nobody_understood_gets_the_offer_of_a_human() -> None:
    events = [ActionExecuted("action_listen"),
              _user("the kettle smells like burnt plastic, really disappointed", "nlu_fallback")]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.case == "frustration"


def test_not_understood_at_a_confirmation_asks_it_again() -> None:
    plan = plan_turn(_at_confirmation("xyz", "affirm", 0.81), CONFIRMING, FACTS)
    assert plan is not None and plan.case == "not_understood"
    assert plan.actions == ["utter_repair_not_understood", "utter_confirm_cancel"]


def test_a_question_at_a_confirmation_is_answered_then_the_confirmation_asked_again() -> None:
    plan = plan_turn(_at_confirmation("wait is it the keyboard one?", "inform", 0.98),
                     CONFIRMING, FACTS)
    assert plan is not None and plan.case == "digression"
    assert plan.actions == ["utter_llm_answer", "utter_confirm_cancel"]
    # a bare value that is no question is not understood, and the confirmation comes again
    plan = plan_turn(_at_confirmation("the keyboard", "inform", 0.98), CONFIRMING, FACTS)
    assert plan is not None and plan.actions == ["utter_repair_not_understood",
                                                 "utter_confirm_cancel"]


def test_a_question_about_a_task_outside_its_form_is_answered_not_started() -> None:
    settings = repair_settings({"digressions": {"return_request": ["return_form"]}})

    def plan_for(text: str, *slots: SlotSet) -> Plan | None:
        events = [ActionExecuted("action_listen"), _user(text, "return_request"), *slots]
        return _plan(DialogueStateTracker.from_events("C1001", events), settings)

    for text in ("whats ur return window", "how long does a return take?",
                 "ok so which items cant be returned"):
        # a slot filled from the whole text (the example bot's return_item) names no value
        plan = plan_for(text, SlotSet("return_item", text))
        assert plan is not None and plan.case == "question", text
        assert plan.actions == ["utter_llm_answer"]
    # requests start the form: the bot's rules answer them
    assert plan_for("can i return my headphones?") is None
    assert plan_for("how do i return something") is None
    assert plan_for("whats the return window for order 10001",
                    SlotSet("order_id", "ORD-10001")) is None


def test_declining_a_human_in_words_the_classifier_reads_as_asking_for_one() -> None:
    for text in ("no i dont want a human, just tell me the status",
                 "no i dont need a colleague. just cancel order 10029"):
        events = [ActionExecuted("action_listen"), _user(text, "human_handoff")]
        plan = _plan(DialogueStateTracker.from_events("C1001", events))
        assert plan is not None and plan.case == "handoff_declined", text
        assert "action_handoff" not in plan.actions
    for text in ("i dont want a bot, get me a human", "can i talk to someone real"):
        events = [ActionExecuted("action_listen"), _user(text, "human_handoff")]
        assert _plan(DialogueStateTracker.from_events("C1001", events)).case == "handoff", text


def test_another_task_instead_of_the_form_switches_to_it() -> None:
    settings = repair_settings({"digressions": {"cancel_order": ["cancel_order_form"]}})
    facts = replace(FACTS, form_slots={**FACTS.form_slots, "cancel_order_form": ["order_id"]})
    message = _user("hold on, scratch that. just cancel the whole order instead", "cancel_order")
    plan = plan_turn(read_turn(_in_return_form(message)), settings, facts)
    assert plan is not None and plan.case == "switch"
    assert "cancel_order_form" in plan.actions
    assert SlotSet("order_id", None) not in plan.events[0]  # the same order
    # the other task ranked after a stop
    message = _user("actually scratch that, cancel it instead", "stop",
                    [("stop", 0.99), ("cancel_order", 0.004)])
    assert plan_turn(read_turn(_in_return_form(message)), settings, facts).case == "switch"
    # a stop is a stop; keeping something "instead" is no other task
    message = _user("never mind, ill keep it instead", "stop",
                    [("stop", 0.99), ("cancel_order", 0.004)])
    assert plan_turn(read_turn(_in_return_form(message)), settings, facts).case == "cancel"
    message = _user("hold on, scratch that", "stop")
    assert plan_turn(read_turn(_in_return_form(message)), settings, facts).case == "cancel"


def test_questions_right_after_a_knowledge_answer_follow_it_up() -> None:
    def after_answer(text: str, intent: str, *slots: SlotSet) -> Plan | None:
        events = [
            ActionExecuted("action_listen"),
            _user("does the warranty cover a cracked screen", "warranty"),
            ActionExecuted("utter_llm_answer"),
            BotUttered("Accidental damage such as cracked screens is not covered."),
            ActionExecuted("action_listen"),
            _user(text, intent, [(intent, 0.96)]), *slots,
        ]
        return _plan(DialogueStateTracker.from_events("C1001", events))

    for text, intent in [("and if it had just died on its own, without me dropping it?", "stop"),
                         ("and my old orders get wiped too?", "cancel_order"),
                         ("hm ok how much", "affirm")]:
        plan = after_answer(text, intent)
        assert plan is not None and plan.case == "follow_up", text
    # a task with its order, a request for a person, a plain yes: not follow-ups
    assert after_answer("and where is order 10003?", "order_status",
                        SlotSet("order_id", "ORD-10003")) is None
    assert after_answer("and can i talk to a person?", "human_handoff").case == "handoff"
    assert after_answer("ok thanks", "affirm") is None
    # after the handoff's "a colleague will reply by email ..." too
    events = [ActionExecuted("action_listen"), _user("can i talk to someone real", "human_handoff"),
              ActionExecuted("action_handoff"), BotUttered("I've opened ticket HT-10001 ..."),
              ActionExecuted("action_listen"),
              _user("ok and how long till they get back to me", "refund_status")]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.case == "follow_up"


def test_a_no_in_other_words_at_a_confirmation_is_answered_as_the_rules_answer_a_no() -> None:
    for text, intent, confidence in [
        ("nah keep it", "nlu_fallback", 0.6),
        ("ok fine keep it then", "affirm", 0.73),
        ("no leave it", "stop", 0.86),
        ("nope, dont cancel", "affirm", 0.95),  # a sure "yes" against a clear no in the words
    ]:
        plan = plan_turn(_at_confirmation(text, intent, confidence), CONFIRMING, FACTS)
        assert plan is not None and plan.case == "declined", text
        assert plan.actions == ["utter_order_kept"], text
    # a sure "no" is left to the rules; a "yes" with a no word is not read as a "no"
    assert plan_turn(_at_confirmation("no keep it", "deny", 0.97), CONFIRMING, FACTS) is None
    assert plan_turn(_at_confirmation("no problem go ahead", "affirm", 0.97), CONFIRMING,
                     FACTS) is None
    # without a learned answer to "no", the question is asked again
    unlearned = replace(CONFIRMING, declines={})
    plan = plan_turn(_at_confirmation("nah keep it", "nlu_fallback", 0.6), unlearned, FACTS)
    assert plan is not None and plan.case == "not_understood"


def test_a_yes_in_more_words_at_a_confirmation_is_answered_as_the_rules_answer_a_yes() -> None:
    for text, intent in [("yes the whole thing, kettle too", "inform"),
                         ("ok go ahead, i'll order elsewhere", "nlu_fallback")]:
        plan = plan_turn(_at_confirmation(text, intent, 0.9), CONFIRMING, FACTS)
        assert plan is not None and plan.case == "accepted", text
        assert plan.actions == ["action_cancel_order"], text
    # a yes with a reservation or a question goes nowhere irreversible: asked again
    for text in ["yes but only the kettle", "yes, except the case", "yes? what happens then"]:
        plan = plan_turn(_at_confirmation(text, "inform", 0.9), CONFIRMING, FACTS)
        assert plan is None or plan.case != "accepted", text
    # without a learned answer to "yes", not guessed
    unlearned = replace(CONFIRMING, accepts={})
    plan = plan_turn(_at_confirmation("yes the whole thing", "inform", 0.9), unlearned, FACTS)
    assert plan is not None and plan.case == "not_understood"


def test_an_action_handing_over_to_the_answer_does_not_end_the_plan() -> None:
    plan = Plan("digression", ["action_product_info", "utter_repair_resume", "return_form"],
                listen_after=False)
    done = ["action_product_info", "utter_llm_answer"]
    assert plan.next_step(done) is None
    step = plan.next_step(done, frozenset({"utter_llm_answer"}))
    assert step is not None and step[0] == "utter_repair_resume"
    # a turn the knowledge answer began is not a turn of a fallback plan
    fallback = Plan("fallback", ["utter_repair_fallback"])
    assert fallback.next_step(["utter_llm_answer"], frozenset({"utter_llm_answer"})) is None


def test_a_bare_follow_up_after_a_knowledge_answer_is_answered_there() -> None:
    def after(previous_action: str, text: str,
              entities: list[dict[str, Any]] | None = None) -> Plan | None:
        events = [
            ActionExecuted("action_listen"),
            _user("how long does the x200 battery last", "product_question"),
            ActionExecuted(previous_action),
            BotUttered("The Auralis X200 Headphones last up to 38 hours."),
            ActionExecuted("action_listen"),
            _user(text, "inform", [("inform", 0.99)], entities),
        ]
        return _plan(DialogueStateTracker.from_events("C1001", events))

    plan = after("utter_llm_answer", "and the b30?")
    assert plan is not None and plan.case == "follow_up"
    assert plan.actions == ["utter_llm_answer"]
    assert after("utter_llm_answer", "what about the pulse 3").case == "follow_up"
    # a word or two with no value of their own asks about what was answered
    assert after("utter_llm_answer", "colours").case == "follow_up"
    # a bare value is no question, and after another action the rules decide
    b30 = [{"entity": "product", "value": "Veltro Buds B30", "start": 4, "end": 7}]
    assert after("utter_llm_answer", "the b30", b30) is None
    assert after("action_check_stock", "and the b30?") is None
    assert after("action_check_stock", "is the b30 in stock?", b30) is None
    # a question naming nothing, after a task's statement that asked nothing: a new one ("which
    # card did it go to" after the refund status)
    plan = after("action_check_stock", "which colour is it")
    assert plan is not None and plan.case == "question"


def test_a_complaint_that_also_asks_for_something_gets_it_answered() -> None:
    settings = repair_settings({
        "digressions": {"refund_status": ["action_refund_status"]},
        "request_intents": ["refund_status", "human_handoff"],
    })
    text = "I SENT IT BACK WEEKS AGO AND STILL NO MONEY!!! this is a joke"
    events = [ActionExecuted("action_listen"),
              _user(text, "complaint", [("complaint", 0.67), ("refund_status", 0.28)])]
    plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
    assert plan is not None and plan.case == "frustration"
    assert plan.actions == [
        "utter_repair_empathy", "action_refund_status", "utter_repair_offer_handoff"
    ]
    # a runner-up asking for a person is left to the offer; an unlisted or unsure one to nothing
    for ranking in ([("complaint", 0.6), ("human_handoff", 0.4)],
                    [("complaint", 0.6), ("refund_status", 0.1)]):
        events = [ActionExecuted("action_listen"), _user("this bot is useless", "complaint",
                                                         ranking)]
        plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
        assert plan is not None
        assert plan.actions == ["utter_repair_empathy", "utter_repair_offer_handoff"]
    # a question beside the complaint is answered from the knowledge
    answering = replace(settings, answer_action="utter_llm_answer")
    for text in ("seriously? it's one day over. what if it breaks later then",
                 "worst service ever. how long does a refund take"):
        events = [ActionExecuted("action_listen"),
                  _user(text, "complaint", [("complaint", 0.9), ("refund_status", 0.05)])]
        plan = _plan(DialogueStateTracker.from_events("C1001", events), answering)
        assert plan is not None
        assert plan.actions == [
            "utter_repair_empathy", "utter_llm_answer", "utter_repair_offer_handoff"], text


def test_asking_a_person_to_look_at_it_after_an_offer_or_as_runner_up_hands_over() -> None:
    offer = [ActionExecuted("action_listen"), _user("where is my order", "order_status"),
             ActionExecuted("utter_repair_offer_handoff"),
             BotUttered("Would you like me to connect you with a colleague?"),
             ActionExecuted("action_listen")]
    for text, intent, ranking in (
        ("can someone look into it please", "product_info", None),
        ("yes get a real person to look at it", "bot_challenge",
         [("bot_challenge", 0.88), ("human_handoff", 0.1)]),
    ):
        events = [*offer, _user(text, intent, ranking)]
        plan = _plan(DialogueStateTracker.from_events("C1001", events))
        assert plan is not None and plan.actions == ["action_handoff"], text
    # without an offer, the runner-up decides; a question about the bot is no request
    events = [ActionExecuted("action_listen"), _user(
        "yes get a real person to look at it", "bot_challenge",
        [("bot_challenge", 0.88), ("human_handoff", 0.1)])]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.actions == ["action_handoff"]
    events = [ActionExecuted("action_listen"), _user(
        "are you a real person or a bot?", "bot_challenge",
        [("bot_challenge", 0.88), ("human_handoff", 0.1)])]
    assert _plan(DialogueStateTracker.from_events("C1001", events)) is None


def test_an_upset_customer_who_demands_a_person_gets_one_without_an_offer_first() -> None:
    text = "third time im asking and nobody answers. i want a real person NOW"
    events = [ActionExecuted("action_listen"),
              _user(text, "complaint", [("complaint", 0.8), ("order_status", 0.1)])]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.case == "handoff"
    assert plan.actions == ["utter_repair_empathy", "action_handoff"]
    # upset without asking for a person: the apology and the offer
    events = [ActionExecuted("action_listen"),
              _user("third time im asking and nobody answers", "complaint",
                    [("complaint", 0.8), ("order_status", 0.1)])]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.actions[-1] == "utter_repair_offer_handoff"


def test_a_what_if_question_is_answered_not_turned_into_the_task() -> None:
    settings = repair_settings({"digressions": {"return_request": ["return_form"]},
                                "request_intents": ["return_request"]})
    text = "hallo, if my kitchen scale arrives broken, what happens? do i have to pay the return?"
    for intent, ranking in (("return_request", None),
                            ("nlu_fallback", [("nlu_fallback", 0.6), ("return_request", 0.5)])):
        events = [ActionExecuted("action_listen"), _user(text, intent, ranking)]
        plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
        assert plan is not None and plan.actions == ["utter_llm_answer"], intent
    # with an order number it is a request about that order
    events = [ActionExecuted("action_listen"),
              _user("i want to return order 10030, what happens if the box is gone",
                    "return_request")]
    plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
    assert plan is None or plan.actions != ["utter_llm_answer"]


def test_a_customer_only_asking_is_answered_without_the_task() -> None:
    settings = repair_settings({"digressions": {"return_request": ["return_form"]},
                                "request_intents": ["return_request"]})
    events = [ActionExecuted("action_listen"),
              _user("thinking about buying the air fryer. can i send it back?",
                    "return_request")]
    plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
    assert plan is not None and plan.actions == ["utter_llm_answer"]
    # inside the form: the form stops, then the question is answered
    text = "no no im not returning it, just asking. how long do i have left?"
    plan = _plan_at_reason(text, "return_request", [("return_request", 0.7)])
    assert plan is not None and plan.case == "cancel"
    assert plan.actions == ["action_deactivate_loop", "utter_repair_cancelled", "utter_llm_answer"]
    plan = _plan_at_reason("not returning it, just checking", "deny", [("deny", 0.7)])
    assert plan is not None and plan.actions == ["action_deactivate_loop",
                                                 "utter_repair_cancelled"]


def test_never_mind_at_the_start_of_a_free_text_answer_leaves_the_form() -> None:
    text = "actually never mind, the reason doesn't matter"
    plan = _plan_at_reason(text, "inform", [("inform", 0.99), ("thanks", 0.01)])
    assert plan is not None and plan.case == "cancel"
    # ... but a correction that follows it, or a reason that merely contains it, is not
    plan = _plan_at_reason("it broke, never mind why", "inform", [("inform", 0.99)])
    assert plan is None or plan.case != "cancel"


def test_a_fault_stated_outside_a_form_goes_to_the_knowledge_answer() -> None:
    events = [ActionExecuted("action_listen"),
              _user("MY BOOM XL WONT CHARGE ANYMORE", "inform",
                    entities=[{"entity": "product", "value": "Tidewell Boom XL"}])]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is not None and plan.case == "fault" and plan.actions == ["utter_llm_answer"]
    events = [ActionExecuted("action_listen"), _user("it is a present for my dad", "inform")]
    plan = _plan(DialogueStateTracker.from_events("C1001", events))
    assert plan is None or plan.case != "fault"


def test_an_unsure_request_that_names_a_value_is_taken_as_that_request() -> None:
    settings = repair_settings({"digressions": {"return_request": ["return_form"]},
                                "request_intents": ["return_request"]})
    text = "whatever. then return the usb hub from 10009 instead, i never use it"
    ranking = [("nlu_fallback", 0.6), ("return_request", 0.58), ("inform", 0.27)]
    order = [{"entity": "order_id", "value": "10009"}]
    events = [ActionExecuted("action_listen"), _user(text, "nlu_fallback", ranking, order)]
    plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
    assert plan is not None and plan.actions == ["return_form"] and not plan.listen_after
    # without a value, or with a less likely runner-up, the usual fallback answers
    events = [ActionExecuted("action_listen"), _user(text, "nlu_fallback", ranking)]
    plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
    assert plan is None or plan.case != "unsure_request"
    unsure = [("nlu_fallback", 0.6), ("return_request", 0.3)]
    events = [ActionExecuted("action_listen"), _user(text, "nlu_fallback", unsure, order)]
    plan = _plan(DialogueStateTracker.from_events("C1001", events), settings)
    assert plan is None or plan.case != "unsure_request"


def test_a_change_of_mind_with_what_is_wrong_answers_a_free_text_question() -> None:
    plan = _plan_at_reason("ok i just changed my mind, dont need it", "stop")
    assert plan is not None and plan.case == "answer"
    assert plan.events[0] == [SlotSet("return_reason", "ok i just changed my mind, dont need it")]
    assert _plan_at_reason("i changed my mind, i'll keep it", "stop").case == "cancel"


def test_a_value_with_a_question_that_nothing_asked_for_gets_an_answer() -> None:
    settings = repair_settings({"digressions": {"order_status": ["action_order_status"],
                                                "return_request": ["return_form"]},
                                "request_intents": ["order_status", "return_request"]})

    def first(text: str, ranking: list[tuple[str, float]], sentiment: float = 0.0):
        message = _user(text, "inform", ranking)
        message.parse_data["sentiment"] = {"compound": sentiment}
        events = [ActionExecuted("action_listen"), message]
        return _plan(DialogueStateTracker.from_events("C1001", events), settings)

    # the runner-up request's own answer; an upset customer gets the apology first
    plan = first("where the hell is my watch, this is ridiculous",
                 [("inform", 0.84), ("order_status", 0.08)], sentiment=-0.6)
    assert plan is not None and plan.case == "question"
    assert plan.actions == ["utter_repair_empathy", "action_order_status"]
    # no such request: the knowledge answer, never the start of a form
    assert first("x200 battery?", [("inform", 0.7), ("check_stock", 0.2)]).actions == [
        "utter_llm_answer"]
    assert first("x200 battery?", [("inform", 0.7), ("return_request", 0.2)]).actions == [
        "utter_llm_answer"]
    assert first("10009", [("inform", 0.99)]) is None  # a value and no question


def test_a_yes_after_a_task_that_asked_nothing_gets_anything_else() -> None:
    def after(reply: str, settings: RepairSettings) -> Plan | None:
        events = [ActionExecuted("action_listen"), _user("12 harbor street, portland", "inform"),
                  ActionExecuted("action_change_address"), BotUttered(reply),
                  ActionExecuted("action_listen"), _user("yes thats right", "affirm")]
        return _plan(DialogueStateTracker.from_events("C1001", events), settings)

    settings = repair_settings({"responses": {"anything_else": "utter_anything_else"}})
    plan = after("Done: order ORD-10045 will be shipped to 12 harbor street.", settings)
    assert plan is not None and plan.case == "acknowledged"
    assert plan.actions == ["utter_anything_else"]
    # after a question the yes answers it; without the response nothing changes
    assert after("Shall I ship it there?", settings) is None
    assert after("Done: order ORD-10045 will be shipped there.", SETTINGS) is None


def test_a_turn_knows_whether_the_bot_has_just_asked_something() -> None:
    events = [ActionExecuted("action_listen"), _user("can i swap my x200", "exchange"),
              ActionExecuted("action_exchange_info"),
              BotUttered("Order ORD-10001 can be returned until ... Shall I start a return?")]
    turn = read_turn(DialogueStateTracker.from_events("C1001", events))
    assert turn is not None and turn.asked
    turn = read_turn(DialogueStateTracker.from_events("C1001", events[:3]))
    assert turn is not None and not turn.asked


def test_a_question_about_the_people_is_answered_with_the_offer_of_one() -> None:
    answering = replace(SETTINGS, answer_action="utter_llm_answer")
    for text, case in [("when are your human agents available", "question"),
                       ("can i talk to a human", "handoff")]:
        events = [ActionExecuted("action_listen"), _user(text, "human_handoff")]
        plan = _plan(DialogueStateTracker.from_events("C1001", events), answering)
        assert plan is not None and plan.case == case, text
    assert plan_turn(read_turn(DialogueStateTracker.from_events("C1001", [
        ActionExecuted("action_listen"),
        _user("when are your human agents available", "human_handoff")])), answering,
        FACTS).actions == ["utter_llm_answer", "utter_repair_offer_handoff"]


def test_an_upset_question_inside_a_form_gets_the_answer_too() -> None:
    text = "are you kidding me. what happens if it completely dies next month"
    tracker = _in_return_form(_user(text, "complaint", [("complaint", 0.9)]), asked="order_id")
    plan = _plan(tracker)
    assert plan is not None and plan.case == "frustration"
    assert plan.actions == ["utter_repair_empathy", "utter_llm_answer",
                            "utter_repair_offer_handoff"]
    # upset without a question: the apology and the offer only
    tracker = _in_return_form(_user("this is a joke", "complaint", [("complaint", 0.9)]),
                              asked="order_id")
    assert _plan(tracker).actions == ["utter_repair_empathy", "utter_repair_offer_handoff"]


def test_a_question_about_the_customers_own_order_gets_the_order_looked_up() -> None:
    settings = repair_settings({
        "digressions": {"shipping_options": ["utter_llm_answer"],
                        "order_status": ["action_order_status"]},
        "request_intents": ["order_status", "shipping_options"],
    })
    facts = replace(FACTS, custom_actions=FACTS.custom_actions | {"action_order_status"})

    def plan(text: str, *earlier: Any) -> Plan | None:
        events = [*earlier, ActionExecuted("action_listen"),
                  _user(text, "shipping_options",
                        [("shipping_options", 0.69), ("order_status", 0.26)])]
        turn = read_turn(DialogueStateTracker.from_events("C1001", events))
        return plan_turn(turn, settings, facts)

    own = plan("hello. i ordered earbuds a day ago and the site said shipping is quick. when will "
               "they arrive?")
    assert own is not None and own.actions == ["action_order_status"]
    after_task = [ActionExecuted("action_listen"), _user("where is 10045", "order_status"),
                  ActionExecuted("action_order_status"), BotUttered("Order ORD-10045 is ...")]
    assert plan("when is it gonna ship btw", *after_task).actions == ["action_order_status"]
    # shipping in general, or "it" with no order talked about: the knowledge answers
    for text in ("when do orders ship", "when is it gonna ship btw",
                 "i bought a kettle, how long do i have to return it?"):
        result = plan(text)
        assert result is None or result.actions != ["action_order_status"], text


def test_a_stop_with_nothing_to_stop_is_the_task_it_names() -> None:
    settings = repair_settings({
        "digressions": {"cancel_order": ["cancel_order_form"]},
        "request_intents": ["cancel_order"],
    })
    facts = replace(FACTS, form_slots={**FACTS.form_slots, "cancel_order_form": ["order_id"]})

    def plan(text: str, runner_up: float) -> Plan | None:
        events = [ActionExecuted("action_listen"), _user("where is my watch", "order_status"),
                  ActionExecuted("action_check_stock"), BotUttered("ORD-10002 shipped ..."),
                  ActionExecuted("action_listen"),
                  _user(text, "stop", [("stop", 1 - runner_up), ("cancel_order", runner_up)])]
        return plan_turn(read_turn(DialogueStateTracker.from_events("C1001", events)),
                         settings, facts)

    task = plan("ugh i dont even want it anymore, cant you just cancel it", 0.19)
    assert task is not None and task.actions == ["cancel_order_form"]
    # "never mind", or a runner-up too unlikely: nothing is started
    for text, runner_up in [("never mind, cancel it", 0.3), ("stop", 0.05)]:
        result = plan(text, runner_up)
        assert result is None or "cancel_order_form" not in result.actions, text


def test_a_correction_right_after_a_finished_task_runs_the_task_again() -> None:
    facts = replace(FACTS, form_slots={**FACTS.form_slots,
                                       "change_address_form": ["order_id", "new_address"]})
    done = "Done: order ORD-10045 will be shipped to 77 Pine St, Austin, TX 78701."

    def plan(text: str, intent: str = "inform", reply: str = done) -> Plan | None:
        events = [ActionExecuted("action_listen"),
                  _user("ship 10045 to 77 Pine St, Austin, TX 78701", "change_address"),
                  ActionExecuted("change_address_form"), ActiveLoop("change_address_form"),
                  SlotSet("order_id", "ORD-10045"), ActiveLoop(None),
                  ActionExecuted("action_change_address"), BotUttered(reply),
                  ActionExecuted("action_listen"), _user(text, intent)]
        return plan_turn(read_turn(DialogueStateTracker.from_events("C1010", events)),
                         SETTINGS, facts)

    corrected = plan("oops sorry the zip is wrong, its 78702")
    assert corrected is not None and corrected.case == "correction"
    assert corrected.actions == ["change_address_form"] and not corrected.listen_after
    # a question, a plain value without a correction, a new request, or a bot that asked
    # something: no correction of the finished task
    for text, intent, reply in [("sorry, is the zip right?", "inform", done),
                                ("78702", "inform", done),
                                ("actually where is my watch", "order_status", done),
                                ("oops wrong zip, its 78702", "inform", "Anything else?")]:
        result = plan(text, intent, reply)
        assert result is None or result.case != "correction", text


def test_a_question_about_it_right_after_a_task_is_about_the_customers_order() -> None:
    facts = replace(FACTS, form_slots={**FACTS.form_slots, "cancel_order_form": ["order_id"]},
                    custom_actions=FACTS.custom_actions | {"action_order_status"})
    settings = repair_settings({"own_order_action": "action_order_status"})

    def plan(text: str, task: str = "cancel_order_form",
             settings: RepairSettings = settings) -> Plan | None:
        events = [ActionExecuted("action_listen"), _user("cancel order 10025", "cancel_order"),
                  ActionExecuted(task), BotUttered("No problem, order ORD-10025 is not cancelled."),
                  ActionExecuted("action_listen"),
                  _user(text, "shipping_options", [("shipping_options", 0.75), ("faq", 0.11)])]
        return plan_turn(read_turn(DialogueStateTracker.from_events("C1005", events)),
                         settings, facts)

    own = plan("so when does it ship then")
    assert own is not None and own.actions == ["action_order_status"]
    # no pronoun, no task just before, or no action set: the knowledge's general answer
    for result in [plan("when do orders ship"), plan("when does it ship", "action_check_stock"),
                   plan("so when does it ship then", settings=SETTINGS)]:
        assert result is None or result.actions != ["action_order_status"]
