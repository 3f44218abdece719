"""The runtime registry: one runtime per model id, closed when its loaded policy goes away."""

from __future__ import annotations

import gc
import threading
import time

from rasa_llm_components.core.runtime import LLMRuntime, RuntimeRegistry
from tests.llm.conftest import ScriptedBackend


class ClosableBackend(ScriptedBackend):
    def __init__(self) -> None:
        super().__init__("ok")
        self.closed = threading.Event()
        self.closed_in: str | None = None

    def close(self) -> None:
        self.closed_in = threading.current_thread().name
        self.closed.set()


class LoadedPolicy:
    """Stands in for the `LLMResponsePolicy` instance Rasa keeps while it serves the model."""


def _runtime() -> tuple[LLMRuntime, ClosableBackend]:
    backend = ClosableBackend()
    return LLMRuntime(index=None, guard=None, backend=backend), backend


def test_each_model_answers_with_its_own_runtime_until_it_is_dropped():
    registry = RuntimeRegistry()
    old, old_backend = _runtime()
    new, new_backend = _runtime()
    old_policy, new_policy = LoadedPolicy(), LoadedPolicy()
    registry.register("model-old", old, old_policy)
    registry.register("model-new", new, new_policy)
    assert registry.get("model-old") is old
    assert registry.get("model-new") is new
    assert registry.get(None) is None  # two models: no guessing
    assert registry.get("model-unknown") is None

    # A failed `PUT /model`: Rasa drops the half-built agent with the new policy.
    del new_policy
    gc.collect()
    assert new_backend.closed.wait(5)
    assert new_backend.closed_in == "llm-runtime-close"  # never in the event loop's thread
    assert registry.get("model-new") is None
    assert registry.get("model-old") is old
    assert not old_backend.closed.is_set()
    assert registry.get(None) is old  # the only model left (trackers built by hand)

    del old_policy
    gc.collect()
    assert old_backend.closed.wait(5)
    assert registry.model_ids() == []


def test_reloading_the_same_model_keeps_the_serving_runtime_until_the_swap():
    registry = RuntimeRegistry()
    serving, serving_backend = _runtime()
    loading, loading_backend = _runtime()
    serving_policy, loading_policy = LoadedPolicy(), LoadedPolicy()
    registry.register("same-model", serving, serving_policy)
    registry.register("same-model", loading, loading_policy)
    assert registry.get("same-model") is loading

    del serving_policy  # the swap succeeded: the old agent is dropped
    gc.collect()
    assert serving_backend.closed.wait(5)
    assert registry.get("same-model") is loading
    time.sleep(0.05)
    assert not loading_backend.closed.is_set()
