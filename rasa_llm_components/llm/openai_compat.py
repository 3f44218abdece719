"""An async client for any OpenAI-compatible chat-completions endpoint.

Works with vLLM, the llama.cpp server, Ollama (`/v1`), text-generation-inference and the
embedded llama.cpp worker of this package. The API key is read from the environment variable
named in the configuration, never from the configuration itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from typing import Any

import aiohttp

from rasa_llm_components.llm.base import (
    ChatMessages,
    GenerationSettings,
    LLMBackend,
    LLMConfigError,
    LLMError,
)

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAICompatibleBackend(LLMBackend):
    """Chat completions over HTTP with a per-attempt timeout and retries with backoff."""

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
    ) -> None:
        super().__init__(settings)
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
        settings = self.settings.merged(max_tokens=max_tokens, temperature=temperature)
        body = self._body(messages, settings)
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

    async def _post_once(self, body: dict[str, Any]) -> str:
        # One short-lived session per request: sessions are bound to an event loop, and Rasa,
        # tests and benchmarks use several; a localhost or keep-alive-less connect is cheap.
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
                self.url, json=body, headers=self._headers()
            ) as response:
                if response.status in RETRYABLE_STATUS:
                    raise _Retryable(f"HTTP {response.status}")
                if response.status >= 400:
                    text = (await response.text())[:200]
                    raise LLMError(f"LLM endpoint returned HTTP {response.status}: {text}")
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _Retryable(f"{type(error).__name__}: {error}") from error
        return extract_content(payload)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "base_url": self.base_url, "model": self.model}


class _Retryable(LLMError):
    """A failure worth another attempt (connection error, timeout, 429/5xx)."""


def extract_content(payload: Any) -> str:
    """Returns the assistant text of a chat-completion (or legacy completion) response."""
    try:
        choice = payload["choices"][0]
        if "message" in choice:
            content = choice["message"].get("content")
        else:
            content = choice.get("text")
    except (KeyError, IndexError, TypeError, AttributeError) as error:
        raise LLMError(f"Unexpected completion payload: {str(payload)[:200]}") from error
    if not isinstance(content, str):
        raise LLMError("The completion has no text content.")
    return content.strip()
