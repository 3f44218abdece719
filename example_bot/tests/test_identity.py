"""Signed customer identity, end to end over a real `rasa run` with the example bot's channels.

Uses the shared session fixtures of conftest.py (`bot_servers`: the action server and `rasa run
--enable-api --auth-token ...` with example_bot/credentials.yml; `chat_client`). Customers are
who their token (signed with the servers' secret) says; everything else is an anonymous visitor,
whatever `sender` it claims:

- REST: a visitor claiming to be C1002, forged / expired / wrong-audience tokens, and C1001's
  token asking for C1002's order see none of C1002's orders or e-mail; a valid token sees its own.
- socket.io (python-socketio client, token in the connect `auth` payload): the same.
- Rasa's HTTP API without the API token: 401. Malformed bodies: 4xx with a JSON error.
- A 1 MB message gets a polite reply at once, and another conversation's reply time meanwhile
  stays normal.

Run: `.venv/bin/pytest -m integration example_bot/tests/test_identity.py` (about 2 minutes once
the servers are up).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio
from chat_client import ChatClient, Identity, last_bot_actions, message_texts
from conversation_suite import BotServers, ShopDatabase

from rasa_llm_components.channels.tokens import mint_token

pytestmark = pytest.mark.integration

# C1002 (Liam Carter) in example_bot/shop/seed_data.py; C1001 is Emma.
C1002_ORDERS = ("ORD-10009", "ORD-10010", "ORD-10011", "ORD-10012", "ORD-10013")
C1002_DETAILS = ("Liam", "Carter", "liam.carter@example.com", "617 555 0102")
ASK_FOR_C1002_ORDER = "where is my order ORD-10010?"
NO_ACCOUNT = "couldn't find your customer account"
SOCKET_TIMEOUT_S = 60
HUGE_MESSAGE = "a" * 1_000_000


@pytest.fixture
def client(chat_client: ChatClient, shop_database: ShopDatabase) -> ChatClient:
    shop_database.reset()
    return chat_client


def _post(client: ChatClient, payload: Any, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(client.webhook_url, json=payload, headers=headers, timeout=120)


def _texts(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return "\n".join(message_texts(response.json()))


def _reveals_nothing_of_c1002(text: str, asked: str = "ORD-10010") -> None:
    for detail in (*C1002_ORDERS, *C1002_DETAILS, "shipped", "tracking"):
        if detail != asked:
            assert detail not in text, text
    assert "G9 Gaming Headset" not in text, text  # ORD-10010's item


def _user_events(client: ChatClient, conversation_id: str) -> list[dict[str, Any]]:
    events = client.tracker(conversation_id).get("events", [])
    return [event for event in events if event.get("event") == "user"]


# --- REST ----------------------------------------------------------------------------------------
def test_a_visitor_claiming_to_be_a_customer_sees_nothing_of_theirs(client: ChatClient):
    client.conversation(None, visitor="C1002")  # fresh tracker of visitor-C1002
    reply = _texts(_post(client, {"sender": "C1002", "message": ASK_FOR_C1002_ORDER}))
    assert NO_ACCOUNT in reply
    _reveals_nothing_of_c1002(reply)
    spoofed = {"customer_id": "C1002", "authenticated": True}  # client metadata cannot sign in
    reply = _texts(
        _post(
            client, {"sender": "C1002", "message": "what is my email address?", "metadata": spoofed}
        )
    )
    _reveals_nothing_of_c1002(reply)

    # The conversation is the visitor's, never C1002's, and says so in its metadata.
    visitor_events = _user_events(client, "visitor-C1002")
    assert [event["text"] for event in visitor_events][-2] == ASK_FOR_C1002_ORDER
    assert visitor_events[-1]["metadata"]["customer_id"] is None
    assert visitor_events[-1]["metadata"]["authenticated"] is False
    assert all(event["text"] != ASK_FOR_C1002_ORDER for event in _user_events(client, "C1002"))

    # Product and policy questions work for visitors.
    reply = _texts(_post(client, {"sender": "C1002", "message": "how much is the pulse 3 lite"}))
    assert "129" in reply, reply
    # A policy question goes to the knowledge answer (whose text may be a polite "not sure"
    # when the LLM times out on a busy machine), never to the account refusal.
    reply = _texts(_post(client, {"sender": "C1002", "message": "do you ship to the uk"}))
    assert NO_ACCOUNT not in reply
    assert last_bot_actions(client.tracker("visitor-C1002")) == ["utter_llm_answer"], reply


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"secret": "forged-" + "f" * 40}, id="forged"),
        pytest.param({"ttl_s": -600}, id="expired"),
        pytest.param({"audience": "voltnest-admin"}, id="wrong-audience"),
        pytest.param({"issuer": "evil-shop"}, id="wrong-issuer"),
    ],
)
def test_invalid_tokens_reach_no_order(client: ChatClient, claims: dict[str, Any]):
    claims = dict(claims)
    secret = claims.pop("secret", client.customer_token_secret)
    token = mint_token("C1002", secret, **claims)
    client.conversation(None, visitor="bad-token")
    reply = _texts(_post(client, {"sender": "bad-token", "message": ASK_FOR_C1002_ORDER}, token))
    assert NO_ACCOUNT in reply
    _reveals_nothing_of_c1002(reply)
    assert _user_events(client, "visitor-bad-token")[-1]["text"] == ASK_FOR_C1002_ORDER


def test_a_customer_cannot_read_another_customers_order(client: ChatClient):
    client.conversation("C1001")
    token = client.token_for("C1001")
    reply = _texts(_post(client, {"sender": "C1002", "message": ASK_FOR_C1002_ORDER}, token))
    assert "couldn't find order ORD-10010" in reply
    _reveals_nothing_of_c1002(reply)
    metadata = _user_events(client, "C1001")[-1]["metadata"]
    assert metadata["customer_id"] == "C1001" and metadata["authenticated"] is True


def test_a_valid_token_gets_its_own_order(client: ChatClient):
    client.conversation("C1002")
    token = client.token_for("C1002")
    reply = _texts(_post(client, {"sender": "someone-else", "message": ASK_FOR_C1002_ORDER}, token))
    assert "ORD-10010" in reply and "shipped" in reply, reply
    # The token in a `token` body field works too; the raw token is stored nowhere.
    reply = _texts(_post(client, {"message": "has order 10009 been delivered?", "token": token}))
    assert "ORD-10009" in reply and "delivered" in reply, reply
    # Rasa's `?stream=true` mode: one JSON message per line.
    streamed = requests.post(
        client.webhook_url,
        params={"stream": "true"},
        json={"message": ASK_FOR_C1002_ORDER},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    lines = [json.loads(line) for line in streamed.text.splitlines() if line.strip()]
    assert any("ORD-10010" in str(line.get("text")) for line in lines), streamed.text
    assert token not in str(client.tracker("C1002"))


# --- the HTTP API and malformed input ------------------------------------------------------------
def test_the_http_api_needs_the_api_token(client: ChatClient, bot_servers: BotServers):
    tracker_url = f"{bot_servers.url}/conversations/C1002/tracker"
    assert requests.get(tracker_url, timeout=10).status_code == 401
    assert requests.get(tracker_url, params={"token": "guess"}, timeout=10).status_code == 401
    assert requests.get(f"{bot_servers.url}/status", timeout=10).status_code == 401
    customer_token = client.token_for("C1002")  # a customer token is no API token
    assert requests.get(tracker_url, params={"token": customer_token}, timeout=10).status_code in (
        401,
        403,
    )
    ok = requests.get(tracker_url, params={"token": bot_servers.api_token}, timeout=10)
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"[]", 400),
        (b'["where is my order?"]', 400),
        (b'"hello"', 400),
        (b"{broken", 400),
        (b'{"sender": "x"}', 400),
        (b'{"message": 42}', 400),
        (b'{"message": null}', 400),
        (b'{"message": "hi", "sender": {"id": 1}}', 400),
        (b'{"message": "hi", "metadata": "x"}', 400),
        (b'{"message": "hi", "token": 5}', 400),
        (b'{"message": "\xff\xfe caf\xe9"}', 400),
        (b'{"message": "' + b"a" * 2_100_000 + b'"}', 413),
    ],
)
def test_malformed_bodies_get_a_4xx(client: ChatClient, body: bytes, status: int):
    response = requests.post(
        client.webhook_url, data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]


def test_a_huge_message_gets_a_polite_reply_and_blocks_nobody(client: ChatClient):
    other = client.conversation("C1001")

    def timed_say() -> float:
        started = time.monotonic()
        assert other.say("where is my order ORD-10002?")
        return time.monotonic() - started

    baseline = statistics.median(timed_say() for _ in range(3))
    huge_reply: dict[str, Any] = {}

    def send_huge() -> None:
        started = time.monotonic()
        huge_reply["response"] = _post(client, {"sender": "flood", "message": HUGE_MESSAGE})
        huge_reply["seconds"] = time.monotonic() - started

    floods = [threading.Thread(target=send_huge) for _ in range(3)]
    for flood in floods:
        flood.start()
    during = [timed_say() for _ in range(3)]
    for flood in floods:
        flood.join(timeout=120)

    reply = _texts(huge_reply["response"])
    assert "too long" in reply and "2000 characters" in reply
    print(
        f"\nreply time of another conversation: {baseline:.2f} s alone, "
        f"{max(during):.2f} s max while 3 x 1 MB messages arrived; "
        f"1 MB message answered in {huge_reply['seconds']:.2f} s"
    )
    assert huge_reply["seconds"] < 5
    assert max(during) < 3 * baseline + 2


# --- socket.io -----------------------------------------------------------------------------------
class SocketChat:
    """A python-socketio client of the signed socket.io channel, collecting bot messages."""

    def __init__(self, url: str, token: str | None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.messages: list[dict[str, Any]] = []
        self.confirmed: list[str] = []
        self.received = threading.Condition()
        self.sio.on("bot_uttered", self._on_bot)
        self.sio.on("session_confirm", self._on_confirm)
        self.sio.connect(
            url, auth={"token": token} if token else None, transports=["websocket"], wait_timeout=20
        )

    def _on_bot(self, data: dict[str, Any]) -> None:
        with self.received:
            self.messages.append(data)
            self.received.notify_all()

    def _on_confirm(self, session_id: str) -> None:
        with self.received:
            self.confirmed.append(session_id)
            self.received.notify_all()

    def session(self, session_id: str | None = None) -> str:
        """Asks for a session; returns the conversation id the server confirms."""
        self.sio.emit("session_request", {"session_id": session_id})
        with self.received:
            assert self.received.wait_for(lambda: self.confirmed, SOCKET_TIMEOUT_S)
            return self.confirmed[-1]

    def say(self, data: Any, settle_s: float = 1.5) -> str:
        """Sends one `user_uttered` event; returns the bot's texts once they stop coming."""
        start = len(self.messages)
        self.sio.emit("user_uttered", data)
        with self.received:
            assert self.received.wait_for(lambda: len(self.messages) > start, SOCKET_TIMEOUT_S)
        while True:  # the bot may send several messages for one turn
            count = len(self.messages)
            time.sleep(settle_s)
            if len(self.messages) == count:
                break
        return "\n".join(str(message.get("text", "")) for message in self.messages[start:])

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def socket_chats(bot_servers: BotServers) -> Iterator[list[SocketChat]]:
    chats: list[SocketChat] = []
    yield chats
    for chat in chats:
        chat.close()


def test_socketio_with_a_valid_token_gets_its_own_order(
    client: ChatClient, bot_servers: BotServers, socket_chats: list[SocketChat]
):
    client.conversation("C1002")
    chat = SocketChat(bot_servers.url, client.token_for("C1002"))
    socket_chats.append(chat)
    assert chat.session("visitor-spoofed") == "C1002"
    reply = chat.say({"message": ASK_FOR_C1002_ORDER, "session_id": "C1001"})
    assert "ORD-10010" in reply and "shipped" in reply, reply
    assert _user_events(client, "C1002")[-1]["metadata"]["authenticated"] is True


@pytest.mark.parametrize("token", [None, "not-a-token", "expired"])
def test_socketio_without_a_valid_token_is_a_visitor(
    client: ChatClient, bot_servers: BotServers, socket_chats: list[SocketChat], token: str | None
):
    if token == "expired":
        token = mint_token("C1002", client.customer_token_secret, ttl_s=-600)
    chat = SocketChat(bot_servers.url, token)
    socket_chats.append(chat)
    conversation_id = chat.session("C1002")
    assert conversation_id == "visitor-C1002"
    client.send(Identity(conversation_id, None), "/restart")
    reply = chat.say({"message": ASK_FOR_C1002_ORDER, "session_id": "C1002"})
    assert NO_ACCOUNT in reply
    _reveals_nothing_of_c1002(reply)


def test_socketio_bad_and_huge_messages_get_polite_replies(
    bot_servers: BotServers, socket_chats: list[SocketChat]
):
    chat = SocketChat(bot_servers.url, None)
    socket_chats.append(chat)
    chat.session()
    for bad in (["where is my order"], {"message": 5}, {"text": "hi"}, "hello"):
        assert "could not read that message" in chat.say(bad, settle_s=0.3)
    started = time.monotonic()
    assert "too long" in chat.say({"message": HUGE_MESSAGE}, settle_s=0.3)
    assert time.monotonic() - started < 5


# --- the web chat files --------------------------------------------------------------------------
def test_web_chat_files_are_served_safely(bot_servers: BotServers):
    page = requests.get(f"{bot_servers.url}/webchat/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(f"{bot_servers.url}/webchat", timeout=10).url.endswith("/webchat/")
    for path in ("%2e%2e/%2e%2e/credentials.yml", "..%2f..%2fcredentials.yml", ".hidden"):
        response = requests.get(f"{bot_servers.url}/webchat/{path}", timeout=10)
        assert response.status_code == 404, path
