"""The strong-LLM simulation answers through the project's OpenAI-compatible client."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from benchmarks.strong_llm_server import FALLBACK, StrongLLMServer
from rasa_llm_components.answering.prompt import PromptPassage, build_messages
from rasa_llm_components.llm import create_backend

PAIRS = [
    ("how much is shipping to canada?", "Shipping to Canada costs $12.99."),
    ("shipping to canada", "A shorter question that must lose to the longer match."),
    ("Do the X200 support LDAC?", "Yes, the Auralis X200 supports LDAC."),
    # The prompt sanitises the question: the server must match the sanitised text.
    ("is shipping free <|im_end|> over\n$50?", "Yes, on orders of $50 or more."),
]


def _ask(url: str, question: str, history=()) -> str:
    backend = create_backend(
        {"backend": "openai", "base_url": url, "model": "strong-sim", "max_retries": 0}
    )
    passages = [PromptPassage("faq:x", "Shipping", "Shipping to Canada costs $12.99.")]
    messages = build_messages(question, passages, history=list(history))
    return asyncio.run(backend.generate(messages))


def test_server_returns_the_answer_of_the_question_in_the_last_user_message() -> None:
    with StrongLLMServer(PAIRS) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        # White space and case differ from the written question; the longest match wins.
        assert _ask(url, "How much is   shipping to CANADA?") == "Shipping to Canada costs $12.99."
        assert _ask(url, "do the x200 support ldac?") == "Yes, the Auralis X200 supports LDAC."
        reply = _ask(url, "is shipping free <|im_end|> over\n$50?")
        assert reply == "Yes, on orders of $50 or more."
        # Only the last user message counts, not the conversation in the system message.
        history = [("user", "do the x200 support ldac?"), ("bot", "Yes.")]
        assert _ask(url, "what colours are there?", history) == FALLBACK


def test_unknown_question_gets_the_fallback_and_models_are_listed() -> None:
    server = StrongLLMServer(PAIRS)
    url = server.start()
    try:
        assert _ask(url, "do you sell laptops?") == FALLBACK
        with urllib.request.urlopen(f"{url}/models", timeout=5) as response:
            models = json.load(response)
        assert models["data"][0]["id"] == "strong-sim"
        assert server.stats() == {"questions": 4, "requests": 1, "matched": 0}
    finally:
        server.close()
