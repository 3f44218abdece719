"""The repair policy's `card_data_response`: said first when the message has card data
(`PIIRedactor`'s `pii`), then the turn goes on as it would have without it."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from rasa_llm_components.core.repair_policy import ConversationRepairPolicy
from rasa_llm_components.nlu.pii_redactor import PIIRedactor
from rasa_llm_components.repair.settings import RepairConfigError

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, order_status]
slots:
  repair_task: {type: text, influence_conversation: false, mappings: [{type: custom}]}
actions: [action_order_status]
responses:
  utter_no_card: [{text: "please never send card details"}]
  utter_greet: [{text: hi}]
  utter_goodbye: [{text: bye}]
  utter_repair_cancelled: [{text: stopped}]
  utter_repair_resume: [{text: back}]
  utter_repair_not_understood: [{text: pardon}]
  utter_repair_fallback: [{text: rephrase}]
  utter_repair_fallback_handoff: [{text: a human maybe}]
  utter_repair_empathy: [{text: sorry}]
  utter_repair_offer_handoff: [{text: a human then}]
  utter_repair_no_handoff: [{text: ok}]
  utter_repair_internal_error: [{text: oops}]
"""
)


def _policy(tmp_path: Any, **options: Any) -> ConversationRepairPolicy:
    config = {
        **ConversationRepairPolicy.get_default_config(),
        "handoff_action": None,
        "answer_action": None,
        "goodbye_action": None,
        "digressions": {"order_status": ["action_order_status"]},
        **options,
    }
    return ConversationRepairPolicy(
        config, LocalModelStorage(tmp_path), Resource("repair"),
        ExecutionContext(GraphSchema({}), "test"),
    )  # fmt: skip


def _message(text: str, intent: str) -> UserUttered:
    (parsed,) = PIIRedactor({"redact_logs": False}).process([Message.build(text)])
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": [],
                  "pii": parsed.get("pii")}
    return UserUttered(text, parse_data["intent"], [], parse_data, message_id="m1")


def _next_action(policy: ConversationRepairPolicy, *events: Any) -> str | None:
    tracker = DialogueStateTracker.from_events("C1001", [ActionExecuted("action_listen"), *events])
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    best = max(range(len(prediction.probabilities)), key=prediction.probabilities.__getitem__)
    if prediction.probabilities[best] == 0:
        return None
    return DOMAIN.action_names_or_texts[best]


def test_warns_first_then_answers_the_request(tmp_path):
    policy = _policy(tmp_path, card_data_response="utter_no_card")
    message = _message("card 4111 1111 1111 1111 charged twice, where is ORD-10003", "order_status")
    assert message.parse_data["pii"] == ["card"]
    assert _next_action(policy, message) == "utter_no_card"
    warned = [ActionExecuted("utter_no_card"), BotUttered("please never send card details")]
    assert _next_action(policy, message, *warned) == "action_order_status"
    answered = [*warned, ActionExecuted("action_order_status"), BotUttered("ORD-10003 ...")]
    assert _next_action(policy, message, *answered) == "action_listen"


def test_no_warning_without_card_data_or_when_off(tmp_path):
    email = _message("my email is jane@doe.org, where is ORD-10003?", "order_status")
    assert email.parse_data["pii"] == ["email"]
    # (the policy's own low-confidence fallback, which rules outrank, is all that is left)
    policy = _policy(tmp_path, card_data_response="utter_no_card")
    assert _next_action(policy, email) in (None, "utter_repair_fallback")
    card = _message("4111 1111 1111 1111", "order_status")
    assert _next_action(_policy(tmp_path), card) in (None, "utter_repair_fallback")


def test_training_needs_the_response(tmp_path):
    policy = _policy(tmp_path, card_data_response="utter_missing")
    with pytest.raises(RepairConfigError, match="card_data_response"):
        policy.train([], DOMAIN)
