"""Real PostgreSQL and Redis servers for the tests, each on a free loopback port in a temporary
directory, started from the Debian binaries (`scripts/system_packages.sh` installs them).

    with PostgresServer(work_dir / "pg") as postgres, RedisServer(work_dir / "redis") as redis:
        endpoints = {"tracker_store": postgres.tracker_store(), "lock_store": redis.lock_store()}

PostgreSQL refuses to run as root (CI runs as root): then the cluster directory is handed to the
`postgres` system user and the binaries run through `runuser -u postgres --`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bot_processes import ManagedProcess, free_port, run_checked

START_TIMEOUT_S = 60.0
POSTGRES_USER = "postgres"
POSTGRES_PASSWORD = "rasa-test"  # loopback only, throw-away cluster
POSTGRES_DATABASE = "rasa"


class ServiceError(RuntimeError):
    """A service binary is missing or the server did not come up."""


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL server binaries (Debian: /usr/lib/postgresql/N/bin)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if not candidates:
        raise ServiceError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
            "run scripts/system_packages.sh as root."
        )
    return Path(candidates[-1]).parent


def _wait(check: Any, process: ManagedProcess, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not process.is_running():
            raise ServiceError(f"{process.name} exited before {what}.\n{process.describe()}")
        if check():
            return
        time.sleep(0.2)
    raise ServiceError(
        f"{process.name}: no {what} after {START_TIMEOUT_S:.0f} s.\n{process.describe()}"
    )


class PostgresServer:
    """A throw-away PostgreSQL cluster (`initdb` + `postgres`) listening on 127.0.0.1 only.

    `url` is the SQLAlchemy URL of the database `rasa`; `tracker_store()` is the endpoints.yml
    section of Rasa's SQL tracker store pointing at it.
    """

    def __init__(self, work_dir: Path, port: int | None = None) -> None:
        self.work_dir = Path(work_dir)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.bin_dir = postgres_bin_dir()
        self.process: ManagedProcess | None = None
        self.cluster_dir: Path | None = None

    @property
    def data_dir(self) -> Path:
        assert self.cluster_dir is not None, "start() the server first"
        return self.cluster_dir / "data"

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _command(self, binary: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / binary), *args]
        if self.as_root:
            return ["runuser", "-u", POSTGRES_USER, "--", *command]
        return command

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database."""
        return (
            f"postgresql://{POSTGRES_USER}:{POSTGRES_PASSWORD}@{self.host}:{self.port}/"
            f"{POSTGRES_DATABASE}"
        )

    def tracker_store(self, type_: str = "SQL") -> dict[str, Any]:
        """The `tracker_store:` section of endpoints.yml for this server."""
        return {
            "type": type_,
            "dialect": "postgresql",
            "url": self.host,
            "port": self.port,
            "db": POSTGRES_DATABASE,
            "username": POSTGRES_USER,
            "password": POSTGRES_PASSWORD,
        }

    def start(self) -> PostgresServer:
        """Creates the cluster and the database, starts the server and waits for it."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        # As root, the cluster lives in a fresh /tmp folder owned by `postgres`: pytest's own
        # temporary folders are private to root, so `postgres` could not reach them.
        self.cluster_dir = Path(
            tempfile.mkdtemp(prefix="pg-", dir=None if self.as_root else self.work_dir)
        )
        socket_dir = self.cluster_dir / "socket"
        socket_dir.mkdir()
        password_file = self.cluster_dir / "pwfile"
        password_file.write_text(POSTGRES_PASSWORD + "\n", encoding="utf-8")
        if self.as_root:
            for path in (self.cluster_dir, socket_dir, password_file):
                shutil.chown(path, POSTGRES_USER, POSTGRES_USER)
        run_checked(
            self._command(
                "initdb", "-D", str(self.data_dir), "-U", POSTGRES_USER,
                f"--pwfile={password_file}", "--auth=scram-sha-256", "--encoding=UTF8",
                "--no-sync",
            ),
            cwd=self.cluster_dir, env={"LC_ALL": "C.UTF-8"}, timeout=START_TIMEOUT_S,
        )  # fmt: skip
        # No fsync: the cluster is thrown away.
        self.process = ManagedProcess(
            "postgres",
            self._command(
                "postgres", "-D", str(self.data_dir), "-h", self.host, "-p", str(self.port),
                "-k", str(socket_dir), "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
            ),
            cwd=self.cluster_dir, log_path=self.work_dir / "postgres.log",
        )  # fmt: skip
        try:
            _wait(self._accepts_connections, self.process, "accepting connections")
            self._create_database()
        except BaseException:
            self.stop()
            raise
        return self

    def _accepts_connections(self) -> bool:
        result = subprocess.run(
            [str(self.bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-q"],
            check=False,
        )
        return result.returncode == 0

    def connect(self, database: str = POSTGRES_DATABASE) -> Any:
        """A new psycopg2 connection (autocommit) to `database`."""
        import psycopg2

        connection = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=POSTGRES_USER,
            password=POSTGRES_PASSWORD,
            dbname=database,
        )
        connection.autocommit = True
        return connection

    def _create_database(self) -> None:
        connection = self.connect("postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
        finally:
            connection.close()

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Runs one query on the test database and returns its rows."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, parameters)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def stop(self) -> None:
        """Stops the server (fast shutdown: it does not wait for clients) and deletes the
        cluster."""
        if self.process is not None:
            if self.process.is_running():
                subprocess.run(
                    self._command("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w"),
                    capture_output=True, timeout=START_TIMEOUT_S, check=False,
                )  # fmt: skip
            self.process.stop()
            self.process = None
        if self.cluster_dir is not None:
            shutil.rmtree(self.cluster_dir, ignore_errors=True)
            self.cluster_dir = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


class RedisServer:
    """A throw-away `redis-server` on 127.0.0.1 without persistence."""

    def __init__(self, work_dir: Path, port: int | None = None) -> None:
        self.work_dir = Path(work_dir)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        """redis:// URL of the server."""
        return f"redis://{self.host}:{self.port}/0"

    def lock_store(self, type_: str = "rasa_llm_components.AtomicRedisLockStore") -> dict[str, Any]:
        """The `lock_store:` section of endpoints.yml for this server (`type_: redis` is Rasa's
        own Redis lock store, which is not safe for replicas)."""
        return {"type": type_, "url": self.host, "port": self.port, "db": 0}

    def start(self) -> RedisServer:
        """Starts the server and waits until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError(
                "redis-server is not installed; run scripts/system_packages.sh as root."
            )
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            "redis",
            [
                binary, "--bind", self.host, "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.work_dir), "--protected-mode", "yes",
            ],
            cwd=self.work_dir, log_path=self.work_dir / "redis.log",
        )  # fmt: skip
        try:
            _wait(self._pong, self.process, "PONG")
        except BaseException:
            self.stop()
            raise
        return self

    def client(self) -> Any:
        """A redis-py client for the server."""
        import redis

        return redis.Redis(host=self.host, port=self.port, db=0, socket_timeout=5)

    def _pong(self) -> bool:
        import redis

        try:
            client = self.client()
            try:
                return bool(client.ping())
            finally:
                client.close()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Stops the server."""
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
