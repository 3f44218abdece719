"""The training set: drafted questions run through the runtime answerer, kept when it keeps them.

Each draft goes through `GroundedAnswerer.answer` exactly as a customer's question would, with
the same `KnowledgeIndex` retrieval, evidence ranking and `build_messages` prompt (train =
serve). A `TeacherBackend` stands in for the model: it records the prompt and replies with the
draft's answer. A pair is kept only when the answerer's checks keep that reply as the model's
own answer (or, for an unanswerable question, when the model was asked and its abstention is
what came back), so the model only learns replies that the checks will let through.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rasa_llm_components.answering import (
    EXTRACTIVE,
    GENERATED,
    ConversationContext,
    GroundedAnswerer,
    answer_config,
)
from rasa_llm_components.answering.figure_checks import figures
from rasa_llm_components.llm.base import ChatMessages, LLMBackend
from rasa_llm_components.llm.finetune.questions import UNANSWERABLE, Draft, draft_questions
from rasa_llm_components.retrieval.text import tokenize


@dataclass(frozen=True)
class TrainingExample:
    """A prompt as the runtime builds it and the reply the model should write."""

    messages: ChatMessages
    answer: str
    kind: str
    source: str
    question: str
    history: tuple[tuple[str, str], ...] = ()


class TeacherBackend(LLMBackend):
    """Replies with a fixed text and records the prompt it was given.

    It is named like the embedded backend so that the answerer applies the checks it applies
    to the small local model.
    """

    name = "llamacpp"

    def __init__(self) -> None:
        super().__init__()
        self.reply = ""
        self.prompts: list[ChatMessages] = []

    async def generate(self, messages: ChatMessages, *, max_tokens: int | None = None,
                       temperature: float | None = None) -> str:
        self.prompts.append(messages)
        return self.reply


def build_index(knowledge: Sequence[str], num_threads: int = 1) -> Any:
    """The `KnowledgeIndex` the policy builds at `rasa train` (default retrieval settings)."""
    from rasa_llm_components.encoders import SentenceEncoder
    from rasa_llm_components.retrieval import KnowledgeIndex, load_passages

    return KnowledgeIndex.build(load_passages(list(knowledge)), SentenceEncoder(
        num_threads=num_threads))


class DatasetBuilder:
    """Turns drafts into `TrainingExample`s through the runtime answerer."""

    def __init__(self, index: Any, answer_settings: dict[str, Any] | None = None) -> None:
        from rasa_llm_components.answering.fact_guard import FactGuard
        from rasa_llm_components.retrieval import known_names

        settings = answer_config(answer_settings)
        guard = FactGuard(known_names(index.passages),
                          default_currency=settings["default_currency"])
        self.index = index
        self.teacher = TeacherBackend()
        # The key-term check compares a small model's answer with the extractive one, which often
        # states another fact of the same row than the one a draft asks for ("who makes the x200"
        # gets "in our headphones range" first): a draft's own answer is grounded by
        # construction, so the check would only drop good examples.
        teacher_settings = {**(answer_settings or {}), "require_key_terms": False}
        self.answerer = GroundedAnswerer(index, self.teacher, guard, teacher_settings)
        self.extractive = GroundedAnswerer(index, None, guard, answer_settings)
        self.abstain_text = settings["texts"]["abstain"]
        self.rejected: Counter[str] = Counter()

    def drafts(self, seed: int) -> list[Draft]:
        return draft_questions(list(self.index.passages), seed, self.abstain_text)

    async def example(self, draft: Draft) -> TrainingExample | None:
        """The example for `draft`, or None when the runtime would not keep its answer."""
        context = ConversationContext(question=draft.question, history=list(draft.history))
        reply = draft.answer
        if reply is None:
            # No written answer (a policy statement): the answerer's own extractive answer.
            fallback = await self.extractive.answer(context)
            reply = fallback.text if fallback.kind == EXTRACTIVE else None
        if reply is None:
            self.rejected[f"{draft.kind}: no extractive answer"] += 1
            return None
        self.teacher.reply, self.teacher.prompts = reply, []
        result = await self.answerer.answer(context)
        if not self.teacher.prompts:
            self.rejected[f"{draft.kind}: not asked ({result.reason})"] += 1
            return None
        if draft.kind == UNANSWERABLE:
            kept = result.reason == "model abstained"
        else:
            kept = result.kind == GENERATED and result.text == reply
        if not kept:
            self.rejected[f"{draft.kind}: checks rejected the answer"] += 1
            return None
        if draft.kind != UNANSWERABLE and self.unseen_facts(reply, self.teacher.prompts[0]):
            # The checks read whole passages, the prompt shows their best sentences only: an
            # answer from a sentence the prompt left out would teach the model to invent.
            self.rejected[f"{draft.kind}: facts the prompt does not show"] += 1
            return None
        return TrainingExample(self.teacher.prompts[0], reply, draft.kind, draft.source,
                               draft.question, draft.history)

    def unseen_facts(self, answer: str, messages: ChatMessages) -> list[str]:
        """The fact terms and figures of `answer` that the prompt `messages` do not contain."""
        # what the prompt shows after its instructions: passages, conversation, question
        shown = "\n".join(message["content"] for message in messages).partition("PASSAGES:")[2]
        shown_terms = set(tokenize(shown))
        verifier = self.answerer.verifier
        missing = [term for term in tokenize(answer) if verifier.is_fact_term(term)
                   and not verifier.supported_term(term, shown_terms)]
        shown_figures = set(figures(shown))
        missing += [str(value) for value in figures(answer) if value not in shown_figures]
        return missing

    def build(self, seed: int, limit: int = 0) -> list[TrainingExample]:
        drafts = self.drafts(seed)

        async def run() -> list[TrainingExample]:
            examples: list[TrainingExample] = []
            seen: set[tuple[str, tuple]] = set()
            for draft in drafts:
                key = (draft.question, draft.history)
                if key in seen:
                    continue
                seen.add(key)
                example = await self.example(draft)
                if example is not None:
                    examples.append(example)
                    if limit and len(examples) >= limit:
                        break
            return examples

        return asyncio.run(run())


def write_jsonl(examples: Sequence[TrainingExample], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[TrainingExample]:
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            item["history"] = tuple(tuple(turn) for turn in item.get("history") or ())
            examples.append(TrainingExample(**item))
    return examples
