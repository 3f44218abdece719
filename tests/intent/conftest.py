"""Fixtures for the intent classifier tests: tiny data, the real packaged encoder, few steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_llm_components.transformer_intent_classifier import TransformerIntentClassifier

EXAMPLES = {
    "greet": ["hi", "hello there", "hey", "good morning", "hiya", "hello!", "hey bot", "howdy"],
    "order_status": [
        "where is my order",
        "track my parcel",
        "has my order shipped yet",
        "when will my package arrive",
        "order status please",
        "wheres my stuff",
        "tracking number for my order",
        "is my delivery on the way",
    ],
    "refund": [
        "i want my money back",
        "how do i get a refund",
        "refund my purchase",
        "when will i get my refund",
        "money back please",
        "can you refund me",
        "status of my refund",
        "i was charged but want a refund",
    ],
}

# One thread: float sums in another order (another thread count) give another model.
FAST_CONFIG = {"epochs": 3, "batch_size": 8, "learning_rate": 1e-4, "show_progress": False,
               "num_threads": 1}


def make_training_data(examples: dict[str, list[str]]) -> TrainingData:
    return TrainingData(
        [
            Message(data={TEXT: text, INTENT: intent})
            for intent, texts in examples.items()
            for text in texts
        ]
    )


def create_classifier(
    storage_dir: Path, config: dict[str, Any] | None = None, name: str = "intent"
) -> tuple[TransformerIntentClassifier, LocalModelStorage, Resource, ExecutionContext]:
    storage = LocalModelStorage(storage_dir)
    resource = Resource(name)
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = TransformerIntentClassifier.create(
        {**FAST_CONFIG, **(config or {})}, storage, resource, context
    )
    return classifier, storage, resource, context


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """One classifier trained on the tiny data, shared by the tests that only read it."""
    classifier, storage, resource, context = create_classifier(
        tmp_path_factory.mktemp("intent-storage")
    )
    classifier.train(make_training_data(EXAMPLES))
    return classifier, storage, resource, context


def parse(classifier: TransformerIntentClassifier, text: str) -> Message:
    message = Message(data={TEXT: text})
    classifier.process([message])
    return message
