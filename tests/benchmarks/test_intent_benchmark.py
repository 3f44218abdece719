"""The intent benchmark script runs end to end on a tiny dataset (figures are not asserted)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.intent_metrics import out_of_scope_scores, tune_threshold
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


def run_script(module: str, *args: str) -> subprocess.CompletedProcess:
    """Runs a benchmark as users do, in its own process (it changes logging and environment)."""
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        capture_output=True,
        text=True,
        timeout=1200,
    )


def run_benchmark(*args: str) -> subprocess.CompletedProcess:
    return run_script("intents", *args)


@pytest.fixture(scope="module")
def benchmark_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The intents benchmark on tiny data, both pipelines, both full-data settings."""
    directory = tmp_path_factory.mktemp("intent-benchmark")
    write_tiny_datasets(directory / "data")
    run = run_benchmark(
        "--data", str(directory / "data"),
        "--settings", "banking77-full", "clinc150",
        "--epochs", "1",
        "--diet-epochs", "1",
        "--results", str(directory / "results.json"),
        "--plots", str(directory / "plots"),
        "--workdir", str(directory / "work"),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return directory, run


def test_benchmark_trains_both_pipelines_and_reports(benchmark_run):
    directory, run = benchmark_run
    measured = json.loads((directory / "results.json").read_text())
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


def test_follow_up_scripts_read_the_trained_models(benchmark_run):
    directory, _ = benchmark_run
    ours = directory / "work" / "banking77-full" / "transformer" / "models" / "model.tar.gz"
    diet = directory / "work" / "banking77-full" / "diet" / "models" / "model.tar.gz"
    texts = directory / "data" / "banking77" / "test.csv"

    latency = run_script("parse_latency", "--models", str(ours), str(diet), "--texts", str(texts))
    assert latency.returncode == 0, latency.stderr[-2000:]
    assert f"| {diet} |" in latency.stdout and "| 1.00x |" in latency.stdout

    quantization = run_script("intent_quantization", "--model", str(ours), "--texts", str(texts))
    assert quantization.returncode == 0, quantization.stderr[-2000:]
    assert "| 1 | int8 |" in quantization.stdout and "| 2 | fp32 |" in quantization.stdout

    clinc_model = directory / "work" / "clinc150" / "transformer" / "models" / "model.tar.gz"
    rejection = run_script(
        "intent_rejection", "--model", str(clinc_model), "--data", str(directory / "data"),
        "--values", "0.4",
    )  # fmt: skip
    assert rejection.returncode == 0, rejection.stderr[-2000:]
    rows = [line for line in rejection.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        "| softmax",
        "| rejection_similarity 0.4",
        "| best cosine similarity",
    ]
    assert "closed-set accuracy on validation" in rejection.stdout

    # A DIET model has no TransformerIntentClassifier to score.
    wrong = run_script("intent_rejection", "--model", str(diet), "--data", str(directory / "data"))
    assert wrong.returncode == 1 and "no trained TransformerIntentClassifier" in wrong.stdout


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
