"""Options are validated before anything trains; knowledge-file errors are one clear line.

`rasa train` runs on a tiny bot (keyword NLU, RulePolicy, the LLM policy), in-process through
Rasa's API, with one typo'd option per case: it must fail in the fingerprint run, before any
component trains, naming the key, the closest valid key and the valid keys.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.exceptions import RasaException

from rasa_llm_components.config_validation import (
    UnknownOptionError,
    check_known_options,
    unknown_option_message,
)
from tests.llm.conftest import DATA, KNOWLEDGE
from tests.log_records import logged_messages

# Rasa's training hooks log "Starting to train component ..." here.
TRAINING_LOGGER = "rasa.engine.training.hooks"

LLM_POLICY = "rasa_llm_components.LLMResponsePolicy"


def test_message_names_the_key_the_closest_match_and_the_valid_keys():
    message = unknown_option_message("Comp", "batch_sise", ["batch_size", "epochs"])
    assert message == (
        "Comp: unknown option 'batch_sise'. Did you mean 'batch_size'? "
        "Valid options: batch_size, epochs."
    )
    assert "Did you mean" not in unknown_option_message("Comp", "zzz", ["batch_size"])


def test_rasa_injected_keys_are_allowed_only_at_the_top_level():
    check_known_options("Comp", {"epochs": 1, "finetuning_epoch_fraction": 0.5}, ["epochs"])
    with pytest.raises(UnknownOptionError, match="'llm' option 'name'"):
        check_known_options("Comp", {"name": "x"}, ["model"], section="llm", allow_rasa_keys=False)
    with pytest.raises(UnknownOptionError, match="must be a mapping"):
        check_known_options("Comp", ["epochs"], ["epochs"], section="answer")


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(DATA / "bot", tmp_path, dirs_exist_ok=True)
    shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")
    monkeypatch.chdir(tmp_path)  # knowledge paths and the training cache are relative to it
    return tmp_path


def _configure(bot: Path, pipeline_extra: list | None = None, **policy_options: Any) -> None:
    config = yaml.safe_load((bot / "config.yml").read_text())
    config["pipeline"].extend(pipeline_extra or [])
    for policy in config["policies"]:
        if policy["name"] == LLM_POLICY:
            policy.update(policy_options)
    (bot / "config.yml").write_text(yaml.safe_dump(config))


def _train(bot: Path) -> Any:
    from rasa.model_training import train

    return train(
        domain=str(bot / "domain.yml"),
        config=str(bot / "config.yml"),
        training_files=[str(bot / "data")],
        output=str(bot / "models"),
    )


CASES = {
    "classifier": (
        [{"name": "rasa_llm_components.TransformerIntentClassifier", "batch_sise": 8}],
        {},
        "TransformerIntentClassifier: unknown option 'batch_sise'. Did you mean 'batch_size'?",
    ),
    "sentiment": (
        [{"name": "rasa_llm_components.SentimentAnalyzer", "max_char": 100}],
        {},
        "SentimentAnalyzer: unknown option 'max_char'. Did you mean 'max_chars'?",
    ),
    "repair": (
        [],
        None,
        "ConversationRepairPolicy: unknown option 'cancel_intent'. "
        "Did you mean 'cancel_intents'?",
    ),
    "llm_policy": (
        [],
        {"nlu_treshold": 0.4},
        "LLMResponsePolicy: unknown option 'nlu_treshold'. Did you mean 'nlu_threshold'?",
    ),
    "llm_policy_llm": (
        [],
        {"llm": {"n_thread": 2}},
        "Unknown 'llm' option 'n_thread'. Did you mean 'n_threads'?",
    ),
    "llm_policy_answer": (
        [],
        {"answer": {"top_kk": 3}},
        "LLMResponsePolicy: unknown 'answer' option 'top_kk'. Did you mean 'top_k'?",
    ),
    "llm_policy_retrieval": (
        [],
        {"retrieval": {"bm25_weigth": 0.5}},
        "LLMResponsePolicy: unknown 'retrieval' option 'bm25_weigth'.",
    ),
}


def test_the_tiny_bot_trains_as_configured(bot):
    """The control case: without a typo the same bot trains (and the log shows it)."""
    with logged_messages(TRAINING_LOGGER) as messages:
        result = _train(bot)
    assert result.code == 0 and result.model
    assert any("Starting to train" in message for message in messages)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rasa_train_stops_before_training_on_an_unknown_option(bot, case):
    pipeline_extra, policy_options, message = CASES[case]
    if policy_options is None:  # the repair policy
        config = yaml.safe_load((bot / "config.yml").read_text())
        config["policies"].append(
            {"name": "rasa_llm_components.ConversationRepairPolicy", "cancel_intent": ["stop"]}
        )
        (bot / "config.yml").write_text(yaml.safe_dump(config))
    else:
        _configure(bot, pipeline_extra, **policy_options)
    with logged_messages(TRAINING_LOGGER) as messages, pytest.raises(RasaException) as caught:
        _train(bot)
    assert message in str(caught.value)
    assert "Valid options:" in str(caught.value) or "Known" in str(caught.value)
    started = [text for text in messages if "Starting to train" in text]
    assert started == [], started
    assert not (bot / "models").exists() or not list((bot / "models").iterdir())


def test_retrieval_typo_suggests_the_real_option(bot):
    from dataclasses import fields

    from rasa_llm_components.retrieval.scoring import RetrievalConfig

    known = [item.name for item in fields(RetrievalConfig)]
    typo = known[0][:-1] + "x"
    _configure(bot, retrieval={typo: 1})
    with pytest.raises(RasaException, match=f"Did you mean '{known[0]}'"):
        _train(bot)


def test_nlg_option_typo_fails_when_the_agent_is_built():
    import asyncio

    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    from rasa_llm_components.core.nlg import NLGConfigError

    endpoints = AvailableEndpoints(
        nlg=EndpointConfig(type="rasa_llm_components.LLMNaturalLanguageGenerator", timout=5)
    )
    with pytest.raises(NLGConfigError, match="unknown option 'timout'. Did you mean 'timeout'"):
        asyncio.run(load_agent(endpoints=endpoints))


# -- knowledge files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            {"faq.yml": "faqs:\n  - question: Do you ship?\n    answer: Yes: worldwide\n"},
            "Knowledge file 'faq.yml' line 3, column 16: not valid YAML",
        ),
        ({"faq.yml": None, "faq.json": '{"faqs": [\n  {"question": "a",]}'},
         "Knowledge file 'faq.json' line 2, column"),
        ({"faq.yml": None, "catalog.csv": "name,price\nLamp,10,extra\n"},
         "Knowledge file 'catalog.csv': line 2 has 3 cells, the header has 2."),
        ({"faq.yml": None}, "contain no passages"),
        ({"faq.yml": None, "notes.docx": "x"}, "unsupported extension '.docx'"),
    ],
)
def test_broken_knowledge_is_one_clear_error_before_training(bot, broken, message, caplog):
    for name, text in broken.items():
        path = bot / "knowledge" / name
        if text is None:
            path.unlink()
        else:
            path.write_text(text)
    caplog.set_level(logging.INFO)
    with pytest.raises(RasaException) as caught:
        _train(bot)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not [r for r in caplog.records if "Starting to train" in r.getMessage()]


def test_missing_knowledge_path_names_it(bot):
    _configure(bot, knowledge_paths=["knowledge", "faq_typo"])
    with pytest.raises(RasaException, match="Knowledge path 'faq_typo' does not exist"):
        _train(bot)


@pytest.mark.integration
def test_rasa_train_cli_prints_one_line_without_a_traceback(bot):
    (bot / "knowledge" / "faq.yml").write_text("faqs:\n  - question: a\n    answer: b: c\n")
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--out", "models"],
        cwd=bot,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "KnowledgeBaseError:" in line]
    assert len(lines) == 1, output[-3000:]
    assert "Knowledge file 'faq.yml' line 3, column 14: not valid YAML" in lines[0]


@pytest.mark.parametrize(
    "component",
    [
        "rasa_llm_components.transformer_intent_classifier.TransformerIntentClassifier",
        "rasa_llm_components.nlu.sentiment_analyzer.SentimentAnalyzer",
        "rasa_llm_components.nlu.pii_redactor.PIIRedactor",
        "rasa_llm_components.core.llm_policy.LLMResponsePolicy",
        "rasa_llm_components.core.repair_policy.ConversationRepairPolicy",
    ],
)
def test_fingerprint_of_a_component_restored_from_the_cache_is_not_validated(component):
    """`rasa train` with nothing changed: Rasa's hooks call `fingerprint_addon` with the cached
    output's stand-in config (`{"output": ...}`), which is no configuration to check."""
    import importlib

    module, _, name = component.rpartition(".")
    component_class = getattr(importlib.import_module(module), name)
    assert component_class.fingerprint_addon({"output": object()}) is None
