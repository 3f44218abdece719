"""LLMResponsePolicy: when it takes the turn, training/persisting the index, fingerprints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.core.llm_policy import LLMPolicyConfigError, LLMResponsePolicy
from tests.llm.conftest import KNOWLEDGE

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, faq, product_question, out_of_scope, order_status, inform]
slots:
  order_id:
    type: text
    mappings:
      - type: from_text
        conditions:
          - active_loop: return_form
forms:
  return_form:
    required_slots: [order_id]
responses:
  utter_greet:
    - text: hi
  utter_llm_answer:
    - text: "I'm not sure about that one."
"""
)


def _policy(tmp_path: Path, **config) -> LLMResponsePolicy:
    storage = LocalModelStorage(tmp_path / "storage")
    context = ExecutionContext(GraphSchema({}), "test")
    merged = {**LLMResponsePolicy.get_default_config(), **config}
    return LLMResponsePolicy.create(merged, storage, Resource("llm_policy"), context)


def _tracker(intent: str | None, confidence: float = 0.95, *events) -> DialogueStateTracker:
    parse = {"name": intent, "confidence": confidence} if intent else {}
    history = [ActionExecuted("action_listen"), *events]
    history += [ActionExecuted("action_listen"), UserUttered("some text", intent=parse)]
    return DialogueStateTracker.from_events("u1", history, slots=DOMAIN.slots)


def _predicted(policy, tracker) -> tuple[str, float]:
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    best = prediction.max_confidence_index
    return DOMAIN.action_names_or_texts[best], prediction.max_confidence


@pytest.mark.parametrize("intent", ["faq", "product_question", "out_of_scope", "nlu_fallback"])
def test_predicts_llm_answer_for_configured_intents_and_fallback(tmp_path, intent):
    action, confidence = _predicted(_policy(tmp_path), _tracker(intent))
    assert action == "utter_llm_answer"
    assert confidence == 1.0


def test_ignores_other_intents(tmp_path):
    prediction = _policy(tmp_path).predict_action_probabilities(_tracker("greet"), DOMAIN)
    assert prediction.max_confidence == 0.0


def test_takes_low_confidence_turns(tmp_path):
    policy = _policy(tmp_path, nlu_threshold=0.5)
    assert _predicted(policy, _tracker("order_status", 0.42))[0] == "utter_llm_answer"
    assert (
        policy.predict_action_probabilities(_tracker("order_status", 0.6), DOMAIN).max_confidence
        == 0.0
    )


def test_configurable_intents_confidence_and_priority(tmp_path):
    policy = _policy(tmp_path, intents=["inform"], confidence=0.7, priority=5)
    action, confidence = _predicted(policy, _tracker("inform"))
    assert (action, confidence) == ("utter_llm_answer", 0.7)
    assert policy.priority == 5
    assert policy.predict_action_probabilities(_tracker("faq"), DOMAIN).max_confidence == 0.0


def test_active_form_keeps_priority_unless_configured(tmp_path):
    tracker = _tracker(
        "faq", 0.95, ActiveLoop("return_form"), SlotSet("requested_slot", "order_id")
    )
    assert tracker.active_loop_name == "return_form"
    assert _policy(tmp_path).predict_action_probabilities(tracker, DOMAIN).max_confidence == 0.0
    policy = _policy(tmp_path, answer_during_form=True)
    assert _predicted(policy, tracker)[0] == "utter_llm_answer"


def test_listens_after_its_answer(tmp_path):
    tracker = _tracker("faq")
    tracker.update(ActionExecuted("utter_llm_answer"))
    tracker.update(BotUttered("Shipping to Canada costs $12.99."))
    assert _predicted(_policy(tmp_path), tracker) == ("action_listen", 1.0)


def test_does_not_act_after_another_action(tmp_path):
    tracker = _tracker("faq")
    tracker.update(ActionExecuted("utter_greet"))
    assert _policy(tmp_path).predict_action_probabilities(tracker, DOMAIN).max_confidence == 0.0


def test_bad_config_is_reported(tmp_path):
    with pytest.raises(LLMPolicyConfigError, match="backend"):
        _policy(tmp_path, llm={"backend": "nope"})
    with pytest.raises(LLMPolicyConfigError, match="answer"):
        _policy(tmp_path, answer={"bogus": 1})
    policy = _policy(tmp_path, knowledge_paths=["does/not/exist"])
    with pytest.raises(LLMPolicyConfigError, match="does not exist"):
        policy.train([], DOMAIN)
    policy = _policy(tmp_path, llm={"model_path": str(tmp_path / "missing.gguf")})
    with pytest.raises(LLMPolicyConfigError, match="missing.gguf"):
        policy.train([], DOMAIN)
    policy = _policy(tmp_path, llm={"backend": "openai"})
    with pytest.raises(LLMPolicyConfigError, match="base_url"):
        policy.train([], DOMAIN)


def test_fingerprint_addon_follows_knowledge_files(tmp_path, monkeypatch):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    monkeypatch.chdir(tmp_path)
    config = {"knowledge_paths": ["knowledge"]}
    first = LLMResponsePolicy.fingerprint_addon(config)
    assert first and first == LLMResponsePolicy.fingerprint_addon(config)
    faq = knowledge / "faq.yml"
    faq.write_text(faq.read_text().replace("$12.99", "$14.99"))
    assert LLMResponsePolicy.fingerprint_addon(config) != first
    assert LLMResponsePolicy.fingerprint_addon({"knowledge_paths": []}) is None


def test_train_persists_index_and_load_registers_runtime(tmp_path, monkeypatch):
    from rasa_llm_components.core import runtime as llm_runtime

    shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {
        **LLMResponsePolicy.get_default_config(),
        "knowledge_paths": ["knowledge"],
        "warm_up": False,
    }
    resource = Resource("llm_policy")
    policy = LLMResponsePolicy.create(config, storage, resource, context)
    assert policy.train([], DOMAIN) == resource
    with storage.read_from(resource) as directory:
        assert (Path(directory) / "knowledge_index" / "passages.json").is_file()

    loaded = LLMResponsePolicy.load(config, storage, resource, context)
    runtime = llm_runtime.get_runtime("test")
    assert runtime is not None
    hits = runtime.index.search("How long is the warranty?", top_k=1)
    assert hits[0].passage.id == "faq:warranty-length"
    # The runtime lives as long as the loaded policy (Rasa drops it on unload or a swap).
    del loaded
    assert llm_runtime.get_runtime("test") is None
