"""The process-wide registry that hands the loaded model's knowledge and LLM to the NLG.

Why a registry: Rasa builds the NLG from `endpoints.yml` before, and independently of, the
trained model, and `NaturalLanguageGenerator.generate` receives only the tracker. The knowledge
index and the LLM configuration, however, live in the trained model (the `LLMResponsePolicy`'s
resource). So `LLMResponsePolicy.load` wraps them in an `LLMRuntime` and registers it here; the
NLG looks the runtime up on every call. Loading a new model (e.g. `PUT /model`) registers its
runtime and closes the previous one (and its worker process). One Rasa server serves one model,
so "the latest loaded runtime" is unambiguous.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
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
        """The (cached) backend for the model's LLM settings updated with `overrides`."""
        settings = llm_config({**self.llm_settings, **(overrides or {})})
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
        if self.answer_settings.get("mode") != "extractive":
            spawn = getattr(self.backend(), "spawn", None)
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

    async def answer(self, context: ConversationContext, deadline: float | None = None) -> Any:
        return await self.answerer().answer(context, deadline)

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


_current: LLMRuntime | None = None
_registry_lock = threading.Lock()


def register_runtime(runtime: LLMRuntime | None) -> None:
    """Makes `runtime` the one the NLG uses; closes the one it replaces."""
    global _current
    with _registry_lock:
        previous, _current = _current, runtime
    if previous is not None and previous is not runtime:
        previous.close()


def get_runtime() -> LLMRuntime | None:
    """The runtime of the most recently loaded model with an `LLMResponsePolicy`, if any."""
    return _current
