"""The shared LLM server `python -m rasa_llm_components.llm.serve`: a real llama.cpp process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from rasa_llm_components.llm import LLMConfigError
from rasa_llm_components.llm.openai_compat import OpenAICompatibleBackend
from rasa_llm_components.llm.serve import api_key, build_parser, main, server_settings

API_KEY_ENV = "TEST_SERVE_API_KEY"


def parse(*argv: str):  # noqa: ANN201 - argparse.Namespace
    return build_parser().parse_args(list(argv))


def test_defaults_serve_the_packaged_model_on_loopback() -> None:
    args = parse()
    settings = server_settings(args)
    assert args.host == "127.0.0.1"
    assert settings["port"] == 8080
    assert settings["model_path"].endswith(".gguf")
    assert settings["n_parallel"] == 2 and settings["n_ctx"] == 4096


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "--port"),
        (["--threads", "0"], "--threads"),
        (["--parallel", "0"], "--parallel"),
        (["--ctx", "300", "--parallel", "2"], "--ctx"),
        (["--model-path", "/nowhere/model.gguf"], "model_path"),
    ],
)
def test_bad_arguments_name_the_option(argv: list[str], message: str) -> None:
    with pytest.raises(LLMConfigError, match=message):
        server_settings(parse(*argv))


def test_an_empty_api_key_variable_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with pytest.raises(LLMConfigError, match=API_KEY_ENV):
        api_key(API_KEY_ENV)
    assert main(["--api-key-env", API_KEY_ENV, "--port", "0"]) == 2
    assert API_KEY_ENV in capsys.readouterr().err


@pytest.fixture(scope="module")
def llm_server() -> Iterator[tuple[str, subprocess.Popen]]:
    """The server on a free port with an API key, one thread, two slots."""
    env = {**os.environ, API_KEY_ENV: "test-key-123"}
    command = [
        sys.executable, "-m", "rasa_llm_components.llm.serve", "--port", "0", "--threads", "1",
        "--ctx", "2048", "--parallel", "2", "--api-key-env", API_KEY_ENV,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"the server exited with {process.wait(timeout=10)}"
        yield json.loads(line)["address"], process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.integration
def test_serves_chat_completions_to_clients_with_the_key(
    llm_server: tuple[str, subprocess.Popen], monkeypatch: pytest.MonkeyPatch
) -> None:
    address, _ = llm_server
    assert requests.get(f"{address}/health", timeout=10).json() == {"status": "ok"}
    body = {"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8}
    refused = requests.post(f"{address}/v1/chat/completions", json=body, timeout=30)
    assert refused.status_code == 401

    monkeypatch.setenv(API_KEY_ENV, "test-key-123")
    client = OpenAICompatibleBackend(
        base_url=f"{address}/v1", api_key_env=API_KEY_ENV, timeout=60, max_retries=0
    )

    async def two_at_once() -> list[str]:
        messages = [{"role": "user", "content": "Name a colour."}]
        return list(
            await asyncio.gather(
                client.generate(messages, max_tokens=8), client.generate(messages, max_tokens=8)
            )
        )

    answers = asyncio.run(two_at_once())
    assert all(answer.strip() for answer in answers), answers


@pytest.mark.integration
def test_stops_cleanly_on_sigterm(llm_server: tuple[str, subprocess.Popen]) -> None:
    _, process = llm_server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("nlg_llm", "workers"),
    [({}, 1), ({"backend": "openai", "base_url": "http://127.0.0.1:8080/v1"}, 0)],
)
def test_a_loaded_model_warms_up_the_llm_its_nlg_calls(
    monkeypatch: pytest.MonkeyPatch, nlg_llm: dict, workers: int
) -> None:
    """A replica whose NLG points at the shared server starts no llama.cpp worker of its own."""
    import weakref

    from rasa.utils.endpoints import EndpointConfig

    from rasa_llm_components.core import runtime as runtime_module
    from rasa_llm_components.core.nlg import LLMNaturalLanguageGenerator
    from rasa_llm_components.llm.llamacpp import LlamaCppBackend

    spawned: list[LlamaCppBackend] = []
    monkeypatch.setattr(LlamaCppBackend, "spawn", lambda backend: spawned.append(backend))
    monkeypatch.setattr(runtime_module, "_generators", weakref.WeakSet())
    generator = LLMNaturalLanguageGenerator(EndpointConfig(llm=nlg_llm))
    runtime = runtime_module.LLMRuntime(index=None, guard=None)
    try:
        runtime.warm_up()
        assert len(spawned) == workers
        assert runtime.backend(generator.llm_overrides).name == (
            nlg_llm.get("backend") or "llamacpp"
        )
    finally:
        runtime.close()
