"""Catching one logger's records in tests, independent of propagation.

Rasa sets `propagate = False` on some loggers, so `caplog` (a handler on the root logger) sees
their records or not depending on which tests ran before. A handler on the logger itself always
sees them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def logged_messages(name: str, level: int = logging.INFO) -> Iterator[list[str]]:
    """The messages logged to logger `name` (and its children) at `level` or above."""
    messages: list[str] = []
    handler = logging.Handler(level)
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
