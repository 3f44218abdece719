"""`ConversationRepairPolicy`: conversation repair for Rasa Open Source 3.6.

Rasa Pro's CALM ships "conversation repair" patterns (cancel, correction, digression and resume,
chitchat, clarification, cannot handle, internal error, human handoff). This policy brings the
same behaviour to Rasa Open Source bots built from rules, stories and forms:

- it takes over a turn only in the situations of `rasa_llm_components.repair.plans`, with
  priority above `RulePolicy`, so a form can never swallow "never mind" or a question;
- outside forms it offers a low-confidence fallback (`fallback_confidence`, set it to the
  `core_fallback_threshold` of `RulePolicy`): when no rule, story or other policy is confident,
  the customer hears what the bot can do instead of nothing, and a human after repeated misses;
- when an action fails without a word (the action server is down, it raised), it apologises.

The policy is cheap and synchronous, as Rasa's graph requires; it reads everything it needs
from the tracker. Digressions are answered the way the bot answers the same intent outside a
form: the policy learns that from the training rules and stories at `rasa train`.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import replace
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import (
    ACTION_LISTEN_NAME,
    USER_INTENT_BACK,
    USER_INTENT_RESTART,
    USER_INTENT_SESSION_START,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_llm_components.config_validation import check_known_options, is_cached_output
from rasa_llm_components.nlu.pii_detection import CARD_DATA_KINDS
from rasa_llm_components.nlu.pii_redactor import PII_KEY
from rasa_llm_components.repair.learned import learn_answers_after, learn_responses
from rasa_llm_components.repair.plans import (
    DomainFacts,
    Plan,
    as_understood,
    failed_action,
    fallback_plan,
    form_ended_incomplete,
    next_request_due,
    plan_turn,
    rejected_plan,
)
from rasa_llm_components.repair.settings import (
    DEFAULT_CONFIG,
    TASK_SLOT,
    RepairConfigError,
    RepairSettings,
    repair_settings,
)
from rasa_llm_components.repair.turn import Turn, read_turn
from rasa_llm_components.word_frequency import load_word_list

logger = logging.getLogger(__name__)

LEARNED_FILE = "learned_responses.json"
DECLINES_FILE = "learned_declines.json"
ACCEPTS_FILE = "learned_accepts.json"
RASA_CONTROL_INTENTS = frozenset({USER_INTENT_RESTART, USER_INTENT_BACK, USER_INTENT_SESSION_START})
DOMAIN_SNIPPET = "rasa_llm_components/repair/domain.yml"


def domain_facts(domain: Domain) -> DomainFacts:
    """The parts of the domain the repair plans use."""
    return DomainFacts(
        form_slots={form: domain.required_slots_for_form(form) for form in domain.form_names},
        # user_actions also lists the responses; custom actions are the rest
        custom_actions=frozenset(domain.user_actions) - frozenset(domain.responses),
        responses=frozenset(domain.responses),
        text_slots=frozenset(
            slot.name
            for slot in domain.slots
            if any(mapping.get("type") == "from_text" for mapping in slot.mappings)
        ),
    )


def _pii_kinds(tracker: DialogueStateTracker) -> list[str]:
    """The kinds of personal data `PIIRedactor` found in the latest user message."""
    parse_data = tracker.latest_message.parse_data if tracker.latest_message else None
    kinds = (parse_data or {}).get(PII_KEY)
    return list(kinds) if isinstance(kinds, list) else []


def answer_after_warning(turn: Turn, settings: RepairSettings, facts: DomainFacts) -> Plan:
    """How the turn goes on after a warning said before anything else: the form continues, or
    the intent is answered the way rules and stories answer it (they cannot match any more)."""
    if turn.loop:
        return Plan("card_data", [turn.loop], listen_after=False)
    learned = settings.digressions.get(turn.intent or "")
    if learned:
        return Plan("card_data", list(learned), listen_after=not facts.is_form(learned[-1]))
    answerable = settings.answer_intents | settings.question_only_intents
    if settings.answer_action and turn.intent in answerable | {settings.fallback_intent}:
        return Plan("card_data", [settings.answer_action])
    return Plan("card_data", [])


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True
)
class ConversationRepairPolicy(Policy):
    """Answers the turns that rules, stories and forms leave unanswered or answer wrongly."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Priority above RulePolicy (4), so that a form never swallows a cancel or a question.
        return {
            "priority": 7,
            **copy.deepcopy(DEFAULT_CONFIG),
            # said first when a message contains payment card data (PIIRedactor's `pii`); the
            # turn then goes on as without it. null: off
            "card_data_response": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
        learned: dict[str, tuple[str, ...]] | None = None,
        declines: dict[str, tuple[str, ...]] | None = None,
        accepts: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.configured = self.validate_config(config)
        self._use_learned(learned or {}, declines or {}, accepts or {})

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> RepairSettings:
        """The validated settings; raises `RepairConfigError` naming a bad or unknown option."""
        check_known_options(cls.__name__, config, cls.get_default_config(), error=RepairConfigError)
        return repair_settings(config)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Validates the options in `rasa train`'s fingerprint run, before anything trains."""
        if is_cached_output(config):
            return None
        cls.validate_config(config)
        # what a trained model holds: a model cached before a file was added is retrained
        return ",".join((LEARNED_FILE, DECLINES_FILE, ACCEPTS_FILE))

    def _use_learned(
        self, learned: dict[str, tuple[str, ...]], declines: dict[str, tuple[str, ...]],
        accepts: dict[str, tuple[str, ...]],
    ) -> None:
        """Answers learned from rules and stories (the configured `digressions` override
        them), and how each confirmation's "no" and "yes" are answered."""
        self.learned, self.declines, self.accepts = dict(learned), dict(declines), dict(accepts)
        self.settings = replace(
            self.configured,
            digressions={**self.learned, **self.configured.digressions},
            declines=self.declines,
            accepts=self.accepts,
        )

    @classmethod
    def supported_data(cls) -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    # -- training ----------------------------------------------------------------------------
    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Checks the domain and learns how each intent is answered outside forms, and each
        confirmation's "no"."""
        self._check_domain(domain)
        settings = self.configured
        declines = learn_answers_after(
            training_trackers,
            settings.confirmation_actions,
            settings.deny_intents | settings.cancel_intents,
        )
        accepts = learn_answers_after(
            training_trackers, settings.confirmation_actions, settings.affirm_intents
        )
        self._use_learned(learn_responses(training_trackers, domain), declines, accepts)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / LEARNED_FILE).write_text(json.dumps(self.learned), encoding="utf-8")
            (directory / DECLINES_FILE).write_text(json.dumps(self.declines), encoding="utf-8")
            (directory / ACCEPTS_FILE).write_text(json.dumps(self.accepts), encoding="utf-8")
        logger.info(
            "ConversationRepairPolicy learned answers for %d intents and %d confirmations",
            len(self.learned),
            len(self.declines),
        )
        return self._resource

    def _check_domain(self, domain: Domain) -> None:
        settings = self.settings
        missing = sorted(set(settings.responses.values()) - set(domain.responses))
        if missing:
            raise RepairConfigError(
                f"ConversationRepairPolicy needs the response(s) {missing} in the domain. Copy "
                f"them from {DOMAIN_SNIPPET} (or point 'responses' to your own)."
            )
        card_warning = self.config.get("card_data_response")
        if card_warning and card_warning not in domain.responses:
            raise RepairConfigError(
                f"ConversationRepairPolicy option 'card_data_response' names '{card_warning}', "
                "which is not a response in the domain. Add it or set it to null."
            )
        if TASK_SLOT not in {slot.name for slot in domain.slots}:
            raise RepairConfigError(
                f"ConversationRepairPolicy needs the text slot '{TASK_SLOT}' in the domain "
                f"(see {DOMAIN_SNIPPET})."
            )
        for option in ("handoff_action", "answer_action", "goodbye_action",
                       "next_request_action", "own_order_action"):
            action = getattr(settings, option)
            if action and action not in domain.action_names_or_texts:
                raise RepairConfigError(
                    f"ConversationRepairPolicy option '{option}' names '{action}', which is not "
                    f"in the domain. Add it to the domain or set '{option}: null'."
                )
        for intent, actions in settings.digressions.items():
            unknown = [a for a in actions if a not in domain.action_names_or_texts]
            if unknown:
                raise RepairConfigError(
                    f"ConversationRepairPolicy option 'digressions': intent '{intent}' names "
                    f"{unknown}, not in the domain."
                )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ConversationRepairPolicy:
        learned: dict[str, dict[str, tuple[str, ...]]] = {}
        try:
            with model_storage.read_from(resource) as directory:
                for name in (LEARNED_FILE, DECLINES_FILE, ACCEPTS_FILE):
                    try:
                        raw = json.loads((directory / name).read_text(encoding="utf-8"))
                    except (ValueError, OSError):
                        logger.warning("ConversationRepairPolicy: no %s in the model; retrain.",
                                       name)
                        continue
                    learned[name] = {key: tuple(actions) for key, actions in raw.items()}
        except ValueError:
            logger.warning("ConversationRepairPolicy: nothing learned in the model; retrain.")
        load_word_list()  # keyboard-mashing checks run in Rasa's event loop
        return cls(
            config,
            model_storage,
            resource,
            execution_context,
            learned=learned.get(LEARNED_FILE),
            declines=learned.get(DECLINES_FILE),
            accepts=learned.get(ACCEPTS_FILE),
        )

    # -- prediction --------------------------------------------------------------------------
    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predicts the next step of the turn's repair plan, or nothing."""
        turn = read_turn(tracker)
        probabilities = self._default_predictions(domain)
        if turn is None or turn.intent in RASA_CONTROL_INTENTS:
            return self._prediction(probabilities)  # /restart, /back: Rasa's own actions
        settings = self.settings
        turn = as_understood(turn, settings)
        facts = domain_facts(domain)
        card_warning, warned = self.config.get("card_data_response"), False
        if card_warning and CARD_DATA_KINDS & set(_pii_kinds(tracker)):
            if not turn.actions:
                return self._predict(domain, card_warning, 1.0, [], "card_data")
            if turn.actions[0] == card_warning:  # the rest of the turn: as if it had not been said
                turn, warned = replace(turn, actions=turn.actions[1:]), True

        error_response = settings.response("internal_error")
        failed = failed_action(turn, facts)
        if failed:
            logger.warning("Action '%s' failed without a reply; apologising.", failed)
            return self._predict(domain, error_response, 1.0, [], "internal_error")
        if turn.actions and turn.actions[-1] == error_response:
            return self._predict(domain, ACTION_LISTEN_NAME, 1.0, [], "internal_error")

        if form_ended_incomplete(turn, tracker, facts):
            # A form validator ended the form (e.g. "past the return window"): what it said is
            # the answer; the form's follow-up (submitting it) must not run without its slots.
            return self._predict(domain, ACTION_LISTEN_NAME, 1.0, [], "form_ended")

        plan = plan_turn(turn, settings, facts)
        confidence = 1.0
        if plan is None and turn.loop and turn.loop_rejected:
            plan = rejected_plan(turn, settings)
        if plan is None and warned:  # rules and stories expect the message right before
            plan = answer_after_warning(turn, settings, facts)
        if plan is None and not turn.loop:
            plan = fallback_plan(turn, settings, facts)
            if not turn.actions:
                confidence = settings.fallback_confidence
        follow_ups = frozenset({settings.answer_action} - {None})
        step = plan.next_step(turn.actions, follow_ups) if plan else None
        next_request = settings.next_request_action
        if next_request and turn.actions and turn.actions[-1] == next_request:
            # it found nothing to hand on (the message's other request was unreadable)
            return self._predict(domain, ACTION_LISTEN_NAME, 1.0, [], "next_request")
        if next_request_due(turn, settings, facts, step[0] if step else None,
                            tracker.active_loop_name):
            return self._predict(domain, next_request, 1.0, [], "next_request")
        if step is None:
            return self._prediction(probabilities)
        action, events = step
        if action == settings.response("offer_handoff") and turn.actions and turn.asked:
            # the answer ends with a question of its own ("Shall I start a return?"): a second
            # one would take the customer's "yes" away from it
            return self._predict(domain, ACTION_LISTEN_NAME, 1.0, [], plan.case)
        return self._predict(domain, action, confidence, events, plan.case)

    def _predict(
        self, domain: Domain, action: str, confidence: float, events: list, case: str
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        index = domain.index_for_action(action)
        if index is None:
            logger.error("ConversationRepairPolicy: action '%s' is not in the domain.", action)
            return self._prediction(probabilities)
        probabilities[index] = confidence
        # A sure repair step must beat the form's own prediction, which Rasa ranks above
        # everything based on user input; the low-confidence fallback competes normally.
        return self._prediction(
            probabilities,
            optional_events=events,
            is_no_user_prediction=confidence >= 1.0,
            diagnostic_data={"repair_case": case},
        )
