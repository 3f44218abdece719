"""python -m rasa_llm_components.llm.finetune --knowledge example_bot/knowledge --out DIR"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rasa_llm_components.llm.finetune.export import QUANTIZATIONS
from rasa_llm_components.llm.finetune.training import FineTuneError, TrainSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = TrainSettings()
    parser = argparse.ArgumentParser(
        prog="python -m rasa_llm_components.llm.finetune",
        description="Fine-tunes the embedded LLM on a knowledge base (LoRA) and writes a GGUF "
        "model the llamacpp backend loads (llm: {model_path: DIR/finetuned.gguf}).",
    )
    parser.add_argument("--knowledge", nargs="+", required=True,
                        help="knowledge files or folders (FAQ, policies, catalog)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--rank", type=int, default=defaults.rank)
    parser.add_argument("--layers", type=int, default=defaults.layers,
                        help="LoRA on the last N transformer blocks only, 0 = all "
                        "(default %(default)s)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--limit", type=int, default=0, help="at most N training examples")
    parser.add_argument("--max-minutes", type=float, default=0.0,
                        help="stop training after this many minutes and export (0: all steps)")
    parser.add_argument("--answer-config", type=json.loads, default={},
                        help="JSON answer settings of the bot (the prompt the model will see), "
                        "e.g. '{\"shop_name\": \"VoltNest\"}'")
    parser.add_argument("--base-model", default=None,
                        help="GGUF file to fine-tune (default: the packaged SmolLM2)")
    parser.add_argument("--quantization", choices=QUANTIZATIONS, default="q8_0")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rasa_llm_components.llm.base import LLMConfigError
    from rasa_llm_components.llm.finetune.pipeline import fine_tune

    settings = TrainSettings(
        steps=args.steps, seed=args.seed, batch_size=args.batch_size,
        learning_rate=args.learning_rate, rank=args.rank, layers=args.layers or None,
        num_threads=args.threads, max_minutes=args.max_minutes,
        show_progress=not args.no_progress,
    )
    started = time.perf_counter()
    try:
        summary = fine_tune(args.knowledge, args.out, settings, limit=args.limit,
                            answer_settings=args.answer_config, base_model=args.base_model,
                            quantization=args.quantization)
    except (FineTuneError, LLMConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{summary.examples} examples {summary.examples_by_kind} -> {summary.dataset_path}")
    print(f"{summary.steps_done} steps, loss {summary.first_losses[:1]} -> "
          f"{summary.last_losses[-1:]}; "
          f"seconds {summary.seconds}; total {time.perf_counter() - started:.0f} s")
    print(f"model: {summary.model_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
