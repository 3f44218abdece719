"""`SentimentAnalyzer`: a sentiment score on every user message, from VADER.

VADER (`vaderSentiment` on PyPI) is a rule-based sentiment model tuned for short informal text:
it handles negation ("not good"), intensifiers, capitals and "!!!", and needs no training and no
model download. The score is added to the parsed message as
`{"sentiment": {"compound": -0.62, "label": "negative", "negative": 0.4, ...}}`, which Rasa
stores in the tracker; `ConversationRepairPolicy` reads it to notice frustration.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from rasa_llm_components.config_validation import check_known_options, is_cached_output
from rasa_llm_components.repair.turn import SENTIMENT_KEY


class SentimentConfigError(RasaException, ValueError):
    """The `SentimentAnalyzer` configuration is invalid."""


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class SentimentAnalyzer(GraphComponent):
    """Adds VADER's sentiment of each user message to the parse data (`sentiment`)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # compound score at or below which a message is labelled "negative"
            "negative_threshold": -0.05,
            # compound score at or above which a message is labelled "positive"
            "positive_threshold": 0.05,
            # longer messages are cut before scoring (VADER's cost grows with the length)
            "max_chars": 2000,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["vaderSentiment"]

    def __init__(self, config: dict[str, Any]) -> None:
        self.validate_config(config)
        config = {**self.get_default_config(), **config}
        self._config = config
        self._analyzer = SentimentIntensityAnalyzer()

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Raises `SentimentConfigError` naming an unknown option or an unusable value."""
        check_known_options(
            cls.__name__, config, cls.get_default_config(), error=SentimentConfigError
        )
        config = {**cls.get_default_config(), **config}
        negative, positive = config["negative_threshold"], config["positive_threshold"]
        numbers = all(
            isinstance(value, (int, float)) and not isinstance(value, bool)
            for value in (negative, positive)
        )
        if not numbers or not (-1.0 <= negative <= positive <= 1.0):
            raise SentimentConfigError(
                "SentimentAnalyzer needs -1 <= negative_threshold <= positive_threshold <= 1, "
                f"got {negative} and {positive}."
            )
        if not isinstance(config["max_chars"], int) or config["max_chars"] < 1:
            raise SentimentConfigError(
                f"SentimentAnalyzer option 'max_chars' must be a positive integer, "
                f"got {config['max_chars']!r}."
            )

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Validates the options in `rasa train`'s fingerprint run, before anything trains."""
        if is_cached_output(config):
            return None
        cls.validate_config(config)
        return None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentimentAnalyzer:
        return cls(config)

    def score(self, text: str) -> dict[str, Any]:
        """VADER's scores for `text` and a label from the configured thresholds."""
        scores = self._analyzer.polarity_scores((text or "")[: self._config["max_chars"]])
        compound = float(scores["compound"])
        if compound <= self._config["negative_threshold"]:
            label = "negative"
        elif compound >= self._config["positive_threshold"]:
            label = "positive"
        else:
            label = "neutral"
        return {
            "label": label,
            "compound": compound,
            "negative": float(scores["neg"]),
            "neutral": float(scores["neu"]),
            "positive": float(scores["pos"]),
        }

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                message.set(SENTIMENT_KEY, self.score(text), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
