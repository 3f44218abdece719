"""Pluggable LLM backends behind one async interface (`LLMBackend.generate`)."""

from rasa_llm_components.llm.base import (
    GenerationSettings,
    LLMBackend,
    LLMConfigError,
    LLMError,
)
from rasa_llm_components.llm.circuit import CircuitOpenError
from rasa_llm_components.llm.factory import BACKENDS, DEFAULT_LLM_CONFIG, create_backend, llm_config

__all__ = [
    "BACKENDS",
    "CircuitOpenError",
    "DEFAULT_LLM_CONFIG",
    "GenerationSettings",
    "LLMBackend",
    "LLMConfigError",
    "LLMError",
    "create_backend",
    "llm_config",
]
