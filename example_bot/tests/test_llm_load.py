"""LLM turns under load on the example bot: questions that find the model busy are answered from
the knowledge at once, and every turn gets a reply. A bounded version of
`python -m benchmarks.llm_load` (which measures 20 chatting and 5 or 10 asking customers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chat_client import ChatClient
from conversation_suite import BOT_DIR, BotServers, ShopDatabase

from benchmarks.llm_load import llm_outcomes
from benchmarks.replicas_load import yaml_section

pytestmark = pytest.mark.integration

# Questions the knowledge answers (so each one needs the model), asked by different customers.
QUESTIONS = (
    "how many days do i have to send something back",
    "hey do you guys ship to canada? how much would that be",
    "can i pay with paypal or only cards",
)


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, example_bot_model: Path
) -> Iterator[BotServers]:
    work_dir = tmp_path_factory.mktemp("llm_load")
    nlg = yaml_section(BOT_DIR / "endpoints.yml", "nlg")
    # One generation at a time and no queue: the second and third question find it busy.
    nlg["llm"] = {**(nlg.get("llm") or {}), "n_parallel": 1, "max_queue": 0}
    started = BotServers(
        example_bot_model,
        ShopDatabase.seed(work_dir / "shop.db"),
        work_dir,
        endpoints_overrides={"nlg": nlg},
    ).start()
    try:
        yield started
    finally:
        started.stop()


def test_questions_that_find_the_model_busy_are_answered_from_the_knowledge_at_once(
    servers: BotServers,
) -> None:
    clients = [ChatClient(servers.url) for _ in QUESTIONS]
    conversations = [client.conversation(None) for client in clients]
    # Starts the llama.cpp worker and fills its prompt cache.
    clients[0].send(conversations[0].identity, "what's your return policy")
    since = time.time()
    together = threading.Barrier(len(QUESTIONS))

    def ask(number: int) -> tuple[float, list[dict]]:
        together.wait()
        began = time.monotonic()
        replies = clients[number].send(conversations[number].identity, QUESTIONS[number])
        return time.monotonic() - began, replies

    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        results = list(pool.map(ask, range(len(QUESTIONS))))
    outcomes = [
        llm_outcomes(client, conversation.sender, since)
        for client, conversation in zip(clients, conversations, strict=True)
    ]
    for client in clients:
        client.close()

    assert all(any(reply.get("text") for reply in replies) for _, replies in results)
    assert all(len(found) == 1 for found in outcomes), outcomes
    ended = [found[0] for found in outcomes]
    assert ended.count("busy") == len(QUESTIONS) - 1, ended
    generated = [seconds for (seconds, _), how in zip(results, ended, strict=True) if how != "busy"]
    refused = [seconds for (seconds, _), how in zip(results, ended, strict=True) if how == "busy"]
    # Answered while the model was still writing the first answer, not after it.
    assert max(refused) < generated[0], (refused, generated)
