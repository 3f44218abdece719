"""The locked-down action server (rasa_llm_components.repair.action_server).

The server runs as a real subprocess on a free loopback port with a small actions package
written by the tests: its action appends the conversation id to a file (so a test sees whether it
ran) and its health check fails while a marker file exists.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import rasa_sdk
import requests
from bot_processes import ManagedProcess, free_port, http_ok

from rasa_llm_components.repair.action_server import (
    ActionServerConfigError,
    HealthCheck,
    authorization_status,
    checked_token,
    one_line,
    run_check,
)

MODULE = "rasa_llm_components.repair.action_server"
TOKEN = "s3cret-Token-for-tests-0123456789"
START_TIMEOUT_S = 120
EXIT_TIMEOUT_S = 120

PROBE_PACKAGE = '''
"""Actions for the action server tests."""
import os
import time

from rasa_sdk import Action


class ActionProbe(Action):
    def name(self):
        return "action_probe"

    async def run(self, dispatcher, tracker, domain):
        with open(os.environ["PROBE_LOG"], "a", encoding="utf-8") as log:
            log.write(tracker.sender_id + "\\n")
        dispatcher.utter_message(text="probe ran")
        return []


def check():
    marker = os.environ["PROBE_FAIL"]
    if os.path.exists(marker):
        raise RuntimeError(
            "cannot connect to postgresql://shop:hunter2@db.internal/shop\\n(connection refused)"
        )


def slow_check():
    time.sleep(5)
'''


@dataclass
class ProbeFiles:
    """The probe actions package and the files it reads and writes."""

    root: Path
    log: Path
    fail_marker: Path

    def env(self, token: str | None) -> dict[str, str]:
        return {
            "PROBE_LOG": str(self.log),
            "PROBE_FAIL": str(self.fail_marker),
            "RASA_TELEMETRY_ENABLED": "false",
            "ACTION_SERVER_TOKEN": token or "",
        }

    def calls(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").split() if self.log.exists() else []


@dataclass
class RunningServer:
    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def command(port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", MODULE, "--actions", "probe_actions", "--port", str(port), *extra]


def start_server(probe: ProbeFiles, token: str | None, *extra: str) -> RunningServer:
    port = free_port()
    process = ManagedProcess(
        "action server",
        command(port, *extra),
        cwd=probe.root,
        log_path=probe.root / f"server-{port}.log",
        env=probe.env(token),
    )
    try:
        process.wait_until(http_ok(f"http://127.0.0.1:{port}/health"), START_TIMEOUT_S, "health")
    except BaseException:
        process.stop()
        raise
    return RunningServer(process, port)


def action_call(sender_id: str = "C1002") -> dict:
    """What Rasa posts to /webhook to run action_probe."""
    return {
        "next_action": "action_probe",
        "sender_id": sender_id,
        "tracker": {"sender_id": sender_id, "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": rasa_sdk.__version__,
    }


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port` (Linux /proc/net/tcp{,6})."""
    addresses = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, _, port_hex = fields[1].partition(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, width // 2, 4))
            family = socket.AF_INET if width == 8 else socket.AF_INET6
            addresses.add(socket.inet_ntop(family, words))
    return addresses


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ProbeFiles:
    root = tmp_path_factory.mktemp("action_server")
    (root / "probe_actions").mkdir()
    (root / "probe_actions" / "__init__.py").write_text(
        textwrap.dedent(PROBE_PACKAGE), encoding="utf-8"
    )
    return ProbeFiles(root, root / "calls.log", root / "unhealthy")


@pytest.fixture(scope="module")
def server(probe: ProbeFiles) -> Iterator[RunningServer]:
    running = start_server(probe, TOKEN, "--health-check", "probe=probe_actions:check")
    try:
        yield running
    finally:
        running.process.stop()


@pytest.fixture(autouse=True)
def clean_probe(probe: ProbeFiles) -> None:
    probe.log.unlink(missing_ok=True)
    probe.fail_marker.unlink(missing_ok=True)


# --- over HTTP -----------------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize(
    "headers, params, status",
    [
        ({}, {}, 401),
        ({}, {"token": TOKEN}, 401),  # only the header counts: query strings end up in logs
        ({"Authorization": f"Basic {TOKEN}"}, {}, 401),
        ({"Authorization": "Bearer "}, {}, 401),
        ({"Authorization": "Bearer wrong"}, {}, 403),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, {}, 403),
        ({"Authorization": f"Bearer {TOKEN}x"}, {}, 403),
        ({"X-Token": TOKEN}, {}, 401),
    ],
)
def test_webhook_refuses_calls_without_the_secret(
    server: RunningServer, probe: ProbeFiles, headers: dict, params: dict, status: int
) -> None:
    reply = requests.post(
        f"{server.url}/webhook", json=action_call(), headers=headers, params=params, timeout=30
    )
    assert reply.status_code == status
    assert reply.json() == {"error": "unauthorized" if status == 401 else "forbidden"}
    assert probe.calls() == []  # the action did not run


@pytest.mark.integration
def test_a_non_ascii_secret_is_refused_not_crashed(server: RunningServer) -> None:
    reply = requests.post(
        f"{server.url}/webhook",
        json=action_call(),
        headers={"Authorization": "Bearer s3crét".encode()},
        timeout=30,
    )
    assert reply.status_code == 403


@pytest.mark.integration
def test_the_secret_runs_the_action(server: RunningServer, probe: ProbeFiles) -> None:
    reply = requests.post(
        f"{server.url}/webhook",
        json=action_call("C1001"),
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    assert [message["text"] for message in reply.json()["responses"]] == ["probe ran"]
    assert probe.calls() == ["C1001"]


@pytest.mark.integration
def test_the_action_list_needs_the_secret_too(server: RunningServer) -> None:
    assert requests.get(f"{server.url}/actions", timeout=30).status_code == 401
    reply = requests.get(
        f"{server.url}/actions", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert reply.status_code == 200
    assert {"name": "action_probe"} in reply.json()


@pytest.mark.integration
def test_health_runs_the_checks_without_the_secret(
    server: RunningServer, probe: ProbeFiles
) -> None:
    reply = requests.get(f"{server.url}/health", timeout=30)
    assert (reply.status_code, reply.json()) == (200, {"status": "ok", "probe": "ok"})

    probe.fail_marker.touch()
    reply = requests.get(f"{server.url}/health", timeout=30)
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "error"
    assert body["probe"].startswith("error: cannot connect to postgresql://shop:***@db.internal")
    assert "hunter2" not in reply.text and "\n" not in body["probe"]

    probe.fail_marker.unlink()
    assert requests.get(f"{server.url}/health", timeout=30).status_code == 200


@pytest.mark.integration
def test_listens_on_loopback_only_by_default(server: RunningServer) -> None:
    assert listening_addresses(server.port) == {"127.0.0.1"}


@pytest.mark.integration
def test_host_option_binds_another_interface(probe: ProbeFiles) -> None:
    running = start_server(probe, TOKEN, "--host", "0.0.0.0")
    try:
        assert listening_addresses(running.port) == {"0.0.0.0"}
    finally:
        running.process.stop()


# --- start-up ------------------------------------------------------------------------------------
def _run_to_exit(probe: ProbeFiles, token: str | None, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(free_port(), *extra),
        cwd=probe.root,
        env={**os.environ, **probe.env(token)},
        capture_output=True,
        text=True,
        timeout=EXIT_TIMEOUT_S,
        check=False,
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    "token, expected",
    [
        (None, "ACTION_SERVER_TOKEN is not set"),
        ("   ", "ACTION_SERVER_TOKEN is not set"),
        ("short", "at least 16 printable ASCII characters"),
    ],
)
def test_refuses_to_start_without_a_usable_secret(
    probe: ProbeFiles, token: str | None, expected: str
) -> None:
    result = _run_to_exit(probe, token)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Action server not started: ") and expected in lines[0]


@pytest.mark.integration
def test_a_failing_check_stops_the_start_with_one_line(probe: ProbeFiles) -> None:
    probe.fail_marker.touch()
    result = _run_to_exit(probe, TOKEN, "--health-check", "probe=probe_actions:check")
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0] == (
        "Action server not started: probe check failed: cannot connect to "
        "postgresql://shop:***@db.internal/shop (connection refused)"
    )


@pytest.mark.integration
def test_a_bad_check_option_names_the_fix(probe: ProbeFiles) -> None:
    result = _run_to_exit(probe, TOKEN, "--health-check", "probe=probe_actions:missing")
    assert result.returncode == 1
    assert "probe_actions has no function missing" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_allow_unauthenticated_serves_without_secret_and_says_so(probe: ProbeFiles) -> None:
    running = start_server(probe, None, "--allow-unauthenticated")
    try:
        reply = requests.post(f"{running.url}/webhook", json=action_call("dev"), timeout=30)
        assert reply.status_code == 200, reply.text
        assert probe.calls() == ["dev"]
        assert "WITHOUT authentication" in running.process.log_tail()
    finally:
        running.process.stop()


# --- units ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header, status",
    [
        (None, 401),
        ("", 401),
        (TOKEN, 401),
        (f"Token {TOKEN}", 401),
        ("Bearer", 401),
        ("Bearer wrong", 403),
        (f"Bearer {TOKEN} extra", 403),
        ("Bearer tökén", 403),
        (f"Bearer {TOKEN}", None),
        (f"bearer   {TOKEN} ", None),
    ],
)
def test_authorization_status(header: str | None, status: int | None) -> None:
    assert authorization_status(header, TOKEN) == status


def test_checked_token() -> None:
    assert checked_token(f" {TOKEN}\n", allow_unauthenticated=False) == TOKEN
    assert checked_token(None, allow_unauthenticated=True) is None
    assert checked_token(TOKEN, allow_unauthenticated=True) == TOKEN  # a set secret is required
    for bad in (None, "", "0123456789", "ünïcödé-secret-ünïcödé", "secret with\ttab-0123"):
        with pytest.raises(ActionServerConfigError, match="ACTION_SERVER_TOKEN"):
            checked_token(bad, allow_unauthenticated=False)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("database", "expected NAME=module:function"),
        ("database=shop.db", "expected NAME=module:function"),
        ("=os:getcwd", "expected NAME=module:function"),
        ("database=no_such_module_xyz:check", "cannot import no_such_module_xyz"),
        ("database=os:no_such_function", "os has no function no_such_function"),
        ("database=os:sep", "os has no function sep"),
    ],
)
def test_health_check_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(ActionServerConfigError, match=message):
        HealthCheck.from_spec(spec)


def test_health_check_from_spec() -> None:
    check = HealthCheck.from_spec(" cwd = os : getcwd ")
    assert check.name == "cwd"
    assert run_check(check) is None


def test_a_hanging_check_times_out() -> None:
    started = time.monotonic()
    assert run_check(HealthCheck("slow", lambda: time.sleep(3)), timeout=0.2) == (
        "no answer within 0.2 s"
    )
    assert time.monotonic() - started < 2


def test_one_line_hides_url_passwords_and_shortens() -> None:
    error = RuntimeError("could not connect\n  to postgresql://rasa:p%40ss:w0rd@db:5432/shop")
    assert one_line(error) == "could not connect to postgresql://rasa:***@db:5432/shop"
    assert one_line(ValueError()) == "ValueError"
    assert len(one_line(RuntimeError("x" * 1000))) == 300
