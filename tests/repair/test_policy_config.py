"""Configuration checks of the repair policy and what it learns from rules and stories."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.core.repair_policy import ConversationRepairPolicy
from rasa_llm_components.repair.learned import learn_answers_after, learn_responses
from rasa_llm_components.repair.settings import RepairConfigError

SNIPPET_DOMAIN = """
version: "3.1"
intents: [greet, book, stop, human_handoff]
slots:
  repair_task: {type: text, influence_conversation: false, mappings: [{type: custom}]}
forms:
  book_form: {required_slots: []}
responses:
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


def _policy(tmp_path: Any, **options: Any) -> ConversationRepairPolicy:
    config = {**ConversationRepairPolicy.get_default_config(), **options}
    return ConversationRepairPolicy(
        config,
        LocalModelStorage(tmp_path),
        Resource("repair"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _domain(extra: str = "") -> Domain:
    return Domain.from_yaml(SNIPPET_DOMAIN + extra)


def test_defaults_are_valid(tmp_path: Any) -> None:
    policy = _policy(tmp_path)
    assert policy.settings.form_title("change_address_form") == "change address"
    assert policy.settings.response("cancelled") == "utter_repair_cancelled"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"cancel_intent": ["stop"]},
            "unknown option 'cancel_intent'. Did you mean 'cancel_intents'?",
        ),
        ({"cancel_intents": "stop, never mind"}, None),
        ({"cancel_intents": [1, 2]}, "'cancel_intents' must be a list of intent names"),
        ({"responses": {"cancel": "utter_x"}}, "'responses' has unknown key(s) ['cancel']"),
        ({"misses_before_handoff": 0}, "'misses_before_handoff' must be an integer >= 1"),
        ({"frustration_threshold": -2}, "'frustration_threshold' must be a number"),
        ({"digressions": {"greet": []}}, "'digressions': intent 'greet'"),
        ({"handoff_action": ""}, "'handoff_action' must be an action name or null"),
    ],
)
def test_invalid_options_are_clear_errors(tmp_path: Any, options: dict, message: str) -> None:
    if message is None:  # a single intent name is accepted as a one-element list
        assert _policy(tmp_path, **options).settings.cancel_intents == {"stop, never mind"}
        return
    with pytest.raises(RepairConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        _policy(tmp_path, **options)


def test_training_names_missing_responses_and_the_snippet(tmp_path: Any) -> None:
    domain = Domain.from_yaml('version: "3.1"\nintents: [greet]\n')
    with pytest.raises(RepairConfigError, match="rasa_llm_components/repair/domain.yml"):
        _policy(tmp_path, handoff_action=None, answer_action=None).train([], domain)


def test_training_checks_the_actions_it_predicts(tmp_path: Any) -> None:
    with pytest.raises(RepairConfigError, match="'handoff_action' names 'action_handoff'"):
        _policy(tmp_path, answer_action=None).train([], _domain())
    _policy(tmp_path, handoff_action=None, answer_action=None).train([], _domain())
    with pytest.raises(RepairConfigError, match="'own_order_action' names 'action_status'"):
        _policy(tmp_path, handoff_action=None, answer_action=None,
                own_order_action="action_status").train([], _domain())


def _tracker(sender: str, *events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, list(events))


def test_learns_the_answer_of_each_intent_outside_forms() -> None:
    domain = _domain()
    greet = _tracker(
        "a",
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet"}),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        UserUttered("book", {"name": "book"}),
        ActionExecuted("book_form"),
        ActiveLoop("book_form"),
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet"}),  # inside the form: not learned
        ActionExecuted("utter_goodbye"),
    )
    ambiguous = _tracker(
        "b",
        ActionExecuted("action_listen"),
        UserUttered("stop", {"name": "stop"}),
        ActionExecuted("utter_goodbye"),
        ActionExecuted("action_listen"),
        UserUttered("stop", {"name": "stop"}),
        ActionExecuted("utter_greet"),
    )
    learned = learn_responses([greet, ambiguous], domain)
    assert learned == {"greet": ("utter_greet",), "book": ("book_form",)}


def test_learns_how_the_rules_answer_a_no_to_each_confirmation() -> None:
    declined = _tracker(
        "a",
        ActionExecuted("action_listen"),
        UserUttered("cancel it", {"name": "cancel_order"}),
        ActionExecuted("utter_confirm_cancel"),
        ActionExecuted("action_listen"),
        UserUttered("no", {"name": "deny"}),
        ActionExecuted("utter_order_kept"),
        ActionExecuted("action_listen"),
    )
    confirmed = _tracker(
        "b",
        ActionExecuted("utter_confirm_cancel"),
        ActionExecuted("action_listen"),
        UserUttered("yes", {"name": "affirm"}),
        ActionExecuted("action_cancel_order"),
        ActionExecuted("action_listen"),
    )
    elsewhere = _tracker(
        "c",
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        UserUttered("no", {"name": "deny"}),
        ActionExecuted("utter_goodbye"),
    )
    learned = learn_answers_after([declined, confirmed, elsewhere], ["utter_confirm_cancel"],
                                  ["deny", "stop"])
    assert learned == {"utter_confirm_cancel": ("utter_order_kept",)}
    accepted = learn_answers_after([declined, confirmed, elsewhere], ["utter_confirm_cancel"],
                                   ["affirm"])
    assert accepted == {"utter_confirm_cancel": ("action_cancel_order",)}
