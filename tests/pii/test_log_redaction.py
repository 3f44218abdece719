"""Log records carry no personal data once log redaction is installed (idempotently)."""

from __future__ import annotations

import logging

import pytest

from rasa_llm_components.logging_redaction import (
    RedactingRecordFactory,
    install_log_redaction,
    log_redaction_installed,
)
from rasa_llm_components.nlu.pii_detection import PIIConfigError
from rasa_llm_components.nlu.pii_redactor import PIIRedactor


@pytest.fixture
def restore_record_factory():
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def _logged(caplog, logger_name: str, *args, exc: BaseException | None = None) -> str:
    logger = logging.getLogger(logger_name)
    with caplog.at_level(logging.DEBUG, logger=logger_name):
        if exc is None:
            logger.debug(*args)
        else:
            try:
                raise exc
            except type(exc):
                logger.exception(*args)
    return caplog.text


def test_messages_arguments_and_tracebacks_are_redacted(restore_record_factory, caplog):
    install_log_redaction()
    text = _logged(
        caplog, "rasa.core.processor", "Received user message '%s'",
        "card 4111 1111 1111 1111 cvv 123, jane@doe.org",
    )
    assert "Received user message 'card [CARD] cvv [CVV], [EMAIL]'" in text
    assert "4111" not in text and "jane@doe.org" not in text
    text = _logged(caplog, "x", "failed", exc=ValueError("bad address 12 Main St, Springfield"))
    assert "12 Main St" not in text and "[ADDRESS]" in text


def test_installing_twice_wraps_once(restore_record_factory):
    install_log_redaction()
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    assert logging.getLogRecordFactory() is factory
    assert not isinstance(factory.wrapped, RedactingRecordFactory)


def test_the_nlu_component_installs_it_unless_told_not_to(restore_record_factory):
    logging.setLogRecordFactory(logging.LogRecord)
    PIIRedactor({"redact_logs": False})
    assert not log_redaction_installed()
    PIIRedactor({})
    assert log_redaction_installed()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": ["card"]}, "Did you mean 'kinds'"),
        ({"kinds": ["passport"]}, "'kinds'"),
        ({"redact_logs": "yes"}, "'redact_logs'"),
        ({"phone_region": "USA"}, "'phone_region'"),
    ],
)
def test_nlu_component_options_are_checked_before_training(options, message):
    with pytest.raises(PIIConfigError, match=message):
        PIIRedactor.fingerprint_addon(options)
