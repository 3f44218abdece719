"""Several `rasa run` replicas under concurrent customers: nothing lost, duplicated or reordered.

    python -m benchmarks.replicas_load [--customers 50] [--messages 10] [--replicas 2]
        [--knowledge-share 0.3] [--model MODEL.tar.gz] [--json out.json] [--keep-dir DIR]

Starts, on free loopback ports: PostgreSQL (the SQL tracker store), Redis (the lock store,
`rasa_llm_components.AtomicRedisLockStore`), one shared LLM server
(`python -m rasa_llm_components.llm.serve`), one action server and `--replicas` replicas of
`rasa run`, all with the same endpoints.yml. Each customer sends its
messages one after the other, customers run concurrently, and every message goes to the next
replica (so each conversation really moves between replicas). The messages are written the way
customers type: order questions, small talk and knowledge questions (answered by the LLM).
Every other conversation of the first 24 is a signed-in customer (the 12 seeded ones,
C1001..C1012); the others are anonymous visitors.

Then, for every conversation, the events in PostgreSQL and the tracker from Rasa's HTTP API are
checked: user messages lost, duplicated events, user messages out of order, and user messages
without a bot reply before the next one (all must be 0). It prints the latency (p50/p95) and
messages/s of each replica process and in total, and checks that no replica started a llama.cpp
worker of its own. The pytest `example_bot/tests/test_replicas.py` runs a smaller load.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_BOT_DIR = REPO_ROOT / "example_bot"
TESTS_DIR = EXAMPLE_BOT_DIR / "tests"
for _path in (EXAMPLE_BOT_DIR, TESTS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bot_processes import ManagedProcess, free_port, http_ok  # noqa: E402
from chat_client import ChatClient, Conversation  # noqa: E402
from conversation_suite import (  # noqa: E402
    BOT_DIR,
    START_TIMEOUT_S,
    BotServers,
    ShopDatabase,
    resolve_model,
)
from services import PostgresServer, RedisServer  # noqa: E402

from benchmarks.stats import percentile  # noqa: E402
from benchmarks.work_dirs import in_work_dir  # noqa: E402

LLM_WORKER_MODULE = "rasa_llm_components.llm.llamacpp_worker"
SIGNED_CUSTOMERS = tuple(f"C{1001 + index}" for index in range(12))

SMALL_TALK = (
    "hi",
    "hello there",
    "thanks a lot",
    "am i chatting with a robot",
    "ok cool thx",
    "how are you today?",
    "what can you do",
)
KNOWLEDGE = (
    "how long do refunds take?",
    "do u ship to canada and how much",
    "can i pay w/ paypal",
    "need it fast. do you have express shipping?",
    "how long is the warranty on headphones",
    "whats your return policy",
)
ORDER_QUESTIONS = (
    "where is my order {number}",
    "has {number} shipped yet?",
    "status of #{number} please",
    "is order {number} on its way",
)
VISITOR_ORDER_QUESTIONS = ("where is my order", "can you check order 10002 for me?")


# --- the servers ---------------------------------------------------------------------------------
class ReplicaServers(BotServers):
    """`BotServers` with more `rasa run` replicas: same model, endpoints.yml and environment,
    each on its own port."""

    def __init__(self, *args: Any, replicas: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if replicas < 1:
            raise ValueError("replicas must be at least 1")
        self.extra_ports = [free_port() for _ in range(replicas - 1)]
        self.extra: list[ManagedProcess] = []

    @property
    def urls(self) -> list[str]:
        """The base URL of every replica."""
        return [self.url] + [f"http://127.0.0.1:{port}" for port in self.extra_ports]

    @property
    def processes(self) -> list[ManagedProcess]:
        """The replicas' processes (the first one is `self.rasa`)."""
        return ([self.rasa] if self.rasa is not None else []) + self.extra

    def start(self) -> ReplicaServers:
        """Starts the action server and the first replica, then the others one at a time (so
        that only one creates the tracker store's tables)."""
        super().start()
        assert self.rasa is not None
        try:
            for number, port in enumerate(self.extra_ports, start=2):
                command = list(self.rasa.command)
                command[command.index("--port") + 1] = str(port)
                process = ManagedProcess(
                    f"rasa replica {number}",
                    command,
                    cwd=BOT_DIR,
                    log_path=self.work_dir / f"rasa-{number}.log",
                    env=self.env,
                )
                self.extra.append(process)
                process.wait_until(
                    self._loaded(f"http://127.0.0.1:{port}"), START_TIMEOUT_S, "loaded model"
                )
        except BaseException:
            self.stop()
            raise
        return self

    def _loaded(self, url: str) -> Any:
        def check() -> bool:
            response = requests.get(f"{url}/status", params={"token": self.api_token}, timeout=5)
            return response.status_code == 200 and bool(response.json().get("model_id"))

        return check

    def stop(self) -> None:
        for process in self.extra:
            process.stop()
        super().stop()

    def describe(self) -> str:
        return "\n".join([super().describe(), *(process.describe() for process in self.extra)])


class SharedLLMServer:
    """`python -m rasa_llm_components.llm.serve` on a free loopback port."""

    def __init__(self, work_dir: Path, threads: int = 1, parallel: int = 2, nice: int = 10) -> None:
        self.port = free_port()
        self.work_dir = Path(work_dir)
        self.command = [
            sys.executable, "-m", "rasa_llm_components.llm.serve", "--port", str(self.port),
            "--threads", str(threads), "--parallel", str(parallel), "--ctx", str(2048 * parallel),
            "--nice", str(nice),
        ]  # fmt: skip
        self.process: ManagedProcess | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> SharedLLMServer:
        self.process = ManagedProcess(
            "shared LLM server",
            self.command,
            cwd=REPO_ROOT,
            log_path=self.work_dir / "llm-server.log",
        )
        self.process.wait_until(
            http_ok(f"http://127.0.0.1:{self.port}/health"), START_TIMEOUT_S, "health check"
        )
        return self

    def requests_received(self) -> int:
        """How many generation requests reached the server: the task ids llama.cpp logs when
        it starts, finishes or cancels one (a request cancelled in the queue has no slot)."""
        if self.process is None:
            return 0
        log = self.process.log_path.read_text(encoding="utf-8", errors="replace")
        found = re.findall(r"\| task (\d+) \||id_task = (\d+)", log)
        return len({started or cancelled for started, cancelled in found})

    def nlg_llm(self) -> dict[str, Any]:
        """The `llm:` option of the NLG in endpoints.yml that points at this server."""
        return {"backend": "openai", "base_url": self.base_url, "model": "local"}

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class ReplicaCluster:
    """PostgreSQL, Redis, the shared LLM server, the action server and the replicas."""

    def __init__(
        self,
        model: Path,
        work_dir: Path,
        replicas: int = 2,
        postgres: PostgresServer | None = None,
        redis: RedisServer | None = None,
    ) -> None:
        """`postgres` and `redis`: running servers to use (and leave running); new ones
        otherwise."""
        self.work_dir = Path(work_dir)
        self._own_services = postgres is None, redis is None
        self.postgres = postgres or PostgresServer(self.work_dir / "postgres")
        self.redis = redis or RedisServer(self.work_dir / "redis")
        self.llm = SharedLLMServer(self.work_dir)
        self.database = ShopDatabase.seed(self.work_dir / "shop.db")
        self.model = Path(model)
        self.replicas = replicas
        self.servers: ReplicaServers | None = None

    def endpoints_overrides(self) -> dict[str, Any]:
        """tracker_store, lock_store and nlg sections shared by every replica."""
        nlg = yaml_section(BOT_DIR / "endpoints.yml", "nlg")
        return {
            "tracker_store": self.postgres.tracker_store(),
            "lock_store": self.redis.lock_store(),
            "nlg": {**nlg, "llm": self.llm.nlg_llm()},
        }

    def start(self) -> ReplicaCluster:
        try:
            if self._own_services[0]:
                self.postgres.start()
            if self._own_services[1]:
                self.redis.start()
            self.llm.start()
            self.servers = ReplicaServers(
                self.model,
                self.database,
                self.work_dir,
                endpoints_overrides=self.endpoints_overrides(),
                replicas=self.replicas,
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.servers is not None:
            self.servers.stop()
        self.llm.stop()
        if self._own_services[1]:
            self.redis.stop()
        if self._own_services[0]:
            self.postgres.stop()

    def describe(self) -> str:
        parts = [self.servers.describe()] if self.servers is not None else []
        parts.extend(
            process.describe()
            for process in (self.llm.process, self.postgres.process, self.redis.process)
            if process is not None
        )
        return "\n".join(parts)

    def __enter__(self) -> ReplicaCluster:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def yaml_section(path: Path, key: str) -> dict[str, Any]:
    """One top-level mapping of a YAML file ({} when absent)."""
    import yaml

    return dict((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(key) or {})


def llm_workers_of(processes: Sequence[ManagedProcess]) -> list[str]:
    """The embedded llama.cpp worker processes the given process groups started (`ps`)."""
    groups = {process.process.pid for process in processes}
    listing = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,pgid=,args="], capture_output=True, text=True, check=True
    ).stdout
    workers = []
    for line in listing.splitlines():
        pid, pgid, args = line.strip().split(None, 2)
        if int(pgid) in groups and LLM_WORKER_MODULE in args:
            workers.append(f"{pid} (group {pgid}): {args[:80]}")
    return workers


# --- the load ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Speaker:
    """Who holds conversation number `index`: a signed customer or an anonymous visitor."""

    index: int
    customer_id: str | None
    visitor: str | None


def speakers(count: int, run_id: str) -> list[Speaker]:
    """Every other conversation of the first 24 is a signed customer (12 are seeded); the
    others are visitors."""
    result = []
    for index in range(count):
        block, position = divmod(index, 2 * len(SIGNED_CUSTOMERS))
        if block == 0 and position % 2 == 0:
            result.append(Speaker(index, SIGNED_CUSTOMERS[position // 2], None))
        else:
            result.append(Speaker(index, None, f"load-{run_id}-{index}"))
    return result


def customer_orders(database: ShopDatabase) -> dict[str, list[str]]:
    """The order numbers (digits) of every seeded customer."""
    orders: dict[str, list[str]] = {}
    for customer, order_id in database.query("SELECT customer_id, id FROM orders ORDER BY id"):
        orders.setdefault(customer, []).append(order_id.removeprefix("ORD-"))
    return orders


def scripts(
    speakers_: list[Speaker],
    messages: int,
    knowledge_share: float,
    orders: dict[str, list[str]],
    seed: int = 0,
) -> dict[Speaker, list[str]]:
    """Every speaker's messages: a greeting, then order questions and small talk; a share
    `knowledge_share` of all the later messages, drawn at random, are knowledge questions."""
    rng = random.Random(seed)
    later = [(speaker.index, position) for speaker in speakers_ for position in range(1, messages)]
    knowledge = set(rng.sample(later, round(len(later) * knowledge_share)))
    result = {}
    for speaker in speakers_:
        lines = [rng.choice(SMALL_TALK[:2])]
        for position in range(1, messages):
            if (speaker.index, position) in knowledge:
                lines.append(rng.choice(KNOWLEDGE))
            elif rng.random() < 0.5:
                lines.append(rng.choice(SMALL_TALK))
            elif speaker.customer_id and orders.get(speaker.customer_id):
                number = rng.choice(orders[speaker.customer_id])
                lines.append(rng.choice(ORDER_QUESTIONS).format(number=number))
            else:
                lines.append(rng.choice(VISITOR_ORDER_QUESTIONS))
        result[speaker] = lines[:messages]
    return result


@dataclass
class Turn:
    """One message: where it went, how long the reply took, what came back."""

    text: str
    replica: int
    seconds: float
    replies: int
    error: str | None = None
    generated: bool = False  # the reply carries an LLM/knowledge answer's sources


@dataclass
class ConversationRun:
    """One speaker's conversation under load."""

    speaker: Speaker
    sender: str
    sent: list[str]
    turns: list[Turn] = field(default_factory=list)
    error: str | None = None


def _hold(
    speaker: Speaker, lines: list[str], urls: list[str], ready: threading.Barrier
) -> ConversationRun:
    clients = [ChatClient(url) for url in urls]
    try:
        try:
            first = clients[speaker.index % len(clients)]
            conversation: Conversation = first.conversation(speaker.customer_id, speaker.visitor)
        except BaseException:
            ready.abort()
            raise
        run = ConversationRun(speaker, conversation.sender, lines)
        ready.wait()
        for position, text in enumerate(lines):
            replica = (speaker.index + position) % len(clients)
            began = time.monotonic()
            try:
                messages = clients[replica].send(conversation.identity, text)
                error = None
            except requests.RequestException as failure:
                messages, error = [], f"{type(failure).__name__}: {failure}"
            run.turns.append(
                Turn(
                    text=text,
                    replica=replica,
                    seconds=time.monotonic() - began,
                    replies=sum(bool(message.get("text")) for message in messages),
                    error=error,
                    generated=any("sources" in (m.get("custom") or {}) for m in messages),
                )
            )
        return run
    finally:
        for client in clients:
            client.close()


def run_load(
    urls: list[str], scripts: dict[Speaker, list[str]]
) -> tuple[list[ConversationRun], float]:
    """Holds every conversation concurrently (each one's messages in order); returns the runs
    and the wall time of the load, timed from when every conversation has been restarted."""
    ready = threading.Barrier(len(scripts) + 1)
    with ThreadPoolExecutor(max_workers=len(scripts)) as pool:
        futures = [
            pool.submit(_hold, speaker, lines, urls, ready) for speaker, lines in scripts.items()
        ]
        try:
            ready.wait(timeout=START_TIMEOUT_S)
        except threading.BrokenBarrierError:
            pass  # a conversation could not start; its future raises below
        began = time.monotonic()
        runs = [future.result() for future in futures]
    return runs, time.monotonic() - began


# --- the checks ----------------------------------------------------------------------------------
@dataclass
class Integrity:
    """What the stores hold for one conversation, compared with what the customer sent."""

    sender: str
    lost: int = 0  # user messages sent but not stored
    duplicated: int = 0  # user messages stored more often than sent, plus identical events
    reordered: int = 0  # 1 when the stored user messages are all there but in another order
    unanswered: int = 0  # user messages without a bot message before the next user message
    api_mismatch: int = 0  # 1 when the HTTP API tracker's user messages differ from the sent

    @property
    def ok(self) -> bool:
        return not (
            self.lost or self.duplicated or self.reordered or self.unanswered or self.api_mismatch
        )


def events_after_restart(postgres: PostgresServer, sender: str) -> list[tuple[str, dict]]:
    """(type, data) of the conversation's events in PostgreSQL after its latest restart, in
    the order they were stored."""
    rows = postgres.query(
        "SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,)
    )
    events = [(type_name, json.loads(data)) for type_name, data in rows]
    restarts = [position for position, (kind, _) in enumerate(events) if kind == "restart"]
    return events[restarts[-1] + 1 :] if restarts else events


def compare(sent: list[str], stored: list[str]) -> tuple[int, int, int]:
    """(lost, duplicated, reordered) of the stored user texts against the sent ones."""
    lost = sum((Counter(sent) - Counter(stored)).values())
    duplicated = sum((Counter(stored) - Counter(sent)).values())
    reordered = int(not lost and not duplicated and stored != sent)
    return lost, duplicated, reordered


def unanswered(events: list[tuple[str, dict]]) -> int:
    """User events not followed by a bot event before the next user event (or the end)."""
    count, waiting = 0, False
    for kind, _ in events:
        if kind == "user":
            count += waiting
            waiting = True
        elif kind == "bot":
            waiting = False
    return count + waiting


def check_conversation(
    postgres: PostgresServer, run: ConversationRun, api_tracker: dict[str, Any]
) -> Integrity:
    """Checks one conversation in PostgreSQL and in the HTTP API's tracker."""
    events = events_after_restart(postgres, run.sender)
    stored = [str(data.get("text")) for kind, data in events if kind == "user"]
    lost, duplicated, reordered = compare(run.sent, stored)
    serialized = Counter(json.dumps([kind, data], sort_keys=True) for kind, data in events)
    duplicated += sum(count - 1 for count in serialized.values())
    from_api = [
        str(event.get("text"))
        for event in api_tracker.get("events", [])
        if event.get("event") == "user"
    ]
    return Integrity(
        sender=run.sender,
        lost=lost,
        duplicated=duplicated,
        reordered=reordered,
        unanswered=unanswered(events),
        api_mismatch=int(from_api != run.sent),
    )


def check_all(
    postgres: PostgresServer, urls: list[str], runs: list[ConversationRun]
) -> list[Integrity]:
    """Checks every conversation; the API tracker comes from a replica other than the one of
    the conversation's last message, where there is one."""
    results = []
    clients = [ChatClient(url) for url in urls]
    try:
        for run in runs:
            last = run.turns[-1].replica if run.turns else 0
            tracker = clients[(last + 1) % len(clients)].tracker(run.sender)
            results.append(check_conversation(postgres, run, tracker))
    finally:
        for client in clients:
            client.close()
    return results


# --- the figures ---------------------------------------------------------------------------------
def figures(
    runs: list[ConversationRun], integrity: list[Integrity], wall: float, replicas: int
) -> dict[str, Any]:
    """Latency and throughput per replica and in total, and the integrity totals."""
    turns = [turn for run in runs for turn in run.turns]

    def block(selected: list[Turn]) -> dict[str, Any]:
        seconds = [turn.seconds for turn in selected]
        return {
            "messages": len(selected),
            "p50_s": round(percentile(seconds, 0.5), 3),
            "p95_s": round(percentile(seconds, 0.95), 3),
            "max_s": round(max(seconds, default=float("nan")), 3),
            "messages_per_s": round(len(selected) / wall, 2) if wall else 0.0,
        }

    return {
        "conversations": len(runs),
        "wall_s": round(wall, 1),
        "per_replica": [
            block([turn for turn in turns if turn.replica == index]) for index in range(replicas)
        ],
        "total": block(turns),
        "http_errors": sum(turn.error is not None for turn in turns),
        "silent_turns": sum(turn.replies == 0 for turn in turns),
        "knowledge_answers_with_sources": sum(turn.generated for turn in turns),
        "lost_user_messages": sum(item.lost for item in integrity),
        "duplicated_events": sum(item.duplicated for item in integrity),
        "reordered_conversations": sum(item.reordered for item in integrity),
        "unanswered_user_messages": sum(item.unanswered for item in integrity),
        "api_tracker_mismatches": sum(item.api_mismatch for item in integrity),
    }


def format_figures(result: dict[str, Any]) -> str:
    """The figures as a short text table."""
    lines = [
        f"{result['conversations']} conversations, {result['total']['messages']} messages in "
        f"{result['wall_s']} s",
        f"{'process':<12} {'messages':>8} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'msg/s':>7}",
    ]
    rows = [(f"replica {i + 1}", block) for i, block in enumerate(result["per_replica"])]
    for name, block in [*rows, ("total", result["total"])]:
        lines.append(
            f"{name:<12} {block['messages']:>8} {block['p50_s']:>7.2f} {block['p95_s']:>7.2f} "
            f"{block['max_s']:>7.2f} {block['messages_per_s']:>7.2f}"
        )
    for key in (
        "lost_user_messages",
        "duplicated_events",
        "reordered_conversations",
        "unanswered_user_messages",
        "api_tracker_mismatches",
        "http_errors",
        "silent_turns",
        "knowledge_answers_with_sources",
    ):
        lines.append(f"{key.replace('_', ' ')}: {result[key]}")
    return "\n".join(lines)


def run_benchmark(
    cluster: ReplicaCluster,
    customers: int,
    messages: int,
    knowledge_share: float,
    seed: int = 0,
) -> tuple[dict[str, Any], list[ConversationRun], list[Integrity]]:
    """Runs the load on a started cluster and checks it; returns figures, runs and checks."""
    assert cluster.servers is not None
    orders = customer_orders(cluster.database)
    run_id = uuid.uuid4().hex[:8]
    load = scripts(speakers(customers, run_id), messages, knowledge_share, orders, seed)
    runs, wall = run_load(cluster.servers.urls, load)
    integrity = check_all(cluster.postgres, cluster.servers.urls, runs)
    result = figures(runs, integrity, wall, len(cluster.servers.urls))
    result["replica_llm_workers"] = llm_workers_of(cluster.servers.processes)
    result["shared_llm_requests"] = cluster.llm.requests_received()
    return result, runs, integrity


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.replicas_load",
        description="Rasa replicas on PostgreSQL + Redis + a shared LLM server under load.",
    )
    parser.add_argument("--customers", type=int, default=50, help="concurrent conversations")
    parser.add_argument("--messages", type=int, default=10, help="messages per conversation")
    parser.add_argument("--replicas", type=int, default=2, help="`rasa run` replicas")
    parser.add_argument(
        "--knowledge-share", type=float, default=0.3, help="share of knowledge questions (LLM)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the customers' scripts")
    parser.add_argument("--model", help="trained model (default: $EXAMPLE_BOT_MODEL or train)")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--keep-dir", type=Path, help="work (logs, databases) in this folder")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, work_dir: Path) -> int:
    """Starts the cluster, runs the load, prints the figures; 1 when a check failed."""
    started = time.monotonic()
    model = resolve_model(work_dir, args.model)
    with ReplicaCluster(model, work_dir, replicas=args.replicas) as cluster:
        print(f"cluster up after {time.monotonic() - started:.0f} s", flush=True)
        result, _, integrity = run_benchmark(
            cluster, args.customers, args.messages, args.knowledge_share, args.seed
        )
    print(format_figures(result))
    print(f"requests to the shared LLM server: {result['shared_llm_requests']}")
    print(f"llama.cpp workers started by the replicas: {len(result['replica_llm_workers'])}")
    failed = [item.sender for item in integrity if not item.ok]
    print(f"conversations with a failed check: {', '.join(failed) or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return int(bool(failed or result["replica_llm_workers"]))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    args = _parse_args(argv)
    return in_work_dir(args.keep_dir, "replicas_load_", lambda work_dir: run(args, work_dir))


if __name__ == "__main__":
    sys.exit(main())
