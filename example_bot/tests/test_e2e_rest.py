"""End-to-end test of the example bot over Rasa's REST channel.

Uses the shared session fixtures of conftest.py: the model (trained once, or $EXAMPLE_BOT_MODEL),
a seeded temporary shop database (restored before each test) and `rasa run actions` and
`rasa run --enable-api` running as real subprocesses on free ports; holds scripted conversations
as demo customers through the shared ChatClient (tests/chat_client.py).

Run: `.venv/bin/pytest -m integration example_bot/tests/test_e2e_rest.py -s` (about 5 minutes on
2 CPU cores, most of it training).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from bot_processes import run_checked
from chat_client import ChatClient, last_bot_actions, message_texts
from conversation_suite import BOT_DIR, PROCESS_ENV, RASA, ShopDatabase

pytestmark = pytest.mark.integration

ORDER_ID = re.compile(r"ORD-\d{5}")
RMA_NUMBER = re.compile(r"RMA-\d{6}")
TICKET_NUMBER = re.compile(r"HT-\d+")


@dataclass
class Bot:
    """The running bot, reached through the shared ChatClient, and the shop database."""

    client: ChatClient
    database: ShopDatabase

    def say(self, sender: str, text: str) -> list[str]:
        """Sends one message as customer `sender` and returns the texts of the bot's replies."""
        return message_texts(self.client.send(self.client.identity(sender), text))

    def restart(self, sender: str) -> None:
        """Starts a fresh conversation ("/restart", checked by the ChatClient)."""
        self.client.conversation(sender)

    def last_bot_actions(self, sender: str) -> list[str]:
        """The actions the bot ran after the latest user message (action_listen excluded)."""
        return last_bot_actions(self.client.tracker(sender))

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        """Reads the shop database the action server writes to."""
        return self.database.query(sql, *parameters)


def _joined(replies: list[str]) -> str:
    return "\n".join(replies)


# --- fixtures -------------------------------------------------------------------------------------
# The model, the database and the servers are the shared session fixtures of conftest.py.
@pytest.fixture
def bot(chat_client: ChatClient, shop_database: ShopDatabase) -> Bot:
    """The running bot, with the shop database back in its seeded state."""
    shop_database.reset()
    return Bot(client=chat_client, database=shop_database)


# --- conversations -------------------------------------------------------------------------------
def test_order_status_with_and_without_order_id(bot: Bot) -> None:
    bot.restart("C1001")
    replies = _joined(bot.say("C1001", "where is my order?"))
    assert ORDER_ID.search(replies), replies  # the recent orders are listed
    assert bot.last_bot_actions("C1001") == ["action_order_status"]

    replies = _joined(bot.say("C1001", "ord 10002"))
    assert "Order ORD-10002" in replies
    assert "shipped" in replies and "tracking number" in replies

    replies = _joined(bot.say("C1001", "has order #10001 been delivered?"))
    assert "ORD-10001" in replies and "delivered" in replies


def test_cancel_order_asks_for_confirmation(bot: Bot) -> None:
    bot.restart("C1001")
    replies = _joined(bot.say("C1001", "I want to cancel order ORD-10003"))
    assert "ORD-10003" in replies
    assert bot.last_bot_actions("C1001")[-1] == "utter_confirm_cancel_order"
    assert bot.query("SELECT status FROM orders WHERE id = ?", "ORD-10003") == [("paid",)]

    replies = _joined(bot.say("C1001", "yes"))
    assert "ORD-10003 is cancelled" in replies
    assert bot.query("SELECT status FROM orders WHERE id = ?", "ORD-10003") == [("cancelled",)]


def test_cancel_order_declined_keeps_the_order(bot: Bot) -> None:
    bot.restart("C1003")
    bot.say("C1003", "cancel my order")
    replies = _joined(bot.say("C1003", "ORD-10016"))
    assert "ORD-10016" in replies
    replies = _joined(bot.say("C1003", "no, keep it"))
    assert "ORD-10016" in replies and "cancelled" not in replies.replace("not cancelled", "")
    assert bot.last_bot_actions("C1003") == ["utter_order_kept"]
    assert bot.query("SELECT status FROM orders WHERE id = ?", "ORD-10016") == [("pending",)]


def test_return_with_a_digression_gets_an_rma_number(bot: Bot) -> None:
    bot.restart("C1001")
    bot.say("C1001", "I want to return something")
    assert bot.last_bot_actions("C1001")[-1] == "return_form"
    replies = _joined(bot.say("C1001", "ORD-10001"))
    assert "Auralis X200 Headphones" in replies  # the returnable items are listed

    # A product question in the middle of the form is answered, then the form asks again.
    bot.say("C1001", "is the Pulse 3 in stock?")
    actions = bot.last_bot_actions("C1001")  # the repair layer may announce the resume first
    assert actions[0] == "action_check_stock" and "return_form" in actions, actions

    bot.say("C1001", "the x200 headphones")
    replies = _joined(bot.say("C1001", "they are too tight on my ears"))
    rma = RMA_NUMBER.search(replies)
    assert rma, replies
    rows = bot.query(
        "SELECT r.order_id, r.reason, p.name FROM returns r "
        "JOIN order_items i ON i.id = r.order_item_id "
        "JOIN products p ON p.sku = i.product_sku WHERE r.rma_number = ?",
        rma.group(0),
    )
    assert rows == [("ORD-10001", "they are too tight on my ears", "Auralis X200 Headphones")]


def test_product_question_is_answered_by_the_llm_policy(bot: Bot) -> None:
    bot.restart("C1004")
    replies = bot.say("C1004", "does the X200 work with iphone?")
    assert replies and replies[0].strip()
    assert bot.last_bot_actions("C1004") == ["utter_llm_answer"]


def test_handoff_opens_a_ticket(bot: Bot) -> None:
    bot.restart("C1002")
    replies = _joined(bot.say("C1002", "i want to talk to a human"))
    ticket = TICKET_NUMBER.search(replies)
    assert ticket, replies
    rows = bot.query(
        "SELECT customer_id, contact_email FROM handoff_tickets WHERE ticket_number = ?",
        ticket.group(0),
    )
    assert rows == [("C1002", "liam.carter@example.com")]


def test_another_customers_order_reveals_nothing(bot: Bot) -> None:
    # ORD-10001 belongs to C1001; for C1002 it must look exactly like an order that doesn't exist.
    bot.restart("C1002")
    foreign = _joined(bot.say("C1002", "where is my order ORD-10001?"))
    bot.restart("C1002")
    missing = _joined(bot.say("C1002", "where is my order ORD-99999?"))
    assert foreign.replace("ORD-10001", "<id>") == missing.replace("ORD-99999", "<id>")
    assert "couldn't find order ORD-10001" in foreign
    for detail in ("Auralis", "X200", "delivered", "Emma", "tracking"):
        assert detail not in foreign

    # In the cancel form the same reply comes first; then the form asks again for an order id.
    bot.restart("C1002")
    foreign_replies = bot.say("C1002", "cancel order ORD-10003")
    bot.restart("C1002")
    missing_replies = bot.say("C1002", "cancel order ORD-99998")
    assert foreign_replies[0].replace("ORD-10003", "<id>") == missing_replies[0].replace(
        "ORD-99998", "<id>"
    )
    assert "couldn't find order ORD-10003" in foreign_replies[0]
    for detail in ("Tidewell", "Wave", "paid", "cancelled", "Emma"):
        assert detail not in _joined(foreign_replies)


# --- the dialogue data ----------------------------------------------------------------------------
def test_training_data_validates():
    output = run_checked([RASA, "data", "validate"], cwd=BOT_DIR, env=PROCESS_ENV, timeout=300)
    assert "ERROR" not in output


def test_every_test_story_passes(example_bot_model: Path, example_bot_work_dir: Path):
    results = example_bot_work_dir / "story_results"
    run_checked(
        [RASA, "test", "core", "--stories", "tests/test_stories.yml", "-m", str(example_bot_model),
         "--out", str(results)],
        cwd=BOT_DIR, env=PROCESS_ENV, timeout=600,
    )  # fmt: skip
    failed = (results / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed, failed
