"""The customer conversation suite (conversations/*.yml) against the real bot over REST.

Every conversation is its own test case (parametrised by its id). The servers, the model and the
shop database are the shared session fixtures of conftest.py; the database is restored to its
seeded state before each conversation. A failure shows the whole transcript: what the customer
said, what the bot answered and which expectation failed.

Run: `EXAMPLE_BOT_MODEL=/tmp/suite_models/suite.tar.gz .venv/bin/pytest -m integration
example_bot/tests/test_conversations.py` (the figures alone: `python -m
benchmarks.conversation_suite`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from chat_client import ChatClient
from conversation_suite import (
    BOT_DIR,
    BotServers,
    ConversationSpec,
    ShopDatabase,
    TurnSpec,
    check_turn,
    load_conversations,
    run_conversation,
)

pytestmark = pytest.mark.integration

CONVERSATIONS = load_conversations()
# Conversations the bot fails today, each with the reason: they must fail the same way (never
# with a silent turn); one that starts to pass must be taken off the list. The README reports
# the pass rate with these failures counted.
KNOWN_FAILURES_FILE = Path(__file__).resolve().parent / "known_failures.yml"
KNOWN_FAILURES: dict[str, str] = (
    yaml.safe_load(KNOWN_FAILURES_FILE.read_text(encoding="utf-8")) or {}
    if KNOWN_FAILURES_FILE.exists()
    else {}
)
MIN_CONVERSATIONS = 150

# Every form flow must be tried with every repair case (at least one conversation each).
FORM_FLOWS = ("cancel_order", "change_address", "return")
REPAIR_CASES = (
    "cancel",
    "digression",
    "correction",
    "clarification",
    "not_understood",
    "skip",
    "chitchat",
    "frustration",
    "handoff",
)
# Flows outside the forms and the cases that apply to them.
OTHER_FLOWS = {
    "order_status": ("clarification", "correction", "foreign_order", "frustration", "typo"),
    "refund": ("foreign_order", "frustration", "typo"),
    "product": ("not_sold", "negation", "typo", "multi_sentence"),
    "policy": ("zip_code", "typo", "multi_sentence"),
    "smalltalk": ("not_understood", "chitchat"),
    "anonymous": ("order_status", "cancel_order", "return", "change_address", "product"),
}

# The bot's own training and test data: the suite must not copy customer messages from it.
BOT_DATA_FILES = ("data/nlu.yml", "data/stories.yml", "data/rules.yml", "tests/test_stories.yml")
MIN_WORDS_FOR_COPY_CHECK = 4  # "yes", "stop" or "no keep it" are no copies
ANNOTATION = re.compile(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})")


def hold_conversation(
    spec: ConversationSpec,
    chat_client: ChatClient,
    shop_database: ShopDatabase,
    bot_servers: BotServers,
) -> None:
    """Holds one conversation with the running bot; fails the test with the whole transcript.

    Shared with test_conversations_heldout.py."""
    result = run_conversation(chat_client, spec, shop_database, bot_servers)
    known = KNOWN_FAILURES.get(spec.id)
    if result.silent_turns or result.error or (not result.passed and known is None):
        # A silent turn or an error fails even a conversation known to fail.
        pytest.fail("\n" + result.transcript(), pytrace=False)
    if known is not None:
        if result.passed:
            pytest.fail(
                f"{spec.id} passes now: remove it from {KNOWN_FAILURES_FILE.name}", pytrace=False
            )
        pytest.xfail(known)


@pytest.mark.parametrize("spec", CONVERSATIONS, ids=[spec.id for spec in CONVERSATIONS])
def test_conversation(
    spec: ConversationSpec,
    chat_client: ChatClient,
    shop_database: ShopDatabase,
    bot_servers: BotServers,
) -> None:
    hold_conversation(spec, chat_client, shop_database, bot_servers)


def test_database_reset_is_seen_by_the_running_action_server(
    chat_client: ChatClient, shop_database: ShopDatabase
) -> None:
    """The suite's restore (SQLite backup API) works while the action server is running."""
    shop_database.reset()
    with sqlite3.connect(shop_database.path) as connection:
        connection.execute("UPDATE orders SET status = 'cancelled' WHERE id = 'ORD-10003'")
    conversation = chat_client.conversation("C1001")
    conversation.say("status of order 10003")
    assert re.search(r"cancell?ed", " ".join(conversation.texts), re.I), conversation.texts

    shop_database.reset()
    assert shop_database.query("SELECT status FROM orders WHERE id = 'ORD-10003'") == [("paid",)]
    conversation = chat_client.conversation("C1001")
    conversation.say("status of order 10003")
    assert not re.search(r"cancell?ed", " ".join(conversation.texts), re.I), conversation.texts
    assert "ORD-10003" in " ".join(conversation.texts)


# --- the suite itself (no servers needed) --------------------------------------------------------
def test_the_suite_is_large_enough_and_valid() -> None:
    assert len(CONVERSATIONS) >= MIN_CONVERSATIONS
    customers = {spec.customer for spec in CONVERSATIONS}
    assert None in customers  # anonymous visitors
    assert {f"C{1000 + number}" for number in range(1, 13)} <= customers
    assert any(spec.needs_action_server_down for spec in CONVERSATIONS)


def uncovered(
    conversations: Iterable[ConversationSpec],
    form_flows: Iterable[str],
    repair_cases: Iterable[str],
    other_flows: Mapping[str, Iterable[str]],
) -> list[str]:
    """The "flow x case" pairs that no conversation is tagged with (every form flow with every
    repair case, every other flow with its cases). Shared with test_conversations_heldout.py."""
    tag_sets = [set(spec.tags) for spec in conversations]
    pairs = [(flow, case) for flow in form_flows for case in repair_cases]
    pairs += [(flow, case) for flow, cases in other_flows.items() for case in cases]
    return [
        f"{flow} x {case}"
        for flow, case in pairs
        if not any({flow, case} <= tags for tags in tag_sets)
    ]


def test_every_flow_meets_every_repair_case() -> None:
    missing = uncovered(CONVERSATIONS, FORM_FLOWS, REPAIR_CASES, OTHER_FLOWS)
    assert not missing, f"no conversation covers: {missing}"


def test_a_silent_turn_always_fails() -> None:
    silent = check_turn(TurnSpec("hi"), [{"recipient_id": "C1001", "buttons": []}])
    assert silent.silent and silent.failures == ["silent turn: the bot sent no text"]
    answered = check_turn(
        TurnSpec("where is 10002", expect=("ORD-10002", "shipped"), forbid=("cancelled",)),
        [{"text": "Order ORD-10002 SHIPPED yesterday."}],
    )
    assert not answered.silent and answered.failures == []
    wrong = check_turn(
        TurnSpec("x", expect=("RMA-\\d{6}",), forbid=("cancelled",)), [{"text": "Cancelled."}]
    )
    assert len(wrong.failures) == 2
    fallback = "Sorry, I didn't understand that. Could you rephrase it?"
    contradicted = check_turn(TurnSpec("does it float?"),
                              [{"text": "Yes, it floats."}, {"text": fallback}])
    assert contradicted.failures == ["the bot said it did not understand after replying"]
    assert check_turn(TurnSpec("xyz"), [{"text": fallback}]).failures == []


def test_database_checks_and_reset(tmp_path: Path) -> None:
    database = ShopDatabase.seed(tmp_path / "shop.db")
    checks = [
        {"order": "ORD-10003", "status": "paid", "address_unchanged": True},
        {"returns": 0},
        {"tickets": 0},
        {"unchanged": True},
    ]
    assert database.check(checks, transcript="") == []
    with sqlite3.connect(database.path) as connection:
        connection.execute("UPDATE orders SET status = 'cancelled' WHERE id = 'ORD-10003'")
    failures = database.check(checks, transcript="")
    assert any("ORD-10003 status is 'cancelled'" in failure for failure in failures)
    assert any("table orders changed" in failure for failure in failures)
    database.reset()
    assert database.check(checks, transcript="") == []


def normalise(text: str) -> str:
    """A message without entity annotations, case and punctuation, for the copy checks."""
    text = ANNOTATION.sub(r"\1", text).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _bot_data_messages(node: Any, found: set[str]) -> None:
    """Collects the customer messages of the bot's training and test data files."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "examples" and isinstance(value, str):
                for line in value.splitlines():
                    if line.strip().startswith("- "):
                        found.add(normalise(line.strip()[2:]))
            elif key == "user" and isinstance(value, str):
                found.add(normalise(value))
            else:
                _bot_data_messages(value, found)
    elif isinstance(node, list):
        for item in node:
            _bot_data_messages(item, found)


def bot_data() -> set[str]:
    """The normalised customer messages of the bot's training and test data files."""
    found: set[str] = set()
    for relative in BOT_DATA_FILES:
        path: Path = BOT_DIR / relative
        if path.is_file():
            _bot_data_messages(yaml.safe_load(path.read_text(encoding="utf-8")), found)
    return found


@pytest.fixture(scope="module")
def bot_data_messages() -> Iterator[set[str]]:
    yield bot_data()


def copied_messages(conversations: Iterable[ConversationSpec], messages: set[str]) -> list[str]:
    """The conversations' customer messages (of a few words at least) found in `messages`
    (normalised). Shared with test_conversations_heldout.py."""
    return sorted(
        f"{spec.id}: {turn.user!r}"
        for spec in conversations
        for turn in spec.turns
        if len(normalise(turn.user).split()) >= MIN_WORDS_FOR_COPY_CHECK
        and normalise(turn.user) in messages
    )


def test_no_customer_message_is_copied_from_the_bot_data(bot_data_messages: set[str]) -> None:
    copied = copied_messages(CONVERSATIONS, bot_data_messages)
    assert not copied, f"customer messages copied from the bot's own data: {copied}"
