"""The error of the review command."""

from __future__ import annotations

from rasa.shared.exceptions import RasaException


class ReviewError(RasaException):
    """The review cannot run as asked (a missing store, a wrong option, an invalid file)."""
