"""End-to-end test of the example bot over Rasa's REST channel.

Trains the bot once (or uses the model in $EXAMPLE_BOT_MODEL), seeds a temporary shop database,
starts `rasa run actions` and `rasa run --enable-api` as real subprocesses on free ports and holds
scripted conversations as demo customers (the REST sender id is the customer id).

Run: `.venv/bin/pytest -m integration example_bot/tests/test_e2e_rest.py -s` (about 5 minutes on
2 CPU cores, most of it training).
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from bot_processes import ManagedProcess, free_port, http_ok, run_checked

pytestmark = pytest.mark.integration

BOT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
RASA = str(BIN_DIR / "rasa")
MODEL_ENV = "EXAMPLE_BOT_MODEL"
TRAIN_TIMEOUT_S = 420
START_TIMEOUT_S = 240
REQUEST_TIMEOUT_S = 60

# Quiet, deterministic subprocesses that never phone home.
PROCESS_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "RASA_TELEMETRY_ENABLED": "false",
    "PYTHONHASHSEED": "0",
    "TOKENIZERS_PARALLELISM": "false",
}

# Actions Rasa runs around every user message; the tests look at the others.
IMPLICIT_ACTIONS = {"action_listen", "action_extract_slots"}

ORDER_ID = re.compile(r"ORD-\d{5}")
RMA_NUMBER = re.compile(r"RMA-\d{6}")
TICKET_NUMBER = re.compile(r"HT-\d+")


@dataclass
class Bot:
    """The running bot: where to talk to it and which database the actions use."""

    url: str
    db_path: Path

    def say(self, sender: str, text: str) -> list[str]:
        """Sends one message as `sender` and returns the texts of the bot's replies."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=REQUEST_TIMEOUT_S,
        )
        response.raise_for_status()
        return [message["text"] for message in response.json() if message.get("text")]

    def restart(self, sender: str) -> None:
        """Starts a fresh conversation (the /restart intent skips NLU)."""
        self.say(sender, "/restart")

    def last_bot_actions(self, sender: str) -> list[str]:
        """The actions the bot ran after the latest user message (action_listen excluded)."""
        response = requests.get(
            f"{self.url}/conversations/{sender}/tracker", timeout=REQUEST_TIMEOUT_S
        )
        response.raise_for_status()
        actions: list[str] = []
        for event in response.json()["events"]:
            if event["event"] == "user":
                actions = []
            elif event["event"] == "action" and event["name"] not in IMPLICIT_ACTIONS:
                actions.append(event["name"])
        return actions

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        """Reads the shop database the action server writes to."""
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, parameters).fetchall()


def _joined(replies: list[str]) -> str:
    return "\n".join(replies)


# --- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("example_bot_e2e")


@pytest.fixture(scope="session")
def bot_model(work_dir: Path) -> Path:
    """A trained model: $EXAMPLE_BOT_MODEL, or the example bot trained into the temp dir."""
    given = os.environ.get(MODEL_ENV)
    if given:
        path = Path(given).expanduser().resolve()
        assert path.is_file(), f"{MODEL_ENV}={given} is not a model file"
        return path
    out_dir = work_dir / "models"
    run_checked(
        [RASA, "train", "--out", str(out_dir), "--fixed-model-name", "e2e"],
        cwd=BOT_DIR,
        env=PROCESS_ENV,
        timeout=TRAIN_TIMEOUT_S,
    )
    return out_dir / "e2e.tar.gz"


@pytest.fixture(scope="session")
def shop_db(work_dir: Path) -> Path:
    """A freshly seeded SQLite shop database."""
    db_path = work_dir / "shop.db"
    run_checked(
        [sys.executable, "-m", "shop.seed", "--url", f"sqlite:///{db_path}", "--reset"],
        cwd=BOT_DIR,
        env=PROCESS_ENV,
        timeout=120,
    )
    return db_path


@pytest.fixture(scope="session")
def bot(
    request: pytest.FixtureRequest, work_dir: Path, bot_model: Path, shop_db: Path
) -> Iterator[Bot]:
    """The action server and the Rasa server, running until the end of the session."""
    action_port, rasa_port = free_port(), free_port()
    endpoints = yaml.safe_load((BOT_DIR / "endpoints.yml").read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{action_port}/webhook"}
    endpoints_path = work_dir / "endpoints.yml"
    endpoints_path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")

    processes: list[ManagedProcess] = []
    try:
        actions = ManagedProcess(
            "action server",
            [RASA, "run", "actions", "--actions", "actions", "--port", str(action_port)],
            cwd=BOT_DIR,
            log_path=work_dir / "actions.log",
            env={**PROCESS_ENV, "SHOP_DATABASE_URL": f"sqlite:///{shop_db}"},
        )
        processes.append(actions)
        rasa = ManagedProcess(
            "rasa server",
            [
                RASA,
                "run",
                "--enable-api",
                "--model",
                str(bot_model),
                "--port",
                str(rasa_port),
                "--interface",
                "127.0.0.1",
                "--endpoints",
                str(endpoints_path),
                "--credentials",
                str(BOT_DIR / "credentials.yml"),
            ],
            cwd=BOT_DIR,
            log_path=work_dir / "rasa.log",
            env=PROCESS_ENV,
        )
        processes.append(rasa)
        actions.wait_until(
            http_ok(f"http://127.0.0.1:{action_port}/health"), START_TIMEOUT_S, "health check"
        )
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        rasa.wait_until(_model_loaded(rasa_url), START_TIMEOUT_S, "loaded model")
        yield Bot(url=rasa_url, db_path=shop_db)
    finally:
        failed = request.session.testsfailed > 0 or sys.exc_info()[0] is not None
        for process in reversed(processes):
            process.stop()
        if failed:
            for process in processes:
                print(process.describe(), file=sys.stderr)


def _model_loaded(url: str):  # noqa: ANN202 - a check for ManagedProcess.wait_until
    def check() -> bool:
        response = requests.get(f"{url}/status", timeout=5)
        return response.status_code == 200 and bool(response.json().get("model_id"))

    return check


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
    assert bot.last_bot_actions("C1001")[:2] == ["action_check_stock", "return_form"]

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


def test_every_test_story_passes(bot_model: Path, work_dir: Path):
    results = work_dir / "story_results"
    run_checked(
        [RASA, "test", "core", "--stories", "tests/test_stories.yml", "-m", str(bot_model),
         "--out", str(results)],
        cwd=BOT_DIR, env=PROCESS_ENV, timeout=600,
    )  # fmt: skip
    failed = (results / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed, failed
