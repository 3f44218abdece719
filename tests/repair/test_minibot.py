"""The repair layer in a second, minimal bot (table booking), trained with `rasa train`.

The bot has only the policy, the domain snippet's responses and a form: no example-shop code.
Messages use Rasa's `/intent{"entity": "value"}` syntax where the test is about the dialogue, not
about NLU; the frustration case goes through the real NLU pipeline (sentiment included).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

BOT_DIR = Path(__file__).resolve().parent / "minibot"
RASA = str(Path(sys.executable).parent / "rasa")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("MINIBOT_MODEL")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("minibot_models")
    result = subprocess.run(
        [RASA, "train", "--out", str(out), "--fixed-model-name", "minibot"],
        cwd=BOT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
             "PATH": str(Path(sys.executable).parent)},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "minibot.tar.gz"


class Chat:
    """One conversation with the in-process agent."""

    def __init__(self, agent: Any, loop: asyncio.AbstractEventLoop, sender: str) -> None:
        self.agent, self.loop, self.sender = agent, loop, sender

    def say(self, text: str) -> list[str]:
        replies = self.loop.run_until_complete(self.agent.handle_text(text, sender_id=self.sender))
        return [reply.get("text") or "" for reply in replies or []]

    def tracker(self) -> Any:
        return self.loop.run_until_complete(self.agent.tracker_store.retrieve(self.sender))


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


@pytest.fixture(scope="module")
def agent(model_path: Path) -> Any:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    dead_action_server = EndpointConfig(url="http://127.0.0.1:9/webhook")
    return Agent.load(str(model_path), action_endpoint=dead_action_server)


@pytest.fixture
def chat(agent: Any, loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest) -> Chat:
    return Chat(agent, loop, sender=request.node.name)


def _entity(name: str, value: str) -> str:
    return json.dumps({name: value})


def test_a_miss_outside_a_form_gets_a_reply_and_the_second_offers_a_human(chat: Chat) -> None:
    first = chat.say("/greet")
    assert first == ["Hello! I can book you a table."]
    miss = chat.say("/inform")  # an answer to no question: nothing covers it
    assert any("Could you rephrase" in text for text in miss), miss
    second = chat.say("/inform")
    assert any("connect you with a colleague" in text for text in second), second
    assert chat.say("/affirm") == ["I'm passing you to a colleague now."]


def test_cancel_leaves_the_form_and_clears_its_slots(chat: Chat) -> None:
    assert chat.say("/book_table") == ["For how many people? (e.g. 4)"]
    assert chat.say(f"/inform{_entity('number', '4')}") == ["Which day would you like to come?"]
    replies = chat.say("/stop")
    assert replies == ["Okay, I've stopped the table booking. Nothing was changed."]
    tracker = chat.tracker()
    assert tracker.active_loop_name is None
    assert tracker.get_slot("party_size") is None
    # The conversation goes on normally afterwards.
    assert chat.say("/opening_hours") == ["We are open from 12 to 11 pm every day."]


def test_deny_inside_a_form_is_a_change_of_mind(chat: Chat) -> None:
    chat.say("/book_table")
    assert chat.say("/deny") == ["Okay, I've stopped the table booking. Nothing was changed."]


def test_a_question_inside_a_form_is_answered_then_the_form_resumes(chat: Chat) -> None:
    chat.say("/book_table")
    chat.say(f"/inform{_entity('number', '2')}")
    replies = chat.say("/opening_hours")
    assert replies == [
        "We are open from 12 to 11 pm every day.",
        "Back to your table booking:",
        "Which day would you like to come?",
    ]
    assert chat.say("friday") == ["Booked: a table for 2 on friday."]


def test_small_talk_inside_a_form_does_not_trap_the_customer(chat: Chat) -> None:
    chat.say("/book_table")
    assert chat.say("/thanks") == [
        "You're welcome.", "Back to your table booking:", "For how many people? (e.g. 4)"
    ]
    assert chat.say("/goodbye") == [
        "Okay, I've stopped the table booking. Nothing was changed.", "Goodbye!"
    ]
    assert chat.tracker().active_loop_name is None


def test_a_correction_replaces_the_slot_and_the_form_asks_its_question_again(chat: Chat) -> None:
    chat.say("/book_table")
    chat.say(f"/inform{_entity('number', '4')}")
    replies = chat.say("sorry, we are 6")
    assert replies == ["Which day would you like to come?"]
    tracker = chat.tracker()
    assert tracker.get_slot("party_size") == "6"
    assert tracker.get_slot("day") is None  # the correction is not taken as the day
    assert chat.say("saturday") == ["Booked: a table for 6 on saturday."]


def test_a_message_that_answers_nothing_in_a_form_gets_the_question_again(chat: Chat) -> None:
    chat.say("/book_table")
    replies = chat.say("/affirm")
    assert replies == ["Sorry, I didn't catch that.", "For how many people? (e.g. 4)"]
    second = chat.say("/affirm")
    assert second[-1] == "Would you like me to connect you with a colleague?"


def test_a_failing_custom_action_gets_an_apology(chat: Chat) -> None:
    replies = chat.say("/check_booking")
    assert replies == [
        "I'm sorry, something went wrong on my side. Please try again in a few minutes."
    ]


def test_a_complaint_gets_empathy_and_the_offer_of_a_human(chat: Chat) -> None:
    replies = chat.say("/complaint")
    assert replies == [
        "I'm sorry about this.",
        "Would you like me to connect you with a colleague?",
    ]
    assert chat.say("/deny") == ["Alright, I'm still here."]


def test_sentiment_is_in_the_parse_data(chat: Chat) -> None:
    chat.say("this is terrible, awful service")
    sentiment = chat.tracker().latest_message.parse_data["sentiment"]
    assert sentiment["label"] == "negative"
    assert sentiment["compound"] < -0.5


def test_handoff_inside_a_form_leaves_the_form(chat: Chat) -> None:
    chat.say("/book_table")
    assert chat.say("/human_handoff") == ["I'm passing you to a colleague now."]
    assert chat.tracker().active_loop_name is None


def test_restart_inside_a_form_restarts(chat: Chat) -> None:
    chat.say("/book_table")
    chat.say("/restart")
    tracker = chat.tracker()
    assert tracker.active_loop_name is None
    assert chat.say("/greet") == ["Hello! I can book you a table."]
