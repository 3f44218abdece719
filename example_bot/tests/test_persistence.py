"""Conversations survive a restart of `rasa run`: the SQL tracker store on a real PostgreSQL.

A customer starts a return, `rasa run` is stopped and started again in the middle of the form,
and the customer carries on: the form is still active, remembers the order, and the return is
created in the shop database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from bot_processes import ManagedProcess
from chat_client import ChatClient
from conversation_suite import BOT_DIR, START_TIMEOUT_S, BotServers, ShopDatabase
from services import PostgresServer

pytestmark = pytest.mark.integration


class RestartableBotServers(BotServers):
    """`BotServers` whose Rasa server can be restarted with the same command and environment."""

    def restart_rasa(self) -> None:
        """Stops `rasa run` and starts it again on the same port; waits for the model."""
        assert self.rasa is not None
        command = self.rasa.command
        self.rasa.stop()
        self.rasa = ManagedProcess(
            "rasa server (restarted)",
            command,
            cwd=BOT_DIR,
            log_path=self.work_dir / "rasa-restarted.log",
            env=self.env,
        )
        self.rasa.wait_until(self._model_loaded, START_TIMEOUT_S, "loaded model")

    def _model_loaded(self) -> bool:
        response = requests.get(f"{self.url}/status", params=self._api_params(), timeout=5)
        return response.status_code == 200 and bool(response.json().get("model_id"))

    def _api_params(self) -> dict[str, str]:
        token = self.env.get("RASA_API_TOKEN")
        return {"token": token} if token else {}


@pytest.fixture(scope="module")
def persistent_servers(
    tmp_path_factory: pytest.TempPathFactory,
    example_bot_model: Path,
    postgres_server: PostgresServer,
) -> Iterator[RestartableBotServers]:
    work_dir = tmp_path_factory.mktemp("persistence")
    database = ShopDatabase.seed(work_dir / "shop.db")
    servers = RestartableBotServers(
        example_bot_model,
        database,
        work_dir,
        endpoints_overrides={"tracker_store": postgres_server.tracker_store()},
    ).start()
    try:
        yield servers
    finally:
        servers.stop()


def test_a_half_filled_return_form_survives_a_restart(
    persistent_servers: RestartableBotServers, postgres_server: PostgresServer
) -> None:
    servers = persistent_servers
    client = ChatClient(servers.url)
    try:
        chat = client.conversation("C1002")
        chat.say("i'd like to return something")
        assert any("order" in text.lower() for text in chat.texts), chat.texts
        chat.say("10009")
        assert any("PowerBrick" in text for text in chat.texts), chat.texts
        before = chat.tracker()
        assert before["active_loop"]["name"] == "return_form"
        assert before["slots"]["order_id"] == "ORD-10009"
        stored = postgres_server.query("SELECT count(*) FROM events WHERE sender_id = 'C1002'")
        assert stored[0][0] >= len(before["events"])
        first_pid = servers.rasa.process.pid

        servers.restart_rasa()
        assert servers.rasa.process.pid != first_pid

        after = chat.tracker()
        assert after["active_loop"]["name"] == "return_form", servers.describe()
        assert after["slots"]["order_id"] == "ORD-10009"
        assert after["slots"]["requested_slot"] == before["slots"]["requested_slot"]
        assert after["events"] == before["events"]

        chat.say("the charger")
        assert any("reason" in text.lower() or "why" in text.lower() for text in chat.texts), (
            chat.texts
        )
        chat.say("it gets really hot when charging")
        replies = "\n".join(chat.texts)
        returns = servers.database.new_returns()
        assert len(returns) == 1, (returns, replies)
        assert returns[0]["order"] == "ORD-10009"
        assert "PowerBrick" in returns[0]["item"]
        assert "hot" in returns[0]["reason"]
        assert returns[0]["rma_number"] in replies
        assert not (chat.tracker().get("active_loop") or {}).get("name")
    finally:
        client.close()
