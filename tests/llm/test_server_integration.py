"""End to end: `rasa train` a tiny bot with the LLM policy, then ask it over REST.

Trains with the real policy (knowledge index in the model), checks that a knowledge edit asks
for retraining (`rasa train --dry-run`), starts `rasa run --enable-api` with the LLM NLG in
`endpoints.yml` as a subprocess and asks an FAQ question through `/webhooks/rest/webhook`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.llm.conftest import DATA, KNOWLEDGE

pytestmark = pytest.mark.integration

RASA = [sys.executable, "-m", "rasa"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, payload: dict, timeout: float = 60) -> list:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _wait_ready(port: int, process: subprocess.Popen, log: Path, limit: float = 240) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"rasa run exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as reply:
                if json.loads(reply.read()).get("model_id"):
                    return
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass
        time.sleep(1)
    pytest.fail(f"rasa run did not become ready:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("llm_bot")
    shutil.copytree(DATA / "bot", root, dirs_exist_ok=True)
    shutil.copytree(KNOWLEDGE, root / "knowledge")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [*RASA, "train", "--fixed-model-name", "llm-test", "--out", "models"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (root / "models" / "llm-test.tar.gz").is_file()
    return root


def _dry_run(root: Path) -> int:
    return subprocess.run(
        [*RASA, "train", "--dry-run", "--out", "models"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    ).returncode


def test_rest_answer_with_sources_and_retraining_on_knowledge_change(project):
    port = _free_port()
    log = project / "server.log"
    with log.open("w") as handle:
        server = subprocess.Popen(
            [
                *RASA,
                "run",
                "--enable-api",
                "-m",
                "models/llm-test.tar.gz",
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "-p",
                str(port),
                "-i",
                "127.0.0.1",
            ],
            cwd=project,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(port, server, log)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        greeting = _post(url, {"sender": "u1", "message": "hello"})
        assert greeting[0]["text"].startswith("Hello!")

        reply = _post(url, {"sender": "u1", "message": "How much does shipping to Canada cost?"})
        texts = [item["text"] for item in reply if "text" in item]
        customs = [item["custom"] for item in reply if "custom" in item]
        assert len(texts) == 1 and "12.99" in texts[0], reply
        assert customs and customs[0]["sources"][0]["id"] == "faq:shipping-canada", reply
        assert customs[0]["sources"][0]["title"] == (
            "Do you ship to Canada and how much does it cost?"
        )

        # Unrelated question: abstains with the offer of a human, no sources.
        reply = _post(url, {"sender": "u2", "message": "What is the capital of Mongolia?"})
        assert "colleague" in reply[0]["text"]
        assert not any("custom" in item for item in reply)

        # The conversation goes on with rules after an LLM turn.
        assert _post(url, {"sender": "u1", "message": "bye"})[0]["text"] == "Bye!"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)

    # Knowledge unchanged: nothing to retrain. Knowledge edited: the policy must retrain.
    assert _dry_run(project) == 0
    faq = project / "knowledge" / "faq.yml"
    faq.write_text(faq.read_text().replace("$12.99", "$13.49"))
    assert _dry_run(project) != 0
