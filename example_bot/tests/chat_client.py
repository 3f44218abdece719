"""The one place where tests talk to the running bot over the signed REST channel.

Every conversation test goes through `ChatClient.conversation(customer_id)`. A customer is who
a signed token says: the client mints a customer token (HS256, the shop backend's secret) for
every message and sends it as `Authorization: Bearer <token>`; the conversation id is then the
customer id (e.g. "C1001"). A visitor sends no token and a `visitor-...` sender. The tracker
comes from Rasa's HTTP API, which needs the API token (`?token=`).

Both secrets are random per test process (`TEST_SECRETS`); `BotServers` starts Rasa with them
unless its `env` names others (then pass those to `ChatClient` too).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from rasa_llm_components.channels.tokens import mint_token

REST_WEBHOOK = "/webhooks/signed_rest/webhook"
CUSTOMER_TOKEN_SECRET_ENV = "CUSTOMER_TOKEN_SECRET"
RASA_API_TOKEN_ENV = "RASA_API_TOKEN"

REQUEST_TIMEOUT_S = 60
RESTART_COMMAND = "/restart"  # an intent message: skips NLU and starts a fresh conversation

# Actions Rasa runs around every user message; `last_bot_actions` leaves them out.
IMPLICIT_ACTIONS = frozenset({"action_listen", "action_extract_slots", "action_session_start"})


@dataclass(frozen=True)
class ServerSecrets:
    """The secrets a test bot runs with: customer tokens' HS256 secret and the API token."""

    customer_token_secret: str
    api_token: str

    @classmethod
    def generate(cls) -> ServerSecrets:
        """Fresh random secrets."""
        return cls(secrets.token_urlsafe(32), secrets.token_hex(24))  # argparse: no leading "-"


# Generated once per test process, never written anywhere.
TEST_SECRETS = ServerSecrets.generate()


@dataclass(frozen=True)
class Identity:
    """Who talks to the bot: the conversation id and the customer it stands for (None: visitor,
    who sends no token)."""

    sender: str
    customer_id: str | None


def message_texts(messages: list[dict[str, Any]]) -> list[str]:
    """The non-empty texts of bot messages (buttons, images and custom payloads left out)."""
    return [str(message["text"]) for message in messages if str(message.get("text") or "").strip()]


@dataclass
class Exchange:
    """One customer message and the bot messages that answered it."""

    user: str
    messages: list[dict[str, Any]]

    @property
    def texts(self) -> list[str]:
        """The bot's texts for this message."""
        return message_texts(self.messages)


@dataclass
class Conversation:
    """A conversation of one customer (or visitor) with the bot, started fresh."""

    client: ChatClient
    identity: Identity
    history: list[Exchange] = field(default_factory=list)

    @property
    def sender(self) -> str:
        """The conversation id (Rasa sender id) of this conversation."""
        return self.identity.sender

    def say(self, text: str) -> list[dict[str, Any]]:
        """Sends one customer message; returns the bot messages (text, buttons, custom, ...)."""
        messages = self.client.send(self.identity, text)
        self.history.append(Exchange(text, messages))
        return messages

    @property
    def texts(self) -> list[str]:
        """The texts of the bot's latest answer."""
        return self.history[-1].texts if self.history else []

    def restart(self) -> None:
        """Starts over with a fresh tracker (not recorded in the history).

        Sends "/restart" as a front end would; fails when the bot did not restart, so that no
        conversation inherits another one's form or slots.
        """
        self.client.send(self.identity, RESTART_COMMAND)
        if not is_fresh(self.tracker()):
            raise RuntimeError(f"{RESTART_COMMAND} did not restart the conversation {self.sender}")

    def tracker(self) -> dict[str, Any]:
        """The current tracker of this conversation."""
        return self.client.tracker(self.sender)

    def last_bot_actions(self) -> list[str]:
        """The actions the bot ran after the latest user message (implicit actions left out)."""
        return last_bot_actions(self.tracker())


def is_fresh(tracker: dict[str, Any]) -> bool:
    """Whether a tracker was just restarted: no active form and no user message since the
    last restart (the tracker endpoint only returns the events after the last restart)."""
    if (tracker.get("active_loop") or {}).get("name"):
        return False
    return not any(event.get("event") == "user" for event in tracker.get("events", []))


def last_bot_actions(tracker: dict[str, Any]) -> list[str]:
    """The actions after the last user event of a tracker, without the implicit ones."""
    actions: list[str] = []
    for event in tracker.get("events", []):
        if event.get("event") == "user":
            actions = []
        elif event.get("event") == "action" and event.get("name") not in IMPLICIT_ACTIONS:
            actions.append(event["name"])
    return actions


class ChatClient:
    """Talks to a Rasa server started with the signed REST channel and `--enable-api`."""

    def __init__(
        self,
        base_url: str,
        timeout: float = REQUEST_TIMEOUT_S,
        customer_token_secret: str | None = None,
        api_token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.customer_token_secret = customer_token_secret or TEST_SECRETS.customer_token_secret
        self.api_token = api_token or TEST_SECRETS.api_token
        self.session = requests.Session()

    @property
    def webhook_url(self) -> str:
        """The signed REST channel's webhook."""
        return f"{self.base_url}{REST_WEBHOOK}"

    def identity(self, customer_id: str | None, visitor: str | None = None) -> Identity:
        """The identity for a customer; a visitor gets a sender id no customer has (`visitor`
        names it, so that a conversation replays the same; random otherwise)."""
        if customer_id:
            return Identity(sender=customer_id, customer_id=customer_id)
        return Identity(sender=f"visitor-{visitor or uuid.uuid4().hex[:12]}", customer_id=None)

    def conversation(self, customer_id: str | None, visitor: str | None = None) -> Conversation:
        """A fresh conversation as `customer_id` (None: an anonymous visitor)."""
        conversation = Conversation(self, self.identity(customer_id, visitor))
        conversation.restart()
        return conversation

    def token_for(self, customer_id: str, **claims: Any) -> str:
        """A customer token as the shop backend signs it (`mint_token` options in `claims`)."""
        return mint_token(customer_id, self.customer_token_secret, **claims)

    def _headers(self, identity: Identity) -> dict[str, str]:
        if identity.customer_id is None:
            return {}
        return {"Authorization": f"Bearer {self.token_for(identity.customer_id)}"}

    def _payload(self, identity: Identity, text: str) -> dict[str, Any]:
        return {"sender": identity.sender, "message": text}

    def send(self, identity: Identity, text: str) -> list[dict[str, Any]]:
        """Posts one message to the REST webhook; returns the bot messages."""
        response = self.session.post(
            self.webhook_url,
            json=self._payload(identity, text),
            headers=self._headers(identity),
            timeout=self.timeout,
        )
        response.raise_for_status()
        return list(response.json() or [])

    def tracker(self, sender: str) -> dict[str, Any]:
        """`GET /conversations/{sender}/tracker` (needs `rasa run --enable-api`; passes the API
        token)."""
        response = self.session.get(
            f"{self.base_url}/conversations/{sender}/tracker",
            params={"token": self.api_token},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        """Closes the HTTP session."""
        self.session.close()
