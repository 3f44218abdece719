"""The repair layer's settings: which intents mean what, which responses it says."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.exceptions import RasaException

from rasa_llm_components.answering import ABSTAINED, FAILED, REFUSED


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
# Responses said only when the bot names one: "anything_else", the reply to a "yes" or "great"
# after a task ended without a question ("Done: your order will be shipped to ...").
OPTIONAL_RESPONSES = ("anything_else",)

# English phrases of a change of mind. Inside a form, a message with one of them leaves the form
# when a cancel intent is also among the NLU's top intents: free-text slots (a return reason, an
# address) must never swallow "oh wait, I changed my mind, I'll keep it".
DEFAULT_CANCEL_PATTERNS = (
    r"\bnever\s?mind\b",
    r"\bnvm\b",
    r"\bforget (it|that|about it|the whole thing|i asked)\b",
    r"\bforget (about )?(the|this|that|my) \w+ (thing|stuff|bit|part|change|request)\b",
    r"\bchanged? my mind\b",
    r"\b(i'?ll|i will|i'?d rather|gonna|going to|let me) keep (it|them|the|my)\b",
    r"\bleave it\b",
    r"\bdon'?t (bother|worry about (it|that|this))\b",
    r"^\W*(stop|cancel|quit|abort|exit)\b",
    r"\bscratch that\b",
    r"\b(don'?t|do not|no longer) (want|need) to (return|cancel|change)\b",
    r"\b(don'?t|do not) (change|cancel|return|do) (it|anything|that|this)\b",
    r"\bleave (it|that|this|everything|the \w+) (as it is|as is|alone|unchanged|the same)\b",
    r"\bskip (it|that|this)\b",
    r"\bno need\b",
    r"\b(i'?m|im|all) (good|fine|ok|okay)\W*(thanks?|thx|ty)?\W*$",
)
CANCEL_RANKING_DEPTH = 3

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
    "request_intents",
)


# The policy's options and their defaults (`ConversationRepairPolicy.get_default_config`).
DEFAULT_CONFIG: dict[str, Any] = {
    "cancel_intents": ["stop"],
    "deny_intents": ["deny"],
    "affirm_intents": ["affirm"],
    "handoff_intents": ["human_handoff"],
    "frustration_intents": ["complaint"],
    "exit_intents": ["goodbye"],
    "slot_intents": ["inform"],
    "answer_intents": ["faq", "product_question"],
    "question_only_intents": ["out_of_scope"],
    "cancel_patterns": list(DEFAULT_CANCEL_PATTERNS),
    "fallback_intent": "nlu_fallback",
    "handoff_action": "action_handoff",
    "answer_action": "utter_llm_answer",
    "goodbye_action": "utter_goodbye",
    # Intents that ask for something of their own (a task or a question). A message's second
    # request of one of them is answered after the first, through `next_request_action` (an
    # action-server action, see repair/next_request.py; null: off), and an upset message whose
    # runner-up intent is one gets its answer as well as the empathy.
    "request_intents": [],
    "next_request_action": None,
    # The action that reports the customer's own order ("when does it ship then" right after a
    # task about an order, when the classifier saw a general shipping question); null: off.
    "own_order_action": None,
    "abstain_answer_kinds": [ABSTAINED, REFUSED, FAILED],
    "confirmation_actions": [],
    "form_titles": {},
    "digressions": {},
    "frustration_threshold": -0.4,
    "confirmation_threshold": 0.9,
    "misses_before_handoff": 2,
    "fallback_confidence": 0.3,
    "responses": {},
}


@dataclass(frozen=True)
class RepairSettings:
    """Validated settings of the repair policy (see `ConversationRepairPolicy`)."""

    cancel_intents: frozenset[str]
    deny_intents: frozenset[str]
    affirm_intents: frozenset[str]
    handoff_intents: frozenset[str]
    frustration_intents: frozenset[str]
    exit_intents: frozenset[str]
    slot_intents: frozenset[str]
    answer_intents: frozenset[str]
    question_only_intents: frozenset[str]
    request_intents: frozenset[str]
    cancel_patterns: tuple[re.Pattern, ...]
    fallback_intent: str
    handoff_action: str | None
    answer_action: str | None
    goodbye_action: str | None
    next_request_action: str | None
    abstain_answer_kinds: frozenset[str]
    confirmation_actions: frozenset[str]
    form_titles: dict[str, str]
    digressions: dict[str, tuple[str, ...]]
    frustration_threshold: float
    confirmation_threshold: float
    misses_before_handoff: int
    fallback_confidence: float
    responses: dict[str, str]
    # learned at training: how the rules answer a "no" to each confirmation action
    declines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # ... and a "yes"
    accepts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    own_order_action: str | None = None

    def response(self, key: str) -> str:
        return self.responses[key]

    def optional_response(self, key: str) -> str | None:
        """The response named for an `OPTIONAL_RESPONSES` key, or None."""
        return self.responses.get(key)

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


def _patterns(value: Any) -> tuple[re.Pattern, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise RepairConfigError(
            "ConversationRepairPolicy option 'cancel_patterns' must be a list of regular "
            f"expressions, got {value!r}."
        )
    try:
        return tuple(re.compile(pattern, re.IGNORECASE) for pattern in value)
    except re.error as error:
        raise RepairConfigError(
            f"ConversationRepairPolicy option 'cancel_patterns': invalid pattern ({error})."
        ) from error


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


def repair_settings(options: dict[str, Any]) -> RepairSettings:
    """Validates the policy configuration; raises `RepairConfigError` naming the option."""
    config = {**DEFAULT_CONFIG, **options}
    responses = _mapping("responses", config.get("responses"))
    known = {*DEFAULT_RESPONSES, *OPTIONAL_RESPONSES}
    unknown = sorted(set(responses) - known)
    if unknown:
        raise RepairConfigError(
            f"ConversationRepairPolicy option 'responses' has unknown key(s) {unknown}; "
            f"the keys are {sorted(known)}."
        )
    misses = config.get("misses_before_handoff")
    if isinstance(misses, bool) or not isinstance(misses, int) or misses < 1:
        raise RepairConfigError(
            "ConversationRepairPolicy option 'misses_before_handoff' must be an integer >= 1, "
            f"got {misses!r}."
        )
    return RepairSettings(
        **{option: _intent_set(option, config.get(option)) for option in INTENT_LIST_OPTIONS},
        cancel_patterns=_patterns(config.get("cancel_patterns")),
        fallback_intent=str(config.get("fallback_intent") or "nlu_fallback"),
        handoff_action=_optional_name("handoff_action", config.get("handoff_action")),
        answer_action=_optional_name("answer_action", config.get("answer_action")),
        goodbye_action=_optional_name("goodbye_action", config.get("goodbye_action")),
        next_request_action=_optional_name(
            "next_request_action", config.get("next_request_action")
        ),
        own_order_action=_optional_name("own_order_action", config.get("own_order_action")),
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
            "frustration_threshold", config.get("frustration_threshold"), -1.0, 1.0
        ),
        confirmation_threshold=_number(
            "confirmation_threshold", config.get("confirmation_threshold"), 0.0, 1.0
        ),
        misses_before_handoff=misses,
        fallback_confidence=_number(
            "fallback_confidence", config.get("fallback_confidence"), 0.0, 1.0
        ),
        responses={**DEFAULT_RESPONSES, **{k: str(v) for k, v in responses.items()}},
    )
