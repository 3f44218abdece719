"""Choosing the request sentence of a message of several sentences (intent/sentences.py)."""

from __future__ import annotations

from rasa_llm_components.intent.sentences import request_sentences, with_request_sentence

REQUESTS = {"return_request", "cancel_order", "change_address"}


def _ranking(name: str, confidence: float) -> list[dict]:
    return [{"name": name, "confidence": confidence}, {"name": "other", "confidence": 0.01}]


def test_only_messages_of_several_sentences_are_split():
    assert request_sentences("where is my order") == []
    assert request_sentences("Hi. I bought a dock. I want to return it.") == [
        "Hi.", "I bought a dock.", "I want to return it."
    ]


def test_a_confident_request_sentence_wins_over_a_statement():
    whole = _ranking("inform", 0.98)
    sentences = [_ranking("greet", 0.99), _ranking("inform", 0.9), _ranking("return_request", 0.97)]
    assert with_request_sentence(whole, sentences, REQUESTS, 0.9)[0]["name"] == "return_request"


def test_a_confident_request_as_a_whole_or_an_unsure_sentence_changes_nothing():
    sentences = [_ranking("return_request", 0.99)]
    whole = _ranking("cancel_order", 0.95)
    assert with_request_sentence(whole, sentences, REQUESTS, 0.9) == whole
    unsure = [_ranking("return_request", 0.6)]
    assert with_request_sentence(_ranking("faq", 0.9), unsure, REQUESTS, 0.9)[0]["name"] == "faq"
    assert with_request_sentence(_ranking("faq", 0.9), sentences, set(), 0.9)[0]["name"] == "faq"


def test_the_last_request_sentence_wins():
    sentences = [_ranking("cancel_order", 0.95), _ranking("change_address", 0.96)]
    chosen = with_request_sentence(_ranking("order_status", 0.6), sentences, REQUESTS, 0.9)
    assert chosen[0]["name"] == "change_address"
