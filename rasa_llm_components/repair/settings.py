"""The repair layer's settings: which intents mean what, which responses it says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa.shared.exceptions import RasaException


class RepairConfigError(RasaException, ValueError):
    """The `ConversationRepairPolicy` configuration is invalid."""


# The responses the repair layer says; the keys are the names used in `responses:`.
DEFAULT_RESPONSES = {
    "cancelled": "utter_repair_cancelled",
    "resume": "utter_repair_resume",
    "not_understood": "utter_repair_not_understood",
    "fallback": "utter_repair_fallback",
    "fallback_handoff": "utter_repair_fallback_handoff",
    "empathy": "utter_repair_empathy",
    "offer_handoff": "utter_repair_offer_handoff",
    "no_handoff": "utter_repair_no_handoff",
    "internal_error": "utter_repair_internal_error",
}

# Slots the repair layer sets for its templates (declared in the domain snippet).
TASK_SLOT = "repair_task"

INTENT_LIST_OPTIONS = (
    "cancel_intents",
    "deny_intents",
    "affirm_intents",
    "handoff_intents",
    "frustration_intents",
    "exit_intents",
    "slot_intents",
    "answer_intents",
    "question_only_intents",
)


@dataclass(frozen=True)
class RepairSettings:
    """Validated settings of the repair policy (see `ConversationRepairPolicy`)."""

    cancel_intents: frozenset[str] = frozenset({"stop"})
    deny_intents: frozenset[str] = frozenset({"deny"})
    affirm_intents: frozenset[str] = frozenset({"affirm"})
    handoff_intents: frozenset[str] = frozenset({"human_handoff"})
    frustration_intents: frozenset[str] = frozenset({"complaint"})
    exit_intents: frozenset[str] = frozenset({"goodbye"})
    slot_intents: frozenset[str] = frozenset({"inform"})
    answer_intents: frozenset[str] = frozenset({"faq", "product_question"})
    question_only_intents: frozenset[str] = frozenset({"out_of_scope"})
    fallback_intent: str = "nlu_fallback"
    handoff_action: str | None = "action_handoff"
    answer_action: str | None = "utter_llm_answer"
    goodbye_action: str | None = "utter_goodbye"
    abstain_answer_kinds: frozenset[str] = frozenset({"abstained", "refused", "failed"})
    confirmation_actions: frozenset[str] = frozenset()
    form_titles: dict[str, str] = field(default_factory=dict)
    digressions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    frustration_threshold: float = -0.3
    misses_before_handoff: int = 2
    fallback_confidence: float = 0.3
    responses: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RESPONSES))

    def response(self, key: str) -> str:
        return self.responses[key]

    def form_title(self, form: str) -> str:
        """How the customer calls the task a form collects ("return", "address change")."""
        if form in self.form_titles:
            return self.form_titles[form]
        name = form[: -len("_form")] if form.endswith("_form") else form
        return name.replace("_", " ")


def _intent_set(option: str, value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, set)) or not all(isinstance(v, str) for v in value):
        raise RepairConfigError(
            f"ConversationRepairPolicy option '{option}' must be a list of intent names, "
            f"got {value!r}."
        )
    return frozenset(value)


def _optional_name(option: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise RepairConfigError(
        f"ConversationRepairPolicy option '{option}' must be an action name or null, got {value!r}."
    )


def _mapping(option: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RepairConfigError(
            f"ConversationRepairPolicy option '{option}' must be a mapping, got {value!r}."
        )
    return value


def _digressions(value: Any) -> dict[str, tuple[str, ...]]:
    digressions = {}
    for intent, actions in _mapping("digressions", value).items():
        if isinstance(actions, str):
            actions = [actions]
        if not actions or not all(isinstance(action, str) and action for action in actions):
            raise RepairConfigError(
                f"ConversationRepairPolicy option 'digressions': intent '{intent}' must map to "
                f"an action name or a list of action names, got {actions!r}."
            )
        digressions[str(intent)] = tuple(actions)
    return digressions


def _number(option: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise RepairConfigError(
            f"ConversationRepairPolicy option '{option}' must be a number from {low} to {high}, "
            f"got {value!r}."
        )
    return float(value)


def repair_settings(config: dict[str, Any]) -> RepairSettings:
    """Validates the policy configuration; raises `RepairConfigError` naming the option."""
    responses = _mapping("responses", config.get("responses"))
    unknown = sorted(set(responses) - set(DEFAULT_RESPONSES))
    if unknown:
        raise RepairConfigError(
            f"ConversationRepairPolicy option 'responses' has unknown key(s) {unknown}; "
            f"the keys are {sorted(DEFAULT_RESPONSES)}."
        )
    misses = config.get("misses_before_handoff", 2)
    if isinstance(misses, bool) or not isinstance(misses, int) or misses < 1:
        raise RepairConfigError(
            "ConversationRepairPolicy option 'misses_before_handoff' must be an integer >= 1, "
            f"got {misses!r}."
        )
    return RepairSettings(
        **{option: _intent_set(option, config.get(option)) for option in INTENT_LIST_OPTIONS},
        fallback_intent=str(config.get("fallback_intent") or "nlu_fallback"),
        handoff_action=_optional_name("handoff_action", config.get("handoff_action")),
        answer_action=_optional_name("answer_action", config.get("answer_action")),
        goodbye_action=_optional_name("goodbye_action", config.get("goodbye_action")),
        abstain_answer_kinds=_intent_set(
            "abstain_answer_kinds", config.get("abstain_answer_kinds")
        ),
        confirmation_actions=_intent_set(
            "confirmation_actions", config.get("confirmation_actions")
        ),
        form_titles={
            str(k): str(v) for k, v in _mapping("form_titles", config.get("form_titles")).items()
        },
        digressions=_digressions(config.get("digressions")),
        frustration_threshold=_number(
            "frustration_threshold", config.get("frustration_threshold", -0.3), -1.0, 1.0
        ),
        misses_before_handoff=misses,
        fallback_confidence=_number(
            "fallback_confidence", config.get("fallback_confidence", 0.3), 0.0, 1.0
        ),
        responses={**DEFAULT_RESPONSES, **{k: str(v) for k, v in responses.items()}},
    )
