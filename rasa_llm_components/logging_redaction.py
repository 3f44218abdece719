"""Personal data out of the logs: every log record's message is redacted when it is created.

Rasa logs the customer's text at DEBUG ("Received user message '...'"), exceptions may carry it
too, and handlers are added and replaced by Rasa, Sanic and rasa_sdk at different times. So the
redaction sits in the log record factory (`logging.setLogRecordFactory`), which every logger of
the process uses whatever its handlers: the record's formatted message and exception text are
redacted before any handler sees them. Records of disabled levels are never created, so the cost
is only paid for what is logged.

`install_log_redaction()` is idempotent; the tracker store, the NLU component and the action
server call it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from rasa_llm_components.nlu.pii_detection import PIIDetector, default_detector

_install_lock = threading.Lock()


class RedactingRecordFactory:
    """Wraps a log record factory: the records it makes carry redacted text only."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord], detector: PIIDetector) -> None:
        self.wrapped = wrapped
        self.detector = detector

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it later as usual
            return record
        record.msg, record.args = self.detector.redact(message), None
        if record.exc_info and not record.exc_text:
            traceback_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.detector.redact(traceback_text)
        if record.stack_info:
            record.stack_info = self.detector.redact(record.stack_info)
        return record


def log_redaction_installed() -> bool:
    """Whether the record factory of this process redacts personal data."""
    return isinstance(logging.getLogRecordFactory(), RedactingRecordFactory)


def install_log_redaction(detector: PIIDetector | None = None) -> None:
    """Makes every log record of this process carry redacted text (once; later calls do nothing)."""
    with _install_lock:
        if log_redaction_installed():
            return
        factory = RedactingRecordFactory(
            logging.getLogRecordFactory(), detector or default_detector()
        )
        logging.setLogRecordFactory(factory)
