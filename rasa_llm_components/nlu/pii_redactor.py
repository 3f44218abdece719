"""`PIIRedactor`: tells the dialogue which kinds of personal data a user message contains.

It runs after the tokenizer and adds `{"pii": ["card", "cvv"]}` to the parsed message (an empty
list when there is none), so that policies can react (the example bot tells a customer who sends
card data never to do that). It does not change the message: actions of the running turn still
need what the customer wrote (an address for the change-address form). Storing is where the
text is redacted (`RedactingSQLTrackerStore`), and loading this component also redacts the
process's log records, so the customer's text never reaches a DEBUG log.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_llm_components.config_validation import check_known_options, is_cached_output
from rasa_llm_components.logging_redaction import install_log_redaction
from rasa_llm_components.nlu.pii_detection import (
    PII_KINDS,
    PYAP_COUNTRIES,
    PIIConfigError,
    PIIDetector,
    validate_kinds,
)

PII_KEY = "pii"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class PIIRedactor(GraphComponent):
    """Adds the kinds of personal data in each user message to the parse data (`pii`)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # which kinds to look for (card, cvv, expiry, email, phone, address)
            "kinds": list(PII_KINDS),
            # region for phone numbers written without a country code
            "phone_region": "US",
            # countries whose street addresses pyap knows (the street pattern covers the rest)
            "address_countries": list(PYAP_COUNTRIES),
            # redact personal data from every log record of the process
            "redact_logs": True,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["phonenumbers", "pyap"]

    def __init__(self, config: dict[str, Any]) -> None:
        self.detector = self.validated_detector(config)
        if {**self.get_default_config(), **config}["redact_logs"]:
            install_log_redaction()

    @classmethod
    def validated_detector(cls, config: dict[str, Any]) -> PIIDetector:
        """The detector the options describe; raises `PIIConfigError` naming a bad option."""
        check_known_options("PIIRedactor", config, cls.get_default_config(), error=PIIConfigError)
        config = {**cls.get_default_config(), **config}
        if not isinstance(config["redact_logs"], bool):
            raise PIIConfigError(
                f"PIIRedactor option 'redact_logs' must be true or false, "
                f"got {config['redact_logs']!r}."
            )
        return PIIDetector(
            validate_kinds("kinds", config["kinds"], "PIIRedactor"),
            config["phone_region"],
            config["address_countries"],
        )

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Validates the options in `rasa train`'s fingerprint run, before anything trains."""
        if is_cached_output(config):
            return None
        cls.validated_detector(config)
        return None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PIIRedactor:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            kinds = self.detector.kinds_in(text) if isinstance(text, str) else []
            message.set(PII_KEY, kinds, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
