"""LLM turns under load: how many free-form questions the embedded model answers, how fast, and
what the load does to everyone else's turns. Measured on a real `rasa run` of the example bot.

    python -m benchmarks.llm_load [--chatters 20] [--askers 5] [--duration 60]
        [--runs unbounded 2:2] [--model MODEL.tar.gz] [--json out.json] [--keep-dir DIR]

For every run (`unbounded`: one llama.cpp slot and an unbounded queue, as before the admission
gate; `N:Q`: `n_parallel: N`, `max_queue: Q` in the NLG's `llm` settings) it starts the action
server and `rasa run` with the example bot's endpoints, then, for `--duration` seconds each:

- idle: `--chatters` customers chat (greetings, small talk, order questions: no LLM), each
  waiting 1-3 s between messages as people do;
- loaded: the same chatters, plus `--askers` customers asking free-form questions about the shop
  (answered by the LLM), each waiting 2-4 s between questions.

It prints, per run: the chatters' p50/p95 idle and loaded and their ratio (the other
conversations' slowdown), the LLM turns' p50/p95, and how each LLM turn ended, read from the
answer diagnostics stored with the bot message: in the LLM's own words, written by the LLM but
replaced by the checks, refused at once because every slot and the queue were busy (answered
from the knowledge), timed out, or not needing the LLM (abstention, refusal). Every turn must
get a reply: silent turns and HTTP errors are counted.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

# replicas_load puts example_bot/ and its tests on sys.path (chat_client, conversation_suite).
from benchmarks.replicas_load import (
    BOT_DIR,
    ORDER_QUESTIONS,
    SIGNED_CUSTOMERS,
    SMALL_TALK,
    BotServers,
    ChatClient,
    Conversation,
    ShopDatabase,
    customer_orders,
    resolve_model,
    yaml_section,
)
from benchmarks.stats import percentile
from benchmarks.work_dirs import in_work_dir

ANSWER_METADATA_KEY = "llm_answer"
# Free-form questions as customers type them; none is worded like the knowledge files.
QUESTIONS = (
    "hey do you guys ship to canada? how much would that be",
    "what happens if my headphones break after like 6 months",
    "can i pay with apple pay or only cards",
    "how many days do i have to send something back",
    "is there a restocking fee if i return opened stuff",
    "do you deliver on weekends",
    "my package says delivered but its not here, what do i do",
    "how long till i get my money back after returning",
    "can i change the address after i ordered",
    "do u price match",
    "is the pulse 3 ok for swimming",
    "does the watch work with iphone",
    "what's the cheapest way to ship",
    "do you ship to po boxes",
    "can i return a gift without the receipt",
)
CHATTER_THINK_S = (1.0, 3.0)
ASKER_THINK_S = (2.0, 4.0)
OUTCOMES = ("llm_words", "llm_replaced", "busy", "timed_out", "no_llm_needed", "other")


@dataclass
class Turn:
    """One message of the load: who sent it, in which phase, how long the reply took."""

    role: str  # "chatter" or "asker"
    phase: str  # "idle" or "loaded"
    sender: str
    seconds: float
    replies: int
    error: str | None = None


def outcome(diagnostics: dict[str, Any]) -> str:
    """How an LLM turn ended, from the answer diagnostics stored with the bot message."""
    kind = diagnostics.get("answer_kind")
    reason = str(diagnostics.get("reason") or "")
    if "LLMBusyError" in reason:
        return "busy"
    if "TimeoutError" in reason or reason == "timeout":
        return "timed_out"
    if kind == "generated":
        return "llm_words"
    if reason in ("generation rejected", "model abstained"):
        return "llm_replaced"
    if kind in ("abstained", "refused", "extractive"):
        return "no_llm_needed"
    return "other"


def llm_outcomes(client: ChatClient, sender: str, since: float) -> list[str]:
    """The outcome of every LLM answer in `sender`'s conversation after `since` (a timestamp)."""
    events = client.tracker(sender).get("events") or []
    return [
        outcome(event["metadata"][ANSWER_METADATA_KEY])
        for event in events
        if event.get("event") == "bot"
        and event.get("timestamp", 0) >= since
        and ANSWER_METADATA_KEY in (event.get("metadata") or {})
    ]


class Customer:
    """One conversation that sends messages with think time until told to stop."""

    def __init__(
        self, url: str, role: str, customer_id: str | None, lines: list[str], seed: int
    ) -> None:
        self.client = ChatClient(url)
        self.role = role
        self.lines = lines
        self.rng = random.Random(seed)
        self.conversation: Conversation = self.client.conversation(
            customer_id, None if customer_id else f"load-{uuid.uuid4().hex[:10]}"
        )
        self.position = 0

    @property
    def sender(self) -> str:
        return self.conversation.identity.sender

    def talk(self, phase: str, stop: threading.Event, out: list[Turn]) -> None:
        think = ASKER_THINK_S if self.role == "asker" else CHATTER_THINK_S
        # Customers do not all start typing in the same millisecond.
        stop.wait(self.rng.uniform(0, think[1]))
        while not stop.is_set():
            text = self.lines[self.position % len(self.lines)]
            self.position += 1
            began = time.monotonic()
            try:
                messages = self.client.send(self.conversation.identity, text)
                error = None
            except requests.RequestException as failure:
                messages, error = [], f"{type(failure).__name__}: {failure}"
            out.append(
                Turn(
                    role=self.role,
                    phase=phase,
                    sender=self.sender,
                    seconds=time.monotonic() - began,
                    replies=sum(bool(message.get("text")) for message in messages),
                    error=error,
                )
            )
            stop.wait(self.rng.uniform(*think))


def chatter_lines(customer_id: str | None, orders: dict[str, list[str]], seed: int) -> list[str]:
    """Greetings, small talk and order questions (signed customers ask about their orders)."""
    rng = random.Random(seed)
    lines = [rng.choice(SMALL_TALK[:2])]
    numbers = orders.get(customer_id or "", [])
    for _ in range(40):
        if numbers and rng.random() < 0.5:
            lines.append(rng.choice(ORDER_QUESTIONS).format(number=rng.choice(numbers)))
        else:
            lines.append(rng.choice(SMALL_TALK))
    return lines


def run_phase(customers: list[Customer], phase: str, duration: float) -> list[Turn]:
    """Lets every customer talk for `duration` seconds; returns their turns."""
    turns: list[Turn] = []
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=len(customers)) as pool:
        futures = [pool.submit(customer.talk, phase, stop, turns) for customer in customers]
        time.sleep(duration)
        stop.set()
        for future in futures:
            future.result()
    return turns


def llm_settings(run: str) -> dict[str, Any]:
    """The NLG's `llm` overrides of a run name (`unbounded` or `N:Q`)."""
    if run == "unbounded":
        return {"n_parallel": 1, "max_queue": None}
    slots, _, queue = run.partition(":")
    return {"n_parallel": int(slots), "max_queue": int(queue) if queue else None}


def measure_run(
    run: str, model: Path, work_dir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Starts the bot with the run's settings, runs both phases, returns the figures."""
    database = ShopDatabase.seed(work_dir / "shop.db")
    nlg = yaml_section(BOT_DIR / "endpoints.yml", "nlg")
    nlg["llm"] = {**(nlg.get("llm") or {}), **llm_settings(run)}
    servers = BotServers(model, database, work_dir, endpoints_overrides={"nlg": nlg}).start()
    try:
        orders = customer_orders(database)
        warm = ChatClient(servers.url)
        conversation = warm.conversation(None, f"warmup-{uuid.uuid4().hex[:6]}")
        for text in ("hi", QUESTIONS[0], QUESTIONS[1]):  # model load, prompt cache
            warm.send(conversation.identity, text)
        chatters = [
            Customer(
                servers.url,
                "chatter",
                SIGNED_CUSTOMERS[i] if i < len(SIGNED_CUSTOMERS) else None,
                chatter_lines(SIGNED_CUSTOMERS[i] if i < len(SIGNED_CUSTOMERS) else None,
                              orders, args.seed + i),
                args.seed + i,
            )
            for i in range(args.chatters)
        ]
        askers = [
            Customer(
                servers.url,
                "asker",
                None,
                list(QUESTIONS[i:] + QUESTIONS[:i]),
                args.seed + 1000 + i,
            )
            for i in range(args.askers)
        ]
        idle = run_phase(chatters, "idle", args.duration)
        loaded_since = time.time()
        loaded = run_phase(chatters + askers, "loaded", args.duration)
        outcomes: Counter[str] = Counter()
        for asker in askers:
            outcomes.update(llm_outcomes(warm, asker.sender, loaded_since))
        for customer in [*chatters, *askers]:
            customer.client.close()
        warm.close()
    finally:
        servers.stop()
    return figures(run, idle + loaded, outcomes)


def figures(run: str, turns: list[Turn], outcomes: Counter[str]) -> dict[str, Any]:
    """Latency of each group of turns and the LLM turns' outcomes."""

    def seconds(role: str, phase: str) -> list[float]:
        return [t.seconds for t in turns if t.role == role and t.phase == phase and not t.error]

    idle, loaded, asked = (
        seconds("chatter", "idle"), seconds("chatter", "loaded"), seconds("asker", "loaded")
    )
    llm_turns = sum(outcomes.values())
    answered = outcomes["llm_words"] + outcomes["llm_replaced"]
    needed = llm_turns - outcomes["no_llm_needed"]
    return {
        "run": run,
        "chatter_turns": len(idle) + len(loaded),
        "idle_p50_s": round(percentile(idle, 0.5), 3),
        "idle_p95_s": round(percentile(idle, 0.95), 3),
        "loaded_p50_s": round(percentile(loaded, 0.5), 3),
        "loaded_p95_s": round(percentile(loaded, 0.95), 3),
        "others_p50_ratio": round(percentile(loaded, 0.5) / percentile(idle, 0.5), 2),
        "llm_turns": llm_turns,
        "llm_p50_s": round(percentile(asked, 0.5), 3),
        "llm_p95_s": round(percentile(asked, 0.95), 3),
        "answered_by_llm_share": round(answered / needed, 3) if needed else 0.0,
        "outcomes": {name: outcomes[name] for name in OUTCOMES},
        "http_errors": sum(t.error is not None for t in turns),
        "silent_turns": sum(t.replies == 0 and t.error is None for t in turns),
    }


def format_table(results: list[dict[str, Any]]) -> str:
    """One line per run, then each run's outcome counts."""
    header = (
        f"{'run':<10} {'idle p50':>8} {'load p50':>8} {'ratio':>6} {'load p95':>8} "
        f"{'LLM turns':>9} {'by LLM':>7} {'LLM p50':>8} {'LLM p95':>8} {'errors':>6} "
        f"{'silent':>6}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r['run']:<10} {r['idle_p50_s']:>7.2f}s {r['loaded_p50_s']:>7.2f}s "
            f"{r['others_p50_ratio']:>6.2f} {r['loaded_p95_s']:>7.2f}s {r['llm_turns']:>9} "
            f"{100 * r['answered_by_llm_share']:>6.1f}% {r['llm_p50_s']:>7.2f}s "
            f"{r['llm_p95_s']:>7.2f}s {r['http_errors']:>6} {r['silent_turns']:>6}"
        )
    for r in results:
        counts = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in r["outcomes"].items())
        lines.append(f"{r['run']}: {counts}")
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.llm_load",
        description="LLM turns of the example bot under load, and everyone else's latency.",
    )
    parser.add_argument("--chatters", type=int, default=20, help="customers chatting (no LLM)")
    parser.add_argument("--askers", type=int, default=5, help="customers asking free-form")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument(
        "--runs", nargs="+", default=["unbounded", "2:2"],
        help="'unbounded' (1 slot, unbounded queue) or n_parallel:max_queue",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", help="trained model (default: $EXAMPLE_BOT_MODEL or train)")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--keep-dir", type=Path, help="work (logs, databases) in this folder")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, work_dir: Path) -> int:
    model = resolve_model(work_dir, args.model)
    results = []
    for name in args.runs:
        run_dir = work_dir / name.replace(":", "_")
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"== {name}: {llm_settings(name)}", flush=True)
        results.append(measure_run(name, model, run_dir, args))
        print(format_table(results[-1:]), flush=True)
    print()
    print(format_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return int(any(r["http_errors"] or r["silent_turns"] for r in results))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    args = _parse_args(argv)
    return in_work_dir(args.keep_dir, "llm_load_", lambda work_dir: run(args, work_dir))


if __name__ == "__main__":
    sys.exit(main())
