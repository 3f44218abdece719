"""The example bot's action server, locked down (issue 11): the attack, visitors, the database.

The action server is started exactly as the test harness starts it for every conversation test
(`BotServers.start_actions`: rasa_llm_components.repair.action_server with a random
ACTION_SERVER_TOKEN and the shop database check), on its own copy of the seeded shop database.
The attack of the issue: anyone who reaches the action server posts a hand-made tracker to
/webhook and cancels another customer's order.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from bot_processes import free_port
from chat_client import ChatClient
from conversation_suite import (
    ACTION_SERVER_TOKEN_ENV,
    BOT_DIR,
    PROCESS_ENV,
    BotServers,
    ShopDatabase,
    action_call,
    action_server_command,
)

pytestmark = pytest.mark.integration

LIAM = "C1002"  # owns ORD-10009 .. ORD-10013; ORD-10011 is paid (can still be cancelled)
EMMA = "C1001"
LIAMS_PAID_ORDER = "ORD-10011"
START_TIMEOUT_S = 120


def order_status(database: ShopDatabase, order_id: str) -> str:
    return database.query("SELECT status FROM orders WHERE id = ?", order_id)[0][0]


class ActionServer:
    """The action server started by the harness, and how to call it."""

    def __init__(self, servers: BotServers) -> None:
        self.servers = servers
        self.url = f"http://127.0.0.1:{servers.action_port}"
        self.token = servers.env[ACTION_SERVER_TOKEN_ENV]

    def call(self, payload: dict, token: str | None = "valid") -> requests.Response:
        token = self.token if token == "valid" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(f"{self.url}/webhook", json=payload, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def database(shop_database: ShopDatabase, tmp_path_factory: pytest.TempPathFactory) -> ShopDatabase:
    """A copy of the seeded database of its own (the tests break it on purpose)."""
    folder = tmp_path_factory.mktemp("locked_actions")
    shutil.copyfile(shop_database.pristine_path, folder / "shop.db")
    return ShopDatabase(folder / "shop.db", shop_database.pristine_path)


@pytest.fixture(scope="module")
def action_server(database: ShopDatabase) -> Iterator[ActionServer]:
    # Only the action server of the harness is started: no model is needed.
    servers = BotServers(Path("no-model"), database, database.path.parent)
    servers.start_actions()
    try:
        yield ActionServer(servers)
    finally:
        servers.stop_actions()


@pytest.fixture(autouse=True)
def seeded(database: ShopDatabase) -> None:
    database.reset()


@pytest.mark.parametrize("token, status", [(None, 401), ("not-the-secret-0123456789", 403)])
def test_a_hand_made_tracker_cannot_cancel_anothers_order(
    action_server: ActionServer, database: ShopDatabase, token: str | None, status: int
) -> None:
    attack = action_call("action_cancel_order", LIAM, LIAMS_PAID_ORDER)
    reply = action_server.call(attack, token=token)
    assert reply.status_code == status
    assert LIAMS_PAID_ORDER not in reply.text
    assert order_status(database, LIAMS_PAID_ORDER) == "paid"
    assert "Refused POST /webhook" in action_server.servers.actions.log_tail()


def test_the_same_call_with_the_secret_is_what_rasa_does(
    action_server: ActionServer, database: ShopDatabase
) -> None:
    # The attack's payload is a real cancellation: only the secret stops it.
    reply = action_server.call(action_call("action_cancel_order", LIAM, LIAMS_PAID_ORDER))
    assert reply.status_code == 200, reply.text
    assert f"order {LIAMS_PAID_ORDER} is cancelled" in reply.text
    assert order_status(database, LIAMS_PAID_ORDER) == "cancelled"


def test_a_customer_never_acts_on_anothers_order(
    action_server: ActionServer, database: ShopDatabase
) -> None:
    reply = action_server.call(action_call("action_cancel_order", EMMA, LIAMS_PAID_ORDER))
    assert reply.status_code == 200, reply.text
    assert [message["response"] for message in reply.json()["responses"]] == [
        "utter_order_not_found"
    ]
    assert order_status(database, LIAMS_PAID_ORDER) == "paid"


@pytest.mark.parametrize("visitor", ["visitor-3f9a0c", f"visitor-{LIAM}"])
@pytest.mark.parametrize("action", ["action_order_status", "action_cancel_order"])
def test_a_visitor_is_asked_to_sign_in(
    action_server: ActionServer, database: ShopDatabase, visitor: str, action: str
) -> None:
    reply = action_server.call(action_call(action, visitor, LIAMS_PAID_ORDER))
    assert reply.status_code == 200, reply.text
    responses = reply.json()["responses"]
    assert [message["response"] for message in responses] == ["utter_account_not_found"]
    assert order_status(database, LIAMS_PAID_ORDER) == "paid"


def test_health_reports_the_database(action_server: ActionServer, database: ShopDatabase) -> None:
    health = f"{action_server.url}/health"
    reply = requests.get(health, timeout=30)
    assert (reply.status_code, reply.json()) == (200, {"status": "ok", "database": "ok"})

    saved = database.path.with_suffix(".saved")
    database.path.rename(saved)
    try:
        database.path.write_bytes(b"this is not a database " * 100)
        reply = requests.get(health, timeout=30)
        assert reply.status_code == 503
        assert reply.json()["database"].startswith("error")

        database.path.unlink()
        reply = requests.get(health, timeout=30)
        assert reply.status_code == 503
        assert reply.json()["database"].startswith("error")
    finally:
        database.path.unlink(missing_ok=True)
        saved.rename(database.path)
    assert requests.get(health, timeout=30).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-folder/voltnest/shop.db",
        "nosuchdialect://shop:secret@db.internal/shop",
        "postgresql://shop:secret@127.0.0.1:9/shop",  # nothing listens on port 9
    ],
)
def test_a_wrong_database_url_stops_the_start_with_one_line(url: str) -> None:
    result = subprocess.run(
        action_server_command(free_port()),
        cwd=BOT_DIR,
        env={
            **os.environ,
            **PROCESS_ENV,
            ACTION_SERVER_TOKEN_ENV: secrets.token_urlsafe(32),
            "SHOP_DATABASE_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Action server not started: database check failed: ")
    assert "secret" not in lines[0]


def test_rasa_sends_the_secret(bot_servers: BotServers, chat_client: ChatClient) -> None:
    """Through the whole stack: Rasa calls the locked-down action server with the secret."""
    conversation = chat_client.conversation(EMMA)
    conversation.say("where is my order ORD-10002?")
    replies = "\n".join(conversation.texts)
    assert "ORD-10002" in replies and "shipped" in replies, replies
    assert "Refused" not in bot_servers.actions.log_tail()
