"""`TransformerIntentClassifier`: a Rasa intent classifier that fine-tunes a transformer encoder."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import torch
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from transformers.utils import logging as transformers_logging

from rasa_llm_components.config_validation import check_known_options, is_cached_output
from rasa_llm_components.encoders import resolve_model_path
from rasa_llm_components.intent.predictor import IntentPredictor
from rasa_llm_components.intent.sentences import (
    REQUESTS_KEY,
    other_requests,
    request_parts,
    request_sentences,
    with_request_sentence,
)
from rasa_llm_components.intent.training import FineTuningSettings

logger = logging.getLogger(__name__)


class IntentTrainingDataError(RasaException):
    """The NLU training data cannot train an intent classifier."""


class IntentClassifierConfigError(RasaException, ValueError):
    """The `TransformerIntentClassifier` configuration is invalid."""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TransformerIntentClassifier(GraphComponent, IntentClassifier):
    """Intent classifier that fine-tunes a local Hugging Face encoder during `rasa train`.

    Sentences are mean-pooled and scored against one learned vector per intent (cosine
    similarity), initialised at the intent centroids, so the classifier stays accurate with ten
    or twenty examples per intent. Needs no tokenizer or featurizer before it in the pipeline.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Local directory of a Hugging Face encoder; None uses the packaged all-MiniLM-L6-v2.
            "model_name_or_path": None,
            "epochs": 10,
            "batch_size": 16,
            "learning_rate": 1e-4,
            # The intent vectors learn faster than the pretrained encoder.
            "head_learning_rate": 1e-3,
            "weight_decay": 0.01,
            "warmup_ratio": 0.1,
            "label_smoothing": 0.0,
            # Cosine similarities are multiplied by this before the softmax.
            "scale": 30.0,
            # Tokens per message; longer messages are truncated.
            "max_length": 64,
            "random_seed": 42,
            # CPU threads for torch; 0 keeps torch's default.
            "num_threads": 0,
            # torch threads once the model is loaded to predict (0 keeps the current setting).
            # Rasa predicts in its event loop, one short message at a time: one thread is about
            # as fast as two on an idle machine, and several threads on a busy CPU stall every
            # conversation (a 64-token message took 0.4-1.7 s with 2 threads, 50-75 ms with 1, on
            # 2 loaded cores).
            "inference_threads": 1,
            # Intents listed in `intent_ranking`; 0 lists all.
            "ranking_length": 10,
            # Cosine similarity of an implicit "none of these intents" option in the softmax:
            # messages whose best similarity is below it get low confidence, which is what
            # FallbackClassifier's threshold acts on. None gives a plain softmax (sums to 1).
            "rejection_similarity": 0.4,
            # Dynamic int8 (per-channel) linear layers for prediction: the classifier runs about
            # 2x faster on CPU for 0.1-0.3 accuracy points. Training always runs in fp32.
            "quantize": True,
            "show_progress": True,
            # Requests that may end a message of several sentences ("I bought a dock (order
            # 10009). The charger gets hot so I want to return it."): when the whole message is
            # none of them at `request_threshold`, a sentence that is one gives the intent.
            # Empty: the whole message only.
            "request_intents": [],
            "request_threshold": 0.9,
            # Two requests in one message ("where's order 10019, and can the watch go in the
            # pool?"): the parts whose confident intent (`request_threshold`) is not the
            # message's go to the parse data's `requests`, for the repair policy's
            # `next_request_action` to answer after the first.
            "split_requests": False,
            # A part with a question mark needs only this confidence: a question beside a
            # request ("cancel the camera order, how long does the refund take?") is rarely
            # as sure as a request (0.84 there).
            "question_threshold": 0.75,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["torch", "transformers"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        predictor: IntentPredictor | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._predictor = predictor
        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Fails early, with the option name, on unknown options and unusable values."""
        defaults = cls.get_default_config()
        check_known_options(
            cls.__name__, config, defaults, error=IntentClassifierConfigError
        )
        config = {**defaults, **config}
        positive = ["epochs", "batch_size", "learning_rate", "max_length", "scale"]
        for key in positive:
            value = config.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise IntentClassifierConfigError(
                    f"TransformerIntentClassifier: '{key}' must be > 0, got {value!r}."
                )
        for key in ["num_threads", "inference_threads", "ranking_length"]:
            value = config.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise IntentClassifierConfigError(
                    f"TransformerIntentClassifier: '{key}' must be an integer >= 0."
                )
        intents = config.get("request_intents")
        if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
            raise IntentClassifierConfigError(
                "TransformerIntentClassifier: 'request_intents' must be a list of intent names, "
                f"got {intents!r}."
            )
        for option in ("request_threshold", "question_threshold"):
            threshold = config.get(option)
            if (
                not isinstance(threshold, (int, float)) or isinstance(threshold, bool)
                or not 0.0 <= threshold <= 1.0
            ):
                raise IntentClassifierConfigError(
                    f"TransformerIntentClassifier: '{option}' must be a number between 0 and "
                    f"1, got {threshold!r}."
                )
        if not isinstance(config.get("split_requests"), bool):
            raise IntentClassifierConfigError(
                "TransformerIntentClassifier: 'split_requests' must be true or false, got "
                f"{config.get('split_requests')!r}."
            )
        rejection = config.get("rejection_similarity")
        if rejection is not None and (
            not isinstance(rejection, (int, float))
            or isinstance(rejection, bool)
            or not -1.0 <= rejection <= 1.0
        ):
            raise IntentClassifierConfigError(
                "TransformerIntentClassifier: 'rejection_similarity' must be a number between -1 "
                f"and 1 or null, got {rejection!r}."
            )
        try:
            resolve_model_path(config.get("model_name_or_path"))
        except (ValueError, OSError) as error:
            raise IntentClassifierConfigError(
                f"TransformerIntentClassifier: 'model_name_or_path': {error}"
            ) from error

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
    ) -> TransformerIntentClassifier:
        cls.validate_config(config)
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    def _settings(self) -> FineTuningSettings:
        names = [field.name for field in dataclasses.fields(FineTuningSettings)]
        return FineTuningSettings(**{name: self.config[name] for name in names})

    def train(self, training_data: TrainingData) -> Resource:
        """Fine-tunes the encoder on the NLU examples and persists the result."""
        examples = [
            (message.get(TEXT), message.get(INTENT))
            for message in training_data.intent_examples
            if message.get(TEXT) and message.get(INTENT)
        ]
        intents = sorted({intent for _, intent in examples})
        if len(intents) < 2:
            raise IntentTrainingDataError(
                "TransformerIntentClassifier needs NLU examples for at least two intents, found "
                f"{len(intents)} ({', '.join(intents) or 'none'}). Add examples to your NLU data "
                "or remove the classifier from the pipeline."
            )
        if self.config["num_threads"] > 0:
            torch.set_num_threads(int(self.config["num_threads"]))
        logger.info(
            "Fine-tuning %s on %d examples of %d intents.",
            resolve_model_path(self.config["model_name_or_path"]),
            len(examples),
            len(intents),
        )
        settings = self._settings()
        predictor, losses = IntentPredictor.train(
            [text for text, _ in examples],
            [intent for _, intent in examples],
            self.config["model_name_or_path"],
            settings,
            scale=float(self.config["scale"]),
        )
        logger.info("Fine-tuning finished; final epoch loss %.4f.", losses[-1] if losses else 0.0)
        with self._model_storage.write_to(self._resource) as directory:
            predictor.save(directory, settings)
        self._predictor = predictor.quantize() if self.config["quantize"] else predictor
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TransformerIntentClassifier:
        check_known_options(
            cls.__name__, config, cls.get_default_config(), error=IntentClassifierConfigError
        )
        config = {**cls.get_default_config(), **config}
        try:
            with model_storage.read_from(resource) as directory:
                predictor = IntentPredictor.load(directory, quantize=bool(config["quantize"]))
            if config["inference_threads"] > 0:
                torch.set_num_threads(int(config["inference_threads"]))
            # Rasa runs `process` in the server's event loop: the first inference (torch's lazy
            # kernel set-up, a second or more) happens here, at load, not in a customer's turn.
            predictor.predict(["hello"], config["rejection_similarity"])
        except ValueError:
            logger.warning(
                "TransformerIntentClassifier found no trained model in resource '%s'; it will not "
                "predict intents.",
                resource.name,
            )
            predictor = None
        return cls(config, model_storage, resource, predictor)

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets `intent` and `intent_ranking` on each message (and `requests`, the other
        requests of a message, with `split_requests`)."""
        if self._predictor is None or not messages:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        request_intents = set(self.config["request_intents"])
        threshold = self.config["request_threshold"]
        sentences = [request_sentences(text) if request_intents else [] for text in texts]
        spans = [request_parts(text) if self.config["split_requests"] else [] for text in texts]
        parts = [[text[start:end] for start, end in split] for text, split in zip(
            texts, spans, strict=True)]
        extra = list(dict.fromkeys(
            piece for split in [*sentences, *parts] for piece in split))
        rankings = self._rankings([*texts, *extra])
        of_piece = dict(zip(extra, rankings[len(texts):], strict=True))
        for message, text, whole, split, own_spans, own_parts in zip(
            messages, texts, rankings[: len(texts)], sentences, spans, parts, strict=True
        ):
            # its sentences, then its clauses ("so i want to return it please" in "so i want to
            # return it please, i think i still have time?")
            pieces = [*split, *(piece for piece in own_parts if piece not in split)]
            ranking = with_request_sentence(
                whole, [of_piece[piece] for piece in pieces], request_intents, threshold
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            requests = other_requests(
                text, ranking[0]["name"], own_spans, [of_piece[p] for p in own_parts], threshold,
                self.config.get("question_threshold"),
            )
            if requests:
                message.set(REQUESTS_KEY, requests, add_to_output=True)
        return messages

    def _rankings(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        """Each text's intents, most confident first (`ranking_length` of them).

        One text at a time: the quantized model scales its activations per batch, so a text
        batched with others (a message with its own sentences) would get other confidences
        than on its own (0.86 against 0.97, measured)."""
        rejection = self.config["rejection_similarity"]
        probabilities = torch.cat([self._predictor.predict([text], rejection) for text in texts])
        ranking_length = self.config["ranking_length"] or len(self._predictor.labels)
        rankings = []
        for row in probabilities:
            confidences, indices = torch.sort(row, descending=True)
            rankings.append([
                {"name": self._predictor.labels[index], "confidence": float(confidence)}
                for confidence, index in zip(confidences.tolist(), indices.tolist(), strict=True)
            ][:ranking_length])
        return rankings
