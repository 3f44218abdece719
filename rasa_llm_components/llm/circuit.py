"""A circuit breaker: stop calling an LLM endpoint that keeps failing, try again later.

When the endpoint hangs, every turn that asks it would wait for the full request timeout; after
`failures` consecutive failures the breaker opens and calls fail at once (the NLG then answers
with its fallback) until `cooldown` seconds have passed. Then one trial call goes through
("half-open"): its success closes the breaker, its failure opens it for another cool-down.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rasa_llm_components.llm.base import LLMConfigError, LLMError


class CircuitOpenError(LLMError):
    """The endpoint failed too often in a row; calls fail fast until the cool-down is over."""


class CircuitBreaker:
    """Counts consecutive failures; opens after `failures`, allows a trial after `cooldown`."""

    def __init__(
        self,
        failures: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(failures, bool) or not isinstance(failures, int) or failures < 1:
            raise LLMConfigError(f"'circuit_failures' must be an integer >= 1, got {failures!r}.")
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or cooldown <= 0:
            raise LLMConfigError(f"'circuit_cooldown' must be a number > 0, got {cooldown!r}.")
        self.failures = failures
        self.cooldown = float(cooldown)
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def before_call(self, target: str) -> None:
        """Raises `CircuitOpenError` while open; lets one trial call through after the cool-down."""
        if self._opened_at is None:
            return
        left = self.cooldown - (self._clock() - self._opened_at)
        if left > 0 or self._trial_running:
            raise CircuitOpenError(
                f"LLM endpoint {target} failed {self._consecutive} times in a row; not calling it "
                f"for another {max(left, 0.0):.0f} s."
            )
        self._trial_running = True

    def record_success(self) -> None:
        self._consecutive = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._consecutive += 1
        self._trial_running = False
        if self._opened_at is not None or self._consecutive >= self.failures:
            self._opened_at = self._clock()
