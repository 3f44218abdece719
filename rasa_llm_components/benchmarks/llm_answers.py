"""Answer-quality benchmark of the grounded LLM responses.

    python -m rasa_llm_components.benchmarks.llm_answers \
        --questions data/llm_questions.yml --knowledge example_bot/knowledge \
        --backend llamacpp openai-local extractive --json results.json

Backends: `llamacpp` (embedded model in its worker process), `llamacpp-thread` (embedded model
in an executor thread), `openai-local` (the OpenAI-compatible client against a local llama.cpp
server that this script starts with xllamacpp), `openai` (the client against `--base-url`),
`extractive` (no LLM: verbatim passage sentences).

Reported per backend:
- grounded & correct: answerable questions whose final answer contains every `must_contain`
  fact and passes the fact guard against the retrieved passages;
- abstention: unanswerable questions answered with an abstention or a refusal;
- unsupported: final answers (all questions) with a fact the guard cannot find in the passages;
- generated: the share of answers where the LLM's text was kept (the rest are extractive
  replacements, abstentions or refusals);
- latency p50/p95 of the whole LLM turn (checks, retrieval, generation, guard).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from rasa_llm_components.answering import (
    ABSTAINED,
    FAILED,
    GENERATED,
    REFUSED,
    ConversationContext,
    GroundedAnswerer,
)
from rasa_llm_components.benchmarks.stats import percentile

BACKENDS = ("llamacpp", "llamacpp-thread", "openai-local", "openai", "extractive")


def build_index(knowledge: list[str]) -> Any:
    from rasa_llm_components.encoders import SentenceEncoder
    from rasa_llm_components.knowledge import KnowledgeIndex, load_passages

    return KnowledgeIndex.build(load_passages(knowledge), SentenceEncoder(num_threads=1))


def make_backend(name: str, args: argparse.Namespace) -> tuple[Any, Any]:
    """Returns (backend, resource to close) for a benchmark backend name."""
    from rasa_llm_components.llm import create_backend

    common = {"max_tokens": args.max_tokens, "n_threads": args.n_threads}
    if name == "extractive":
        return None, None
    if name == "llamacpp":
        backend = create_backend({"backend": "llamacpp", "mode": "process", **common})
        return backend, backend
    if name == "llamacpp-thread":
        backend = create_backend({"backend": "llamacpp", "mode": "thread", **common})
        return backend, backend
    if name == "openai-local":
        # A local llama.cpp HTTP server (xllamacpp in a separate process), used through the
        # generic OpenAI-compatible client, as with vLLM or Ollama.
        from rasa_llm_components.llm.llamacpp import LlamaCppBackend

        server = LlamaCppBackend(n_threads=args.n_threads, mode="process")
        server.spawn()
        address = server._wait_for_address()
        client = create_backend(
            {"backend": "openai", "base_url": f"{address}/v1", "max_tokens": args.max_tokens}
        )
        return client, server
    if name == "openai":
        if not args.base_url:
            raise SystemExit("--backend openai needs --base-url")
        client = create_backend(
            {
                "backend": "openai",
                "base_url": args.base_url,
                "model": args.model,
                "api_key_env": args.api_key_env,
                "max_tokens": args.max_tokens,
            }
        )
        return client, None
    raise SystemExit(f"unknown backend {name}; choose from {BACKENDS}")


async def run_backend(
    name: str, questions: list[Any], index: Any, guard: Any, args: argparse.Namespace
) -> dict[str, Any]:
    from rasa_llm_components.knowledge.questions import contains_fact

    backend, resource = make_backend(name, args)
    mode = "extractive" if backend is None else "generate"
    settings = {"on_llm_error": "extractive", **args.answer_config, "mode": mode}
    answerer = GroundedAnswerer(index, backend, guard, settings)
    try:
        if backend is not None:
            await backend.start()
            # Warm-up: load the model and fill the prompt cache with the instructions.
            await answerer.answer(ConversationContext("How long is the warranty?"))
        rows = []
        for question in questions:
            started = time.perf_counter()
            result = await answerer.answer(ConversationContext(question.question))
            latency = time.perf_counter() - started
            text = result.text or ""
            check = guard.check(text, result.evidence) if result.evidence else None
            unsupported = list(check.unsupported) if check else []
            facts_ok = all(contains_fact(text, facts) for facts in question.must_contain)
            rows.append(
                {
                    "id": question.id,
                    "answerable": question.answerable,
                    "question": question.question,
                    "answer": text,
                    "kind": result.kind,
                    "generated": result.generated,
                    "rejected_because": result.unsupported,
                    "sources": [source["id"] for source in result.sources],
                    "retrieval_score": round(result.retrieval_score, 3),
                    "facts_ok": facts_ok,
                    "unsupported_facts": unsupported,
                    "grounded_correct": question.answerable
                    and facts_ok
                    and not unsupported
                    and result.kind not in (ABSTAINED, REFUSED, FAILED),
                    "abstained": result.kind in (ABSTAINED, REFUSED, FAILED),
                    "latency_s": round(latency, 3),
                    "timings": {key: round(value, 3) for key, value in result.timings.items()},
                    "llm_called": result.generated is not None,
                }
            )
            if args.verbose:
                print(f"  [{result.kind:10s}] {latency:5.2f}s {question.id}: {text[:110]}")
    finally:
        if resource is not None:
            resource.close()
    return summarise(name, rows)


def summarise(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [row for row in rows if row["answerable"]]
    unanswerable = [row for row in rows if not row["answerable"]]
    latencies = [row["latency_s"] for row in rows]
    llm_latencies = [row["latency_s"] for row in rows if row["llm_called"]]
    count = len(rows) or 1
    return {
        "backend": name,
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "grounded_correct_rate": sum(r["grounded_correct"] for r in answerable)
        / max(1, len(answerable)),
        "abstention_rate_unanswerable": sum(r["abstained"] for r in unanswerable)
        / max(1, len(unanswerable)),
        "false_abstention_rate_answerable": sum(r["abstained"] for r in answerable)
        / max(1, len(answerable)),
        "unsupported_answer_rate": sum(bool(r["unsupported_facts"]) for r in rows) / count,
        "generated_share": sum(r["kind"] == GENERATED for r in rows) / count,
        "latency_p50_s": percentile(latencies, 0.5),
        "latency_p95_s": percentile(latencies, 0.95),
        "llm_turn_p50_s": percentile(llm_latencies, 0.5),
        "llm_turn_p95_s": percentile(llm_latencies, 0.95),
        "rows": rows,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'backend':16s} {'n':>3s} {'grounded&correct':>16s} {'abstain(unans)':>14s} "
        f"{'false-abst':>10s} {'unsupported':>11s} {'generated':>9s} {'p50 s':>6s} "
        f"{'p95 s':>6s} {'LLM p50':>7s} {'LLM p95':>7s}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['backend']:16s} {r['questions']:3d} {r['grounded_correct_rate']:16.1%} "
            f"{r['abstention_rate_unanswerable']:14.1%} "
            f"{r['false_abstention_rate_answerable']:10.1%} "
            f"{r['unsupported_answer_rate']:11.1%} {r['generated_share']:9.1%} "
            f"{r['latency_p50_s']:6.2f} {r['latency_p95_s']:6.2f} "
            f"{r['llm_turn_p50_s']:7.2f} {r['llm_turn_p95_s']:7.2f}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default="data/llm_questions.yml")
    parser.add_argument("--knowledge", nargs="+", default=["example_bot/knowledge"])
    parser.add_argument(
        "--backend", nargs="+", default=["llamacpp", "extractive"], choices=BACKENDS
    )
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint for --backend openai")
    parser.add_argument("--model", default="default")
    parser.add_argument("--api-key-env", default=None)
    parser.add_argument("--max-tokens", type=int, default=40)
    parser.add_argument("--n-threads", type=int, default=1)
    parser.add_argument(
        "--answer-config",
        type=json.loads,
        default={},
        help="JSON overrides of the answer settings, e.g. '{\"sentences_per_passage\": 2}'",
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--json", help="write the results (with every answer) to this file")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rasa_llm_components.fact_guard import FactGuard
    from rasa_llm_components.knowledge import known_names
    from rasa_llm_components.knowledge.questions import load_questions

    questions = load_questions(args.questions)
    if args.limit:
        questions = questions[: args.limit]
    started = time.perf_counter()
    index = build_index(args.knowledge)
    guard = FactGuard(known_names(index.passages))
    print(
        f"Indexed {len(index)} passages in {time.perf_counter() - started:.1f} s; "
        f"{len(questions)} questions."
    )
    results = []
    for name in args.backend:
        print(f"== {name}")
        results.append(asyncio.run(run_backend(name, questions, index, guard, args)))
    print()
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
        print(f"Wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
