"""An async client for any OpenAI-compatible chat-completions endpoint.

Works with vLLM, the llama.cpp server, Ollama (`/v1`), text-generation-inference and the
embedded llama.cpp worker of this package. The API key is read from the environment variable
named in the configuration, never from the configuration itself.

One `aiohttp` session per backend (and event loop) keeps connections alive between turns; every
failure, including a malformed reply, is an `LLMError` with a short message; a circuit breaker
stops calling an endpoint that keeps failing or hanging (see `circuit`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from typing import Any

import aiohttp

from rasa_llm_components.llm.admission import RequestGate
from rasa_llm_components.llm.base import (
    ChatMessages,
    GenerationSettings,
    LLMBackend,
    LLMConfigError,
    LLMError,
)
from rasa_llm_components.llm.circuit import CircuitBreaker

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Replies are short chat completions; anything much larger is not one.
MAX_REPLY_BYTES = 2_000_000


class OpenAICompatibleBackend(LLMBackend):
    """Chat completions over HTTP with a per-attempt timeout, retries with backoff and a
    circuit breaker."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        api_key_env: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.25,
        settings: GenerationSettings | None = None,
        extra_body: dict[str, Any] | None = None,
        circuit_failures: int = 3,
        circuit_cooldown: float = 30.0,
        gate: RequestGate | None = None,
        cancel_is_failure: bool = True,
    ) -> None:
        super().__init__(settings, gate)
        if not base_url:
            raise LLMConfigError(
                "The 'openai' backend needs 'base_url' (e.g. http://host:8000/v1)."
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff = max(0.0, float(backoff))
        self.extra_body = dict(extra_body or {})
        self.circuit = CircuitBreaker(circuit_failures, circuit_cooldown)
        # A caller that gives up (the NLG's deadline) counts against a remote endpoint; the
        # embedded worker's own gate already answers at once when it is overloaded.
        self.cancel_is_failure = cancel_is_failure
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        if self.base_url.endswith("/chat/completions"):
            return self.base_url
        return f"{self.base_url}/chat/completions"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            else:
                logger.warning(
                    "Environment variable '%s' with the API key is empty.", self.api_key_env
                )
        return headers

    def _body(self, messages: ChatMessages, settings: GenerationSettings) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "stream": False,
        }
        if settings.stop:
            body["stop"] = settings.stop
        body.update(self.extra_body)
        return body

    async def generate(
        self,
        messages: ChatMessages,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        """The reply text; `LLMError` (`CircuitOpenError` while the breaker is open,
        `LLMBusyError` when the gate's queue is full) otherwise."""
        # Waiting for a slot, or being refused one, says nothing about the endpoint's health.
        async with self.admitted():
            return await self._generate(messages, max_tokens, temperature)

    async def _generate(
        self, messages: ChatMessages, max_tokens: int | None, temperature: float | None
    ) -> str:
        self.circuit.before_call(self.url)
        settings = self.settings.merged(max_tokens=max_tokens, temperature=temperature)
        try:
            text = await self._with_retries(self._body(messages, settings))
        except asyncio.CancelledError:
            # The caller gave up waiting (the NLG's timeout): the endpoint is too slow.
            if self.cancel_is_failure:
                self.circuit.record_failure()
            raise
        except LLMError:
            self.circuit.record_failure()
            raise
        self.circuit.record_success()
        return text

    async def _with_retries(self, body: dict[str, Any]) -> str:
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = self.backoff * (2 ** (attempt - 1)) * (1.0 + 0.2 * random.random())
                await asyncio.sleep(delay)
            try:
                return await self._post_once(body)
            except _Retryable as error:
                last_error = error
                logger.info("LLM request attempt %d failed: %s", attempt + 1, error)
        raise LLMError(f"LLM endpoint {self.url} failed after retries: {last_error}")

    def _client_session(self) -> aiohttp.ClientSession:
        """The backend's session; a new one when the event loop changed (tests, benchmarks)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._drop_session()
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
            self._session_loop = loop
        return self._session

    def _drop_session(self) -> None:
        """Forgets the session without awaiting: closed on its own loop if that still runs
        (a runtime is closed from a background thread), else its connections are dropped."""
        session, loop = self._session, self._session_loop
        self._session, self._session_loop = None, None
        if session is None or session.closed:
            return
        if loop is not None and loop.is_running() and not loop.is_closed():
            try:
                current = asyncio.get_running_loop()
            except RuntimeError:
                current = None
            if current is loop:
                loop.create_task(session.close())
            else:
                asyncio.run_coroutine_threadsafe(session.close(), loop)
            return
        connector = session.connector
        session.detach()
        if connector is not None:
            try:
                connector.close()
            except RuntimeError:  # its event loop is closed: the sockets went with it
                pass

    async def _post_once(self, body: dict[str, Any]) -> str:
        try:
            async with self._client_session().post(
                self.url, json=body, headers=self._headers()
            ) as response:
                if response.status in RETRYABLE_STATUS:
                    raise _Retryable(f"HTTP {response.status}")
                raw = await response.content.read(MAX_REPLY_BYTES + 1)
                if response.status >= 400:
                    text = raw[:200].decode("utf-8", "replace")
                    raise LLMError(f"LLM endpoint returned HTTP {response.status}: {text}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _Retryable(f"{type(error).__name__}: {error}") from error
        if len(raw) > MAX_REPLY_BYTES:
            raise LLMError(f"LLM endpoint {self.url} sent a reply over {MAX_REPLY_BYTES} bytes.")
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise LLMError(
                f"LLM endpoint {self.url} did not reply with JSON: {raw[:80]!r}"
            ) from error
        return extract_content(payload)

    async def aclose(self) -> None:
        """Closes the HTTP session (its keep-alive connections)."""
        session, self._session, self._session_loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def close(self) -> None:
        """Synchronous close for shutdown paths: drops the session without awaiting."""
        self._drop_session()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "base_url": self.base_url, "model": self.model}


class _Retryable(LLMError):
    """A failure worth another attempt (connection error, timeout, 429/5xx)."""


def extract_content(payload: Any) -> str:
    """Returns the assistant text of a chat-completion (or legacy completion) response.

    Raises:
        LLMError: the payload is an error object or lacks `choices[0].message.content` (or
            `choices[0].text`) as a string.
    """
    if isinstance(payload, dict) and "error" in payload and "choices" not in payload:
        raise LLMError(f"LLM endpoint reported an error: {str(payload['error'])[:200]}")
    try:
        choice = payload["choices"][0]
        if "message" in choice:
            content = choice["message"].get("content")
        else:
            content = choice.get("text")
    except (KeyError, IndexError, TypeError, AttributeError) as error:
        raise LLMError(f"Unexpected completion payload: {str(payload)[:200]}") from error
    if not isinstance(content, str):
        raise LLMError(f"The completion has no text content: {str(payload)[:200]}")
    return content.strip()
