"""`LLMResponsePolicy`: hands free-form questions to the grounded LLM answer.

The policy itself is cheap and synchronous, as everything in Rasa's graph must be: it only
decides *whether* the bot answers with the LLM and predicts the response action
(`utter_llm_answer`). Retrieval and generation happen later, asynchronously, in
`rasa_llm_components.LLMNaturalLanguageGenerator`, which reads the knowledge index and LLM
settings this policy registers when its model is loaded (see `llm_runtime`).

Training loads the knowledge files named in `knowledge_paths`, builds the hybrid
`KnowledgeIndex` and persists it in the model through `ModelStorage`; `fingerprint_addon` hashes
the files so that editing them retrains the policy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY

from rasa_llm_components.answering.settings import AnswerConfigError, answer_config
from rasa_llm_components.config_validation import check_known_options, is_cached_output
from rasa_llm_components.llm import DEFAULT_LLM_CONFIG, LLMConfigError, llm_config

logger = logging.getLogger(__name__)

INDEX_DIRECTORY = "knowledge_index"
NO_KNOWLEDGE_MARKER = "no_knowledge"


class LLMPolicyConfigError(RasaException, ValueError):
    """The `LLMResponsePolicy` configuration is invalid."""


def resolve_knowledge_paths(paths: Any) -> list[Path]:
    """Resolves `knowledge_paths` (a string or a list) relative to the working directory."""
    if not paths:
        return []
    if isinstance(paths, (str, Path)):
        paths = [paths]
    resolved = []
    for item in paths:
        path = Path(str(item)).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        if not path.exists():
            raise LLMPolicyConfigError(
                f"Knowledge path '{item}' does not exist (resolved to '{path}'). Paths in "
                "'knowledge_paths' are relative to the directory you run rasa in."
            )
        resolved.append(path)
    return resolved


def load_knowledge(paths: list[Path], configured: Any) -> list[Any]:
    """The passages of the knowledge files; a clear one-line error for broken or empty ones.

    Raises:
        KnowledgeBaseError: a file is malformed (the message names the file and line).
        LLMPolicyConfigError: the files hold no passage at all.
    """
    from rasa_llm_components.retrieval import load_passages

    passages = load_passages(paths)
    if not passages:
        raise LLMPolicyConfigError(
            f"LLMResponsePolicy: the knowledge paths {configured} contain no passages. Add FAQ "
            "(YAML/JSON), Markdown or CSV files there, or remove 'knowledge_paths' to let the "
            "policy abstain."
        )
    return passages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True
)
class LLMResponsePolicy(Policy):
    """Predicts the grounded LLM response for free-form questions nothing else covers.

    It takes a turn right after a user message when the intent is one of `intents`, is the
    `fallback_intent` (`nlu_fallback`), or has an NLU confidence below `nlu_threshold` — unless a
    form is active (`answer_during_form: false`). After its response action ran it predicts
    `action_listen`. Rules and memorised stories keep precedence: with the default confidence
    1.0 and priority 2 the policy wins over TEDPolicy (priority 1) but loses a tie against
    MemoizationPolicy (3) and RulePolicy (4).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "priority": 2,
            "confidence": 1.0,
            "response_action": "utter_llm_answer",
            "intents": ["faq", "product_question", "out_of_scope"],
            "fallback_intent": "nlu_fallback",
            "nlu_threshold": 0.3,
            "answer_during_form": False,
            "knowledge_paths": [],
            "encoder": None,
            "retrieval": {},
            "answer": {},
            "llm": {},
            "warm_up": True,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.validate_config(config)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Raises `LLMPolicyConfigError` naming an unknown or unusable option (nested too)."""
        from dataclasses import fields

        from rasa_llm_components.llm.factory import BACKENDS
        from rasa_llm_components.retrieval.scoring import RetrievalConfig

        check_known_options(
            cls.__name__, config, cls.get_default_config(), error=LLMPolicyConfigError
        )
        check_known_options(
            cls.__name__,
            config.get("retrieval"),
            [item.name for item in fields(RetrievalConfig)],
            section="retrieval",
            error=LLMPolicyConfigError,
            allow_rasa_keys=False,
        )
        try:
            answer_config(config.get("answer"))
            llm_config(config.get("llm"))
        except (AnswerConfigError, LLMConfigError) as error:
            raise LLMPolicyConfigError(str(error)) from error
        backend = (config.get("llm") or {}).get("backend", DEFAULT_LLM_CONFIG["backend"])
        if backend not in BACKENDS:
            raise LLMPolicyConfigError(
                f"Unknown LLM backend '{backend}'. Choose one of {list(BACKENDS)}."
            )
        confidence = config.get("confidence", 1.0)
        if not isinstance(confidence, (int, float)) or not 0.0 <= float(confidence) <= 1.0:
            raise LLMPolicyConfigError(
                f"LLMResponsePolicy: 'confidence' must lie in [0, 1], got {confidence!r}."
            )
        threshold = config.get("nlu_threshold", 0.0)
        if threshold is not None and (
            not isinstance(threshold, (int, float)) or not 0.0 <= float(threshold) <= 1.0
        ):
            raise LLMPolicyConfigError(
                f"LLMResponsePolicy: 'nlu_threshold' must lie in [0, 1], got {threshold!r}."
            )

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Changes whenever a knowledge file changes, so that `rasa train` rebuilds the index.

        Rasa calls it in the fingerprint run of `rasa train`, before any component trains: the
        options are validated here so that a typo fails the training at once.
        """
        if is_cached_output(config):
            return None
        cls.validate_config(config)
        paths = config.get("knowledge_paths")
        if not paths:
            return None
        from rasa_llm_components.retrieval import knowledge_fingerprint

        resolved = resolve_knowledge_paths(paths)
        # Broken knowledge files fail here, before the NLU components spend minutes training.
        load_knowledge(resolved, paths)
        return knowledge_fingerprint(resolved)

    # -- training --------------------------------------------------------------------------
    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Builds the knowledge index from `knowledge_paths` and persists it in the model."""
        action = self.config["response_action"]
        if action not in domain.action_names_or_texts:
            logger.warning(
                "LLMResponsePolicy predicts '%s', which is not in the domain; add it as a "
                "response (its text is the fallback reply).",
                action,
            )
        self._check_model_files()
        paths = resolve_knowledge_paths(self.config.get("knowledge_paths"))
        with self._model_storage.write_to(self._resource) as directory:
            if not paths:
                logger.warning("LLMResponsePolicy has no 'knowledge_paths': it will abstain.")
                (Path(directory) / NO_KNOWLEDGE_MARKER).write_text("", encoding="utf-8")
                return self._resource
            from rasa_llm_components.encoders import SentenceEncoder
            from rasa_llm_components.retrieval import KnowledgeIndex, knowledge_fingerprint

            passages = load_knowledge(paths, self.config.get("knowledge_paths"))
            encoder = SentenceEncoder(self.config.get("encoder"))
            index = KnowledgeIndex.build(passages, encoder, **(self.config.get("retrieval") or {}))
            index.persist(Path(directory) / INDEX_DIRECTORY)
            (Path(directory) / "fingerprint.txt").write_text(
                knowledge_fingerprint(paths), encoding="utf-8"
            )
            logger.info("LLMResponsePolicy indexed %d passages from %s", len(passages), paths)
        return self._resource

    def _check_model_files(self) -> None:
        """Fails training early when the configured local LLM files do not exist."""
        settings = llm_config(self.config.get("llm"))
        if (self.config.get("answer") or {}).get("mode") == "extractive":
            return
        try:
            if settings["backend"] == "llamacpp":
                from rasa_llm_components.llm.llamacpp import resolve_model_path

                resolve_model_path(settings["model_path"])
            elif settings["backend"] == "huggingface":
                if not settings["model_path"] or not Path(settings["model_path"]).is_dir():
                    raise LLMConfigError(
                        f"Hugging Face model directory '{settings['model_path']}' does not exist."
                    )
            elif not settings["base_url"]:
                raise LLMConfigError("The 'openai' backend needs 'llm.base_url'.")
        except LLMConfigError as error:
            raise LLMPolicyConfigError(str(error)) from error

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LLMResponsePolicy:
        """Loads the index and registers the runtime the NLG answers with."""
        policy = cls(config, model_storage, resource, execution_context)
        try:
            runtime = cls._load_runtime(config, model_storage, resource)
        except (ValueError, FileNotFoundError) as error:
            logger.error("LLMResponsePolicy could not load its knowledge index: %s", error)
            runtime = None
        from rasa_llm_components.core.runtime import register_runtime

        if runtime is not None:
            # The runtime lives as long as this policy, i.e. as long as Rasa serves the model.
            register_runtime(execution_context.model_id, runtime, owner=policy)
            if config.get("warm_up", True):
                try:
                    runtime.warm_up()
                except (LLMConfigError, OSError) as error:
                    logger.error("Could not start the LLM backend: %s", error)
        return policy

    @staticmethod
    def _load_runtime(
        config: dict[str, Any], model_storage: ModelStorage, resource: Resource
    ) -> Any:
        from rasa_llm_components.answering.fact_guard import FactGuard
        from rasa_llm_components.core.runtime import LLMRuntime
        from rasa_llm_components.encoders import SentenceEncoder
        from rasa_llm_components.retrieval import KnowledgeIndex, known_names

        with model_storage.read_from(resource) as directory:
            directory = Path(directory)
            index_dir = directory / INDEX_DIRECTORY
            if not index_dir.is_dir():
                index = None
                fingerprint = ""
            else:
                index = KnowledgeIndex.load(index_dir, SentenceEncoder(config.get("encoder")))
                fingerprint_file = directory / "fingerprint.txt"
                fingerprint = (
                    fingerprint_file.read_text(encoding="utf-8")
                    if fingerprint_file.exists()
                    else ""
                )
        names = known_names(index.passages) if index is not None else []
        return LLMRuntime(
            index=index,
            guard=FactGuard(
                names, default_currency=answer_config(config.get("answer"))["default_currency"]
            ),
            answer_settings=config.get("answer"),
            llm_settings=config.get("llm"),
            fingerprint=fingerprint,
        )

    # -- prediction ------------------------------------------------------------------------
    def should_answer(self, tracker: DialogueStateTracker) -> bool:
        """True when the latest user message is one this policy answers."""
        if tracker.active_loop_name and not self.config.get("answer_during_form", False):
            return False
        message = tracker.latest_message
        if message is None:
            return False
        intent = message.intent or {}
        name = intent.get(INTENT_NAME_KEY)
        confidence = intent.get(PREDICTED_CONFIDENCE_KEY)
        if name is None:
            return bool(message.text)
        if name in (self.config.get("intents") or []):
            return True
        if name == self.config.get("fallback_intent"):
            return True
        threshold = float(self.config.get("nlu_threshold") or 0.0)
        return confidence is not None and float(confidence) < threshold

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predicts the response action, `action_listen` after it, or nothing."""
        probabilities = self._default_predictions(domain)
        action = self.config["response_action"]
        confidence = float(self.config["confidence"])
        latest_action = tracker.latest_action_name
        if latest_action == action:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = confidence
        elif latest_action == ACTION_LISTEN_NAME and self.should_answer(tracker):
            if action in domain.action_names_or_texts:
                probabilities[domain.index_for_action(action)] = confidence
            else:
                logger.warning("Response action '%s' is not in the domain.", action)
        return self._prediction(probabilities)
