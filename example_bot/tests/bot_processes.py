"""Starting, watching and stopping the servers of the end-to-end test (rasa, action server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests

LOG_TAIL_CHARS = 6000


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    """A subprocess in its own process group, with its output in a log file.

    `stop()` ends the whole group (rasa starts helper processes), first politely, then by force.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        cwd: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The end of the process output."""
        if not self._log.closed:
            self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text[-chars:]

    def describe(self) -> str:
        """Name, command, exit status and the end of the log, for failure messages."""
        status = "running" if self.is_running() else f"exited with {self.process.returncode}"
        return (
            f"--- {self.name} ({status}): {' '.join(self.command)}\n"
            f"--- last output ({self.log_path}):\n{self.log_tail()}"
        )

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Polls `check` until it is true; fails early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise RuntimeError(f"{self.name} exited before {what}.\n{self.describe()}")
            try:
                if check():
                    return
            except requests.RequestException:
                pass
            time.sleep(1.0)
        raise TimeoutError(f"{self.name}: no {what} after {timeout:.0f} s.\n{self.describe()}")

    def stop(self, grace: float = 10.0) -> None:
        """Ends the process group: SIGTERM, then SIGKILL after `grace` seconds."""
        try:
            if self.is_running():
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=grace)
        except ProcessLookupError:
            pass
        finally:
            self._log.close()


def http_ok(url: str) -> Callable[[], bool]:
    """A check that `url` answers with status 200."""

    def check() -> bool:
        return requests.get(url, timeout=5).status_code == 200

    return check


def run_checked(command: Sequence[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Runs a command to completion; raises with its output when it fails."""
    result = subprocess.run(
        list(command),
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {result.returncode}:\n"
            f"{output[-LOG_TAIL_CHARS:]}"
        )
    return output
