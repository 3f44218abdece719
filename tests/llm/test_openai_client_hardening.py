"""The OpenAI-compatible client against a real local HTTP server that misbehaves.

Every malformed reply is a short `LLMError`; one HTTP session (keep-alive connection) serves all
requests of a backend; after `circuit_failures` failures in a row the client fails fast for
`circuit_cooldown` seconds, then tries the endpoint again.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from rasa_llm_components.llm import CircuitOpenError, LLMConfigError, LLMError, create_backend
from rasa_llm_components.llm.openai_compat import OpenAICompatibleBackend
from tests.llm.test_backends import MESSAGES, _free_port

GOOD = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}}]}


class MisbehavingServer:
    """Answers each request with the next reply of `plan` (default: a good completion).

    A reply is a `web.Response`, a JSON-able object, or "hang" (sleeps past any timeout).
    `peers` records the client port of each request: one port means one kept-alive connection.
    """

    def __init__(self, plan: list | None = None) -> None:
        self.plan = list(plan or [])
        self.peers: list[int] = []
        self.port = _free_port()
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.peers.append(request.transport.get_extra_info("peername")[1])
        reply = self.plan.pop(0) if self.plan else GOOD
        if reply == "hang":
            await asyncio.sleep(30)
        if isinstance(reply, web.StreamResponse):
            return reply
        return web.json_response(reply)

    async def __aenter__(self) -> MisbehavingServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (web.Response(text="<html>Bad gateway</html>", content_type="text/html"), "not.*JSON"),
        (web.Response(body=b"\xff\xfe\x00garbage"), "not.*JSON"),
        ({"id": "x", "object": "chat.completion"}, "Unexpected completion payload"),
        ({"choices": []}, "Unexpected completion payload"),
        ({"choices": "nope"}, "Unexpected completion payload"),
        ({"choices": [{"message": {"content": 42}}]}, "no text content"),
        ({"choices": [{"message": None}]}, "Unexpected completion payload"),
        ([1, 2, 3], "Unexpected completion payload"),
        ({"error": {"message": "model overloaded"}}, "reported an error.*overloaded"),
        (web.Response(status=401, text="invalid api key"), "HTTP 401: invalid api key"),
    ],
)
def test_malformed_replies_are_short_llm_errors(reply, message):
    async def scenario() -> str:
        async with MisbehavingServer([reply]) as server:
            backend = OpenAICompatibleBackend(server.base_url, max_retries=0)
            try:
                with pytest.raises(LLMError, match=message) as caught:
                    await backend.generate(MESSAGES)
            finally:
                await backend.aclose()
            return str(caught.value)

    text = asyncio.run(scenario())
    assert len(text) < 400 and "\n" not in text


def test_one_session_serves_all_requests_and_close_releases_it():
    async def scenario() -> tuple[list[int], bool]:
        async with MisbehavingServer() as server:
            backend = OpenAICompatibleBackend(server.base_url, max_retries=0)
            for _ in range(4):
                assert await backend.generate(MESSAGES) == "Hi!"
            session = backend._session
            await backend.aclose()
            return server.peers, session is not None and session.closed

    peers, closed = asyncio.run(scenario())
    assert len(peers) == 4
    assert len(set(peers)) == 1  # the same kept-alive connection every time
    assert closed


def test_circuit_breaker_fails_fast_after_consecutive_failures_then_retries():
    async def scenario() -> dict:
        async with MisbehavingServer(["hang", "hang"]) as server:
            backend = OpenAICompatibleBackend(
                server.base_url,
                timeout=0.3,
                max_retries=0,
                circuit_failures=2,
                circuit_cooldown=1.0,
            )
            try:
                for _ in range(2):
                    with pytest.raises(LLMError, match="Timeout"):
                        await backend.generate(MESSAGES)
                started = time.perf_counter()
                with pytest.raises(CircuitOpenError, match="2 times in a row"):
                    await backend.generate(MESSAGES)
                fail_fast = time.perf_counter() - started
                requests_while_open = len(server.peers)
                await asyncio.sleep(1.05)  # the cool-down passes; the server works again
                text = await backend.generate(MESSAGES)
                return {
                    "fail_fast": fail_fast,
                    "requests_while_open": requests_while_open,
                    "text": text,
                    "open_after_success": backend.circuit.is_open,
                }
            finally:
                await backend.aclose()

    result = asyncio.run(scenario())
    assert result["fail_fast"] < 0.05
    assert result["requests_while_open"] == 2  # the open breaker sent nothing
    assert result["text"] == "Hi!"
    assert not result["open_after_success"]


def test_failed_trial_after_the_cool_down_opens_the_breaker_again():
    async def scenario() -> None:
        async with MisbehavingServer([web.Response(status=503) for _ in range(3)]) as server:
            backend = OpenAICompatibleBackend(
                server.base_url, max_retries=0, circuit_failures=1, circuit_cooldown=0.3
            )
            try:
                with pytest.raises(LLMError, match="503"):
                    await backend.generate(MESSAGES)
                with pytest.raises(CircuitOpenError):
                    await backend.generate(MESSAGES)
                await asyncio.sleep(0.35)
                with pytest.raises(LLMError, match="503"):  # the one trial call
                    await backend.generate(MESSAGES)
                with pytest.raises(CircuitOpenError):
                    await backend.generate(MESSAGES)
                assert len(server.peers) == 2
            finally:
                await backend.aclose()

    asyncio.run(scenario())


def test_a_caller_that_gives_up_counts_as_a_failure():
    async def scenario() -> bool:
        async with MisbehavingServer(["hang"]) as server:
            backend = OpenAICompatibleBackend(
                server.base_url, timeout=10, max_retries=0, circuit_failures=1
            )
            try:
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(backend.generate(MESSAGES), 0.2)
                return backend.circuit.is_open
            finally:
                await backend.aclose()

    assert asyncio.run(scenario())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"circuit_failures": 0}, "circuit_failures"),
        ({"circuit_cooldown": -1}, "circuit_cooldown"),
        ({"request_timeout": "fast"}, "request_timeout"),
        ({"circuit_breaker": 3}, "Did you mean 'circuit_failures'"),
    ],
)
def test_client_options_are_validated(options, message):
    with pytest.raises(LLMConfigError, match=message):
        create_backend({"backend": "openai", "base_url": "http://127.0.0.1:9/v1", **options})
