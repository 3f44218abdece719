"""Intent benchmark: TransformerIntentClassifier against a DIET baseline, through Rasa itself.

    python -m benchmarks.intents --data ../shared/data \
        --settings banking77-10shot banking77-full clinc150

Each pipeline is trained with `rasa.model_training.train_nlu` on the same split and every test
message is parsed by the trained model through `Agent.parse_message` (the code behind
`/model/parse`, without HTTP). Results are merged into a JSON file and printed as a table with the
DIET run of the same setting as the baseline. Figures are reported, never asserted.

Settings:
- banking77-full: the official train/test split;
- banking77-10shot: 10 training examples per intent, one run per seed (mean reported);
- clinc150: CLINC150 full; the out-of-scope confidence threshold is tuned on the validation split
  (highest out-of-scope recall with validation in-scope accuracy >= 95%) and applied to test.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.intent_datasets import (
    OUT_OF_SCOPE,
    Example,
    IntentDataset,
    banking77,
    clinc150,
)
from benchmarks.intent_metrics import (
    closed_set_scores,
    out_of_scope_scores,
    plot_confusion_matrix,
    tune_threshold,
)
from benchmarks.parsing import parse_timed
from benchmarks.stats import percentile

SETTINGS = ("banking77-10shot", "banking77-full", "clinc150")
PIPELINES = ("transformer", "diet")
LATENCY_SAMPLES = 300


def quiet_rasa_logging() -> None:
    """Rasa logs every parse at debug level; that would be part of the measured latency."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def pipeline_config(pipeline: str, few_shot: bool, seed: int, args: argparse.Namespace) -> list:
    if pipeline == "transformer":
        epochs = args.epochs or (10 if few_shot else 3)
        return [
            {
                "name": "rasa_llm_components.TransformerIntentClassifier",
                "epochs": epochs,
                "batch_size": 16 if few_shot else 32,
                "random_seed": seed,
                "num_threads": args.threads,
            }
        ]
    return [
        {"name": "WhitespaceTokenizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": args.diet_epochs, "random_seed": seed},
    ]


def write_project(directory: Path, train: list[Example], pipeline: list) -> tuple[Path, Path]:
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    directory.mkdir(parents=True, exist_ok=True)
    data = TrainingData([Message(data={TEXT: text, INTENT: intent}) for text, intent in train])
    nlu_path = directory / "nlu.yml"
    RasaYAMLWriter().dump(nlu_path, data)
    config_path = directory / "config.yml"
    config = {"recipe": "default.v1", "language": "en", "pipeline": pipeline, "policies": []}
    config_path.write_text(json.dumps(config), encoding="utf-8")  # JSON is valid YAML
    return config_path, nlu_path


def train_and_parse(dataset: IntentDataset, pipeline: list, workdir: Path) -> dict[str, Any]:
    """Trains one pipeline and parses the test (and validation) texts with it."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config_path, nlu_path = write_project(workdir, dataset.train, pipeline)
    started = time.perf_counter()
    model_path = train_nlu(str(config_path), str(nlu_path), str(workdir / "models"), "model")
    train_seconds = time.perf_counter() - started
    agent = Agent.load(model_path)
    test_predictions, latencies = parse_timed(agent, [text for text, _ in dataset.test])
    validation_predictions = (
        parse_timed(agent, [text for text, _ in dataset.validation])[0]
        if dataset.validation
        else []
    )
    sample = latencies[:LATENCY_SAMPLES]
    return {
        "train_seconds": round(train_seconds, 1),
        "parse_p50_ms": round(1000 * percentile(sample, 0.5), 2),
        "parse_p95_ms": round(1000 * percentile(sample, 0.95), 2),
        "test_predictions": test_predictions,
        "validation_predictions": validation_predictions,
    }


def evaluate(dataset: IntentDataset, run: dict[str, Any], plot_path: Path | None) -> dict[str, Any]:
    gold = [intent for _, intent in dataset.test]
    predicted = [name for name, _ in run["test_predictions"]]
    result = {key: run[key] for key in ("train_seconds", "parse_p50_ms", "parse_p95_ms")}
    result["train_examples"] = len(dataset.train)
    in_scope = [i for i, intent in enumerate(gold) if intent != OUT_OF_SCOPE]
    result.update(closed_set_scores([gold[i] for i in in_scope], [predicted[i] for i in in_scope]))
    if dataset.validation:
        threshold = tune_threshold(
            [intent for _, intent in dataset.validation], run["validation_predictions"]
        )
        result["threshold"] = threshold
        result.update(out_of_scope_scores(gold, run["test_predictions"], threshold))
    if plot_path is not None:
        plot_confusion_matrix(
            [gold[i] for i in in_scope], [predicted[i] for i in in_scope], plot_path
        )
        result["confusion_matrix"] = str(plot_path)
    return result


def datasets_for(setting: str, data_dir: Path, seeds: list[int]) -> list[IntentDataset]:
    if setting == "banking77-full":
        return [banking77(data_dir)]
    if setting == "banking77-10shot":
        return [banking77(data_dir, shots=10, seed=seed) for seed in seeds]
    if setting == "clinc150":
        return [clinc150(data_dir)]
    raise ValueError(f"unknown setting {setting!r}; choose from {', '.join(SETTINGS)}")


def merge_results(path: Path, new: dict[str, Any]) -> dict[str, Any]:
    results = json.loads(path.read_text()) if path.exists() else {}
    results.update(new)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True))
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    parser.add_argument("--pipelines", nargs="+", default=list(PIPELINES), choices=PIPELINES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=0, help="override our epochs")
    parser.add_argument("--diet-epochs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--results", type=Path, default=Path("benchmark_results/intents.json"))
    parser.add_argument("--plots", type=Path, default=Path("docs/benchmarks"))
    parser.add_argument("--workdir", type=Path, default=Path("benchmark_results/work"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.intent_report import format_report

    args = parse_args(argv)
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # every run trains for real, nothing from the cache
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    quiet_rasa_logging()
    if not (args.data / "banking77").is_dir() and not (args.data / "clinc150").is_dir():
        print(f"No benchmark data under {args.data} (expected banking77/ and clinc150/).")
        return 1
    for setting in args.settings:
        for dataset in datasets_for(setting, args.data, args.seeds):
            seed = int(dataset.name.rsplit("seed", 1)[1]) if "seed" in dataset.name else 0
            for pipeline in args.pipelines:
                key = f"{dataset.name}/{pipeline}"
                print(f"== {key}: training on {len(dataset.train)} examples", flush=True)
                config = pipeline_config(pipeline, "shot" in dataset.name, seed, args)
                run = train_and_parse(dataset, config, args.workdir / key)
                plot = None
                if setting != "banking77-10shot":
                    plot = args.plots / f"{dataset.name}-{pipeline}-confusion.png"
                merge_results(args.results, {key: evaluate(dataset, run, plot)})
    results = json.loads(args.results.read_text())
    print(format_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
