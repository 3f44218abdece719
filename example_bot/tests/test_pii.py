"""Personal data end to end: a customer sends card data, e-mails, phone numbers and addresses
(also through the change-address form and a handoff) to the real bot, and none of it is found
raw in the tracker store (every table and column), the shop database (except the new address
on the order, where it belongs), the DEBUG logs of Rasa and of the action server, or the prompts
the LLM server received.

Servers: `rasa run` with `RedactingSQLTrackerStore` (SQLite) and LOG_LEVEL=DEBUG, the action
server at DEBUG, and an OpenAI-compatible stand-in LLM (benchmarks/strong_llm_server.py) that
records every prompt, set through the NLG's `llm:` endpoint option.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import conversation_suite
import pytest
import yaml
from actions.handoff import ActionHandoff
from actions.orders import PENDING_ADDRESS, ActionChangeAddress, ValidateChangeAddressForm
from chat_client import ChatClient, Conversation
from conversation_suite import BOT_DIR, BotServers, ShopDatabase
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from shop.db import DATABASE_URL_ENV, AddressDraft, HandoffTicket, Order, dispose_engines
from shop.db import session_scope as shop_session

from benchmarks.strong_llm_server import StrongAnswers, StrongLLMServer

CUSTOMER = "C1001"
ORDER = "ORD-10003"  # C1001's paid order: its address can still change
CARD = "4111 1111 1111 1111"
CVV = "cvv 737"
EMAIL = "emma.private@example.net"
PHONE = "(415) 555-0132"
HANDOFF_PHONE = "+1 212 555 0175"
NEW_ADDRESS = "742 Evergreen Terrace, Springfield, OR 97403"
OTHER_ADDRESS = "18 Rosewood Lane, Austin, TX 78701"
# What must never be found raw (digit runs also without their spaces and dashes).
RAW_VALUES = (
    CARD, CARD.replace(" ", ""), CVV, EMAIL, PHONE, "555-0132", "555 0132", HANDOFF_PHONE,
    "212 555 0175", "742 Evergreen", "Evergreen Terrace", "18 Rosewood", "Rosewood Lane",
)  # fmt: skip
LLM_ANSWER = "We accept Visa, Mastercard, American Express and PayPal."


class RecordingAnswers(StrongAnswers):
    """The stand-in LLM's answers, keeping every prompt it was sent."""

    def __init__(self) -> None:
        super().__init__([], fallback=LLM_ANSWER)
        self.prompts: list[str] = []
        self._prompts_lock = threading.Lock()

    def answer(self, messages: Any) -> str:
        with self._prompts_lock:
            self.prompts.append(json.dumps(messages, ensure_ascii=False))
        return super().answer(messages)


@dataclass
class PIIBot:
    servers: BotServers
    client: ChatClient
    database: ShopDatabase
    tracker_db: Path
    llm: RecordingAnswers


@pytest.fixture(scope="module")
def pii_bot(
    tmp_path_factory: pytest.TempPathFactory, example_bot_model: Path
) -> Iterator[PIIBot]:
    work_dir = tmp_path_factory.mktemp("pii_bot")
    database = ShopDatabase.seed(work_dir / "shop.db")
    tracker_db = work_dir / "conversations.db"
    answers = RecordingAnswers()
    llm_server = StrongLLMServer([])
    llm_server.answers = answers
    nlg = yaml.safe_load((BOT_DIR / "endpoints.yml").read_text(encoding="utf-8"))["nlg"]
    nlg["llm"] = {"backend": "openai", "base_url": llm_server.start(), "model": "strong-sim"}
    servers = BotServers(
        example_bot_model,
        database,
        work_dir,
        endpoints_overrides={
            "tracker_store": {
                "type": "rasa_llm_components.RedactingSQLTrackerStore",
                "dialect": "sqlite",
                "db": str(tracker_db),
                "sensitive_slots": ["new_address"],
            },
            "nlg": nlg,
        },
        env={"LOG_LEVEL": "DEBUG"},  # `rasa run` logs every user message at DEBUG
    )
    try:
        with pytest.MonkeyPatch.context() as patch:  # the action server at DEBUG too
            command = conversation_suite.action_server_command
            patch.setattr(conversation_suite, "action_server_command",
                          lambda port: [*command(port), "--debug"])
            servers.start()
        client = ChatClient(servers.url)
        try:
            yield PIIBot(servers, client, database, tracker_db, answers)
        finally:
            client.close()
    finally:
        servers.stop()
        llm_server.close()


def _texts(conversation: Conversation) -> str:
    return "\n".join(conversation.texts)


def _table_rows(path: Path, skip: Any = None) -> dict[str, str]:
    """Every table's rows as text (every column), leaving out the cells `skip(table, column,
    row)` names."""
    connection = sqlite3.connect(path)
    try:
        query = "SELECT name FROM sqlite_master WHERE type='table'"
        tables = [name for (name,) in connection.execute(query)]
        dump = {}
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - known tables
            columns = [description[0] for description in cursor.description]
            rows = []
            for row in cursor:
                cells = dict(zip(columns, row, strict=True))
                rows.append(
                    json.dumps(
                        {k: v for k, v in cells.items() if not (skip and skip(table, k, cells))},
                        default=str,
                        ensure_ascii=False,
                    )
                )
            dump[table] = "\n".join(rows)
        return dump
    finally:
        connection.close()


def _raw_values_in(text: str) -> list[str]:
    return [value for value in RAW_VALUES if value.lower() in text.lower()]


def test_personal_data_is_nowhere_but_where_it_is_needed(pii_bot: PIIBot) -> None:
    conversation = pii_bot.client.conversation(CUSTOMER)

    # Card data: the warning first, then the rest of the message is handled.
    conversation.say(f"where is my order 10003? I paid with card {CARD} {CVV}")
    warning_turn = conversation.texts
    assert "never send card details" in warning_turn[0], warning_turn
    assert len(warning_turn) >= 2 and ORDER in "\n".join(warning_turn[1:]), warning_turn

    # The change-address form: the address reaches the order.
    conversation.say("i need to change the delivery address for order 10003")
    assert "address" in _texts(conversation).lower()
    conversation.say(NEW_ADDRESS)
    assert ORDER in _texts(conversation) and "742 Evergreen" in _texts(conversation)

    # Contact details, then a question for the LLM (the history goes into its prompt).
    conversation.say(f"btw you can email me at {EMAIL} or text {PHONE}")
    conversation.say("what payment methods do you accept?")
    assert conversation.texts

    # A handoff: the ticket gets the transcript.
    conversation.say(
        f"I want to talk to a human about my move to {OTHER_ADDRESS}, call me on {HANDOFF_PHONE}"
    )
    assert "HT-" in _texts(conversation), conversation.texts

    # The order has its new address, and the draft is gone.
    shop = _table_rows(pii_bot.database.path)
    order_row = next(
        json.loads(row) for row in shop["orders"].splitlines() if json.loads(row)["id"] == ORDER
    )
    assert order_row["shipping_address"] == NEW_ADDRESS
    assert shop["address_drafts"] == ""
    ticket = json.loads(shop["handoff_tickets"].splitlines()[-1])
    assert "[PHONE]" in ticket["transcript"] and "[CARD]" in ticket["transcript"]

    # Tracker store: every table, every column.
    stored = "\n".join(_table_rows(pii_bot.tracker_db).values())
    assert "[CARD]" in stored and "[EMAIL]" in stored and "[PHONE]" in stored
    assert _raw_values_in(stored) == []

    # Shop database: everything except the order's new shipping address.
    def the_new_address(table: str, column: str, row: dict[str, Any]) -> bool:
        return table == "orders" and column == "shipping_address" and row["id"] == ORDER

    shop_text = "\n".join(_table_rows(pii_bot.database.path, the_new_address).values())
    assert _raw_values_in(shop_text) == []

    # DEBUG logs of Rasa (which logs every user message) and of the action server.
    rasa_log = pii_bot.servers.rasa.log_tail(chars=50_000_000)
    assert "DEBUG" in rasa_log and "[CARD]" in rasa_log  # the message was logged, redacted
    assert _raw_values_in(rasa_log) == []
    actions_log = pii_bot.servers.actions.log_tail(chars=50_000_000)
    assert "DEBUG" in actions_log
    assert _raw_values_in(actions_log) == []

    # The prompts the LLM received: history and question redacted.
    prompts = "\n".join(pii_bot.llm.prompts)
    assert pii_bot.llm.prompts, "the LLM was never asked"
    assert "[EMAIL]" in prompts
    assert _raw_values_in(prompts) == []


# --- the actions, over a seeded shop database (no servers) ------------------------------------
ACTION_DOMAIN: dict[str, Any] = {
    "slots": {name: {"type": "text"} for name in ("order_id", "new_address", "email")},
    "forms": {"change_address_form": {"required_slots": ["order_id", "new_address"]}},
}


@pytest.fixture
def shop_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    database = ShopDatabase.seed(tmp_path / "shop.db")
    monkeypatch.setenv(DATABASE_URL_ENV, database.url)
    yield database.url
    dispose_engines()


def _tracker(text: str, slots: dict[str, Any], set_after: dict[str, Any] | None = None,
             history: list[dict[str, Any]] | None = None, intent: str = "inform") -> Tracker:
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    events = [*(history or []), {"event": "user", "text": text, "parse_data": parse_data}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (set_after or {}).items()]
    slots = {**slots, **(set_after or {})}
    return Tracker(CUSTOMER, slots, parse_data, events, False, None, {}, "action_listen")


def _run(action: Any, tracker: Tracker) -> tuple[str, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, ACTION_DOMAIN))
    return "\n".join(str(m.get("text") or m.get("response")) for m in dispatcher.messages), events


def test_the_form_keeps_the_address_as_a_draft_and_the_slot_masked(shop_url: str) -> None:
    tracker = _tracker(f"it's {NEW_ADDRESS}", {"order_id": ORDER, "requested_slot": "new_address"},
                       {"new_address": f"it's {NEW_ADDRESS}"})
    _, events = _run(ValidateChangeAddressForm(), tracker)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["new_address"] == PENDING_ADDRESS
    with shop_session() as session:
        assert session.get(AddressDraft, CUSTOMER).address == NEW_ADDRESS

    reply, events = _run(ActionChangeAddress(), _tracker("", {"order_id": ORDER,
                                                              "new_address": PENDING_ADDRESS}))
    assert f"{ORDER} will be shipped to {NEW_ADDRESS}" in reply
    with shop_session() as session:
        assert session.get(Order, ORDER).shipping_address == NEW_ADDRESS
        assert session.get(AddressDraft, CUSTOMER) is None


def test_a_masked_slot_without_a_draft_asks_again(shop_url: str) -> None:
    reply, events = _run(ActionChangeAddress(), _tracker("", {"order_id": ORDER,
                                                              "new_address": PENDING_ADDRESS}))
    assert "utter_invalid_address" in reply
    with shop_session() as session:
        assert session.get(Order, ORDER).shipping_address != PENDING_ADDRESS


def test_handoff_tickets_keep_no_personal_data(shop_url: str) -> None:
    history = [{"event": "user", "text": f"card {CARD} {CVV}, mail {EMAIL}",
                "parse_data": {"intent": {"name": "inform"}}},
               {"event": "bot", "text": f"Noted, we ship to {NEW_ADDRESS}."}]
    _run(ActionHandoff(), _tracker(f"a human please, call {PHONE}", {}, history=history,
                                   intent="human_handoff"))
    with shop_session() as session:
        ticket = session.query(HandoffTicket).one()
        stored = f"{ticket.transcript} {ticket.reason}"
    assert "[CARD]" in stored and "[PHONE]" in stored and "[ADDRESS]" in stored
    assert _raw_values_in(stored) == []
