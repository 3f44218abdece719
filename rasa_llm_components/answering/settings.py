"""The answer settings (`answer:` of `LLMResponsePolicy`): defaults, texts and validation."""

from __future__ import annotations

from typing import Any

from rasa.shared.exceptions import RasaException

from rasa_llm_components.answering.prompt import SYSTEM_PROMPT
from rasa_llm_components.answering.request_checks import POLICY_EXCEPTION, PROMPT_INJECTION
from rasa_llm_components.config_validation import check_known_options
from rasa_llm_components.retrieval import DEFAULT_SCORE_THRESHOLD

DEFAULT_TEXTS = {
    "abstain": (
        "I'm sorry, I don't know the answer to that from our help articles. "
        "Would you like me to connect you with a colleague?"
    ),
    "not_stated": (
        "I'm sorry, the details I have about the {product} don't say. "
        "Would you like me to connect you with a colleague who can check?"
    ),
    "not_sold": (
        "I'm sorry, we don't sell that. Would you like me to connect you with a colleague?"
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
    # "generate" asks the LLM; "extractive" answers with evidence sentences only (no LLM).
    "mode": "generate",
    "top_k": 8,
    # Below this top retrieval score the bot abstains without generating ...
    "min_retrieval_score": DEFAULT_SCORE_THRESHOLD,
    # ... or, with a model whose "I don't know" is trusted (`on_model_abstain`), below this one:
    # between the two, the model sees the passages and decides.
    "trusted_model_min_score": 0.45,
    # Passages shown to the model: at most `prompt_passages`, each scoring at least
    # `relative_passage_score` x the top score; `sentences_per_passage` best sentences of each.
    # "auto": 5 and 0.4 for a served model (openai), which reads a longer context well and
    # answers more of a question from it; 3 and 0.6 for the small embedded one and extractive
    # answers.
    "prompt_passages": "auto",
    "relative_passage_score": "auto",
    "sentences_per_passage": 3,
    "max_history_turns": 4,
    "slots": ["order_id", "product"],
    # Read a city or US state a question names as its country ("lives in sydney": Australia)
    # for retrieval: shipping and payment policies name countries (retrieval/places.py).
    "resolve_places": True,
    "max_answer_chars": 500,
    # Abstain when the question names a product model ("iphone 16") the passages lack, or asks
    # whether a named product has a feature its details do not state.
    "abstain_on_unknown_models": True,
    "abstain_on_unstated_features": True,
    # ... or whose details mention nothing of what it asks, in words or in meaning: no fact of
    # the named products' rows is this similar (cosine) to the question.
    "min_fact_similarity": 0.45,
    # When the model says it does not know: "abstain" trusts it (its own words are kept when
    # they state no unsupported fact), "extractive" answers with the best evidence instead,
    # "auto" trusts a served model (openai) but not the small embedded one (llamacpp).
    "on_model_abstain": "auto",
    # "fallback" (the domain response text) or "extractive" when the LLM fails or times out.
    "on_llm_error": "fallback",
    # The shop: the instructions of the model and the currency of bare catalog prices.
    "system_prompt": SYSTEM_PROMPT,
    "shop_name": None,
    "currency_symbol": "$",
    "default_currency": "USD",
    # The answer must keep the figures of the best evidence sentence. A small model often drops
    # the figure that answers the question; a strong model writes complete answers anyway.
    # "auto": required from the embedded and local models only.
    "require_key_numbers": "auto",
    # The same for words: the answer must keep at least `key_term_share` of the fact terms of
    # the extractive answer's first sentence that the question does not already say ("gift card
    # credit", "PartyLink"). "auto": required from the embedded and local models only.
    "require_key_terms": "auto",
    "key_term_share": 0.5,
    # A knowledge-base term used in at least this share of passages is shop vocabulary rather
    # than a checkable fact (see answering/verification.py).
    "common_term_share": 0.08,
    # How strict the claim verifier is (docs/answers.md has the figures of each):
    # "balanced": every rare knowledge-base term in an answer needs evidence; "strict": also,
    # each sentence restates one evidence sentence (40% of its own terms); "lenient": rare terms
    # that are ordinary English words ("size", "wait") need no evidence.
    "claim_check": "strict",
    # Intents whose questions are about one knowledge topic (a FAQ `topic`, a policy section):
    # {payment_methods: payment}. Their topic's passages are preferred and answer down to half
    # the retrieval threshold.
    "intent_topics": {},
    # The knowledge topic of a question that reports a fault ("my boom xl won't charge any
    # more", "so I'm stuck with a broken soundbar??"): its best passage answers first, with the
    # product's own fact on it. null: such questions are read like any other.
    "defect_topic": None,
    "texts": {},
}

_CHOICES = {
    "mode": ("generate", "extractive"),
    "on_model_abstain": ("auto", "abstain", "extractive"),
    "on_llm_error": ("fallback", "extractive"),
    "claim_check": ("strict", "balanced", "lenient"),
    "require_key_numbers": ("auto", True, False),
    "require_key_terms": ("auto", True, False),
    "resolve_places": (True, False),
}


# (prompt_passages, relative_passage_score) of "auto".
SERVED_MODEL_PASSAGES = (5, 0.4)
SMALL_MODEL_PASSAGES = (3, 0.6)


class AnswerConfigError(RasaException, ValueError):
    """An `answer` option of `LLMResponsePolicy` is unknown or invalid."""


def answer_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults updated with `overrides` and validated; `texts` are merged key by key."""
    check_known_options(
        "LLMResponsePolicy",
        overrides,
        DEFAULT_ANSWER_CONFIG,
        section="answer",
        error=AnswerConfigError,
        allow_rasa_keys=False,
    )
    overrides = dict(overrides or {})
    config = {**DEFAULT_ANSWER_CONFIG, **overrides}
    for key, allowed in _CHOICES.items():
        if config[key] not in allowed:
            raise AnswerConfigError(f"'answer.{key}' must be one of {list(allowed)}, "
                                    f"not {config[key]!r}.")
    texts = config.get("texts") or {}
    if not isinstance(texts, dict) or set(texts) - set(DEFAULT_TEXTS):
        raise AnswerConfigError(
            f"'answer.texts' maps some of {sorted(DEFAULT_TEXTS)} to reply texts."
        )
    config["texts"] = {**DEFAULT_TEXTS, **texts}
    if not isinstance(config["intent_topics"], dict):
        raise AnswerConfigError("'answer.intent_topics' maps intent names to knowledge topics.")
    if config["defect_topic"] is not None and not (
        isinstance(config["defect_topic"], str) and config["defect_topic"].strip()
    ):
        raise AnswerConfigError("'answer.defect_topic' is a knowledge topic name or null.")
    for key in ("top_k", "prompt_passages", "sentences_per_passage", "max_answer_chars"):
        if key == "prompt_passages" and config[key] == "auto":
            continue
        if isinstance(config[key], bool) or not isinstance(config[key], int) or config[key] < 1:
            raise AnswerConfigError(f"'answer.{key}' must be a positive integer.")
    relative = config["relative_passage_score"]
    if relative != "auto" and (isinstance(relative, bool) or not isinstance(relative, (int, float))
                               or not 0 < relative <= 1):
        raise AnswerConfigError(
            f"'answer.relative_passage_score' must be 'auto' or between 0 and 1, not {relative!r}."
        )
    share = config["key_term_share"]
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise AnswerConfigError(f"'answer.key_term_share' must be between 0 and 1, not {share!r}.")
    if config["shop_name"]:
        config["system_prompt"] = config["system_prompt"].replace(
            "an online shop", str(config["shop_name"])
        )
    return config
