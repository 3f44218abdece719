"""Deterministic checks on the customer's request and on the model's answer.

A 135M model cannot be trusted to refuse, so requests for discounts, refunds or exceptions
outside policy and attempts to read or override the prompt are caught here, before any
generation; answers that promise money back or exceptions are caught after generation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROMPT_INJECTION = "prompt_injection"
POLICY_EXCEPTION = "policy_exception"

_INJECTION_PATTERNS = [
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|rule|prompt|guideline|polic)",
    r"\b(reveal|show|print|repeat|display|tell|give|leak|output|what (?:is|are))\b.{0,40}"
    r"\b(system prompt|your prompt|the prompt|your instructions|initial instructions|hidden "
    r"instructions|your rules|system message)",
    r"\bsystem prompt\b",
    r"\b(repeat|print|show|output|copy)\b.{0,25}\b(text|everything|words|messages?)\s+(above|before)",
    r"\b(you are now|act as|pretend to be|roleplay as|jailbreak|developer mode|DAN)\b",
    r"\bnew (?:instructions|rules)\b",
]

_MONEY_WORDS = (
    r"(discount|coupon|voucher|promo(?:tion)? code|free (?:shipping|item|product|gift)|"
    r"store credit|credit|compensation|price match|money back|refund|reimburse\w*|"
    r"\d{1,3}\s?%(?:\s?off)?|cashback)"
)
_DEMAND_PATTERNS = [
    # the customer asks to be granted something: "give me a discount", "I want my money back"
    r"\b(give|send|grant|owe|offer)\s+(me|us)\b.{0,30}" + _MONEY_WORDS,
    r"\b(i want|i need|i deserve|i demand|i expect|i'd like|i would like|can i have|can you give|"
    r"could you give|can you apply|just give)\b.{0,30}" + _MONEY_WORDS,
    r"\b(make an exception|an exception for me|bend the rules?|just this once|waive the)\b",
    r"\b(refund|return|money back)\b.{0,50}\b(even though|although|despite|after|past|beyond|"
    r"outside)\b.{0,30}\b(days?|weeks?|months?|window|period|deadline|policy|used|opened|worn)\b",
    r"\b(refund|money back)\b.{0,30}\b(without)\b.{0,15}\b(receipt|returning|return|proof)",
]

# Informational questions about the policies are fine ("what is your refund policy?").
_INFO_PATTERNS = [
    r"^\s*(what|how|when|where|which|is there|are there|do you|does|can i|could i|may i)\b",
]

_MODAL = r"\b(?:i|we)(?:'ll|'ve| will| can| could| have| am going to| are going to| would)?"
_GRANTING_ANSWER = re.compile(
    _MODAL + r"\s+(?:go ahead and\s+|happily\s+|gladly\s+)?"
    r"(?:refund(?:ed)?|reimburse[sd]?|waive[sd]?|compensate[sd]?|make an exception|extend(?:ed)?)\b"
    r"|" + _MODAL + r"\s+(?:give|offer|apply|grant|send|issue)(?:ed)?\b.{0,30}"
    r"\b(?:refund|discount|credit|voucher|coupon|exception|money|%|free)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RequestCheck:
    """The outcome of checking a customer's request."""

    category: str | None

    @property
    def refused(self) -> bool:
        return self.category is not None


def _matches(patterns: list[str], text: str) -> bool:
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns)


def is_prompt_injection(text: str) -> bool:
    """True for attempts to read, change or escape the assistant's instructions."""
    return _matches(_INJECTION_PATTERNS, text or "")


def is_policy_exception_request(text: str) -> bool:
    """True for requests to be granted money, discounts or exceptions (not policy questions)."""
    text = text or ""
    if not _matches(_DEMAND_PATTERNS, text):
        return False
    if _matches(_INFO_PATTERNS, text) and not re.search(
        r"\b(me|i want|i deserve|i demand|exception|just this once|even though)\b",
        text,
        re.IGNORECASE,
    ):
        return False
    return True


def check_request(text: str) -> RequestCheck:
    """Classifies the request as a prompt-injection attempt, a policy-exception demand or fine."""
    if is_prompt_injection(text):
        return RequestCheck(PROMPT_INJECTION)
    if is_policy_exception_request(text):
        return RequestCheck(POLICY_EXCEPTION)
    return RequestCheck(None)


def grants_something(answer: str) -> bool:
    """True if an answer promises a refund, discount, credit or exception."""
    return bool(_GRANTING_ANSWER.search(answer or ""))
