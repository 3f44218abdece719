"""Answer-quality benchmark of the grounded LLM responses.

    python -m benchmarks.llm_answers --set dev --backend extractive strong-sim
    python -m benchmarks.llm_answers \
        --questions data/llm_questions.yml --knowledge example_bot/knowledge \
        --backend llamacpp openai-local extractive --json results.json

Question sets: `--set dev` (data/answers/dev.yml, for tuning), `--set heldout`
(data/answers/heldout.yml, never tune on it) or any file with `--questions`. Questions with a
`history` are follow-ups: the earlier turns go into the `ConversationContext`.

Backends: `llamacpp` (embedded model in its worker process), `llamacpp-thread` (embedded model
in an executor thread), `openai-local` (the OpenAI-compatible client against a local llama.cpp
server that this script starts with xllamacpp), `openai` (the client against `--base-url`),
`strong-sim` (the client against `benchmarks.strong_llm_server`, which replies with the
question set's team-written `strong_answer`s: what the answer checks make of a strong model),
`extractive` (no LLM: verbatim passage sentences).

Reported per backend, for all questions and split into single questions and follow-ups:
- grounded & correct: answerable questions whose final answer passed the answer checks (kind
  generated or extractive) and contains every `must_contain` fact (`contains_fact`: case and
  number formats normalised);
- honest abstention: unanswerable questions answered with an abstention or a refusal (kind
  abstained/refused, or one of the answerer's abstention texts);
  (JSON `abstention_rate_unanswerable_incl_own_words` also counts generated replies that
  decline in their own words, "I'm sorry, the product details don't list ...");
- false abstention: the same on answerable questions;
- unsupported: generated answers with a fact the fact guard cannot find in the evidence
  (the answer's passages, the earlier turns and the question): a second opinion on the
  answerer's own claim verification, as a share of all questions;
- rejected: LLM replies that the answer checks replaced (share of the turns that called the LLM);
- own words: generated / (generated + extractive) among answerable questions;
- R@k: an expected passage in the top-k `index.search` hits of the question alone; qR@k: the
  same for the retrieval query the answerer used (`AnswerResult.query`, which carries the
  earlier turn for follow-ups);
- latency p50/p95 of every turn, and of the turns that called the LLM (checks, retrieval,
  generation, verification).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.stats import percentile
from rasa_llm_components.answering import (
    ABSTAINED,
    EXTRACTIVE,
    GENERATED,
    REFUSED,
    ConversationContext,
    GroundedAnswerer,
)
from rasa_llm_components.answering.figure_checks import derived_figures
from rasa_llm_components.answering.verification import unsupported_claims

BACKENDS = ("llamacpp", "llamacpp-thread", "openai-local", "openai", "strong-sim", "extractive")
QUESTION_SETS = {
    "dev": "data/answers/dev.yml",
    "dev2": "data/answers/dev2.yml",
    "dev3": "data/answers/dev3.yml",
    "heldout": "data/answers/heldout.yml",
}
DEFAULT_QUESTIONS = "data/llm_questions.yml"
RECALL_K = (1, 3, 5)
SUBSETS = (("all", None), ("single", False), ("follow-up", True))
# A generated reply that says, in its own words, that the knowledge lacks the answer ("I'm
# sorry, the product details don't list its range"): counted apart from honest abstention,
# which is the answerer's own abstention (see the module docstring).
OWN_WORDS_ABSTENTION = re.compile(
    r"\b(?:i'?m sorry|sorry|i don'?t know|i do not know|can'?t (?:confirm|tell|say)"
    r"|(?:don'?t|doesn'?t|do not|does not) (?:list|mention|say|state|give|have|sell|carry))\b",
    re.IGNORECASE,
)
# A strong model is not cut short: its written answers are up to a few sentences.
STRONG_MAX_TOKENS = 256


def build_index(knowledge: list[str]) -> Any:
    from rasa_llm_components.encoders import SentenceEncoder
    from rasa_llm_components.retrieval import KnowledgeIndex, load_passages

    return KnowledgeIndex.build(load_passages(knowledge), SentenceEncoder(num_threads=1))


def make_backend(
    name: str, args: argparse.Namespace, questions: Sequence[Any] = ()
) -> tuple[Any, Any]:
    """Returns (backend, resource to close) for a benchmark backend name."""
    from rasa_llm_components.llm import create_backend

    common = {"max_tokens": args.max_tokens, "n_threads": args.n_threads,
              "model_path": args.model_path, "nice": args.worker_nice,
              "request_timeout": args.request_timeout}
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

        server = LlamaCppBackend(model_path=args.model_path, n_threads=args.n_threads,
                                 mode="process")
        server.spawn()
        address = server.wait_address()
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
    if name == "strong-sim":
        from benchmarks.strong_llm_server import MODEL, StrongLLMServer, question_pairs

        pairs = question_pairs(questions)
        if not pairs:
            raise SystemExit(
                "--backend strong-sim needs questions with a strong_answer (--set dev|heldout)"
            )
        server = StrongLLMServer(pairs)
        url = server.start()
        client = create_backend(
            {
                "backend": "openai",
                "base_url": url,
                "model": MODEL,
                "max_tokens": max(args.max_tokens, STRONG_MAX_TOKENS),
            }
        )
        return client, server
    raise SystemExit(f"unknown backend {name}; choose from {BACKENDS}")


def abstention_matcher(texts: dict[str, str]) -> re.Pattern[str]:
    """Matches the answerer's canned abstention and refusal texts (`{product}` filled in)."""
    patterns = [
        re.escape(" ".join(text.split())).replace(re.escape("{product}"), ".+?")
        for text in texts.values()
        if text
    ]
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


def first_expected_rank(question: Any, hits: Sequence[Any]) -> int | None:
    """1-based rank of the first expected passage among `hits`, None when none is there."""
    for rank, hit in enumerate(hits, start=1):
        if question.expects(hit.passage.id):
            return rank
    return None


def retrieval_ranks(index: Any, question: Any, query: str) -> dict[str, Any]:
    """Where an expected passage ranks for the question alone and for the answerer's query."""
    top_k = max(RECALL_K)
    alone = first_expected_rank(question, index.search(question.question, top_k=top_k))
    if not query:
        used = None
    elif query == question.question:
        used = alone
    else:
        used = first_expected_rank(question, index.search(query, top_k=top_k))
    return {"question_rank": alone, "query": query, "query_rank": used}


async def run_backend(
    name: str, questions: list[Any], index: Any, guard: Any, args: argparse.Namespace
) -> dict[str, Any]:
    from benchmarks.question_set import contains_fact

    backend, resource = make_backend(name, args, questions)
    mode = "extractive" if backend is None else "generate"
    settings = {"on_llm_error": "extractive", **args.answer_config, "mode": mode}
    answerer = GroundedAnswerer(index, backend, guard, settings)
    canned = abstention_matcher(answerer.config["texts"])
    server_stats: dict[str, int] | None = None
    try:
        if backend is not None:
            await backend.start()
            # Warm-up: load the model and fill the prompt cache with the instructions.
            await answerer.answer(ConversationContext("How long is the warranty?"))
        warm_stats = resource.stats() if hasattr(resource, "stats") else None
        rows = []
        for question in questions:
            history = [(speaker, text) for speaker, text in question.history]
            context = ConversationContext(question=question.question, history=history, slots={})
            started = time.perf_counter()
            result = await answerer.answer(context)
            latency = time.perf_counter() - started
            text = result.text or ""
            abstained = result.kind in (ABSTAINED, REFUSED) or bool(
                text and canned.fullmatch(" ".join(text.split()))
            )
            unsupported: list[str] = []
            if result.kind == GENERATED:
                # The passages and the conversation (what the customer said is no invented fact).
                # Sums, differences and percentages of figures the answer states ("$449 + $129
                # = $578") are facts the passages support.
                evidence = [*result.evidence, *(t for _, t in history), question.question]
                evidence += derived_figures(result.evidence, text, question.question)
                unsupported = unsupported_claims(guard, text, evidence)
            missing = [list(facts) for facts in question.must_contain
                       if not contains_fact(text, facts)]
            passed_checks = result.kind in (GENERATED, EXTRACTIVE)
            llm_called = "generation" in result.timings
            rows.append(
                {
                    "id": question.id,
                    "follow_up": question.follow_up,
                    "answerable": question.answerable,
                    "unanswerable_kind": question.unanswerable_kind,
                    "question": question.question,
                    "history": history,
                    "answer": text,
                    "kind": result.kind,
                    "reason": result.reason,
                    "generated": result.generated,
                    "rejected_because": list(result.unsupported),
                    "sources": [source["id"] for source in result.sources],
                    "evidence": list(result.evidence),
                    "retrieval_score": round(float(result.retrieval_score), 3),
                    "facts_ok": not missing,
                    "missing_facts": missing,
                    "unsupported_facts": unsupported,
                    "grounded_correct": question.answerable
                    and passed_checks
                    and not missing
                    and not abstained,
                    "abstained": abstained,
                    "own_words_abstention": not abstained
                    and result.kind == GENERATED
                    and bool(OWN_WORDS_ABSTENTION.search(text)),
                    "latency_s": round(latency, 3),
                    "timings": {key: round(value, 3) for key, value in result.timings.items()},
                    "llm_called": llm_called,
                    "llm_rejected": llm_called and bool(result.unsupported),
                    "retrieval": retrieval_ranks(
                        index, question, str(getattr(result, "query", "") or "")
                    ),
                }
            )
            if args.verbose:
                mark = "F" if question.follow_up else " "
                print(f"  [{result.kind:10s}]{mark} {latency:5.2f}s {question.id}: {text[:110]}")
        if warm_stats is not None:
            stats = resource.stats()
            server_stats = {
                "questions": stats["questions"],
                "requests": stats["requests"] - warm_stats["requests"],
                "matched": stats["matched"] - warm_stats["matched"],
            }
    finally:
        if backend is not None and backend is not resource:
            await backend.aclose()
        if resource is not None:
            resource.close()
    result_summary = {"backend": name, **summarise(rows)}
    for label, follow_up in SUBSETS[1:]:
        subset = [row for row in rows if row["follow_up"] == follow_up]
        result_summary[label] = summarise(subset)
    if server_stats is not None:
        result_summary["server"] = server_stats
    result_summary["rows"] = rows
    return result_summary


def _share(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [row for row in rows if row["answerable"]]
    unanswerable = [row for row in rows if not row["answerable"]]
    generated = sum(row["kind"] == GENERATED for row in answerable)
    extractive = sum(row["kind"] == EXTRACTIVE for row in answerable)
    llm_rows = [row for row in rows if row["llm_called"]]
    with_query = [row for row in answerable if row["retrieval"]["query"]]
    kinds: dict[str, list[int]] = {}
    for row in unanswerable:
        counts = kinds.setdefault(row["unanswerable_kind"] or "unspecified", [0, 0])
        counts[0] += row["abstained"]
        counts[1] += 1

    def recall(items: list[dict[str, Any]], key: str, k: int) -> float:
        ranks = [row["retrieval"][key] for row in items]
        return _share(sum(rank is not None and rank <= k for rank in ranks), len(ranks))

    summary: dict[str, Any] = {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "follow_ups": sum(row["follow_up"] for row in rows),
        "grounded_correct_rate": _share(
            sum(row["grounded_correct"] for row in answerable), len(answerable)
        ),
        "abstention_rate_unanswerable": _share(
            sum(row["abstained"] for row in unanswerable), len(unanswerable)
        ),
        "abstention_rate_unanswerable_incl_own_words": _share(
            sum(row["abstained"] or row["own_words_abstention"] for row in unanswerable),
            len(unanswerable),
        ),
        "false_abstention_rate_answerable": _share(
            sum(row["abstained"] for row in answerable), len(answerable)
        ),
        "unsupported_answers": sum(bool(row["unsupported_facts"]) for row in rows),
        "unsupported_answer_rate": _share(
            sum(bool(row["unsupported_facts"]) for row in rows), len(rows)
        ),
        "llm_turns": len(llm_rows),
        "llm_rejected_rate": _share(sum(row["llm_rejected"] for row in llm_rows), len(llm_rows)),
        "own_words_share": _share(generated, generated + extractive),
        "kinds": {
            kind: sum(row["kind"] == kind for row in rows)
            for kind in sorted({row["kind"] for row in rows})
        },
        "abstention_by_kind": {kind: counts for kind, counts in sorted(kinds.items())},
        "query_recall_questions": len(with_query),
        "latency_p50_s": percentile([row["latency_s"] for row in rows], 0.5),
        "latency_p95_s": percentile([row["latency_s"] for row in rows], 0.95),
        "llm_turn_p50_s": percentile([row["latency_s"] for row in llm_rows], 0.5),
        "llm_turn_p95_s": percentile([row["latency_s"] for row in llm_rows], 0.95),
    }
    for k in RECALL_K:
        summary[f"recall@{k}"] = recall(answerable, "question_rank", k)
    for k in RECALL_K:
        summary[f"query_recall@{k}"] = recall(with_query, "query_rank", k)
    return summary


def _cell(value: float, width: int, percent: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}s}"
    return f"{value:{width}.1%}" if percent else f"{value:{width}.2f}"


def print_table(results: list[dict[str, Any]]) -> None:
    columns = [
        ("grounded&correct", "grounded_correct_rate", True),
        ("honest-abst", "abstention_rate_unanswerable", True),
        ("false-abst", "false_abstention_rate_answerable", True),
        ("unsupported", "unsupported_answer_rate", True),
        ("rejected", "llm_rejected_rate", True),
        ("own-words", "own_words_share", True),
        *[(f"R@{k}", f"recall@{k}", True) for k in RECALL_K],
        *[(f"qR@{k}", f"query_recall@{k}", True) for k in RECALL_K],
        ("p50 s", "latency_p50_s", False),
        ("p95 s", "latency_p95_s", False),
        ("LLM p50", "llm_turn_p50_s", False),
        ("LLM p95", "llm_turn_p95_s", False),
    ]
    widths = [max(6, len(title)) for title, _, _ in columns]
    header = f"{'backend':12s} {'questions':10s} {'n':>3s} {'ans':>3s} " + " ".join(
        f"{title:>{width}s}" for (title, _, _), width in zip(columns, widths, strict=True)
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for label, _ in SUBSETS:
            figures = result if label == "all" else result[label]
            cells = " ".join(
                _cell(figures[key], width, percent)
                for (_, key, percent), width in zip(columns, widths, strict=True)
            )
            print(
                f"{result['backend']:12s} {label:10s} {figures['questions']:3d} "
                f"{figures['answerable']:3d} {cells}"
            )
    print()
    for result in results:
        kinds = ", ".join(
            f"{kind} {done}/{total}" for kind, (done, total) in result["abstention_by_kind"].items()
        )
        line = (
            f"{result['backend']}: honest abstention by kind: {kinds or '-'}; with generated "
            "replies that decline in their own words: "
            f"{_cell(result['abstention_rate_unanswerable_incl_own_words'], 0).strip()}"
        )
        if "server" in result:
            server = result["server"]
            line += (
                f"; strong-sim server matched {server['matched']}/{server['requests']} "
                "requests to a question"
            )
        print(line)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument(
        "--questions", default=None, help=f"a question-set file (default {DEFAULT_QUESTIONS})"
    )
    chosen.add_argument(
        "--set", choices=sorted(QUESTION_SETS), help="a named question set: " + ", ".join(
            f"{name} = {path}" for name, path in QUESTION_SETS.items()
        )
    )
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
        "--model-path", default=None,
        help="GGUF file of the llamacpp backends (default: the packaged SmolLM2), e.g. a "
        "fine-tuned model (python -m rasa_llm_components.llm.finetune)",
    )
    parser.add_argument("--worker-nice", type=int, default=10,
                        help="CPU priority the llamacpp worker adds to this process's")
    parser.add_argument("--request-timeout", type=float, default=10.0,
                        help="seconds an LLM request may take (llamacpp backends)")
    parser.add_argument(
        "--answer-config",
        type=json.loads,
        default={},
        help="JSON overrides of the answer settings, e.g. '{\"sentences_per_passage\": 2}'",
    )
    parser.add_argument("--skip", type=int, default=0,
                        help="leave out the first N questions (DEV's 80 newest: --skip 114)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--json", help="write the results (with every answer) to this file")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    args.questions = QUESTION_SETS[args.set] if args.set else args.questions or DEFAULT_QUESTIONS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from benchmarks.question_set import load_questions
    from rasa_llm_components.answering.fact_guard import FactGuard
    from rasa_llm_components.retrieval import known_names

    questions = load_questions(args.questions)[args.skip:]
    if args.limit:
        questions = questions[: args.limit]
    started = time.perf_counter()
    index = build_index(args.knowledge)
    guard = FactGuard(known_names(index.passages))
    follow_ups = sum(question.follow_up for question in questions)
    print(
        f"Indexed {len(index)} passages in {time.perf_counter() - started:.1f} s; "
        f"{len(questions)} questions from {args.questions} ({follow_ups} follow-ups)."
    )
    results = []
    for name in args.backend:
        print(f"== {name}")
        results.append(asyncio.run(run_backend(name, questions, index, guard, args)))
    print()
    print_table(results)
    if args.json:
        for result in results:
            result["question_set"] = args.questions
        Path(args.json).write_text(json.dumps(_json_safe(results), indent=1), encoding="utf-8")
        print(f"Wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
