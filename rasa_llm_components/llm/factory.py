"""Builds an `LLMBackend` from a configuration dict (`backend: llamacpp | openai | huggingface`)."""

from __future__ import annotations

from typing import Any

from rasa_llm_components.config_validation import check_known_options
from rasa_llm_components.llm.admission import RequestGate
from rasa_llm_components.llm.base import GenerationSettings, LLMBackend, LLMConfigError

BACKENDS = ("llamacpp", "openai", "huggingface")
# llama.cpp slots of the embedded model unless `n_parallel` says otherwise: on one thread two
# slots only interleave their generations (measured: both answers slower, docs/answers.md).
EMBEDDED_SLOTS = 1

DEFAULT_LLM_CONFIG: dict[str, Any] = {
    "backend": "llamacpp",
    "max_tokens": 40,
    "temperature": 0.0,
    "stop": ["\n"],
    # llamacpp + huggingface
    "model_path": None,
    "n_threads": 1,
    # generations at once (llama.cpp slots; for openai, requests in flight from this process)
    # and how many more may wait; the rest are refused at once (`LLMBusyError`), which the
    # answerer turns into an extractive answer. n_parallel null: 1 for llamacpp, no limit for
    # openai; max_queue null: no limit.
    "n_parallel": None,
    "max_queue": 2,
    # llamacpp (n_ctx: tokens per conversation; the worker allocates n_ctx * n_parallel)
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
    # circuit breaker (openai, and the embedded worker's client): after this many failed
    # requests in a row, fail fast for `circuit_cooldown` seconds, then try again
    "circuit_failures": 3,
    "circuit_cooldown": 30.0,
}

_POSITIVE_NUMBERS = ("request_timeout", "circuit_cooldown")
_NON_NEGATIVE_INTEGERS = ("max_retries", "max_tokens")
_POSITIVE_INTEGERS = ("n_threads", "n_ctx", "circuit_failures")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def llm_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns the defaults updated with `overrides`; raises `LLMConfigError` on unknown keys or
    unusable values, naming the option."""
    check_known_options(
        "",
        overrides,
        DEFAULT_LLM_CONFIG,
        section="llm",
        error=LLMConfigError,
        allow_rasa_keys=False,
    )
    config = dict(DEFAULT_LLM_CONFIG)
    config.update(overrides or {})
    for key in _POSITIVE_NUMBERS:
        if not _is_number(config[key]) or config[key] <= 0:
            raise LLMConfigError(f"'llm.{key}' must be a number > 0, got {config[key]!r}.")
    for key in _NON_NEGATIVE_INTEGERS + _POSITIVE_INTEGERS:
        low = 1 if key in _POSITIVE_INTEGERS else 0
        if not isinstance(config[key], int) or isinstance(config[key], bool) or config[key] < low:
            raise LLMConfigError(
                f"'llm.{key}' must be an integer >= {low}, got {config[key]!r}."
            )
    for key in ("n_parallel", "max_queue"):
        value, low = config[key], 1 if key == "n_parallel" else 0
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < low
        ):
            raise LLMConfigError(f"'llm.{key}' must be null or an integer >= {low}, got {value!r}.")
    if not _is_number(config["backoff"]) or config["backoff"] < 0:
        raise LLMConfigError(f"'llm.backoff' must be a number >= 0, got {config['backoff']!r}.")
    model_path = config["model_path"]
    if isinstance(model_path, list) and (
        not model_path or not all(isinstance(item, str) and item for item in model_path)
        or config["backend"] != "llamacpp"
    ):
        raise LLMConfigError(
            "'llm.model_path' may be a list (GGUF files tried in order) only for the llamacpp "
            f"backend, and only of non-empty paths; got {model_path!r}."
        )
    if model_path is not None and not isinstance(model_path, (str, list)):
        raise LLMConfigError(f"'llm.model_path' must be a path, got {model_path!r}.")
    return config


def create_backend(config: dict[str, Any] | None = None) -> LLMBackend:
    """Creates the backend named by `config['backend']`; raises `LLMConfigError` on bad config."""
    config = llm_config(config)
    name = str(config["backend"]).lower()
    n_parallel = config["n_parallel"]
    if n_parallel is None and name == "llamacpp":
        n_parallel = EMBEDDED_SLOTS
    gate = RequestGate(n_parallel, config["max_queue"]) if n_parallel else None
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
            n_parallel=n_parallel,
            mode=config["mode"],
            nice=config["nice"],
            request_timeout=config["request_timeout"],
            circuit_failures=config["circuit_failures"],
            circuit_cooldown=config["circuit_cooldown"],
            settings=settings,
            gate=gate,
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
            circuit_failures=config["circuit_failures"],
            circuit_cooldown=config["circuit_cooldown"],
            settings=settings,
            gate=gate,
        )
    if name == "huggingface":
        from rasa_llm_components.llm.huggingface import HuggingFaceBackend

        return HuggingFaceBackend(
            model_path=config["model_path"], n_threads=config["n_threads"], settings=settings
        )
    raise LLMConfigError(f"Unknown LLM backend '{config['backend']}'. Choose one of {BACKENDS}.")
