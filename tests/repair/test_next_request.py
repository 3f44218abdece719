"""The second request of a message (repair/next_request.py, plans.next_request_due)."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.repair.next_request import next_request_events, pending_request
from rasa_llm_components.repair.plans import DomainFacts, next_request_due
from rasa_llm_components.repair.settings import repair_settings
from rasa_llm_components.repair.turn import read_turn

TEXT = "where's my order 10019, and also can the watch go in the pool? i swim a lot"
PART = "also can the watch go in the pool? i swim a lot"
REQUEST = {"text": PART, "start": TEXT.index(PART), "end": len(TEXT),
           "intent": {"name": "product_question", "confidence": 0.99}}
SETTINGS = repair_settings({
    "digressions": {"order_status": ["action_order_status"], "return_request": ["return_form"],
                    "product_question": ["utter_llm_answer"]},
    "request_intents": ["order_status", "product_question", "return_request"],
    "next_request_action": "action_next_request",
})
FACTS = DomainFacts(form_slots={"return_form": ["order_id"]},
                    custom_actions=frozenset({"action_order_status", "action_next_request"}),
                    responses=frozenset())


def _message(intent: str = "order_status", requests: list[dict[str, Any]] | None = None,
             text: str = TEXT) -> UserUttered:
    watch = text.find("watch")
    entities = [{"entity": "order_id", "value": "10019", "start": 17, "end": 22},
                {"entity": "product", "value": "Nimbra Pulse 3", "start": watch,
                 "end": watch + 5}]
    return UserUttered(text, {"name": intent, "confidence": 0.95}, entities,
                       parse_data={"requests": [REQUEST] if requests is None else requests,
                                   "sentiment": {"compound": 0.1}},
                       message_id="m1", metadata={"channel": "rest"})


def _due(*after: Event, message: UserUttered | None = None, step: str | None = None,
         loop: str | None = None) -> bool:
    events = [ActionExecuted("action_listen"), message or _message(), *after]
    tracker = DialogueStateTracker.from_events("C1001", events)
    turn = read_turn(tracker)
    assert turn is not None
    return next_request_due(turn, SETTINGS, FACTS, step, loop)


def test_the_other_request_comes_once_the_first_is_answered() -> None:
    answered = (ActionExecuted("action_order_status"), BotUttered("ORD-10019 shipped"))
    assert not _due()  # nothing answered yet
    assert _due(*answered)
    # a repair plan that ends by listening
    assert _due(ActionExecuted("utter_repair_no_handoff"), step="action_listen")
    # not twice, not while a form runs, not with the plan still going
    assert not _due(*answered, ActionExecuted("action_next_request"))
    assert not _due(*answered, loop="return_form")
    assert not _due(ActionExecuted("utter_repair_no_handoff"), step="utter_repair_offer_handoff")


def test_no_other_request_when_none_is_listed_or_the_answer_saw_it() -> None:
    answered = (ActionExecuted("action_order_status"), BotUttered("ORD-10019 shipped"))
    assert not _due(*answered, message=_message(requests=[]))
    unlisted = {**REQUEST, "intent": {"name": "greet", "confidence": 0.99}}
    assert not _due(*answered, message=_message(requests=[unlisted]))
    # the knowledge answer read the whole message: its question is answered already
    assert not _due(ActionExecuted("utter_llm_answer"), BotUttered("Yes, 5 ATM."),
                    message=_message(intent="faq"))
    # a request that starts a form waits for no form of its own
    status = {**REQUEST, "intent": {"name": "order_status", "confidence": 0.99}}
    assert _due(ActionExecuted("utter_llm_answer"), BotUttered("Yes, 5 ATM."),
                message=_message(intent="faq", requests=[status]))


def test_a_request_for_a_person_is_not_handed_on_once_the_handoff_ran() -> None:
    person = {**REQUEST, "text": "i want a real person NOW",
              "intent": {"name": "human_handoff", "confidence": 0.99}}
    settings = repair_settings({
        "request_intents": ["human_handoff", "order_status"],
        "next_request_action": "action_next_request",
    })
    message = _message(intent="complaint", requests=[person])
    handed = [ActionExecuted("action_listen"), message, ActionExecuted("action_handoff"),
              BotUttered("I've opened ticket HT-10001")]
    turn = read_turn(DialogueStateTracker.from_events("C1001", handed))
    assert not next_request_due(turn, settings, FACTS, "action_listen", None)
    apologised = [*handed[:2], ActionExecuted("utter_repair_empathy"), BotUttered("Sorry")]
    turn = read_turn(DialogueStateTracker.from_events("C1001", apologised))
    assert next_request_due(turn, settings, FACTS, "action_listen", None)


def test_the_action_makes_the_request_the_customers_next_message() -> None:
    message = _message()
    latest = {**message.parse_data, "entities": message.entities}
    events = next_request_events(latest)
    assert [event["event"] for event in events] == ["action", "user"]
    assert events[0]["name"] == "action_listen"
    uttered = events[1]
    assert uttered["text"] == REQUEST["text"]
    parse_data = uttered["parse_data"]
    assert parse_data["intent"]["name"] == "product_question"
    # only the entities inside the part, with offsets into it
    assert [(e["entity"], REQUEST["text"][e["start"]:e["end"]]) for e in parse_data["entities"]
            ] == [("product", "watch")]
    assert parse_data["sentiment"] == {"compound": 0.1}
    assert uttered["message_id"] and uttered["message_id"] != "m1"
    assert uttered["metadata"]["part_of"] == "m1" and uttered["metadata"]["channel"] == "rest"
    # Rasa reads the events back as a live user message with no further request
    tracker = DialogueStateTracker.from_dict("C1001", [*message_events(), *events])
    turn = read_turn(tracker)
    assert turn is not None and turn.text == REQUEST["text"] and turn.live
    assert turn.intent == "product_question" and turn.pending_request is None


def message_events() -> list[dict[str, Any]]:
    return [ActionExecuted("action_listen").as_dict(), _message().as_dict()]


def test_a_malformed_request_list_is_ignored() -> None:
    for requests in ([{"text": 3}], ["x"], [{"text": "a", "intent": "x", "start": 0}]):
        assert pending_request({"requests": requests}) is None
        assert next_request_events({"requests": requests}) == []
    assert next_request_events(None) == []
    assert pending_request({"requests": "nope"}) is None


def test_a_question_beside_a_task_is_answered_once_its_form_asked() -> None:
    settings = repair_settings({
        "digressions": {"cancel_order": ["cancel_order_form"], "faq": ["utter_llm_answer"]},
        "request_intents": ["cancel_order", "faq", "return_request"],
        "next_request_action": "action_next_request",
        "confirmation_actions": ["utter_confirm_cancel_order"],
    })
    facts = DomainFacts(form_slots={"cancel_order_form": ["order_id"],
                                    "return_form": ["order_id"]},
                        custom_actions=frozenset({"action_next_request"}), responses=frozenset())
    text = "pls cancel the camera order, how long does the refund take?"
    part = "how long does the refund take?"
    question = {"text": part, "start": text.index(part), "end": len(text),
                "intent": {"name": "faq", "confidence": 0.84}}

    def due(*after: Event, loop: str | None = None, request: dict[str, Any] = question) -> bool:
        message = UserUttered(text, {"name": "cancel_order", "confidence": 1.0}, [],
                              parse_data={"requests": [request]}, message_id="m1")
        tracker = DialogueStateTracker.from_events(
            "C1012", [ActionExecuted("action_listen"), message, *after])
        turn = read_turn(tracker)
        assert turn is not None
        return next_request_due(turn, settings, facts, None, loop)

    asked = (ActionExecuted("cancel_order_form"), BotUttered("Which order?"))
    assert due(*asked, loop="cancel_order_form")
    confirming = (ActionExecuted("cancel_order_form"),
                  ActionExecuted("utter_confirm_cancel_order"), BotUttered("Cancel it?"))
    assert due(*confirming)
    # not before the form asked, and never another task that would leave the form
    assert not due(ActionExecuted("cancel_order_form"), ActionExecuted("action_x"),
                   loop="cancel_order_form")
    other_task = {**question, "intent": {"name": "return_request", "confidence": 0.95}}
    assert not due(*asked, loop="cancel_order_form", request=other_task)
    # once handed on, the confirmation is still the bot's last question
    events = [ActionExecuted("action_listen"),
              UserUttered(text, {"name": "cancel_order", "confidence": 1.0}, message_id="m1"),
              *confirming, ActionExecuted("action_next_request"),
              ActionExecuted("action_listen"),
              UserUttered(part, {"name": "faq", "confidence": 0.84}, message_id="m2")]
    turn = read_turn(DialogueStateTracker.from_events("C1012", events))
    assert turn is not None and turn.previous.last_action == "utter_confirm_cancel_order"
