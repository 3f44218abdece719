"""Fine-tuned transformer NLU components and grounded LLM responses for Rasa Open Source 3.6.

Components are imported lazily so that `config.yml` can name them as
`rasa_llm_components.<ClassName>` without every submodule (torch, llama.cpp, ...) being imported
by code that only needs one of them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "TransformerIntentClassifier": "rasa_llm_components.transformer_intent_classifier",
    "LLMResponsePolicy": "rasa_llm_components.core.llm_policy",
    "LLMNaturalLanguageGenerator": "rasa_llm_components.core.nlg",
    "ConversationRepairPolicy": "rasa_llm_components.core.repair_policy",
    "SentimentAnalyzer": "rasa_llm_components.nlu.sentiment_analyzer",
    "PIIRedactor": "rasa_llm_components.nlu.pii_redactor",
    "RedactingSQLTrackerStore": "rasa_llm_components.core.redacting_tracker_store",
    "AtomicRedisLockStore": "rasa_llm_components.core.redis_lock_store",
    "SignedRestInput": "rasa_llm_components.channels.rest",
    "SignedSocketIOInput": "rasa_llm_components.channels.socketio",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rasa_llm_components' has no attribute '{name}'")
