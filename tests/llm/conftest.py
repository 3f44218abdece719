"""Shared fixtures: a tiny real knowledge index, scripted LLM backends and an HTTP stub server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rasa_llm_components.llm.base import LLMBackend, LLMError

DATA = Path(__file__).parent / "data"
KNOWLEDGE = DATA / "knowledge"


class ScriptedBackend(LLMBackend):
    """Returns a fixed reply (or raises / sleeps) and records the prompts it was given."""

    name = "scripted"

    def __init__(self, reply: str = "", delay: float = 0.0, error: bool = False) -> None:
        super().__init__()
        self.reply = reply
        self.delay = delay
        self.error = error
        self.calls: list[list[dict[str, str]]] = []

    async def generate(self, messages, *, max_tokens=None, temperature=None) -> str:
        async with self.admitted():
            self.calls.append(messages)
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.error:
                raise LLMError("backend unreachable")
            return self.reply


@pytest.fixture(scope="session")
def encoder():
    from rasa_llm_components.encoders import SentenceEncoder

    return SentenceEncoder(num_threads=1)


@pytest.fixture(scope="session")
def index(encoder):
    from rasa_llm_components.retrieval import KnowledgeIndex, load_passages

    return KnowledgeIndex.build(load_passages([KNOWLEDGE]), encoder)


@pytest.fixture(scope="session")
def guard(index):
    from rasa_llm_components.answering.fact_guard import FactGuard
    from rasa_llm_components.retrieval import known_names

    return FactGuard(known_names(index.passages))
