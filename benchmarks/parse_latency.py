"""Parse latency of trained Rasa models, measured in one run on the same messages.

    python -m benchmarks.parse_latency \
        --models ours.tar.gz diet.tar.gz --texts ../shared/data/banking77/test.csv --count 300

Loads each model, parses the first `--count` texts (the `text` column of a CSV, or one text per
line) after a warm-up, and prints p50/p95 per model and the p50 ratio against the last model.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from benchmarks.parsing import parse_timed
from benchmarks.stats import percentile


def read_texts(path: Path) -> list[str]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return [row["text"] for row in csv.DictReader(handle)]
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", type=Path, required=True)
    parser.add_argument("--texts", type=Path, required=True)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args(argv)
    missing = [str(path) for path in [*args.models, args.texts] if not path.is_file()]
    if missing:
        print(f"Not found: {', '.join(missing)}")
        return 1

    from rasa.core.agent import Agent

    from benchmarks.intents import quiet_rasa_logging

    quiet_rasa_logging()
    texts = read_texts(args.texts)[: args.count]
    rows = []
    for model in args.models:
        _, latencies = parse_timed(Agent.load(str(model)), texts)
        rows.append((model, 1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.95)))
    baseline = rows[-1][1]
    print("| model | p50 ms | p95 ms | p50 vs last |\n|---|---|---|---|")
    for model, p50, p95 in rows:
        print(f"| {model} | {p50:.2f} | {p95:.2f} | {p50 / baseline:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
