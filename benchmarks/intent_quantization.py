"""Speed and accuracy of a trained TransformerIntentClassifier with and without int8 quantisation.

    python -m benchmarks.intent_quantization \
        --model benchmark_results/work/banking77-10shot-seed0/transformer/models/model.tar.gz \
        --texts ../shared/data/banking77/test.csv

Times the classifier alone (tokenise + encode + head) on single messages for 1 and 2 torch
threads, fp32 and dynamic int8, and reports accuracy on the whole CSV (`text,category`), also one
message at a time (dynamic int8 scales activations per batch, so batching would change it).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.stats import percentile
from benchmarks.trained_models import unpacked_classifier


def measure(predictor: Any, rows: list[tuple[str, str]], count: int) -> tuple[list[float], float]:
    """Seconds per message for the first `count` rows and accuracy (percent) on all of them,
    one message at a time as Rasa parses them."""
    latencies, correct = [], 0
    for position, (text, intent) in enumerate(rows):
        began = time.perf_counter()
        best = int(predictor.predict([text]).argmax())
        if position < count:
            latencies.append(time.perf_counter() - began)
        correct += predictor.labels[best] == intent
    return latencies, 100 * correct / len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a Rasa model .tar.gz")
    parser.add_argument("--texts", type=Path, required=True, help="CSV with text,category")
    parser.add_argument("--count", type=int, default=300, help="messages timed")
    args = parser.parse_args(argv)
    if not args.model.is_file() or not args.texts.is_file():
        print("Model or texts not found.")
        return 1

    import torch

    from rasa_llm_components.intent.predictor import IntentPredictor

    with args.texts.open(encoding="utf-8", newline="") as handle:
        rows = [(row["text"], row["category"]) for row in csv.DictReader(handle)]
    try:
        with unpacked_classifier(args.model) as directory:
            print("| threads | weights | p50 ms | p95 ms | accuracy |\n|---|---|---|---|---|")
            for threads in (1, 2):
                torch.set_num_threads(threads)
                for quantize in (False, True):
                    predictor = IntentPredictor.load(directory, quantize=quantize)
                    latencies, accuracy = measure(predictor, rows, args.count)
                    print(
                        f"| {threads} | {'int8' if quantize else 'fp32'} "
                        f"| {1000 * percentile(latencies, 0.5):.1f} "
                        f"| {1000 * percentile(latencies, 0.95):.1f} | {accuracy:.2f} |",
                        flush=True,
                    )
    except ValueError as error:
        print(error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
