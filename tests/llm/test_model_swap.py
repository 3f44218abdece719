"""The NLG answers from the knowledge of the model Rasa serves, across `PUT /model`/`DELETE /model`.

Two tiny models that differ only in their knowledge (a warranty of 24 or 36 months) are trained
in-process; a real `rasa run --enable-api --auth-token` serves the first. A failed `PUT /model`
keeps the old knowledge and the old llama.cpp worker; a successful one answers from the new
knowledge and stops the old worker; `DELETE /model` stops the new one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.llm.conftest import DATA, KNOWLEDGE
from tests.llm.test_server_integration import _free_port, _post

pytestmark = pytest.mark.integration

QUESTION = "How long is the warranty?"
OLD, NEW = "24 months", "36 months"


def _train(root: Path, name: str) -> Path:
    from rasa.model_training import train

    result = train(
        domain=str(root / "domain.yml"),
        config=str(root / "config.yml"),
        training_files=[str(root / "data")],
        output=str(root / "models"),
        fixed_model_name=name,
    )
    assert result.code == 0 and result.model, result
    return Path(result.model)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("swap_bot")
    shutil.copytree(DATA / "bot", root, dirs_exist_ok=True)
    shutil.copytree(KNOWLEDGE, root / "knowledge")
    endpoints = yaml.safe_load((root / "endpoints.yml").read_text())
    # Extractive answers quote the knowledge verbatim (fast and deterministic); the models keep
    # `mode: generate`, so loading one still starts its llama.cpp worker.
    endpoints["nlg"]["answer"] = {"mode": "extractive"}
    (root / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
    cwd = Path.cwd()
    os.chdir(root)  # knowledge_paths are relative to where rasa runs
    try:
        _train(root, "old")
        faq = root / "knowledge" / "faq.yml"
        faq.write_text(faq.read_text().replace(OLD, NEW))
        _train(root, "new")
    finally:
        os.chdir(cwd)
    (root / "models" / "broken.tar.gz").write_bytes(b"not a model archive")
    return root


def _workers(server_pid: int) -> set[int]:
    """Live llama.cpp worker processes whose parent is the Rasa server."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, parent = fields[0], int(fields[1])
        if parent == server_pid and state != "Z" and "llamacpp_worker" in command:
            found.add(int(entry.name))
    return found


def _wait_for(condition, what: str, limit: float = 60.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"Timed out waiting for {what}.")


def _wait_ready(port: int, token: str, server: subprocess.Popen, log: Path) -> None:
    def loaded() -> bool:
        if server.poll() is not None:
            pytest.fail(f"rasa run exited early:\n{log.read_text()[-3000:]}")
        try:
            url = f"http://127.0.0.1:{port}/status?token={token}"
            with urllib.request.urlopen(url, timeout=2) as reply:
                return bool(json.loads(reply.read()).get("model_id"))
        except (urllib.error.URLError, OSError, ValueError):
            return False

    _wait_for(loaded, "rasa run to load the model", limit=300)


def _model_request(port: int, method: str, token: str, body: dict | None = None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/model?token={token}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _answer(port: int, sender: str) -> str:
    reply = _post(f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                  {"sender": sender, "message": QUESTION})
    return " ".join(item.get("text", "") for item in reply)


def test_knowledge_and_worker_follow_the_served_model(project):
    port, token = _free_port(), secrets.token_hex(16)
    log = project / "swap-server.log"
    with log.open("w") as handle:
        server = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--enable-api", "--auth-token", token,
             "-m", "models/old.tar.gz", "--endpoints", "endpoints.yml",
             "--credentials", "credentials.yml", "-p", str(port), "-i", "127.0.0.1"],
            cwd=project,
            env={**os.environ, "RASA_API_TOKEN": token, "TF_CPP_MIN_LOG_LEVEL": "3"},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(port, token, server, log)
        old_workers = _wait_for(lambda: _workers(server.pid), "the old model's worker")
        assert OLD in _answer(port, "before")

        # A broken model file: Rasa keeps serving the old model, and so does the NLG.
        assert _model_request(port, "PUT", token, {"model_file": "models/broken.tar.gz"}) >= 400
        assert OLD in _answer(port, "after-failed-put")
        assert _workers(server.pid) == old_workers

        # A good model: the new knowledge answers, the old model's worker is stopped.
        assert _model_request(port, "PUT", token, {"model_file": "models/new.tar.gz"}) == 204
        assert NEW in _answer(port, "after-put")
        new_workers = _wait_for(
            lambda: (workers := _workers(server.pid)) and not workers & old_workers and workers,
            "the old worker to stop and the new one to run",
        )

        # Unloading stops the new model's worker too.
        assert _model_request(port, "DELETE", token) == 204
        _wait_for(lambda: not _workers(server.pid) & new_workers, "the worker to stop")
    except BaseException:
        print(log.read_text()[-5000:])
        raise
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_typo_in_the_nlg_options_stops_rasa_run_with_a_clear_message(project):
    endpoints = project / "endpoints-typo.yml"
    endpoints.write_text(
        yaml.safe_dump({"nlg": {"type": "rasa_llm_components.LLMNaturalLanguageGenerator",
                                "timout": 30}})
    )
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "run", "-m", "models/old.tar.gz",
         "--endpoints", str(endpoints), "-p", str(_free_port()), "-i", "127.0.0.1"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    # Rasa's command line prints the error as its own line at the end (after Sanic's report).
    errors = [line for line in lines[-5:] if "NLGConfigError: " in line]
    assert errors, lines[-20:]
    assert "unknown option 'timout'. Did you mean 'timeout'?" in errors[-1]
