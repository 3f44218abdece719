"""`rasa train` on a small project that uses TransformerIntentClassifier, then parse through it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.intent.conftest import EXAMPLES

pytestmark = pytest.mark.integration

RASA = str(Path(sys.executable).with_name("rasa"))
TRAINED = "Finished training component 'TransformerIntentClassifier'"
CACHED = "Restored component 'TransformerIntentClassifier' from cache"


def write_project(directory: Path, epochs: int) -> None:
    nlu = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
            for intent, texts in EXAMPLES.items()
        ],
    }
    (directory / "data").mkdir(exist_ok=True)
    (directory / "data" / "nlu.yml").write_text(yaml.safe_dump(nlu, sort_keys=False))
    (directory / "domain.yml").write_text(
        yaml.safe_dump({"version": "3.1", "intents": sorted(EXAMPLES)})
    )
    (directory / "config.yml").write_text(
        textwrap.dedent(
            f"""\
            recipe: default.v1
            language: en
            assistant_id: intent-test
            pipeline:
              - name: rasa_llm_components.TransformerIntentClassifier
                epochs: {epochs}
                batch_size: 8
                learning_rate: 0.0001
                ranking_length: 3
              - name: FallbackClassifier
                threshold: 0.6
            policies: []
            """
        )
    )


def rasa_train(project: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [RASA, "train", "nlu", "--fixed-model-name", "intent-model", "--out", "models"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        # INFO shows which components were trained and which came from the cache.
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "LOG_LEVEL": "INFO"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("intent-project")
    write_project(directory, epochs=3)
    first = rasa_train(directory)
    return directory, first.stdout + first.stderr


def parse_all(model_path: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))

    async def parse() -> list[dict]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(parse())


def test_trained_model_parses_messages_with_ranking_and_fallback(project):
    directory, output = project
    assert "Fine-tuning intent classifier" in output  # the progress bar with the running loss
    assert "loss=" in output
    assert TRAINED in output
    results = parse_all(
        directory / "models" / "intent-model.tar.gz",
        ["hey, good morning!", "where is my parcel?", "I'd like a refund", "", "🤷"],
    )
    assert [result["intent"]["name"] for result in results[:3]] == [
        "greet",
        "order_status",
        "refund",
    ]
    # A message unlike every intent is caught thanks to the classifier's rejection option.
    assert results[4]["intent"]["name"] == "nlu_fallback"
    for result in results:
        # FallbackClassifier puts nlu_fallback on top of the ranking when it triggers.
        ranking = [entry for entry in result["intent_ranking"] if entry["name"] != "nlu_fallback"]
        assert sorted(entry["name"] for entry in ranking) == sorted(EXAMPLES)
        top, second = ranking[0]["confidence"], ranking[1]["confidence"]
        # Fallback below the threshold (0.6) or when the top two are within 0.1 (ambiguity).
        fallback = top < 0.6 or top - second < 0.1
        expected = "nlu_fallback" if fallback else ranking[0]["name"]
        assert result["intent"]["name"] == expected


def test_retraining_only_when_data_or_config_change(project):
    directory, _ = project
    unchanged = rasa_train(directory)
    assert TRAINED not in unchanged.stdout + unchanged.stderr
    assert CACHED in unchanged.stdout + unchanged.stderr

    # A change to another component's config must not re-run the fine-tuning.
    config = directory / "config.yml"
    config.write_text(config.read_text().replace("threshold: 0.6", "threshold: 0.5"))
    other_changed = rasa_train(directory)
    assert TRAINED not in other_changed.stdout + other_changed.stderr
    assert CACHED in other_changed.stdout + other_changed.stderr

    config.write_text(config.read_text().replace("epochs: 3", "epochs: 2"))
    own_changed = rasa_train(directory)
    assert TRAINED in own_changed.stdout + own_changed.stderr


def test_training_with_one_intent_fails_with_a_clear_message(tmp_path):
    write_project(tmp_path, epochs=1)
    nlu = tmp_path / "data" / "nlu.yml"
    data = yaml.safe_load(nlu.read_text())
    data["nlu"] = data["nlu"][:1]
    nlu.write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "domain.yml").write_text(yaml.safe_dump({"version": "3.1", "intents": ["greet"]}))
    result = subprocess.run(
        [RASA, "train", "nlu", "--out", "models"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "at least two intents" in result.stdout + result.stderr
