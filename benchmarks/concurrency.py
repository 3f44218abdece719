"""Do LLM answers slow down other conversations? Measured on a real `rasa run` server.

    python -m benchmarks.concurrency                 # tiny test bot
    python -m benchmarks.concurrency --runs process:1 thread:1 process:2
    python -m benchmarks.concurrency --project example_bot \
        --model example_bot/models/current.tar.gz --probe "hi" --question "do you ship to canada?"

Without `--model` the script copies the tiny bot of `tests/llm/data` (keyword intents, rules,
`LLMResponsePolicy`) to a temporary directory and trains it. For every run (`mode:n_threads` of
the embedded llama.cpp model, set through the NLG's `llm` overrides in `endpoints.yml`) it
starts `rasa run --enable-api`, then alternates blocks of

- idle: ordinary turns (a greeting answered by a rule) sent one after the other;
- loaded: the same ordinary turns while `--llm-users` other conversations keep asking FAQ
  questions, so that an LLM generation is running nearly all the time;

and prints the p50/p95 latency of the ordinary turns idle and loaded, their ratio (target:
p50 within 1.5x of idle) and the latency of the LLM turns. Alternating blocks cancels out slow
drifts in the load of a shared machine; compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.stats import percentile

REPO = Path(__file__).resolve().parents[2]
TEST_BOT = REPO / "tests" / "llm" / "data"
QUESTIONS = [
    "How much does shipping to Canada cost?",
    "How long is the warranty?",
    "Which payment methods do you accept?",
    "When is customer support available?",
    "How long do I have to return an item?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_project(args: argparse.Namespace) -> tuple[Path, Path]:
    """Returns (project directory, model path), training the tiny test bot if needed."""
    if args.model:
        return Path(args.project).resolve(), Path(args.model).resolve()
    root = Path(tempfile.mkdtemp(prefix="llm_concurrency_"))
    shutil.copytree(TEST_BOT / "bot", root, dirs_exist_ok=True)
    shutil.copytree(TEST_BOT / "knowledge", root / "knowledge")
    print(f"Training the tiny test bot in {root} ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "bench", "--out", "models"],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(f"  trained in {time.perf_counter() - started:.0f} s", flush=True)
    return root, root / "models" / "bench.tar.gz"


def write_endpoints(project: Path, run: str, timeout: float) -> Path:
    """`run` is `extractive` (no LLM) or `mode:n_threads[:nice]` of the embedded model."""
    path = Path(tempfile.mkdtemp(prefix="llm_bench_")) / f"endpoints_{run.replace(':', '_')}.yml"
    nlg: dict[str, Any] = {
        "type": "rasa_llm_components.LLMNaturalLanguageGenerator",
        "timeout": timeout,
    }
    if run == "extractive":
        nlg["answer"] = {"mode": "extractive"}
    else:
        mode, threads, nice = (run.split(":") + ["1", "0"])[:3]
        nlg["llm"] = {
            "backend": "llamacpp",
            "mode": mode,
            "n_threads": int(threads),
            "nice": int(nice),
        }
    endpoints: dict[str, Any] = {"nlg": nlg}
    original = project / "endpoints.yml"
    if original.exists():
        import yaml

        data = yaml.safe_load(original.read_text()) or {}
        data.update(endpoints)
        endpoints = data
    path.write_text(json.dumps(endpoints), encoding="utf-8")  # JSON is valid YAML
    return path


class Server:
    """`rasa run --enable-api` as a subprocess in its own process group."""

    def __init__(self, project: Path, model: Path, endpoints: Path) -> None:
        self.port = _free_port()
        self.log = Path(tempfile.mkdtemp(prefix="llm_bench_")) / f"server_{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "rasa",
            "run",
            "--enable-api",
            "-m",
            str(model),
            "--endpoints",
            str(endpoints),
            "-p",
            str(self.port),
            "-i",
            "127.0.0.1",
        ]
        credentials = project / "credentials.yml"
        if credentials.exists():
            command += ["--credentials", str(credentials)]
        with self.log.open("w") as handle:
            self.process = subprocess.Popen(
                command,
                cwd=project,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, session: aiohttp.ClientSession, limit: float = 300) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rasa run exited: {self.log.read_text()[-2000:]}")
            try:
                async with session.get(f"{self.url}/status") as response:
                    if response.status == 200 and (await response.json()).get("model_id"):
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(1)
        raise RuntimeError("rasa run did not become ready")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
    ) as response:
        await response.read()
    return time.perf_counter() - started


async def llm_user(
    session: aiohttp.ClientSession, url: str, name: str, stop: asyncio.Event, out: list[float]
) -> None:
    turn = 0
    while not stop.is_set():
        out.append(await send(session, url, name, QUESTIONS[turn % len(QUESTIONS)]))
        turn += 1


async def measure(server: Server, args: argparse.Namespace, label: str) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await server.wait_ready(session)
        # Warm-up: model load, prompt cache, first-request costs.
        for question in [args.question, *QUESTIONS]:
            await send(session, server.url, "warmup", question)
        for _ in range(3):
            await send(session, server.url, "warmup", args.probe)
        idle: list[float] = []
        loaded: list[float] = []
        llm_turns: list[float] = []
        for block in range(args.blocks):
            for _ in range(args.probes):
                idle.append(await send(session, server.url, f"idle-{block}", args.probe))
                await asyncio.sleep(args.gap)
            stop = asyncio.Event()
            users = [
                asyncio.create_task(
                    llm_user(session, server.url, f"llm-{block}-{i}", stop, llm_turns)
                )
                for i in range(args.llm_users)
            ]
            await asyncio.sleep(0.5)  # let the generations start
            for _ in range(args.probes):
                loaded.append(await send(session, server.url, f"busy-{block}", args.probe))
                await asyncio.sleep(args.gap)
            stop.set()
            await asyncio.gather(*users)
    return {
        "run": label,
        "idle_p50_ms": 1000 * percentile(idle, 0.5),
        "idle_p95_ms": 1000 * percentile(idle, 0.95),
        "loaded_p50_ms": 1000 * percentile(loaded, 0.5),
        "loaded_p95_ms": 1000 * percentile(loaded, 0.95),
        "p50_ratio": percentile(loaded, 0.5) / percentile(idle, 0.5),
        "llm_turns": len(llm_turns),
        "llm_p50_s": percentile(llm_turns, 0.5),
        "llm_p95_s": percentile(llm_turns, 0.95),
    }


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'run':12s} {'idle p50':>9s} {'idle p95':>9s} {'loaded p50':>10s} {'loaded p95':>10s} "
        f"{'ratio p50':>9s} {'LLM turns':>9s} {'LLM p50 s':>9s} {'LLM p95 s':>9s}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['run']:12s} {r['idle_p50_ms']:7.1f}ms {r['idle_p95_ms']:7.1f}ms "
            f"{r['loaded_p50_ms']:8.1f}ms {r['loaded_p95_ms']:8.1f}ms {r['p50_ratio']:9.2f} "
            f"{r['llm_turns']:9d} {r['llm_p50_s']:9.2f} {r['llm_p95_s']:9.2f}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", default=".", help="bot project directory (with --model)")
    parser.add_argument("--model", help="trained model; default: train the tiny test bot")
    parser.add_argument(
        "--runs",
        nargs="+",
        default=["process:1", "thread:1"],
        help="mode:n_threads of the embedded model, e.g. process:1 thread:2",
    )
    parser.add_argument("--llm-users", type=int, default=2)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--probes", type=int, default=15, help="ordinary turns per block")
    parser.add_argument("--gap", type=float, default=0.05, help="pause between ordinary turns")
    parser.add_argument("--probe", default="hello", help="an ordinary (non-LLM) message")
    parser.add_argument("--question", default=QUESTIONS[0])
    parser.add_argument("--timeout", type=float, default=30.0, help="NLG timeout")
    parser.add_argument("--json", help="write the results to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    project, model = prepare_project(args)
    results = []
    for run in args.runs:
        endpoints = write_endpoints(project, run, args.timeout)
        print(f"== {run}: starting rasa run ...", flush=True)
        server = Server(project, model, endpoints)
        try:
            results.append(asyncio.run(measure(server, args, run)))
        finally:
            server.stop()
        print_table(results[-1:])
    print()
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
