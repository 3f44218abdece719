"""LLM backends: the embedded llama.cpp model, the OpenAI-compatible client, config errors."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from aiohttp import web

from rasa_llm_components.llm import LLMConfigError, LLMError, create_backend, llm_config
from rasa_llm_components.llm.openai_compat import OpenAICompatibleBackend

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "Say hello to the customer."},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StubServer:
    """A chat-completions endpoint on a free port; `plan` says what each request gets."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = list(plan)
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.port = _free_port()
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        step = self.plan.pop(0) if self.plan else "ok"
        if step == "503":
            return web.Response(status=503, text="busy")
        if step == "400":
            return web.Response(status=400, text="bad request")
        if step == "slow":
            await asyncio.sleep(2.0)
        return web.json_response(
            {
                "id": "x",
                "object": "chat.completion",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": " Hello there! "}}
                ],
            }
        )

    async def __aenter__(self) -> StubServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def test_openai_client_sends_chat_request_with_api_key_from_env(monkeypatch):
    monkeypatch.setenv("TEST_LLM_KEY", "secret-123")

    async def scenario():
        async with StubServer(["ok"]) as server:
            backend = create_backend(
                {
                    "backend": "openai",
                    "base_url": server.base_url,
                    "model": "my-model",
                    "api_key_env": "TEST_LLM_KEY",
                    "max_tokens": 20,
                }
            )
            text = await backend.generate(MESSAGES, temperature=0.3)
            await backend.aclose()
            return text, server.requests, server.headers

    text, requests, headers = asyncio.run(scenario())
    assert text == "Hello there!"
    assert requests[0]["model"] == "my-model"
    assert requests[0]["messages"] == MESSAGES
    assert requests[0]["max_tokens"] == 20
    assert requests[0]["temperature"] == 0.3
    assert headers[0]["Authorization"] == "Bearer secret-123"


def test_openai_client_retries_server_errors_with_backoff():
    async def scenario():
        async with StubServer(["503", "503", "ok"]) as server:
            backend = OpenAICompatibleBackend(server.base_url, max_retries=2, backoff=0.05)
            started = time.perf_counter()
            text = await backend.generate(MESSAGES)
            elapsed = time.perf_counter() - started
            await backend.aclose()
            return text, len(server.requests), elapsed

    text, attempts, elapsed = asyncio.run(scenario())
    assert text == "Hello there!"
    assert attempts == 3
    assert elapsed >= 0.05 + 0.1  # two backoff pauses: 0.05 s, then 0.1 s


def test_openai_client_gives_up_after_retries():
    async def scenario():
        async with StubServer(["503", "503", "503"]) as server:
            backend = OpenAICompatibleBackend(server.base_url, max_retries=1, backoff=0.01)
            with pytest.raises(LLMError):
                await backend.generate(MESSAGES)
            await backend.aclose()
            return len(server.requests)

    assert asyncio.run(scenario()) == 2


def test_openai_client_does_not_retry_client_errors():
    async def scenario():
        async with StubServer(["400", "ok"]) as server:
            backend = OpenAICompatibleBackend(server.base_url, max_retries=3, backoff=0.01)
            with pytest.raises(LLMError, match="400"):
                await backend.generate(MESSAGES)
            await backend.aclose()
            return len(server.requests)

    assert asyncio.run(scenario()) == 1


def test_openai_client_times_out():
    async def scenario():
        async with StubServer(["slow", "slow"]) as server:
            backend = OpenAICompatibleBackend(
                server.base_url, timeout=0.3, max_retries=1, backoff=0.01
            )
            started = time.perf_counter()
            with pytest.raises(LLMError, match="Timeout"):
                await backend.generate(MESSAGES)
            elapsed = time.perf_counter() - started
            await backend.aclose()
            return elapsed

    elapsed = asyncio.run(scenario())
    assert elapsed < 1.5  # two attempts of 0.3 s, not the server's 2 s


def test_openai_client_unreachable_endpoint_raises_llm_error():
    backend = OpenAICompatibleBackend(
        f"http://127.0.0.1:{_free_port()}/v1", timeout=1.0, max_retries=1, backoff=0.01
    )

    async def scenario():
        with pytest.raises(LLMError):
            await backend.generate(MESSAGES)
        await backend.aclose()

    asyncio.run(scenario())


def test_bad_backend_name_is_a_config_error():
    with pytest.raises(LLMConfigError, match="Unknown LLM backend 'gpt5'"):
        create_backend({"backend": "gpt5"})


def test_unknown_llm_option_is_a_config_error():
    with pytest.raises(LLMConfigError, match="n_thread"):
        llm_config({"n_thread": 1})


def test_missing_model_files_are_config_errors(tmp_path):
    with pytest.raises(LLMConfigError, match="does not exist"):
        create_backend({"backend": "llamacpp", "model_path": str(tmp_path / "missing.gguf")})
    with pytest.raises(LLMConfigError, match="does not exist"):
        create_backend({"backend": "huggingface", "model_path": str(tmp_path / "nothing")})
    with pytest.raises(LLMConfigError, match="base_url"):
        create_backend({"backend": "openai"})
    with pytest.raises(LLMConfigError, match="mode"):
        create_backend({"backend": "llamacpp", "mode": "gpu"})


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_embedded_llamacpp_generates_text(mode):
    backend = create_backend({"backend": "llamacpp", "mode": mode, "max_tokens": 16})

    async def scenario():
        try:
            return await backend.generate(MESSAGES)
        finally:
            await backend.aclose()

    text = asyncio.run(scenario())
    assert isinstance(text, str)
    assert len(text.split()) >= 2


def test_embedded_worker_process_stops_when_closed():
    backend = create_backend({"backend": "llamacpp", "mode": "process", "max_tokens": 4})

    async def scenario():
        await backend.start()
        return backend.worker_pid

    pid = asyncio.run(scenario())
    assert pid is not None
    process = backend._process
    backend.close()
    assert process.poll() is not None


def test_embedded_worker_serves_any_openai_compatible_client():
    from rasa_llm_components.llm.llamacpp import LlamaCppBackend

    worker = LlamaCppBackend(mode="process")
    try:
        address = worker.wait_address()
        assert address.startswith("http://127.0.0.1:")
        client = create_backend({"backend": "openai", "base_url": f"{address}/v1",
                                 "max_tokens": 8})

        async def scenario():
            try:
                return await client.generate(MESSAGES)
            finally:
                await client.aclose()

        assert asyncio.run(scenario()).strip()
    finally:
        worker.close()
