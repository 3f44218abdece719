"""The HELD-OUT conversation set (conversations_heldout/*.yml) against the real bot over REST.

A second, smaller set of customer conversations, written blind (from the shop's facts and the
behaviour spec, without looking at the bot's training data, stories or the tuning suite) so that
the pass rate can be reported honestly. Nobody tunes the bot on it: when a conversation here
fails, fix the bot in general and add a similar case to conversations/*.yml, never edit this set
to make it pass.

Runs exactly like test_conversations.py (same session fixtures of conftest.py, same helpers).

Run: `EXAMPLE_BOT_MODEL=/tmp/suite_models/suite.tar.gz .venv/bin/pytest -m integration
example_bot/tests/test_conversations_heldout.py` (the figures alone: `python -m
benchmarks.conversation_suite --conversations example_bot/tests/conversations_heldout`).
"""

from __future__ import annotations

import pytest
from chat_client import ChatClient
from conversation_suite import (
    HELDOUT_CONVERSATIONS_DIR,
    BotServers,
    ConversationSpec,
    ShopDatabase,
    load_conversations,
)
from test_conversations import (
    CONVERSATIONS,
    FORM_FLOWS,
    REPAIR_CASES,
    bot_data,
    copied_messages,
    hold_conversation,
    normalise,
    uncovered,
)
from test_conversations import OTHER_FLOWS as SUITE_OTHER_FLOWS

pytestmark = pytest.mark.integration

HELDOUT = load_conversations(HELDOUT_CONVERSATIONS_DIR)
MIN_HELDOUT = 45
ID_PREFIX = "ho-"

OTHER_FLOWS = {
    **SUITE_OTHER_FLOWS,
    "return": ("outside_window",),
    "handoff": ("frustration",),
    "complaint": ("handoff",),
}


@pytest.mark.parametrize("spec", HELDOUT, ids=[spec.id for spec in HELDOUT])
def test_heldout_conversation(
    spec: ConversationSpec,
    chat_client: ChatClient,
    shop_database: ShopDatabase,
    bot_servers: BotServers,
) -> None:
    hold_conversation(spec, chat_client, shop_database, bot_servers)


# --- the set itself (no servers needed) ----------------------------------------------------------
def test_the_heldout_set_is_large_enough_and_separate() -> None:
    assert len(HELDOUT) >= MIN_HELDOUT
    assert all(spec.id.startswith(ID_PREFIX) for spec in HELDOUT)
    assert not {spec.id for spec in HELDOUT} & {spec.id for spec in CONVERSATIONS}
    customers = {spec.customer for spec in HELDOUT}
    assert None in customers  # anonymous visitors
    assert {f"C{1000 + number}" for number in range(1, 13)} <= customers


def test_every_heldout_flow_meets_every_repair_case() -> None:
    missing = uncovered(HELDOUT, FORM_FLOWS, REPAIR_CASES, OTHER_FLOWS)
    assert not missing, f"no held-out conversation covers: {missing}"


def test_no_heldout_message_is_copied_from_the_bot_data_or_the_tuning_suite() -> None:
    tuning_suite = {normalise(turn.user) for spec in CONVERSATIONS for turn in spec.turns}
    copied = copied_messages(HELDOUT, bot_data() | tuning_suite)
    assert not copied, f"held-out messages copied from the bot's data or the tuning suite: {copied}"
