"""The registry that hands each loaded model's knowledge and LLM to the NLG.

Why a registry: Rasa builds the NLG from `endpoints.yml` before, and independently of, the
trained model, and `NaturalLanguageGenerator.generate` receives only the tracker. The knowledge
index and the LLM configuration, however, live in the trained model (the `LLMResponsePolicy`'s
resource). So `LLMResponsePolicy.load` wraps them in an `LLMRuntime` and registers it under the
model's id (`ExecutionContext.model_id`); the NLG looks it up by `tracker.model_id`, which Rasa's
processor sets on every turn. A server that is loading a new model (`PUT /model`) thus keeps
answering from the old model's knowledge until the swap, and after a failed load.

A runtime lives as long as the policy instance that registered it: when Rasa drops the model
(after a successful swap, `DELETE /model`, or the failed load's half-built agent), the policy is
garbage-collected and the runtime is closed (its llama.cpp worker stopped) in a background
thread, so the event loop never waits for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import weakref
from typing import Any

from rasa_llm_components.answering import ConversationContext, GroundedAnswerer, answer_config
from rasa_llm_components.answering.evidence import SentenceCache
from rasa_llm_components.llm import LLMBackend, create_backend, llm_config

logger = logging.getLogger(__name__)


class LLMRuntime:
    """Everything needed to answer at run time: index, guard, answer and LLM settings."""

    def __init__(
        self,
        index: Any,
        guard: Any,
        answer_settings: dict[str, Any] | None = None,
        llm_settings: dict[str, Any] | None = None,
        fingerprint: str = "",
        backend: LLMBackend | None = None,
    ) -> None:
        self.index = index
        self.guard = guard
        self.answer_settings = answer_config(answer_settings)
        self.llm_settings = llm_config(llm_settings)
        self.fingerprint = fingerprint
        self._backends: dict[str, LLMBackend] = {}
        self._answerers: dict[str, GroundedAnswerer] = {}
        self._lock = threading.Lock()
        # One retrieval thread and one sentence-embedding cache for all answerers, so the
        # encoder is never used by two threads at once and each passage is encoded once.
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="retrieval"
        )
        self._sentences = SentenceCache(index.encoder) if index is not None else None
        if backend is not None:
            self._backends[self._key(self.llm_settings)] = backend

    @staticmethod
    def _key(settings: dict[str, Any]) -> str:
        return repr(sorted(settings.items(), key=lambda item: item[0]))

    def backend(self, overrides: dict[str, Any] | None = None) -> LLMBackend:
        """The (cached) backend for the model's LLM settings updated with `overrides`.

        Overrides that switch the backend (`endpoints.yml` pointing replicas to a shared
        OpenAI-compatible server) drop the model's `model_path`, which belongs to its own
        backend (a list of GGUF files is only valid for llama.cpp).
        """
        overrides = dict(overrides or {})
        base = dict(self.llm_settings)
        if overrides.get("backend", base.get("backend")) != base.get("backend"):
            base.pop("model_path", None)
        settings = llm_config({**base, **overrides})
        key = self._key(settings)
        with self._lock:
            if key not in self._backends:
                self._backends[key] = create_backend(settings)
            return self._backends[key]

    def warm_up(self) -> None:
        """Starts the llama.cpp worker process early so the first answer does not wait for it.

        (Passage sentences are encoded on first use, a passage at a time: a full pre-encoding
        at start-up competed with the first generations for the CPU.)
        """
        if self.answer_settings.get("mode") == "extractive":
            return
        # The backend the NLG will call: its `llm:` overrides may point at a shared LLM server,
        # and then no worker of our own is started.
        overrides = {
            repr(sorted(g.llm_overrides.items())): g.llm_overrides for g in list(_generators)
        }
        for settings in overrides.values() or [{}]:
            spawn = getattr(self.backend(settings), "spawn", None)
            if callable(spawn):
                spawn()

    def answerer(
        self,
        llm_overrides: dict[str, Any] | None = None,
        answer_overrides: dict[str, Any] | None = None,
    ) -> GroundedAnswerer:
        settings = {**self.answer_settings, **(answer_overrides or {})}
        backend = None if settings.get("mode") == "extractive" else self.backend(llm_overrides)
        key = repr((id(backend), sorted(settings.items(), key=lambda item: item[0])))
        with self._lock:
            if key not in self._answerers:
                self._answerers[key] = GroundedAnswerer(
                    self.index,
                    backend,
                    self.guard,
                    settings,
                    executor=self._executor,
                    sentence_cache=self._sentences,
                )
            return self._answerers[key]

    async def answerer_async(
        self,
        llm_overrides: dict[str, Any] | None = None,
        answer_overrides: dict[str, Any] | None = None,
    ) -> GroundedAnswerer:
        """`answerer` from async code: the first build (it indexes every passage's terms for
        the claim checks, hundreds of milliseconds) runs in a thread, not in the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.answerer, llm_overrides, answer_overrides)

    async def answer(self, context: ConversationContext, deadline: float | None = None) -> Any:
        return await (await self.answerer_async()).answer(context, deadline)

    def close(self) -> None:
        with self._lock:
            for backend in self._backends.values():
                try:
                    backend.close()
                except Exception:  # noqa: BLE001 - shutting down, log and go on
                    logger.exception("Closing LLM backend failed")
            self._backends.clear()
            self._answerers.clear()
        self._executor.shutdown(wait=False)


class RuntimeRegistry:
    """Runtimes by model id; each is closed when the object that owns it is collected."""

    def __init__(self) -> None:
        self._runtimes: dict[str, list[LLMRuntime]] = {}
        self._lock = threading.Lock()

    def register(self, model_id: str | None, runtime: LLMRuntime, owner: object) -> None:
        """Makes `runtime` answer for `model_id` while `owner` (the loaded policy) is alive."""
        key = model_id or ""
        with self._lock:
            self._runtimes.setdefault(key, []).append(runtime)
        finalizer = weakref.finalize(owner, self._release, key, runtime)
        # At interpreter exit the llama.cpp backends stop their workers themselves.
        finalizer.atexit = False

    def get(self, model_id: str | None) -> LLMRuntime | None:
        """The newest runtime of `model_id`; without an id, the only runtime if there is one."""
        with self._lock:
            runtimes = self._runtimes.get(model_id or "")
            if runtimes:
                return runtimes[-1]
            if model_id is None and len(self._runtimes) == 1:
                return next(iter(self._runtimes.values()))[-1]
        return None

    def model_ids(self) -> list[str]:
        with self._lock:
            return list(self._runtimes)

    def _release(self, key: str, runtime: LLMRuntime) -> None:
        with self._lock:
            runtimes = self._runtimes.get(key, [])
            if runtime in runtimes:
                runtimes.remove(runtime)
            if not runtimes:
                self._runtimes.pop(key, None)
        # Stopping a worker process waits for it; the owner may die in the event loop's thread.
        threading.Thread(target=runtime.close, name="llm-runtime-close", daemon=True).start()
        logger.info("Closing the LLM runtime of model '%s'.", key or "<no id>")


_registry = RuntimeRegistry()
# The LLM NLGs alive in this process (one per Rasa server), whose backend `warm_up` starts.
_generators: weakref.WeakSet[Any] = weakref.WeakSet()


def register_generator(generator: Any) -> None:
    """Makes `LLMRuntime.warm_up` start the backend of `generator` (an NLG with
    `llm_overrides`) rather than the model's own, while the generator is alive."""
    _generators.add(generator)


def register_runtime(model_id: str | None, runtime: LLMRuntime, owner: object) -> None:
    """Registers the runtime of a loaded model (see `RuntimeRegistry.register`)."""
    _registry.register(model_id, runtime, owner)


def get_runtime(model_id: str | None) -> LLMRuntime | None:
    """The runtime of the model with `model_id` (a tracker's `model_id`), if it is loaded."""
    return _registry.get(model_id)
