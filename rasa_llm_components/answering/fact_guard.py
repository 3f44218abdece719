"""The fact guard: every checkable fact in an answer must be backed by the evidence."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rasa_llm_components.answering.claim_patterns import name_tokens
from rasa_llm_components.answering.claims import Claim, ClaimExtractor
from rasa_llm_components.answering.evidence import EvidenceFacts, supports

ALL_KINDS = frozenset(
    {"email", "url", "name", "order_id", "date", "weekday", "time", "phone", "money", "percent",
     "duration", "number"}
)


@dataclass
class GuardResult:
    """The verdict on one answer.

    Attributes:
        supported: True when every claim is backed by the evidence.
        unsupported: Claims without support, as written in the answer (deduplicated, in order).
        claims: All checked claims, as written in the answer.
        details: The checked ``Claim`` objects (kind, normalised value, position).
    """

    supported: bool
    unsupported: list[str]
    claims: list[str]
    details: list[Claim] = field(default_factory=list)


class FactGuard:
    """Checks that numbers, amounts, durations, dates, names, ids, URLs, e-mails and phone numbers
    in a generated answer all occur (after normalisation) in the evidence.

    Args:
        known_names: Product names and SKUs from the knowledge base. A known name in the answer
            must occur in the evidence, and their words mark capitalised runs as product names.
        kinds: The claim kinds to check (default: all, see ``ALL_KINDS``).
        always_allowed: Names or strings that need no evidence, e.g. the shop's own name.
        check_capitalised: Also check capitalised word runs that are not known names
            ("Zephyr Max", "Apple Pay"); sentence-initial single words are never checked.
        default_currency: The currency of bare amounts in the evidence ("price: 249.00"), so
            "$249" is supported by them and "€249" is not; None accepts any currency.
    """

    def __init__(
        self,
        known_names: Iterable[str] = (),
        kinds: Iterable[str] = ALL_KINDS,
        always_allowed: Iterable[str] = (),
        check_capitalised: bool = True,
        default_currency: str | None = "USD",
    ) -> None:
        self.kinds = frozenset(kinds)
        unknown = self.kinds - ALL_KINDS
        if unknown:
            raise ValueError(f"Unknown claim kinds: {', '.join(sorted(unknown))}.")
        self.extractor = ClaimExtractor(known_names)
        self.allowed = {"".join(name_tokens(text)) for text in always_allowed} - {""}
        self.check_capitalised = check_capitalised
        self.default_currency = default_currency

    def claims(self, answer: str) -> list[Claim]:
        """The claims of ``answer`` that this guard checks."""
        found = self.extractor.extract(answer, names=self.check_capitalised)
        return [
            claim for claim in found
            if claim.kind in self.kinds
            and not (claim.kind == "name" and claim.value in self.allowed)
        ]

    def check(self, answer: str, evidence: Sequence[str]) -> GuardResult:
        """Checks ``answer`` against ``evidence`` (retrieved passages and conversation text)."""
        claims = self.claims(answer)
        facts = EvidenceFacts([text for text in evidence if text], self.extractor)
        unsupported: dict[str, None] = {}
        for claim in claims:
            if not supports(facts, claim.kind, claim.value, self.default_currency):
                unsupported[claim.text] = None
        return GuardResult(
            supported=not unsupported,
            unsupported=list(unsupported),
            claims=[claim.text for claim in claims],
            details=claims,
        )
