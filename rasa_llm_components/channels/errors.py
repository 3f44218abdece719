"""The errors of the signed input channels: bad channel settings and an unprotected HTTP API."""

from __future__ import annotations

from rasa.shared.exceptions import RasaException


class ChannelConfigError(RasaException, ValueError):
    """A signed channel's options in credentials.yml are invalid."""


class MissingTokenKeyError(ChannelConfigError):
    """No secret (HS256) or public key (RS256) to verify customer tokens with."""


class UnknownTokenAlgorithmError(ChannelConfigError):
    """`token_algorithm` names an algorithm the channels do not accept."""


class UnprotectedApiError(RasaException, RuntimeError):
    """Rasa's HTTP API is enabled without `--auth-token` or `--jwt-secret`."""


class UnknownChannelOptionError(ChannelConfigError):
    """A signed channel got an option it does not have (a typo would otherwise be ignored)."""
