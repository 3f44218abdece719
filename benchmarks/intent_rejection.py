"""Out-of-scope detection of a trained classifier for several confidence definitions (CLINC150).

    python -m benchmarks.intent_rejection \
        --model benchmark_results/work/clinc150/transformer/models/model.tar.gz \
        --data ../shared/data

Scores the CLINC150 validation and test messages once, one message at a time as Rasa parses
them (int8 as by default; `--fp32` for full precision), then compares the plain softmax, each
`rejection_similarity` in `--values` and the raw best cosine similarity. For each it tunes the
threshold on validation exactly as the intents benchmark does and reports test in-scope accuracy
and out-of-scope recall, how test messages fall around `--reference` (a fixed threshold such as
FallbackClassifier's), and the scores at that fixed threshold. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.intent_datasets import OUT_OF_SCOPE, clinc150
from benchmarks.intent_metrics import out_of_scope_scores, tune_threshold
from benchmarks.parsing import Prediction
from benchmarks.trained_models import unpacked_classifier


def top_predictions(labels: list[str], scores: list[list[float]]) -> list[Prediction]:
    """(best intent, its score) per message."""
    best = [max(range(len(row)), key=row.__getitem__) for row in scores]
    return [(labels[index], row[index]) for index, row in zip(best, scores, strict=True)]


def share(values: list[bool]) -> float:
    return round(100 * sum(values) / max(1, len(values)), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a Rasa model .tar.gz")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--values", nargs="+", type=float, default=[0.3, 0.4, 0.5, 0.6])
    parser.add_argument("--reference", type=float, default=0.5, help="a fixed threshold")
    parser.add_argument("--fp32", action="store_true", help="do not quantise to int8")
    args = parser.parse_args(argv)
    data_file = args.data / "clinc150" / "data_full.json"
    if not args.model.is_file() or not data_file.is_file():
        print(f"Model or {data_file} not found.")
        return 1

    import torch

    from rasa_llm_components.intent.predictor import IntentPredictor, confidences

    dataset = clinc150(args.data)
    try:
        with unpacked_classifier(args.model) as directory:
            predictor = IntentPredictor.load(directory, quantize=not args.fp32)
    except ValueError as error:
        print(error)
        return 1
    logits = {
        split: torch.cat([predictor.logits([text]) for text, _ in examples])
        for split, examples in (("validation", dataset.validation), ("test", dataset.test))
    }
    gold = {
        "validation": [intent for _, intent in dataset.validation],
        "test": [intent for _, intent in dataset.test],
    }
    scale = predictor.model.scale
    variants: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "softmax": lambda split_logits: confidences(split_logits, scale),
        **{
            f"rejection_similarity {value}": (
                lambda split_logits, value=value: confidences(split_logits, scale, value)
            )
            for value in args.values
        },
        "best cosine similarity": lambda split_logits: split_logits / scale,
    }

    for split, split_logits in logits.items():
        names = [name for name, _ in top_predictions(predictor.labels, split_logits.tolist())]
        pairs = zip(names, gold[split], strict=True)
        accuracy = share([name == intent for name, intent in pairs if intent != OUT_OF_SCOPE])
        print(f"closed-set accuracy on {split} (in-scope messages, no threshold): {accuracy}")

    reference = args.reference
    print(
        "\n| confidence | threshold (tuned on validation) | test in-scope accuracy "
        f"| test OOS recall | in-scope >= {reference} | OOS < {reference} "
        f"| at {reference}: in-scope accuracy / OOS recall |\n|---|---|---|---|---|---|---|"
    )
    for name, score in variants.items():
        predictions = {
            split: top_predictions(predictor.labels, score(logits[split]).tolist())
            for split in logits
        }
        threshold = tune_threshold(gold["validation"], predictions["validation"])
        tuned = out_of_scope_scores(gold["test"], predictions["test"], threshold)
        fixed = out_of_scope_scores(gold["test"], predictions["test"], reference)
        test = list(zip(gold["test"], predictions["test"], strict=True))
        above = share([conf >= reference for intent, (_, conf) in test if intent != OUT_OF_SCOPE])
        below = share([conf < reference for intent, (_, conf) in test if intent == OUT_OF_SCOPE])
        print(
            f"| {name} | {threshold} | {tuned['in_scope_accuracy']} | {tuned['oos_recall']} "
            f"| {above}% | {below}% | {fixed['in_scope_accuracy']} / {fixed['oos_recall']} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
