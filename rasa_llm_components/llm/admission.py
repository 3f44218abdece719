"""Admission control for generations: a few run, a few wait, the rest are refused at once.

A small model on a few CPU cores generates one or two answers at a time. Without a bound, every
free-form question that arrives while it is busy waits in line, and under load most of them wait
out the NLG's timeout only to get the fallback text. `RequestGate` lets `max_active` generations
run (the llama.cpp slots), keeps at most `max_waiting` more in a first-come, first-served queue,
and refuses the rest immediately with `LLMBusyError`, so that the answerer can reply from the
knowledge straight away (`on_llm_error: extractive`).

A generation whose caller gives up while it waits (a timeout, a cancelled turn) leaves the queue
without taking a slot.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rasa_llm_components.llm.base import LLMConfigError, LLMError


class LLMBusyError(LLMError):
    """Every generation slot is taken and the waiting queue is full."""


class RequestGate:
    """At most `max_active` holders at once, at most `max_waiting` waiting; `None` waiting means
    an unbounded queue."""

    def __init__(self, max_active: int, max_waiting: int | None) -> None:
        if isinstance(max_active, bool) or not isinstance(max_active, int) or max_active < 1:
            raise LLMConfigError(f"'llm.n_parallel' must be an integer >= 1, got {max_active!r}.")
        if max_waiting is not None and (
            isinstance(max_waiting, bool) or not isinstance(max_waiting, int) or max_waiting < 0
        ):
            raise LLMConfigError(
                f"'llm.max_queue' must be an integer >= 0 or null, got {max_waiting!r}."
            )
        self.max_active = max_active
        self.max_waiting = max_waiting
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.refused = 0

    @property
    def active(self) -> int:
        """Holders of a slot right now."""
        return self._active

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot right now."""
        return len(self._waiters)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Holds a slot for the body of the `async with`; raises `LLMBusyError` when full."""
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    async def _acquire(self) -> None:
        if self._active < self.max_active and not self._waiters:
            self._active += 1
            return
        if self.max_waiting is not None and len(self._waiters) >= self.max_waiting:
            self.refused += 1
            raise LLMBusyError(
                f"all {self.max_active} generation slots are busy and {len(self._waiters)} "
                "requests are waiting"
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                # The slot was handed over just as the caller gave up: pass it on.
                self._release()
            raise

    def _release(self) -> None:
        """Hands the slot to the longest waiting caller, or frees it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._active -= 1
