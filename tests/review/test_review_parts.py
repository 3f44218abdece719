"""The review loop's parts on hand-made events and files: turns, feedback, handoffs, gap
grouping with the real sentence encoder, annotation export and merge, and the store options."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from rasa_llm_components.review.__main__ import main
from rasa_llm_components.review.annotations import (
    annotation_yaml,
    merge_annotations,
    messages_to_annotate,
)
from rasa_llm_components.review.errors import ReviewError
from rasa_llm_components.review.events import conversation_turns
from rasa_llm_components.review.feedback import disliked_answers, handoffs
from rasa_llm_components.review.gaps import GapQuestion, gap_questions, group_gaps
from rasa_llm_components.review.store import StoredEvent, check_url, url_from_endpoints


def user(sender: str, t: float, text: str, intent: str, confidence: float,
         ranking: list[tuple[str, float]] | None = None, entities: list | None = None):
    ranking = ranking or [(intent, confidence)]
    return StoredEvent(sender, "user", t, {
        "event": "user", "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence},
                       "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
                       "entities": entities or []},
    })


def answer(sender: str, t: float, text: str, kind: str, score: float, sources=(), reason=""):
    return StoredEvent(sender, "bot", t, {
        "event": "bot", "text": text,
        "data": {"custom": {"sources": [{"id": s, "title": s.title()} for s in sources]}
                 if sources else None},
        "metadata": {"utter_action": "utter_llm_answer", "llm_answer": {
            "answer_kind": kind, "retrieval_score": score, "reason": reason,
            "unsupported": [], "sources": list(sources), "query": text}},
    })


def action(sender: str, t: float, name: str):
    return StoredEvent(sender, "action", t, {"event": "action", "name": name})


def thumbs_down(sender: str, t: float):
    return user(sender, t, '/answer_feedback{"feedback":"down"}', "answer_feedback", 1.0,
                entities=[{"entity": "feedback", "value": "down"}])


EVENTS = [
    user("C1", 1.0, "What is your return policy?", "faq", 0.99),
    answer("C1", 1.1, "Returns within 30 days.", "extractive", 0.8, ["returns"]),
    thumbs_down("C1", 2.0),
    user("C1", 3.0, "blorp call me at +1 415 555 0132", "nlu_fallback", 0.6,
         [("nlu_fallback", 0.6), ("inform", 0.4), ("greet", 0.1)]),
    user("C1", 4.0, "BLORP   call me at +1 415 555 0132", "inform", 0.65),
    StoredEvent("C1", "restart", 5.0, {"event": "restart"}),
    thumbs_down("C1", 6.0),  # after a restart: no answer to refer to
    user("C1", 7.0, "I want a human", "human_handoff", 0.99),
    action("C1", 7.1, "action_handoff"),
    StoredEvent("C1", "slot", 7.2, {"event": "slot", "name": "handoff_ticket", "value": "HT-1"}),
    user("V2", 1.0, "Do you sell garden furniture?", "faq", 0.9),
    answer("V2", 1.1, "Sorry. Would you like me to connect you with a colleague?", "abstained",
           0.43, reason="low retrieval score"),
    user("V2", 2.0, "yes", "affirm", 0.95),
    action("V2", 2.1, "action_handoff"),
]


def test_turns_feedback_and_handoffs() -> None:
    turns = list(conversation_turns(EVENTS))
    disliked = disliked_answers(turns)
    assert len(disliked) == 1  # the thumbs down after the restart refers to nothing
    assert disliked[0].question == "What is your return policy?"
    assert disliked[0].sources == [{"id": "returns", "title": "Returns"}]
    assert (disliked[0].kind, disliked[0].retrieval_score) == ("extractive", 0.8)

    found = {h.sender_id: h for h in handoffs(turns)}
    assert found["C1"].trigger == "asked for a person" and found["C1"].ticket == "HT-1"
    assert found["C1"].messages == ["I want a human"]  # only the episode after the restart
    assert found["C1"].reason == "I want a human"  # nothing else was said
    assert found["V2"].trigger == "accepted an offer after: answer abstained (low retrieval score)"
    assert found["V2"].reason == "Do you sell garden furniture?"  # not "yes"


def test_messages_to_annotate_are_redacted_and_deduplicated() -> None:
    turns = list(conversation_turns(EVENTS))
    candidates = messages_to_annotate(turns, threshold=0.7)
    assert [(c.text, c.suggestion, c.count, c.fallback) for c in candidates] == [
        ("blorp call me at [PHONE]", "inform", 2, True)
    ]
    text = annotation_yaml(candidates)
    examples = RasaYAMLReader().reads(text).intent_examples
    assert [(m.get("intent"), m.get("text")) for m in examples] == [
        ("inform", "blorp call me at [PHONE]")
    ]
    assert "415" not in text
    assert RasaYAMLReader().reads(annotation_yaml([])).intent_examples == []


@pytest.fixture(scope="module")
def encoder():
    from rasa_llm_components.encoders import SentenceEncoder

    return SentenceEncoder().encode


def _question(text: str, sender: str = "V1", score: float = 0.4) -> GapQuestion:
    return GapQuestion(text, text, "abstained", "low retrieval score", score, sender, 1.0)


def test_gap_groups_join_similar_questions(encoder) -> None:
    questions = [
        _question("Do you sell garden furniture?", "V1", 0.4),
        _question("do you sell  GARDEN furniture?", "V2", 0.5),
        _question("Do you sell patio furniture?", "V3", 0.3),
        _question("Is there a shop in Berlin I can visit?", "V1", 0.2),
        _question("Do you have a physical store in Berlin?", "V4", 0.2),
        _question("Can I pay with bitcoin?", "V5", 0.1),
    ]
    groups = group_gaps(questions, encoder, similarity=0.6)
    as_sets = [set(g.wordings) for g in groups]
    assert as_sets[0] == {"Do you sell garden furniture?", "do you sell  GARDEN furniture?",
                          "Do you sell patio furniture?"}
    assert groups[0].count == 3 and groups[0].conversations == 3
    assert groups[0].mean_score == pytest.approx(0.4) and groups[0].max_score == 0.5
    assert {"Is there a shop in Berlin I can visit?",
            "Do you have a physical store in Berlin?"} in as_sets
    assert {"Can I pay with bitcoin?"} in as_sets
    assert len(groups) == 3


def test_gap_questions_are_abstentions_and_rejected_generations() -> None:
    events = [
        user("V", 1.0, "mail me at jane@example.com about tents", "faq", 0.9),
        answer("V", 1.1, "Sorry.", "abstained", 0.3, reason="low retrieval score"),
        user("V", 2.0, "warranty of the X200?", "warranty", 0.9),
        answer("V", 2.1, "Two years.", "extractive", 0.7, ["warranty"],
               reason="generation rejected"),
        user("V", 3.0, "shipping?", "faq", 0.9),
        answer("V", 3.1, "Free over $50.", "generated", 0.9, ["shipping"]),
    ]
    questions = gap_questions(conversation_turns(events))
    assert [(q.text, q.reason) for q in questions] == [
        ("mail me at [EMAIL] about tents", "low retrieval score"),
        ("warranty of the X200?", "generation rejected"),
    ]


TARGET = """\
version: "3.1"
nlu:
# greetings, keep this comment
- intent: greet
  examples: |
    - hello
    - hi there
- intent: out_of_scope
  examples: |
    - what's the weather
"""


def _annotated(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "annotations.yml"
    path.write_text('version: "3.1"\nnlu:\n' + textwrap.dedent(body), encoding="utf-8")
    return path


def test_merge_adds_new_examples_once(tmp_path: Path) -> None:
    target = tmp_path / "nlu.yml"
    target.write_text(TARGET, encoding="utf-8")
    annotations = _annotated(tmp_path, """\
        - intent: greet
          examples: |
            - HELLO
            - good morning
        - intent: out_of_scope
          examples: |
            - hi there
            - blorp zzq
            - can you sing
        """)
    result = merge_annotations(annotations, target)
    assert result.added == {"greet": ["good morning"], "out_of_scope": ["blorp zzq",
                                                                        "can you sing"]}
    assert result.duplicates == ["HELLO"] and result.conflicts == [("hi there", "greet")]
    merged = target.read_text(encoding="utf-8")
    # the file is as it was, plus the new lines
    assert merged.replace("    - good morning\n", "").replace(
        "    - blorp zzq\n    - can you sing\n", ""
    ) == TARGET
    examples = RasaYAMLReader().reads(merged).intent_examples
    assert sorted((m.get("intent"), m.get("text")) for m in examples) == sorted([
        ("greet", "hello"), ("greet", "hi there"), ("greet", "good morning"),
        ("out_of_scope", "what's the weather"), ("out_of_scope", "blorp zzq"),
        ("out_of_scope", "can you sing"),
    ])
    assert merge_annotations(annotations, target).added_count == 0
    assert target.read_text(encoding="utf-8") == merged


def test_merge_refuses_unreviewed_and_unknown_intents(tmp_path: Path) -> None:
    target = tmp_path / "nlu.yml"
    target.write_text(TARGET, encoding="utf-8")
    unlabeled = _annotated(tmp_path, "- intent: unlabeled\n  examples: |\n    - huh\n")
    with pytest.raises(ReviewError, match="move each one under its real intent"):
        merge_annotations(unlabeled, target)
    unknown = _annotated(tmp_path, "- intent: store_hours\n  examples: |\n    - open today?\n")
    with pytest.raises(ReviewError, match="--allow-new-intents"):
        merge_annotations(unknown, target)
    domain = tmp_path / "domain.yml"
    domain.write_text('version: "3.1"\nintents:\n  - greet\n  - store_hours\n', encoding="utf-8")
    assert merge_annotations(unknown, target, domain=domain).added == {
        "store_hours": ["open today?"]
    }
    broken = tmp_path / "broken.yml"
    broken.write_text("nlu:\n- intent: greet\n  examples: [1, 2\n", encoding="utf-8")
    with pytest.raises(ReviewError, match="not valid Rasa NLU YAML"):
        merge_annotations(broken, target)
    assert "open today?" in target.read_text(encoding="utf-8")


def _store(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
            "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"
        )
        for event in EVENTS:
            connection.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                (event.sender_id, event.type_name, event.timestamp, json.dumps(event.data)),
            )
    return path


def test_store_from_endpoints_and_clear_errors(tmp_path: Path, monkeypatch, capsys) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    _store(bot / "conversations.db")
    endpoints = bot / "endpoints.yml"
    monkeypatch.delenv("REVIEW_UNSET_TOKEN", raising=False)
    endpoints.write_text(
        "action_endpoint:\n  url: http://localhost:5055/webhook\n  headers:\n"
        "    Authorization: Bearer ${REVIEW_UNSET_TOKEN}\n"  # not needed by the review
        "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: conversations.db\n"
    )
    url = url_from_endpoints(endpoints)
    assert Path(url.database) == bot / "conversations.db"
    endpoints.write_text("tracker_store:\n  type: SQL\n  db: ${REVIEW_UNSET_TOKEN}\n")
    with pytest.raises(ReviewError, match=r"uses \$\{REVIEW_UNSET_TOKEN\}, which is not set"):
        url_from_endpoints(endpoints)
    monkeypatch.setenv("REVIEW_DB_PASSWORD", "s3cret")
    endpoints.write_text(
        "tracker_store:\n  type: rasa_llm_components.RedactingSQLTrackerStore\n"
        "  dialect: postgresql\n  url: db.internal\n  port: 5433\n  db: rasa\n"
        "  username: rasa\n  password: ${REVIEW_DB_PASSWORD}\n"
    )
    url = url_from_endpoints(endpoints)
    assert (url.host, url.port, url.database, url.password) == ("db.internal", 5433, "rasa",
                                                                "s3cret")
    endpoints.write_text("tracker_store:\n  type: redis\n")
    with pytest.raises(ReviewError, match="SQL tracker stores only"):
        url_from_endpoints(endpoints)
    with pytest.raises(ReviewError, match="does not exist"):
        check_url(f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()

    assert main(["--tracker-store", f"sqlite:///{tmp_path / 'missing.db'}",
                 "--out", str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err
    sqlite3.connect(tmp_path / "empty.db").close()
    assert main(["--tracker-store", f"sqlite:///{tmp_path / 'empty.db'}",
                 "--out", str(tmp_path / "out")]) == 2
    assert "no 'events' table" in capsys.readouterr().err


@pytest.mark.integration
def test_review_reads_postgresql_through_the_endpoints(tmp_path: Path, monkeypatch) -> None:
    """Rasa's own SQLTrackerStore writes to a real PostgreSQL; the review reads it back through
    an endpoints.yml whose password comes from the environment."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from services import PostgresServer

    domain = Domain.from_yaml(
        'version: "3.1"\nintents: [faq, human_handoff, answer_feedback]\nentities: [feedback]\n'
        "slots:\n  handoff_ticket:\n    type: text\n    mappings: [{type: custom}]\n"
        "actions: [action_handoff]\nresponses:\n  utter_llm_answer:\n    - text: hm\n"
    )
    events = [
        UserUttered("What is your return policy?",
                    {"name": "faq", "confidence": 0.98}, parse_data={
                        "intent": {"name": "faq", "confidence": 0.98},
                        "intent_ranking": [{"name": "faq", "confidence": 0.98}]}),
        BotUttered("Returns within 30 days.", {"custom": {"sources": [
            {"id": "returns-1", "title": "Returns"}]}}, metadata={
            "utter_action": "utter_llm_answer", "llm_answer": {
                "answer_kind": "extractive", "retrieval_score": 0.81, "reason": "",
                "sources": ["returns-1"], "query": "What is your return policy?"}}),
        UserUttered('/answer_feedback{"feedback":"down"}',
                    {"name": "answer_feedback", "confidence": 1.0},
                    [{"entity": "feedback", "value": "down"}]),
        UserUttered("agent please", {"name": "human_handoff", "confidence": 0.99}),
        ActionExecuted("action_handoff"),
        SlotSet("handoff_ticket", "HT-77"),
    ]
    with PostgresServer(tmp_path / "pg") as postgres:
        section = postgres.tracker_store()
        store = SQLTrackerStore(
            domain, dialect="postgresql", host=section["url"], port=section["port"],
            db=section["db"], username=section["username"], password=section["password"],
        )  # fmt: skip
        asyncio.run(store.save(DialogueStateTracker.from_events("C2002", events)))
        store.engine.dispose()
        monkeypatch.setenv("REVIEW_PG_PASSWORD", section["password"])
        section["password"] = "${REVIEW_PG_PASSWORD}"
        endpoints = tmp_path / "endpoints.yml"
        endpoints.write_text(
            "tracker_store:\n" + "".join(f"  {k}: {v}\n" for k, v in section.items()),
            encoding="utf-8",
        )
        out = tmp_path / "review"
        assert main(["--endpoints", str(endpoints), "--out", str(out)]) == 0
    disliked = json.loads((out / "thumbs_down.json").read_text(encoding="utf-8"))
    assert [(d["sender_id"], d["question"], d["sources"]) for d in disliked] == [
        ("C2002", "What is your return policy?", [{"id": "returns-1", "title": "Returns"}])
    ]
    handed = json.loads((out / "handoffs.json").read_text(encoding="utf-8"))
    assert [(h["ticket"], h["trigger"]) for h in handed] == [("HT-77", "asked for a person")]
