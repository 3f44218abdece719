"""Grounded answering: checks, retrieval, generation, fact guard and fallbacks in one place.

`GroundedAnswerer.answer(context)` is a coroutine: retrieval and sentence ranking run in a
one-thread executor and generation through the async `LLMBackend`, under a deadline. Steps:

1. deterministic request checks: prompt-injection attempts and demands for refunds, discounts or
   exceptions get a fixed refusal; the model is never asked;
2. retrieval: below `min_retrieval_score` the bot abstains (honest "I don't know" + the offer of
   a human) without generating;
3. the sentences of the best passages are ranked for the question: the best ones form a compact
   prompt context (fast to prefill, easier for a small model) and the extractive answer;
4. generation from the prompt of `prompting.build_messages`;
5. the generated answer is kept only if `FactGuard` finds all its facts in the passages and the
   conversation, every sentence is supported by one evidence sentence with the same polarity
   (`evidence.sentence_support`), it promises no refund/discount/exception and it keeps the
   figures of the best evidence sentence. Otherwise the extractive answer (verbatim passage
   sentences) replaces it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa_llm_components.evidence import (
    EvidenceSentence,
    SentenceCache,
    extractive_answer,
    key_numbers,
    prompt_context,
    rank_sentences,
    sentence_support,
    unknown_model_names,
)
from rasa_llm_components.knowledge import DEFAULT_SCORE_THRESHOLD
from rasa_llm_components.knowledge.text import tokenize
from rasa_llm_components.llm.base import LLMBackend, LLMError
from rasa_llm_components.prompting import PromptPassage, build_messages
from rasa_llm_components.request_checks import (
    POLICY_EXCEPTION,
    PROMPT_INJECTION,
    check_request,
    grants_something,
)

logger = logging.getLogger(__name__)

# Outcomes (AnswerResult.kind)
GENERATED = "generated"
EXTRACTIVE = "extractive"
ABSTAINED = "abstained"
REFUSED = "refused"
FAILED = "failed"
# The bot message metadata key under which the NLG stores `AnswerResult.diagnostics()`.
ANSWER_METADATA_KEY = "llm_answer"

DEFAULT_TEXTS = {
    "abstain": (
        "I'm sorry, I don't know the answer to that from our help articles. "
        "Would you like me to connect you with a colleague?"
    ),
    POLICY_EXCEPTION: (
        "I'm sorry, I can't grant refunds, discounts or exceptions beyond our published "
        "policies. I can connect you with a colleague who can look at your case."
    ),
    PROMPT_INJECTION: (
        "I can't share or change my instructions, but I'm happy to help with questions about "
        "our products, orders, shipping and returns."
    ),
}

DEFAULT_ANSWER_CONFIG: dict[str, Any] = {
    # "generate" asks the LLM; "extractive" answers with passage sentences only (no LLM).
    "mode": "generate",
    "top_k": 4,
    # Below this top retrieval score the bot abstains without generating.
    "min_retrieval_score": DEFAULT_SCORE_THRESHOLD,
    # Passages shown to the model: at most `prompt_passages`, each scoring at least
    # `relative_passage_score` x the top score; `sentences_per_passage` best sentences of each.
    "prompt_passages": 2,
    "relative_passage_score": 0.85,
    "sentences_per_passage": 2,
    "max_history_turns": 4,
    "slots": ["order_id", "product"],
    "max_answer_chars": 400,
    # Generated answers must contain the numbers of the best evidence sentence.
    "require_key_numbers": True,
    # ... and at least this share of its content terms.
    "min_evidence_coverage": 0.4,
    # Abstain when the question names a product model ("iphone 16") the passages lack.
    "abstain_on_unknown_models": True,
    # "fallback" (the domain response text) or "extractive" when the LLM fails or times out.
    "on_llm_error": "fallback",
    "texts": {},
}

_IDK = re.compile(
    r"\b(i don'?t know|i do not know|not (?:mentioned|stated|provided|specified) in|no information"
    r"|cannot find|can'?t find|not sure|i'?m sorry|as an ai|as a chatbot)\b",
    re.IGNORECASE,
)


@dataclass
class ConversationContext:
    """What the answerer needs from a conversation."""

    question: str
    history: list[tuple[str, str]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnswerResult:
    """The final reply with its sources and diagnostics (`text` None: use the domain text)."""

    text: str | None
    kind: str
    sources: list[dict[str, str]] = field(default_factory=list)
    retrieval_score: float = 0.0
    generated: str | None = None
    unsupported: list[str] = field(default_factory=list)
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # The passages the answer was checked against (title + text).
    evidence: list[str] = field(default_factory=list)

    def custom_payload(self) -> dict[str, Any]:
        return {"sources": self.sources, "answer_kind": self.kind}

    def diagnostics(self) -> dict[str, Any]:
        """Why the turn ended as it did: stored with the bot message, not shown to customers."""
        return {
            "answer_kind": self.kind,
            "retrieval_score": round(float(self.retrieval_score), 4),
            "reason": self.reason,
            "unsupported": list(self.unsupported),
            "sources": [source.get("id") for source in self.sources],
        }


def answer_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults updated with `overrides`; `texts` are merged key by key."""
    config = dict(DEFAULT_ANSWER_CONFIG)
    config.update(overrides or {})
    config["texts"] = {**DEFAULT_TEXTS, **(config.get("texts") or {})}
    return config


@dataclass
class _Evidence:
    hits: list[Any]
    ranked: list[EvidenceSentence]
    extractive: str
    extractive_ids: list[str]
    unknown_models: list[str] = field(default_factory=list)


class GroundedAnswerer:
    """Answers a question from a `KnowledgeIndex` with an `LLMBackend` and a `FactGuard`."""

    def __init__(
        self,
        index: Any,
        backend: LLMBackend | None,
        guard: Any,
        config: dict[str, Any] | None = None,
        executor: concurrent.futures.Executor | None = None,
        sentence_cache: SentenceCache | None = None,
    ) -> None:
        self.index = index
        self.backend = backend
        self.guard = guard
        self.config = answer_config(config)
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="retrieval"
        )
        if sentence_cache is None and index is not None:
            sentence_cache = SentenceCache(index.encoder)
        self.sentences = sentence_cache

    # -- retrieval and evidence (blocking, run in the executor) -----------------------------
    def _query(self, context: ConversationContext) -> str:
        question = context.question
        product = context.slots.get("product")
        if (
            product
            and str(product).lower() not in question.lower()
            and re.search(r"\b(it|its|this|that|they|them|one)\b", question, re.IGNORECASE)
        ):
            question = f"{question} ({product})"
        return question

    def _prompt_hits(self, hits: Sequence[Any]) -> list[Any]:
        floor = hits[0].score * float(self.config["relative_passage_score"])
        chosen = [hit for hit in hits if hit.score >= floor]
        return chosen[: int(self.config["prompt_passages"])] or [hits[0]]

    def _gather_evidence(self, query: str) -> _Evidence:
        query_vector = self.index.encode_query(query)
        hits = self.index.search(query, top_k=int(self.config["top_k"]), query_vector=query_vector)
        if not hits or hits[0].score < float(self.config["min_retrieval_score"]):
            return _Evidence(hits, [], "", [])
        prompt_hits = self._prompt_hits(hits)
        if self.config["abstain_on_unknown_models"]:
            texts = [f"{hit.passage.title}. {hit.passage.text}" for hit in prompt_hits]
            unknown = unknown_model_names(query, texts)
            if unknown:
                return _Evidence(prompt_hits, [], "", [], unknown)
        ranked = rank_sentences(
            query,
            prompt_hits,
            self.index.encoder,
            len(prompt_hits),
            query_vector=query_vector,
            cache=self.sentences,
        )
        text, ids = extractive_answer(ranked)
        return _Evidence(prompt_hits, ranked, text, ids)

    # -- helpers ---------------------------------------------------------------------------
    def _text(self, key: str) -> str:
        return self.config["texts"][key]

    @staticmethod
    def _sources(hits: Sequence[Any], ids: Sequence[str]) -> list[dict[str, str]]:
        by_id = {hit.passage.id: hit for hit in hits}
        return [
            {"id": by_id[i].passage.id, "title": by_id[i].passage.title} for i in ids if i in by_id
        ]

    def _clean(self, text: str) -> str:
        text = text.strip().strip('"').strip()
        text = re.sub(r"\[[\w:#./-]+\]\s*", "", text)  # passage ids in brackets
        text = re.split(r"\n\s*\n", text)[0]  # the REST channel splits text on blank lines
        text = re.sub(r"\s+", " ", text).strip()
        limit = int(self.config["max_answer_chars"])
        if len(text) > limit:
            text = text[:limit]
        # A generation cut by max_tokens ends mid-sentence: drop the unfinished tail.
        if text and text[-1] not in ".!?":
            end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
            text = text[: end + 1] if end > 0 else ""
        return text

    def _guard_evidence(self, evidence: _Evidence, context: ConversationContext) -> list[str]:
        texts = [f"{hit.passage.title}. {hit.passage.text}" for hit in evidence.hits]
        texts += [text for speaker, text in context.history if speaker == "bot" and text]
        texts += [f"{name}: {value}" for name, value in context.slots.items() if value]
        return texts

    def check_answer(
        self, answer: str, evidence: _Evidence, context: ConversationContext
    ) -> list[str]:
        """The reasons a generated answer cannot be shown (empty when it can)."""
        if grants_something(answer):
            return ["promises a refund, discount or exception"]
        if "?" in answer:
            return ["asks or echoes a question instead of answering"]
        guard_evidence = self._guard_evidence(evidence, context)
        result = self.guard.check(answer, guard_evidence)
        if not result.supported:
            return [str(item) for item in result.unsupported] or ["fact guard"]
        supported, problems = sentence_support(answer, guard_evidence)
        if not supported:
            return [f"unsupported sentence: {sentence}" for sentence in problems]
        if evidence.ranked:
            best = evidence.ranked[0].text
            if self.config["require_key_numbers"]:
                missing = key_numbers(best) - key_numbers(answer)
                if missing:
                    return [f"misses key figures {sorted(missing)}"]
            # The answer must say at least what the best passage sentence says about the
            # question: its shared terms with the question, and a fair share of its content.
            answer_terms = set(tokenize(answer))
            best_terms = set(tokenize(best))
            topic = set(tokenize(context.question)) & best_terms
            if topic - answer_terms:
                return [f"leaves out {sorted(topic - answer_terms)}"]
            coverage = len(best_terms & answer_terms) / max(1, len(best_terms))
            if coverage < float(self.config["min_evidence_coverage"]):
                return [f"covers only {coverage:.0%} of the best passage sentence"]
        return []

    def _extractive_result(self, evidence: _Evidence, reason: str, **extra: Any) -> AnswerResult:
        top = evidence.hits[0].score if evidence.hits else 0.0
        if not evidence.extractive:
            return AnswerResult(
                self._text("abstain"), ABSTAINED, retrieval_score=top, reason=reason, **extra
            )
        return AnswerResult(
            evidence.extractive,
            EXTRACTIVE,
            sources=self._sources(evidence.hits, evidence.extractive_ids),
            retrieval_score=top,
            reason=reason,
            evidence=[f"{hit.passage.title}. {hit.passage.text}" for hit in evidence.hits],
            **extra,
        )

    # -- entry point -----------------------------------------------------------------------
    async def answer(
        self, context: ConversationContext, deadline: float | None = None
    ) -> AnswerResult:
        """Produces the reply for `context.question`; `deadline` is a `time.monotonic()` value."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        check = check_request(context.question)
        if check.refused:
            return AnswerResult(self._text(check.category), REFUSED, reason=check.category)

        loop = asyncio.get_running_loop()
        evidence = await loop.run_in_executor(
            self._executor, self._gather_evidence, self._query(context)
        )
        timings["retrieval"] = time.perf_counter() - started
        if not evidence.ranked:
            top = evidence.hits[0].score if evidence.hits else 0.0
            reason = (
                f"unknown product {evidence.unknown_models}"
                if evidence.unknown_models
                else "low retrieval score"
            )
            return AnswerResult(
                self._text("abstain"),
                ABSTAINED,
                retrieval_score=top,
                reason=reason,
                timings=timings,
            )
        if self.config["mode"] == "extractive" or self.backend is None:
            result = self._extractive_result(evidence, "extractive mode", timings=timings)
            timings["total"] = time.perf_counter() - started
            return result

        passages = prompt_context(
            evidence.ranked, evidence.hits, int(self.config["sentences_per_passage"])
        )
        messages = build_messages(
            context.question,
            [PromptPassage(pid, title, text) for pid, title, text in passages],
            history=context.history,
            slots=context.slots,
            max_history_turns=int(self.config["max_history_turns"]),
        )
        generation_started = time.perf_counter()
        try:
            remaining = None if deadline is None else max(0.05, deadline - time.monotonic())
            raw = await asyncio.wait_for(self.backend.generate(messages), remaining)
        except (LLMError, asyncio.TimeoutError) as error:
            timings["generation"] = time.perf_counter() - generation_started
            reason = f"llm error: {error!r}"
            logger.warning("LLM generation failed: %r", error)
            if self.config["on_llm_error"] == "extractive":
                return self._extractive_result(evidence, reason, timings=timings)
            return AnswerResult(
                None,
                FAILED,
                retrieval_score=evidence.hits[0].score,
                reason=reason,
                timings=timings,
            )
        timings["generation"] = time.perf_counter() - generation_started

        text = self._clean(raw)
        if not text or _IDK.search(text):
            result = self._extractive_result(evidence, "model abstained", generated=raw)
        else:
            problems = self.check_answer(text, evidence, context)
            if problems:
                result = self._extractive_result(
                    evidence, "generation rejected", generated=raw, unsupported=problems
                )
            else:
                used = [evidence.ranked[0].passage_id]
                result = AnswerResult(
                    text,
                    GENERATED,
                    sources=self._sources(evidence.hits, used),
                    retrieval_score=evidence.hits[0].score,
                    generated=raw,
                    evidence=[f"{hit.passage.title}. {hit.passage.text}" for hit in evidence.hits],
                )
        timings["total"] = time.perf_counter() - started
        result.timings = timings
        return result
