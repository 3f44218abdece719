"""Builds an `LLMBackend` from a configuration dict (`backend: llamacpp | openai | huggingface`)."""

from __future__ import annotations

from typing import Any

from rasa_llm_components.llm.base import GenerationSettings, LLMBackend, LLMConfigError

BACKENDS = ("llamacpp", "openai", "huggingface")

DEFAULT_LLM_CONFIG: dict[str, Any] = {
    "backend": "llamacpp",
    "max_tokens": 40,
    "temperature": 0.0,
    "stop": ["\n"],
    # llamacpp + huggingface
    "model_path": None,
    "n_threads": 1,
    # llamacpp
    "n_ctx": 2048,
    "mode": "process",
    "nice": 10,
    # openai
    "base_url": None,
    "model": "default",
    "api_key_env": None,
    "request_timeout": 10.0,
    "max_retries": 2,
    "backoff": 0.25,
}

_KNOWN_KEYS = set(DEFAULT_LLM_CONFIG)


def llm_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns the defaults updated with `overrides`, rejecting unknown keys."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - _KNOWN_KEYS)
    if unknown:
        raise LLMConfigError(
            f"Unknown LLM option(s) {unknown}. Known options: {sorted(_KNOWN_KEYS)}."
        )
    config = dict(DEFAULT_LLM_CONFIG)
    config.update(overrides)
    return config


def create_backend(config: dict[str, Any] | None = None) -> LLMBackend:
    """Creates the backend named by `config['backend']`; raises `LLMConfigError` on bad config."""
    config = llm_config(config)
    name = str(config["backend"]).lower()
    settings = GenerationSettings(
        max_tokens=int(config["max_tokens"]),
        temperature=float(config["temperature"]),
        stop=list(config["stop"] or []),
    )
    if name == "llamacpp":
        from rasa_llm_components.llm.llamacpp import LlamaCppBackend

        return LlamaCppBackend(
            model_path=config["model_path"],
            n_ctx=config["n_ctx"],
            n_threads=config["n_threads"],
            mode=config["mode"],
            nice=config["nice"],
            request_timeout=config["request_timeout"],
            settings=settings,
        )
    if name == "openai":
        from rasa_llm_components.llm.openai_compat import OpenAICompatibleBackend

        return OpenAICompatibleBackend(
            base_url=config["base_url"],
            model=config["model"],
            api_key_env=config["api_key_env"],
            timeout=config["request_timeout"],
            max_retries=config["max_retries"],
            backoff=config["backoff"],
            settings=settings,
        )
    if name == "huggingface":
        from rasa_llm_components.llm.huggingface import HuggingFaceBackend

        return HuggingFaceBackend(
            model_path=config["model_path"], n_threads=config["n_threads"], settings=settings
        )
    raise LLMConfigError(f"Unknown LLM backend '{config['backend']}'. Choose one of {BACKENDS}.")
