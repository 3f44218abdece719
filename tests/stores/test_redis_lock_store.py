"""`AtomicRedisLockStore` on a real Redis: conversations' locks hold across processes."""

from __future__ import annotations

import asyncio
import multiprocessing
from typing import Any

import pytest
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from services import RedisServer

from rasa_llm_components.core.redis_lock_store import AtomicRedisLockStore, LockStoreConfigError

PROCESSES = 4
ROUNDS = 25
COUNTER = "test:counter"


def _replica(store_class: type[RedisLockStore], port: int, conversation: str) -> None:
    """Like a Rasa replica: takes the conversation's lock, then reads and writes its state."""
    store = store_class(host="127.0.0.1", port=port, db=0)

    async def rounds() -> None:
        for _ in range(ROUNDS):
            async with store.lock(conversation, wait_time_in_seconds=0.005):
                value = int(store.red.get(COUNTER) or 0)
                await asyncio.sleep(0.002)  # the turn's work between reading and saving
                store.red.set(COUNTER, value + 1)

    asyncio.run(rounds())


def _run_replicas(store_class: type[RedisLockStore], server: RedisServer, conversation: str) -> int:
    client = server.client()
    client.delete(COUNTER)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_replica, args=(store_class, server.port, conversation))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    return int(client.get(COUNTER) or 0)


@pytest.mark.integration
def test_replicas_taking_one_conversation_at_once_never_overlap(redis_server: RedisServer) -> None:
    served = _run_replicas(AtomicRedisLockStore, redis_server, "C1001")
    assert served == PROCESSES * ROUNDS
    # Every ticket was returned and the lock deleted.
    assert redis_server.client().keys("*lock:C1001") == []


@pytest.mark.integration
def test_rasa_creates_it_from_endpoints_yml(redis_server: RedisServer) -> None:
    config = EndpointConfig(
        url="127.0.0.1",
        type="rasa_llm_components.AtomicRedisLockStore",
        port=redis_server.port,
        db=0,
        key_prefix="shop",
        mutex_timeout=2,
    )
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.mutex_timeout == 2.0 and store.key_prefix == "shop:lock:"
    ticket = store.issue_ticket("visitor-1")
    assert store.get_lock("visitor-1").now_serving == ticket
    store.cleanup("visitor-1", ticket)
    assert store.get_lock("visitor-1") is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mutex_timeout": 0}, "mutex_timeout"),
        ({"mutex_timeout": "5"}, "mutex_timeout"),
        ({"hostname": "x"}, "hostname"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, Any], message: str) -> None:
    with pytest.raises(LockStoreConfigError, match=message):
        AtomicRedisLockStore(EndpointConfig(url="127.0.0.1", **options))
