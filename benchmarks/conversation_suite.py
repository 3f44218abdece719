"""Runs the customer conversation suite against real servers and prints the figures.

    python -m benchmarks.conversation_suite [--model MODEL.tar.gz] [--json out.json]
        [--conversations DIR] [--tag TAG ...] [--id ID ...] [--show-failures] [--keep-dir DIR]

Trains the example bot (or takes `--model`, or $EXAMPLE_BOT_MODEL), seeds a temporary shop
database, starts `rasa run actions` and `rasa run --enable-api` on free loopback ports, holds
every conversation of example_bot/tests/conversations/*.yml over the REST channel and prints:
conversations passed / total (%), customer turns, silent turns (no bot text at all) and the pass
rate per tag. `--json` writes every conversation's transcript and failures. `--conversations`
runs another folder, e.g. the held-out set that nobody tunes on:

    python -m benchmarks.conversation_suite --conversations example_bot/tests/conversations_heldout

All the logic lives in example_bot/tests/conversation_suite.py (shared with the pytest suite
example_bot/tests/test_conversations.py); this is only the command line around it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_BOT_DIR = REPO_ROOT / "example_bot"
TESTS_DIR = EXAMPLE_BOT_DIR / "tests"
# The tests folder first: its conversation_suite module, not this file, is the one to import.
for _path in (EXAMPLE_BOT_DIR, TESTS_DIR):
    sys.path.insert(0, str(_path))

import conversation_suite as suite  # noqa: E402
from chat_client import ChatClient  # noqa: E402

from benchmarks.work_dirs import in_work_dir  # noqa: E402


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.conversation_suite",
        description="Pass rate and silent turns of the customer conversation suite.",
    )
    parser.add_argument("--model", help=f"trained model (default: ${suite.MODEL_ENV} or train)")
    parser.add_argument("--json", type=Path, help="write the details to this JSON file")
    parser.add_argument(
        "--conversations",
        type=Path,
        default=suite.CONVERSATIONS_DIR,
        help="folder of conversation *.yml files (default: the tuning suite; the held-out set: "
        "example_bot/tests/conversations_heldout)",
    )
    parser.add_argument("--tag", action="append", default=[], help="only these tags")
    parser.add_argument("--id", action="append", default=[], help="only these conversation ids")
    parser.add_argument(
        "--show-failures", action="store_true", help="print the transcript of every failure"
    )
    parser.add_argument(
        "--keep-dir", type=Path, help="work in this folder and keep it (logs, database, model)"
    )
    return parser.parse_args(argv)


def _progress(result: suite.ConversationResult) -> None:
    mark = "ok  " if result.passed else "FAIL"
    reason = "" if result.passed else f"  ({result.failure_reasons()[0]})"
    print(f"{mark} {result.spec.id} [{result.seconds:.1f}s]{reason}", flush=True)


def run(args: argparse.Namespace, work_dir: Path) -> int:
    """Trains or loads the model, starts the servers, runs the suite, prints the figures."""
    conversations = suite.select_conversations(
        suite.load_conversations(args.conversations), tags=args.tag, ids=args.id
    )
    if not conversations:
        print("No conversation matches the filters.", file=sys.stderr)
        return 2
    started = time.monotonic()
    model = suite.resolve_model(work_dir, args.model)
    print(f"model: {model}", flush=True)
    database = suite.ShopDatabase.seed(work_dir / "shop.db")
    servers = suite.BotServers(model, database, work_dir).start()
    client = ChatClient(servers.url)
    try:
        print(f"servers up: {servers.url}; {len(conversations)} conversations", flush=True)
        results = suite.run_suite(client, conversations, database, servers, on_result=_progress)
    finally:
        client.close()
        servers.stop()
    summary = suite.summarize(results)
    if args.show_failures:
        for result in results:
            if not result.passed:
                print("\n" + result.transcript())
    print()
    print(suite.format_summary(summary))
    print(f"\nfailed: {', '.join(summary.failed_ids) or 'none'}")
    print(f"time: {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(
            suite.results_json(results, model=str(model)) + "\n",
            encoding="utf-8",
        )
        print(f"details: {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    args = _parse_args(argv)
    return in_work_dir(args.keep_dir, "conversation_suite_", lambda work_dir: run(args, work_dir))


if __name__ == "__main__":
    sys.exit(main())
