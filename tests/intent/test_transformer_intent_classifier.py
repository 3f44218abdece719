"""Unit tests for TransformerIntentClassifier with the real packaged encoder."""

from __future__ import annotations

import pytest
import torch
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from safetensors.torch import load_file

from rasa_llm_components.transformer_intent_classifier import (
    IntentTrainingDataError,
    TransformerIntentClassifier,
)
from tests.intent.conftest import EXAMPLES, create_classifier, make_training_data, parse


def test_predicts_intents_of_unseen_paraphrases(trained):
    classifier = trained[0]
    assert parse(classifier, "hello, good evening").get(INTENT)["name"] == "greet"
    assert parse(classifier, "my parcel has not arrived, where is it").get(INTENT)["name"] == (
        "order_status"
    )
    assert parse(classifier, "please give me my money back").get(INTENT)["name"] == "refund"


def test_ranking_is_sorted_and_complete(trained):
    message = parse(trained[0], "where is my order")
    ranking = message.get(INTENT_RANKING_KEY)
    confidences = [entry["confidence"] for entry in ranking]
    assert [entry["name"] for entry in ranking][0] == message.get(INTENT)["name"]
    assert confidences == sorted(confidences, reverse=True)
    assert {entry["name"] for entry in ranking} == set(EXAMPLES)
    assert 0.5 < sum(confidences) <= 1.0
    assert message.get(INTENT)["confidence"] == confidences[0]


def test_plain_softmax_ranking_sums_to_one(trained):
    _, storage, resource, context = trained
    config = {"rejection_similarity": None}
    loaded = TransformerIntentClassifier.load(config, storage, resource, context)
    for text in ["where is my order", "the weather on mars"]:
        confidences = [entry["confidence"] for entry in parse(loaded, text).get(INTENT_RANKING_KEY)]
        assert sum(confidences) == pytest.approx(1.0, abs=1e-5)


def test_rejection_similarity_lowers_confidence_far_from_every_intent(trained):
    _, storage, resource, context = trained
    plain = TransformerIntentClassifier.load(
        {"rejection_similarity": None}, storage, resource, context
    )
    rejecting = TransformerIntentClassifier.load({}, storage, resource, context)

    def confidence(classifier, text):
        return parse(classifier, text).get(INTENT)["confidence"]

    in_scope, unrelated = "where is my order", "what is the boiling point of tungsten"
    assert confidence(rejecting, in_scope) > 0.5
    assert confidence(rejecting, in_scope) > confidence(rejecting, unrelated)
    # The unrelated message loses far more of its confidence than the in-scope one.
    kept_in_scope = confidence(rejecting, in_scope) / confidence(plain, in_scope)
    kept_unrelated = confidence(rejecting, unrelated) / confidence(plain, unrelated)
    assert kept_unrelated < 0.5 * kept_in_scope


def test_ranking_length_limits_the_ranking(tmp_path, trained):
    _, storage, resource, context = trained
    loaded = TransformerIntentClassifier.load({"ranking_length": 2}, storage, resource, context)
    assert len(parse(loaded, "hi").get(INTENT_RANKING_KEY)) == 2


def test_a_listed_intent_of_one_sentence_gives_the_messages_intent(trained):
    # The tiny model reads the whole message as a refund; with "greet" as the only listed
    # request, its greeting sentence decides (the example bot lists its task intents).
    _, storage, resource, context = trained
    text = "Good morning! I want my money back please."
    plain = TransformerIntentClassifier.load({}, storage, resource, context)
    reading = TransformerIntentClassifier.load(
        {"request_intents": ["greet"], "request_threshold": 0.5}, storage, resource, context
    )
    assert parse(plain, text).get(INTENT)["name"] == "refund"
    assert parse(reading, text).get(INTENT)["name"] == "greet"
    # A single sentence is read whole.
    assert parse(reading, "i want my money back").get(INTENT)["name"] == "refund"


def test_the_other_request_of_a_message_is_listed_with_split_requests(trained):
    _, storage, resource, context = trained
    text = "where is my order, and also can you refund me"
    plain = TransformerIntentClassifier.load({}, storage, resource, context)
    splitting = TransformerIntentClassifier.load(
        {"split_requests": True, "request_threshold": 0.5}, storage, resource, context
    )
    assert parse(plain, text).get("requests") is None
    message = parse(splitting, text)
    requests = message.get("requests")
    assert message.get(INTENT)["name"] in ("order_status", "refund")
    other = {"order_status": "refund", "refund": "order_status"}[message.get(INTENT)["name"]]
    assert [request["intent"]["name"] for request in requests] == [other]
    assert text[requests[0]["start"]:requests[0]["end"]] == requests[0]["text"]
    # one request, or a greeting too short to be one: nothing listed
    assert parse(splitting, "hi, where is my order").get("requests") is None


def test_a_text_gets_the_same_ranking_alone_and_with_other_texts(trained):
    classifier = trained[0]
    texts = ["refund me please", "hey there, where's my parcel? it has been a week"]
    alone = [classifier._rankings([text])[0] for text in texts]
    assert classifier._rankings(texts) == alone


def test_persisted_model_loads_and_predicts_the_same(trained):
    classifier, storage, resource, context = trained
    loaded = TransformerIntentClassifier.load(classifier.config, storage, resource, context)
    for text in ["hey there", "where's my package", "refund please", ""]:
        original, restored = parse(classifier, text), parse(loaded, text)
        assert original.get(INTENT)["name"] == restored.get(INTENT)["name"]
        assert original.get(INTENT)["confidence"] == pytest.approx(
            restored.get(INTENT)["confidence"]
        )


def persisted_tensors(storage, resource) -> dict[str, torch.Tensor]:
    with storage.read_from(resource) as directory:
        return {
            f"{path.name}/{name}": tensor
            for path in sorted(directory.rglob("*.safetensors"))
            for name, tensor in load_file(path).items()
        }


def test_same_seed_gives_the_same_model(tmp_path, trained):
    retrained, storage, resource, _ = create_classifier(tmp_path)
    retrained.train(make_training_data(EXAMPLES))
    original = persisted_tensors(trained[1], trained[2])
    again = persisted_tensors(storage, resource)
    assert len(original) > 50 and original.keys() == again.keys()
    for name, tensor in again.items():
        assert torch.equal(tensor, original[name]), name


def test_quantized_and_fp32_predictions_agree(trained):
    _, storage, resource, context = trained
    softmax = {"rejection_similarity": None}
    quantized = TransformerIntentClassifier.load(softmax, storage, resource, context)
    full = TransformerIntentClassifier.load(
        {**softmax, "quantize": False}, storage, resource, context
    )
    modules = list(quantized._predictor.model.modules())
    assert not any(type(module) is torch.nn.Linear for module in modules)  # quantised by default
    assert any(type(module) is torch.nn.Linear for module in full._predictor.model.modules())
    for text in [text for texts in EXAMPLES.values() for text in texts] + ["hello, good evening"]:
        a, b = parse(quantized, text).get(INTENT), parse(full, text).get(INTENT)
        assert a["name"] == b["name"], text
        assert a["confidence"] == pytest.approx(b["confidence"], abs=0.1), text


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "😀🙏🔥", "where is my order " * 400, "ÄÖÜ ß ñ 你好"],
    ids=["empty", "whitespace", "emoji", "very-long", "non-ascii"],
)
def test_odd_messages_get_a_prediction(trained, text):
    message = parse(trained[0], text)
    assert message.get(INTENT)["name"] in EXAMPLES
    assert 0.0 < message.get(INTENT)["confidence"] <= 1.0


def test_batch_of_messages_is_processed_in_order(trained):
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    messages = [
        Message(data={TEXT: text}) for text in ["hello", "refund me please", "where is my package"]
    ]
    trained[0].process(messages)
    assert [m.get(INTENT)["name"] for m in messages] == ["greet", "refund", "order_status"]


@pytest.mark.parametrize("examples", [{}, {"greet": EXAMPLES["greet"]}])
def test_fewer_than_two_intents_is_a_clear_error(tmp_path, examples):
    classifier, *_ = create_classifier(tmp_path)
    with pytest.raises(IntentTrainingDataError, match="at least two intents"):
        classifier.train(make_training_data(examples))


@pytest.mark.parametrize(
    "config, message",
    [
        ({"epochs": 0}, "'epochs' must be > 0"),
        ({"learning_rate": -1.0}, "'learning_rate' must be > 0"),
        ({"ranking_length": -1}, "'ranking_length' must be an integer"),
        ({"rejection_similarity": 2}, "'rejection_similarity' must be a number between"),
        ({"rejection_similarity": "high"}, "'rejection_similarity' must be a number between"),
        ({"model_name_or_path": "/no/such/model"}, "not a local directory"),
        ({"request_intents": "refund"}, "'request_intents' must be a list"),
        ({"split_requests": "yes"}, "'split_requests' must be true or false"),
        ({"request_threshold": 1.5}, "'request_threshold' must be a number between"),
        ({"question_threshold": "high"}, "'question_threshold' must be a number between"),
    ],
)
def test_bad_config_is_rejected_with_the_option_name(tmp_path, config, message):
    with pytest.raises(ValueError, match=message):
        create_classifier(tmp_path, config)


def test_untrained_resource_loads_without_predicting(tmp_path):
    _, storage, resource, context = create_classifier(tmp_path)
    loaded = TransformerIntentClassifier.load({}, storage, resource, context)
    assert parse(loaded, "hello").get(INTENT) is None
