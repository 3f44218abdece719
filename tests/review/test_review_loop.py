"""The review loop end to end: scripted conversations with a real `rasa run` (and the locked-down
action server) fill a real SQLite tracker store; the review command then reads it back.

The NLG answers in extractive mode here: retrieval, evidence and abstention are the real ones,
but no LLM generation runs, so that answers (and their sources) do not depend on how fast a
loaded CI machine generates. Nothing else is replaced.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from chat_client import ChatClient
from conversation_suite import BOT_DIR, RASA, BotServers, ShopDatabase
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from rasa_llm_components.review.__main__ import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "jane.doe@example.com"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FEEDBACK_DOWN = '/answer_feedback{"feedback":"down"}'
# (customer id or None for a visitor, messages)
SCRIPT = [
    (None, ["blorp zzq fnark wibble", "Do you sell garden furniture?",
            f"qwzx plim, write me at {EMAIL}"]),
    (None, ["do you sell patio furniture?", "<script>alert(1)</script> flibber?"]),
    ("C1001", ["What is your return policy?", FEEDBACK_DOWN, "I want to talk to a human"]),
]


@dataclass
class Recorded:
    """The tracker store the conversations filled, and what the bot said."""

    store: Path
    replies: dict[str, list[str]]  # customer message -> bot texts
    sources: dict[str, list[dict]]  # customer message -> sources of the bot's answer
    senders: list[str]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, example_bot_model: Path) -> Recorded:
    work = tmp_path_factory.mktemp("review_loop")
    store = work / "trackers.db"
    endpoints = yaml.safe_load((BOT_DIR / "endpoints.yml").read_text(encoding="utf-8"))
    servers = BotServers(
        example_bot_model,
        ShopDatabase.seed(work / "shop.db"),
        work,
        endpoints_overrides={
            "tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(store)},
            "nlg": {**endpoints["nlg"], "answer": {"mode": "extractive"}},
        },
    ).start()
    client = ChatClient(servers.url)
    replies, sources, senders = {}, {}, []
    try:
        for customer, messages in SCRIPT:
            conversation = client.conversation(customer)
            senders.append(conversation.sender)
            for message in messages:
                messages = conversation.say(message)
                replies[message] = conversation.texts
                payloads = [m.get("custom") or {} for m in messages]
                sources[message] = [s for payload in payloads for s in payload.get("sources", [])]
    except BaseException:
        print(servers.describe(), file=sys.stderr)
        raise
    finally:
        client.close()
        servers.stop()
    return Recorded(store, replies, sources, senders)


@pytest.fixture(scope="module")
def review(recorded: Recorded, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review_out")
    completed = subprocess.run(
        [sys.executable, "-m", "rasa_llm_components.review",
         "--tracker-store", f"sqlite:///{recorded.store}", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "1 thumbs down, 1 handoff(s)" in completed.stdout
    return out


def test_messages_to_annotate_are_rasa_nlu_yaml_and_redacted(review: Path) -> None:
    text = (review / "annotations.yml").read_text(encoding="utf-8")
    parsed = RasaYAMLReader().reads(text).intent_examples
    examples = {m.get("text"): m.get("intent") for m in parsed}
    assert "blorp zzq fnark wibble" in examples
    assert "qwzx plim, write me at [EMAIL]" in examples
    assert "nlu_fallback" not in examples.values()
    # the thumbs down and /restart name their intent: nothing to annotate
    assert not any(example.startswith("/") for example in examples)


def test_no_personal_data_in_any_review_file(review: Path) -> None:
    for path in review.iterdir():
        assert EMAIL not in path.read_text(encoding="utf-8"), path.name


def test_similar_unanswered_questions_form_one_gap(review: Path, recorded: Recorded) -> None:
    assert "connect you with a colleague" in " ".join(
        recorded.replies["Do you sell garden furniture?"]
    )
    gaps = json.loads((review / "knowledge_gaps.json").read_text(encoding="utf-8"))
    furniture = [g for g in gaps if "Do you sell garden furniture?" in g["wordings"]]
    assert len(furniture) == 1
    assert set(furniture[0]["wordings"]) >= {"Do you sell garden furniture?",
                                             "do you sell patio furniture?"}
    assert furniture[0]["conversations"] == 2 and furniture[0]["count"] >= 2
    assert 0 < furniture[0]["max_retrieval_score"] < 1
    assert "low retrieval score" in furniture[0]["reasons"]


def test_thumbs_down_answer_with_its_sources(review: Path, recorded: Recorded) -> None:
    disliked = json.loads((review / "thumbs_down.json").read_text(encoding="utf-8"))
    assert len(disliked) == 1
    entry = disliked[0]
    assert entry["sender_id"] == "C1001"
    assert entry["question"] == "What is your return policy?"
    assert entry["answer"] in recorded.replies["What is your return policy?"]
    assert entry["kind"] == "extractive" and entry["retrieval_score"] > 0
    # the sources the customer saw with the answer
    sent = recorded.sources["What is your return policy?"]
    assert sent and entry["sources"] == [{"id": s["id"], "title": s["title"]} for s in sent]


def test_handoff_with_its_trigger(review: Path, recorded: Recorded) -> None:
    handoffs = json.loads((review / "handoffs.json").read_text(encoding="utf-8"))
    assert len(handoffs) == 1
    ticket = re.search(r"HT-\d+", " ".join(recorded.replies["I want to talk to a human"]))
    assert ticket and handoffs[0]["ticket"] == ticket.group(0)
    assert handoffs[0]["trigger"] == "asked for a person"
    assert handoffs[0]["messages"][-1] == "I want to talk to a human"
    assert handoffs[0]["reason"] == "What is your return policy?"


def test_report_is_one_file_with_charts_and_escaped_text(review: Path) -> None:
    html = (review / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 4
    assert all(base64.b64decode(image).startswith(PNG_SIGNATURE) for image in images)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for heading in ("Knowledge gaps", "Thumbs down", "Handoffs", "Messages to annotate"):
        assert f"<h2>{heading}</h2>" in html
    assert "What is your return policy?" in html and "Do you sell garden furniture?" in html


def test_annotations_merge_into_the_training_data(
    review: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = tmp_path / "data"
    shutil.copytree(BOT_DIR / "data", data)
    nlu = data / "nlu.yml"
    before = RasaYAMLReader().read(nlu).intent_examples
    # The annotator's work: every message is out of scope for the shop.
    annotated = (review / "annotations.yml").read_text(encoding="utf-8")
    annotated = re.sub(r"(?m)^- intent: .+$", "- intent: out_of_scope", annotated)
    (tmp_path / "annotated.yml").write_text(annotated, encoding="utf-8")

    merge = ["merge", str(tmp_path / "annotated.yml"), "--into", str(nlu)]
    assert main(merge) == 0
    after = RasaYAMLReader().read(nlu).intent_examples
    added = {m.get("text") for m in after} - {m.get("text") for m in before}
    assert "blorp zzq fnark wibble" in added and "qwzx plim, write me at [EMAIL]" in added
    assert all(m.get("intent") == "out_of_scope" for m in after if m.get("text") in added)
    assert len(after) == len(before) + len(added)

    capsys.readouterr()
    assert main(merge) == 0
    assert "Added 0 example(s)" in capsys.readouterr().out
    assert len(RasaYAMLReader().read(nlu).intent_examples) == len(after)

    validate = subprocess.run(
        [RASA, "data", "validate", "--data", str(data),
         "--domain", str(BOT_DIR / "domain.yml"), "--config", str(BOT_DIR / "config.yml")],
        cwd=BOT_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert validate.returncode == 0, validate.stdout[-3000:] + validate.stderr[-3000:]
