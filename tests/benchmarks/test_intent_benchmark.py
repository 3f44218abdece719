"""The intent benchmark script runs end to end on a tiny dataset (figures are not asserted)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rasa_llm_components.benchmarks.intent_metrics import out_of_scope_scores, tune_threshold
from tests.intent.conftest import EXAMPLES

pytestmark = pytest.mark.integration


def write_tiny_datasets(data_dir: Path) -> None:
    banking = data_dir / "banking77"
    banking.mkdir(parents=True)
    for split in ("train", "test"):
        with (banking / f"{split}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "category"])
            for intent, texts in EXAMPLES.items():
                chosen = texts[:6] if split == "train" else texts[6:]
                writer.writerows([text, intent] for text in chosen)
    clinc = {
        "train": [[t, i] for i, texts in EXAMPLES.items() for t in texts[:5]],
        "val": [[t, i] for i, texts in EXAMPLES.items() for t in texts[5:6]],
        "test": [[t, i] for i, texts in EXAMPLES.items() for t in texts[6:]],
        "oos_val": [["what is the capital of peru", "oos"]],
        "oos_test": [["sing me a song about whales", "oos"], ["how tall is everest", "oos"]],
    }
    (data_dir / "clinc150").mkdir()
    (data_dir / "clinc150" / "data_full.json").write_text(json.dumps(clinc))


def run_benchmark(*args: str) -> subprocess.CompletedProcess:
    """Runs the script as users do, in its own process (it changes logging and environment)."""
    return subprocess.run(
        [sys.executable, "-m", "rasa_llm_components.benchmarks.intents", *args],
        capture_output=True,
        text=True,
        timeout=1200,
    )


def test_benchmark_trains_both_pipelines_and_reports(tmp_path):
    write_tiny_datasets(tmp_path / "data")
    results = tmp_path / "results.json"
    run = run_benchmark(
        "--data", str(tmp_path / "data"),
        "--settings", "banking77-full", "clinc150",
        "--epochs", "1",
        "--diet-epochs", "1",
        "--results", str(results),
        "--plots", str(tmp_path / "plots"),
        "--workdir", str(tmp_path / "work"),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    measured = json.loads(results.read_text())
    assert set(measured) == {
        "banking77-full/transformer",
        "banking77-full/diet",
        "clinc150/transformer",
        "clinc150/diet",
    }
    for result in measured.values():
        assert 0 <= result["accuracy"] <= 100
        assert result["parse_p50_ms"] > 0
        assert Path(result["confusion_matrix"]).stat().st_size > 0
    assert {"threshold", "oos_recall", "in_scope_accuracy"} <= set(measured["clinc150/diet"])
    assert "| banking77-full | transformer | 1 |" in run.stdout


def test_missing_data_is_reported_not_faked(tmp_path):
    run = run_benchmark("--data", str(tmp_path))
    assert run.returncode == 1
    assert "No benchmark data" in run.stdout


def test_threshold_tuning_keeps_in_scope_accuracy_at_the_floor():
    gold = ["a", "a", "b", "b", "oos", "oos"]
    predictions = [("a", 0.9), ("a", 0.8), ("b", 0.7), ("b", 0.3), ("a", 0.4), ("b", 0.2)]
    threshold = tune_threshold(gold, predictions, min_in_scope_accuracy=75.0)
    assert threshold == pytest.approx(0.7)
    assert out_of_scope_scores(gold, predictions, threshold) == {
        "in_scope_accuracy": 75.0,
        "oos_recall": 100.0,
    }
