"""The interface every LLM backend implements, and the errors they raise."""

from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rasa_llm_components.llm.admission import RequestGate

ChatMessages = list[dict[str, str]]


class LLMError(Exception):
    """A backend could not produce a completion (unreachable, timed out, bad reply)."""


class LLMConfigError(ValueError):
    """The backend configuration is invalid (unknown backend name, missing model file, ...)."""


@dataclass
class GenerationSettings:
    """Sampling settings shared by all backends; a call may override them."""

    max_tokens: int = 96
    temperature: float = 0.0
    stop: list[str] = field(default_factory=list)

    def merged(self, **overrides: Any) -> GenerationSettings:
        values = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stop": list(self.stop),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return GenerationSettings(**values)


class LLMBackend(abc.ABC):
    """Produces a chat completion for a list of OpenAI-style chat messages.

    `generate` is a coroutine and never blocks the event loop: backends run their blocking work
    in an executor, in a separate process or through an async HTTP client.
    """

    name: str = "base"

    def __init__(
        self, settings: GenerationSettings | None = None, gate: RequestGate | None = None
    ) -> None:
        self.settings = settings or GenerationSettings()
        # Bounds the generations running and waiting at once (see `admission`); None: no bound.
        self.gate = gate

    def admitted(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The gate's slot for one generation (`LLMBusyError` when full), or no limit."""
        return self.gate.slot() if self.gate is not None else contextlib.nullcontext()

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Prepares the backend (loads a model, starts a worker); generate calls it lazily."""

    @abc.abstractmethod
    async def generate(
        self,
        messages: ChatMessages,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        """Returns the assistant's reply text for `messages`; raises `LLMError` on failure."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Releases sessions, worker processes and models held by the backend."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Synchronous variant of `aclose` for shutdown paths without an event loop."""

    def describe(self) -> dict[str, Any]:
        """A short description of the backend for logs and benchmark reports."""
        return {"backend": self.name}
