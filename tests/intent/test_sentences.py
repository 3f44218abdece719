"""Choosing the request sentence of a message of several sentences (intent/sentences.py)."""

from __future__ import annotations

from rasa_llm_components.intent.sentences import (
    other_requests,
    request_parts,
    request_sentences,
    with_request_sentence,
)

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


def _parts(text: str) -> list[str]:
    return [text[start:end] for start, end in request_parts(text)]


def test_a_message_is_split_into_its_requests_at_clauses_that_ask_something():
    assert _parts("where's my order 10019, and also can the watch go in the pool?") == [
        "where's my order 10019", "can the watch go in the pool?"
    ]
    assert _parts("no i dont want a human, just tell me the status") == [
        "no i dont want a human", "just tell me the status"
    ]
    assert _parts("what is the return window and do you ship to canada") == [
        "what is the return window", "do you ship to canada"
    ]
    # a connector in front joins the part to the message and is no part of it
    assert _parts("hey, where is my order 10002? and also is the pulse 3 ok in the shower") == [
        "where is my order 10002?", "is the pulse 3 ok in the shower"
    ]
    # an aside after the request is a part of its own
    assert _parts("so i want to return it please, i think i still have time?") == [
        "i want to return it please", "i think i still have time?"
    ]
    # a greeting, a comma inside one request, a single request: no parts
    assert _parts("hi, where is my order") == []
    assert _parts("ok which card did it go on tho, i cant find it") == []
    assert _parts("can you tell me where my order is") == []


def test_other_requests_keep_the_background_that_follows_them():
    text = "where is my order 10049, and also will the thermostat work with my radiators? " \
        "they plug into the wall, 230v"
    spans = request_parts(text)
    rankings = [_ranking("order_status", 0.99), _ranking("product_question", 0.98),
                _ranking("inform", 0.99)]
    requests = other_requests(text, "order_status", spans, rankings, 0.9)
    assert len(requests) == 1
    assert requests[0]["intent"]["name"] == "product_question"
    assert requests[0]["text"].endswith("230v") and requests[0]["text"].startswith("will the")
    assert text[requests[0]["start"]:requests[0]["end"]] == requests[0]["text"]


def test_unsure_statement_or_same_intent_parts_are_no_other_request():
    text = "where is my order? also where is my refund? my card was charged twice"
    spans = request_parts(text)
    assert len(spans) == 3
    unsure = [_ranking("order_status", 0.99), _ranking("refund_status", 0.6),
              _ranking("complaint", 0.99)]
    assert other_requests(text, "order_status", spans, unsure, 0.9) == []
    same = [_ranking("order_status", 0.99), _ranking("order_status", 0.95),
            _ranking("complaint", 0.99)]
    assert other_requests(text, "order_status", spans, same, 0.9) == []


def test_a_question_beside_a_request_needs_less_confidence() -> None:
    text = "pls cancel the camera order, how long does the refund take?"
    spans = request_parts(text)
    assert [text[start:end] for start, end in spans] == [
        "pls cancel the camera order", "how long does the refund take?"]
    rankings = [[{"name": "cancel_order", "confidence": 1.0}],
                [{"name": "faq", "confidence": 0.84}]]
    assert other_requests(text, "cancel_order", spans, rankings, 0.9) == []
    requests = other_requests(text, "cancel_order", spans, rankings, 0.9, 0.75)
    assert [request["intent"]["name"] for request in requests] == ["faq"]
    # a part without a question mark still needs the request threshold
    plain = "pls cancel the camera order, i want the refund fast"
    spans = request_parts(plain)
    assert other_requests(plain, "cancel_order", spans, rankings, 0.9, 0.75) == []
