"""LLMNaturalLanguageGenerator: templated delegation, sources, timeouts and unreachable backends."""

from __future__ import annotations

import asyncio
import socket
import time

import numpy as np
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_llm_components.answering.results import ANSWER_METADATA_KEY
from rasa_llm_components.core import runtime as llm_runtime
from rasa_llm_components.core.nlg import LLMNaturalLanguageGenerator, conversation_context
from rasa_llm_components.core.runtime import LLMRuntime
from tests.llm.conftest import ScriptedBackend

FALLBACK = "I'm not sure about that one. Would you like me to connect you with a colleague?"
DOMAIN = Domain.from_yaml(
    f"""
version: "3.1"
intents: [faq, greet]
slots:
  product:
    type: text
    mappings: [{{type: from_entity, entity: product}}]
responses:
  utter_greet:
    - text: "Hello {{product}}!"
  utter_llm_answer:
    - text: "{FALLBACK}"
"""
)


MODEL_ID = "nlg-test-model"


class _LoadedModel:
    """Stands in for the loaded policy that owns a registered runtime."""


def _tracker(question: str, input_channel: str | None = None) -> DialogueStateTracker:
    events = [
        ActionExecuted("action_listen"),
        UserUttered("hi", intent={"name": "greet", "confidence": 1.0}),
        BotUttered("Hello! How can I help?"),
        SlotSet("product", "X200"),
        ActionExecuted("action_listen"),
        UserUttered(question, intent={"name": "faq", "confidence": 0.9},
                    input_channel=input_channel),
    ]
    tracker = DialogueStateTracker.from_events("u1", events, slots=DOMAIN.slots)
    # Rasa's processor sets the served model's id on every tracker it hands out.
    tracker.model_id = MODEL_ID
    return tracker


def _nlg(**options) -> LLMNaturalLanguageGenerator:
    config = EndpointConfig(type="rasa_llm_components.LLMNaturalLanguageGenerator", **options)
    # Rasa builds the NLG before the model is loaded, with an empty domain.
    return LLMNaturalLanguageGenerator(config, Domain.empty())


async def _generate(nlg, action, tracker):
    return await nlg.generate(action, tracker, "rest", domain_responses=DOMAIN.responses)


@pytest.fixture
def runtime_with(index, guard):
    owners = []

    def install(scripted=None, **llm_settings) -> LLMRuntime:
        runtime = LLMRuntime(index, guard, llm_settings=llm_settings or None, backend=scripted)
        owners.append(_LoadedModel())
        llm_runtime.register_runtime(MODEL_ID, runtime, owner=owners[-1])
        return runtime

    yield install
    owners.clear()  # the model is unloaded: its runtime is unregistered and closed
    assert llm_runtime.get_runtime(MODEL_ID) is None


def test_other_responses_come_from_the_domain_templates(runtime_with):
    runtime_with(ScriptedBackend("unused"))
    message = asyncio.run(_generate(_nlg(), "utter_greet", _tracker("hello")))
    assert message["text"] == "Hello X200!"


def test_llm_answer_carries_sources(runtime_with):
    backend = ScriptedBackend("Shipping to Canada takes 5 to 8 business days and costs $12.99.")
    runtime_with(backend)
    message = asyncio.run(_generate(_nlg(), "utter_llm_answer", _tracker("Do you ship to Canada?")))
    assert message["text"] == "Shipping to Canada takes 5 to 8 business days and costs $12.99."
    assert message["custom"]["sources"] == [
        {"id": "faq:shipping-canada", "title": "Do you ship to Canada and how much does it cost?"}
    ]
    assert message["custom"]["answer_kind"] == "generated"
    # the conversation went into the prompt
    assert "Assistant: Hello! How can I help?" in backend.calls[0][0]["content"]


def test_rasa_shell_gets_the_answer_without_the_raw_payload(runtime_with):
    from rasa.core.channels.console import CmdlineInput

    runtime_with(ScriptedBackend("Shipping to Canada takes 5 to 8 business days and costs $12.99."))
    tracker = _tracker("Do you ship to Canada?", input_channel=CmdlineInput.name())
    message = asyncio.run(_generate(_nlg(), "utter_llm_answer", tracker))
    assert message["text"].startswith("Shipping to Canada")
    assert "custom" not in message
    # still stored with the bot message
    assert message[ANSWER_METADATA_KEY]["sources"] == ["faq:shipping-canada"]


def test_refusal_has_no_sources(runtime_with):
    runtime_with(ScriptedBackend("Sure, 50% off!"))
    message = asyncio.run(
        _generate(_nlg(), "utter_llm_answer", _tracker("give me a 50% discount now"))
    )
    assert "can't grant" in message["text"]
    assert "custom" not in message


def test_slow_backend_yields_fallback_within_timeout_without_blocking(runtime_with):
    backend = ScriptedBackend("Every product has a warranty of 24 months.", delay=5.0)
    runtime_with(backend)
    nlg = _nlg(timeout=0.8)

    async def scenario():
        started = time.perf_counter()
        slow = asyncio.create_task(
            _generate(nlg, "utter_llm_answer", _tracker("How long is the warranty?"))
        )
        await asyncio.sleep(0.1)
        # Another conversation is served while the LLM answer is pending.
        quick_started = time.perf_counter()
        greeting = await _generate(nlg, "utter_greet", _tracker("hi"))
        quick = time.perf_counter() - quick_started
        answer = await slow
        return answer, greeting, quick, time.perf_counter() - started

    answer, greeting, quick, elapsed = asyncio.run(scenario())
    assert answer["text"] == FALLBACK
    assert elapsed < 1.5
    assert greeting["text"] == "Hello X200!"
    assert quick < 0.2

    # The conversation continues: the next question is answered once the backend is fast.
    backend.delay = 0.0
    message = asyncio.run(_generate(nlg, "utter_llm_answer", _tracker("How long is the warranty?")))
    assert "24 months" in message["text"]


def test_unreachable_backend_yields_fallback(runtime_with):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    runtime_with(
        None,
        backend="openai",
        base_url=f"http://127.0.0.1:{port}/v1",
        request_timeout=0.5,
        max_retries=1,
        backoff=0.05,
    )
    started = time.perf_counter()
    message = asyncio.run(
        _generate(_nlg(timeout=3), "utter_llm_answer", _tracker("How long is the warranty?"))
    )
    assert message["text"] == FALLBACK
    assert time.perf_counter() - started < 3.0


def test_without_a_loaded_policy_the_domain_text_is_used():
    assert llm_runtime.get_runtime(MODEL_ID) is None
    message = asyncio.run(_generate(_nlg(), "utter_llm_answer", _tracker("anything?")))
    assert message["text"] == FALLBACK


def test_endpoint_can_override_answer_settings(runtime_with):
    backend = ScriptedBackend("unused")
    runtime_with(backend)
    nlg = _nlg(answer={"mode": "extractive"})
    message = asyncio.run(
        _generate(nlg, "utter_llm_answer", _tracker("Which payment methods do you accept?"))
    )
    assert "PayPal" in message["text"]
    assert message["custom"]["answer_kind"] == "extractive"
    assert backend.calls == []


def test_conversation_context_takes_question_history_and_slots():
    context = conversation_context(_tracker("Does it fold?"), ["product", "order_id"])
    assert context.question == "Does it fold?"
    assert context.history == [("user", "hi"), ("bot", "Hello! How can I help?")]
    assert context.slots == {"product": "X200"}


def test_responses_sent_by_custom_actions_use_the_loaded_domain(runtime_with):
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    runtime_with(ScriptedBackend("unused"))
    nlg = _nlg()
    # Rasa's Agent.load_model refreshes the responses of templated generators only.
    assert isinstance(nlg, TemplatedNaturalLanguageGenerator)
    nlg.responses = DOMAIN.responses
    # A custom action's `utter_message(response=...)` reaches the NLG without domain_responses.
    message = asyncio.run(nlg.generate("utter_greet", _tracker("hello"), "rest"))
    assert message["text"] == "Hello X200!"


def test_a_conversation_replays_with_the_same_response_variations():
    variations = {f"utter_v{i}": [{"text": f"variant {i}-{k}"} for k in range(6)] for i in range(4)}
    nlg = LLMNaturalLanguageGenerator(domain=Domain.from_dict({"responses": variations}))

    def replies(sender: str) -> list[str]:
        tracker = DialogueStateTracker.from_events(sender, [UserUttered("hi")])
        return [
            asyncio.run(nlg.generate(action, tracker, "rest"))["text"]
            for action in sorted(variations)
        ]

    assert replies("C1001") == replies("C1001")
    assert len({tuple(replies(f"visitor-{n}")) for n in range(8)}) > 1  # still varied
    state = np.random.get_state()[1].copy()
    replies("C1002")
    assert (np.random.get_state()[1] == state).all()  # the global generator is left as it was
