"""The fact guard: catches numbers, names and other facts in an answer that the evidence lacks."""

from rasa_llm_components.fact_guard.claims import Claim, ClaimExtractor
from rasa_llm_components.fact_guard.guard import ALL_KINDS, FactGuard, GuardResult

__all__ = ["ALL_KINDS", "Claim", "ClaimExtractor", "FactGuard", "GuardResult"]
