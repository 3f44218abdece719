"""LLM turns under load: a few generations run, a few wait, the rest are answered at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from rasa_llm_components.answering import (
    EXTRACTIVE,
    GENERATED,
    ConversationContext,
    GroundedAnswerer,
)
from rasa_llm_components.llm import LLMConfigError, create_backend
from rasa_llm_components.llm.admission import LLMBusyError, RequestGate
from tests.llm.conftest import ScriptedBackend
from tests.llm.test_backends import MESSAGES, StubServer


async def _hold(gate: RequestGate, log: list[str], name: str, seconds: float) -> str:
    async with gate.slot():
        log.append(f"start {name}")
        await asyncio.sleep(seconds)
    return name


def test_gate_runs_waits_and_refuses_in_arrival_order():
    async def scenario():
        gate = RequestGate(1, 1)
        log: list[str] = []
        first = asyncio.create_task(_hold(gate, log, "first", 0.3))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(_hold(gate, log, "second", 0.01))
        await asyncio.sleep(0.01)
        assert (gate.active, gate.waiting) == (1, 1)
        started = time.perf_counter()
        with pytest.raises(LLMBusyError, match="busy"):
            await _hold(gate, log, "third", 0.01)
        refused_after = time.perf_counter() - started
        await asyncio.gather(first, second)
        return gate, log, refused_after

    gate, log, refused_after = asyncio.run(scenario())
    assert refused_after < 0.05  # refused at once, not after the first one finished
    assert log == ["start first", "start second"]
    assert (gate.active, gate.waiting, gate.refused) == (0, 0, 1)


def test_caller_that_gives_up_while_waiting_takes_no_slot():
    async def scenario():
        gate = RequestGate(1, 2)
        log: list[str] = []
        async with gate.slot():
            log.append("start holder")
            doomed = asyncio.create_task(_hold(gate, log, "doomed", 0.01))
            after = asyncio.create_task(_hold(gate, log, "after", 0.01))
            await asyncio.sleep(0.01)
        # The slot went to `doomed`, which has not run since: it is cancelled right now.
        doomed.cancel()
        await asyncio.gather(doomed, after, return_exceptions=True)
        return gate, log

    gate, log = asyncio.run(scenario())
    assert log == ["start holder", "start after"]
    assert (gate.active, gate.waiting) == (0, 0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_parallel": 0}, "n_parallel"),
        ({"n_parallel": "two"}, "n_parallel"),
        ({"max_queue": -1}, "max_queue"),
        ({"max_queue": True}, "max_queue"),
    ],
)
def test_bad_admission_options_are_config_errors(options, message):
    with pytest.raises(LLMConfigError, match=message):
        create_backend({"backend": "openai", "base_url": "http://127.0.0.1:9/v1", **options})


def test_default_gates_embedded_model_but_not_a_served_one():
    embedded = create_backend({"backend": "llamacpp"})
    served = create_backend({"backend": "openai", "base_url": "http://127.0.0.1:9/v1"})
    limited = create_backend(
        {"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "n_parallel": 4,
         "max_queue": None}
    )
    assert (embedded.gate.max_active, embedded.gate.max_waiting) == (1, 2)
    assert embedded.n_parallel == 1
    assert served.gate is None
    assert (limited.gate.max_active, limited.gate.max_waiting) == (4, None)


def test_busy_endpoint_refusal_does_not_open_the_circuit():
    async def scenario():
        async with StubServer(["slow", "slow", "slow", "slow"]) as server:
            backend = create_backend(
                {"backend": "openai", "base_url": server.base_url, "n_parallel": 1,
                 "max_queue": 0, "circuit_failures": 1}
            )
            try:
                results = await asyncio.gather(
                    *(backend.generate(MESSAGES) for _ in range(3)), return_exceptions=True
                )
                return results, backend.circuit, len(server.requests)
            finally:
                await backend.aclose()

    results, circuit, requests = asyncio.run(scenario())
    assert results[0] == "Hello there!"
    assert all(isinstance(result, LLMBusyError) for result in results[1:])
    assert requests == 1
    assert not circuit.is_open


def test_questions_beyond_the_queue_get_an_extractive_answer_at_once(index, guard):
    backend = ScriptedBackend(
        "The warranty lasts 24 months from delivery.", delay=1.5
    )
    backend.gate = RequestGate(1, 0)
    answerer = GroundedAnswerer(index, backend, guard, {"on_llm_error": "extractive"})

    async def ask() -> tuple[object, float]:
        started = time.perf_counter()
        result = await answerer.answer(ConversationContext("How long is the warranty?"))
        return result, time.perf_counter() - started

    async def scenario():
        return await asyncio.gather(*(ask() for _ in range(3)))

    (first, first_s), *others = asyncio.run(scenario())
    assert first.kind == GENERATED and first_s >= 1.5
    for result, seconds in others:
        assert result.kind == EXTRACTIVE
        assert "24 months" in result.text
        assert "LLMBusyError" in result.reason
        assert seconds < 1.0


def test_embedded_model_generates_in_parallel_slots_and_refuses_beyond_them():
    backend = create_backend(
        {"backend": "llamacpp", "n_parallel": 2, "max_queue": 0, "max_tokens": 24}
    )

    async def scenario():
        try:
            await backend.start()
            return await asyncio.gather(
                *(backend.generate(MESSAGES) for _ in range(3)), return_exceptions=True
            )
        finally:
            await backend.aclose()

    results = asyncio.run(scenario())
    texts = [result for result in results if isinstance(result, str)]
    assert len(texts) == 2 and all(text.strip() for text in texts)
    assert sum(isinstance(result, LLMBusyError) for result in results) == 1


@pytest.mark.parametrize("cancel_is_failure", [True, False])
def test_deadline_cancellations_open_the_circuit_only_of_a_remote_endpoint(cancel_is_failure):
    from rasa_llm_components.llm.openai_compat import OpenAICompatibleBackend

    async def scenario():
        async with StubServer(["slow", "slow"]) as server:
            backend = OpenAICompatibleBackend(
                server.base_url, circuit_failures=2, cancel_is_failure=cancel_is_failure
            )
            try:
                for _ in range(2):
                    with pytest.raises(asyncio.TimeoutError):
                        await asyncio.wait_for(backend.generate(MESSAGES), 0.1)
                return backend.circuit.is_open
            finally:
                await backend.aclose()

    # The embedded worker's client (cancel_is_failure=False) keeps trying after turns whose
    # deadline ran out under load; a remote endpoint that keeps hanging is cut off.
    assert asyncio.run(scenario()) is cancel_is_failure
