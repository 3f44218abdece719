"""Two `rasa run` replicas on one PostgreSQL tracker store, one Redis lock store
(`AtomicRedisLockStore`), one action server and one shared LLM server: concurrent customers
whose messages alternate between the replicas lose nothing, duplicate nothing and reorder
nothing.

A smaller load than `python -m benchmarks.replicas_load` (whose defaults are 50 customers x 10
messages), with few knowledge questions so that two cores cope.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bot_processes import ManagedProcess
from chat_client import ChatClient
from services import PostgresServer, RedisServer

from benchmarks.replicas_load import (
    KNOWLEDGE,
    LLM_WORKER_MODULE,
    ReplicaCluster,
    check_conversation,
    compare,
    events_after_restart,
    format_figures,
    llm_workers_of,
    run_benchmark,
    unanswered,
)

pytestmark = pytest.mark.integration

CUSTOMERS = 8
MESSAGES = 6
KNOWLEDGE_SHARE = 0.1


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    example_bot_model: Path,
    postgres_server: PostgresServer,
    redis_server: RedisServer,
) -> Iterator[ReplicaCluster]:
    work_dir = tmp_path_factory.mktemp("replicas")
    with ReplicaCluster(
        example_bot_model, work_dir, replicas=2, postgres=postgres_server, redis=redis_server
    ) as started:
        yield started


def test_the_checks_catch_lost_duplicated_reordered_and_unanswered_messages() -> None:
    sent = ["hi", "where is my order 10001", "thanks"]
    assert compare(sent, sent) == (0, 0, 0)
    assert compare(sent, sent[:2]) == (1, 0, 0)
    assert compare(sent, [*sent, "thanks"]) == (0, 1, 0)
    assert compare(sent, [sent[1], sent[0], sent[2]]) == (0, 0, 1)
    answered = [("user", {}), ("action", {}), ("bot", {}), ("user", {}), ("bot", {})]
    assert unanswered(answered) == 0
    assert unanswered([("user", {}), ("user", {}), ("bot", {})]) == 1
    assert unanswered([("user", {}), ("bot", {}), ("user", {})]) == 1


def test_the_ps_check_finds_a_worker_started_by_a_replica(tmp_path: Path) -> None:
    # A stand-in for `rasa run` whose child has the embedded worker's command line (the module
    # name comes from the environment, so that only the child's command line shows it).
    child = (
        "import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
        "'import time; time.sleep(60)', '-m', os.environ['WORKER']]); time.sleep(60)"
    )
    parent = ManagedProcess(
        "fake replica",
        [sys.executable, "-c", child],
        cwd=tmp_path,
        log_path=tmp_path / "log",
        env={"WORKER": LLM_WORKER_MODULE},
    )
    try:
        deadline = time.monotonic() + 20
        while not llm_workers_of([parent]) and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = llm_workers_of([parent])
        assert len(workers) == 1 and not workers[0].startswith(f"{parent.process.pid} ")
    finally:
        parent.stop()


def test_replicas_share_the_llm_server_and_start_no_llama_cpp_worker(
    cluster: ReplicaCluster,
) -> None:
    assert cluster.servers is not None
    assert len(cluster.servers.processes) == 2
    assert all(process.is_running() for process in cluster.servers.processes)
    assert llm_workers_of(cluster.servers.processes) == [], cluster.describe()


def test_concurrent_customers_moving_between_replicas_lose_nothing(
    cluster: ReplicaCluster,
) -> None:
    result, runs, integrity = run_benchmark(cluster, CUSTOMERS, MESSAGES, KNOWLEDGE_SHARE)
    print(format_figures(result))
    assert len(runs) == CUSTOMERS
    assert all(len(run.turns) == MESSAGES for run in runs)
    # Every conversation really moved: each used both replicas.
    assert all({turn.replica for turn in run.turns} == {0, 1} for run in runs)
    failed = [item for item in integrity if not item.ok]
    assert failed == [], (failed, format_figures(result))
    assert result["http_errors"] == 0 and result["silent_turns"] == 0
    assert [block["messages"] for block in result["per_replica"]] == [CUSTOMERS * MESSAGES // 2] * 2
    # The knowledge questions were answered through the shared server.
    asked = sum(turn.text in KNOWLEDGE for run in runs for turn in run.turns)
    assert asked > 0
    assert result["shared_llm_requests"] > 0, cluster.describe()
    assert result["replica_llm_workers"] == []
    # The checks read the stores: a message the customer sent but nobody stored is caught.
    tampered = runs[0]
    tampered.sent = [*tampered.sent, "a message nobody stored"]
    api_tracker = {"events": [{"event": "user", "text": text} for text in tampered.sent]}
    check = check_conversation(cluster.postgres, tampered, api_tracker)
    assert (check.lost, check.api_mismatch) == (1, 0)


def test_simultaneous_messages_of_one_conversation_on_both_replicas_are_serialized(
    cluster: ReplicaCluster, redis_server: RedisServer
) -> None:
    """The Redis lock store makes the replicas take a conversation's messages one at a time:
    two messages sent at the same moment to the two replicas are both stored, each with its
    reply before the next user message (with Rasa's own `type: redis` one was lost)."""
    assert cluster.servers is not None
    clients = [ChatClient(url) for url in cluster.servers.urls]
    commands_before = redis_server.client().info("stats")["total_commands_processed"]
    try:
        conversation = clients[0].conversation(None, f"burst-{uuid.uuid4().hex[:8]}")
        sent = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            for pair in (
                ("hi", "how are you today?"),
                ("thanks a lot", "ok cool thx"),
                ("what can you do", "am i chatting with a robot"),
            ):
                replies = list(
                    pool.map(
                        lambda client, text: client.send(conversation.identity, text),
                        clients,
                        pair,
                    )
                )
                assert all(replies), replies
                sent.extend(pair)
        events = events_after_restart(cluster.postgres, conversation.sender)
        stored = [data["text"] for kind, data in events if kind == "user"]
        assert sorted(stored) == sorted(sent)
        assert unanswered(events) == 0, events
    finally:
        for client in clients:
            client.close()
    commands_after = redis_server.client().info("stats")["total_commands_processed"]
    assert commands_after > commands_before  # the locks really went through Redis
