"""Grounded answering: request checks, evidence, claim verification, prompt and answer rendering.

`GroundedAnswerer` (answerer.py) runs the steps; each other module does one of them.
"""

from rasa_llm_components.answering.answerer import GroundedAnswerer
from rasa_llm_components.answering.results import (
    ABSTAINED,
    ANSWER_METADATA_KEY,
    EXTRACTIVE,
    FAILED,
    GENERATED,
    REFUSED,
    AnswerResult,
    ConversationContext,
)
from rasa_llm_components.answering.settings import (
    DEFAULT_ANSWER_CONFIG,
    DEFAULT_TEXTS,
    answer_config,
)

__all__ = [
    "ABSTAINED",
    "ANSWER_METADATA_KEY",
    "DEFAULT_ANSWER_CONFIG",
    "DEFAULT_TEXTS",
    "EXTRACTIVE",
    "FAILED",
    "GENERATED",
    "REFUSED",
    "AnswerResult",
    "ConversationContext",
    "GroundedAnswerer",
    "answer_config",
]
