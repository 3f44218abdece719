"""One check for every component's options: unknown keys fail early, with a suggestion.

Rasa merges a component's `config.yml` entry over `get_default_config()` and passes the result
on without looking at the keys, so a typo (`batch_sise: 8`) would otherwise train and run with
the default silently. Components call `check_known_options` from the hooks Rasa runs before any
training: `fingerprint_addon` (the fingerprint run of `rasa train`), `create` and `load`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from rasa.shared.exceptions import RasaException

# Keys Rasa itself adds to a component's configuration: `name` (popped by the recipe, but kept
# by configs built by hand) and, when fine-tuning a component with `epochs`,
# `finetuning_epoch_fraction` (see `DefaultV1Recipe._extra_config_from_cli`).
RASA_INJECTED_KEYS = frozenset({"name", "finetuning_epoch_fraction"})


def is_cached_output(config: Mapping[str, Any]) -> bool:
    """Whether `config` is the stand-in Rasa passes to `fingerprint_addon` for a component it
    restored from its cache (`PrecomputedValueProvider`: `{"output": ...}`): nothing to check."""
    return set(config) == {"output"}


class UnknownOptionError(RasaException, ValueError):
    """A component configuration contains an option the component does not have."""


def unknown_option_message(
    owner: str, key: str, known: Iterable[str], section: str | None = None
) -> str:
    """The one-line message for an unknown option, with the closest valid key if any."""
    known = sorted(str(name) for name in known)
    where = f"'{section}' option" if section else "option"
    message = f"{owner}: unknown {where} '{key}'." if owner else f"Unknown {where} '{key}'."
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        message += f" Did you mean '{close[0]}'?"
    return f"{message} Valid options: {', '.join(known)}."


def check_known_options(
    owner: str,
    options: Mapping[str, Any] | None,
    known: Iterable[str],
    *,
    section: str | None = None,
    error: type[Exception] = UnknownOptionError,
    allow_rasa_keys: bool = True,
) -> None:
    """Raises `error` naming the first unknown key of `options` (in sorted order).

    Args:
        owner: The component (or endpoint) the options belong to, e.g. "LLMResponsePolicy";
            empty when the caller adds it to the message.
        options: The configuration to check; `None` counts as empty.
        known: The valid keys (usually `get_default_config()`'s).
        section: The nested option the keys belong to (`llm`, `answer`), for the message.
        error: The exception class to raise (a `RasaException` subclass of the component).
        allow_rasa_keys: Accept the keys Rasa injects into top-level component configs.
    """
    if options is None:
        return
    if not isinstance(options, Mapping):
        where = f"'{section}'" if section else "The configuration"
        prefix = f"{owner}: " if owner else ""
        raise error(f"{prefix}{where} must be a mapping of options, got {options!r}.")
    known = set(known)
    allowed = known | RASA_INJECTED_KEYS if allow_rasa_keys else known
    unknown = sorted(str(key) for key in options if key not in allowed)
    if unknown:
        raise error(unknown_option_message(owner, unknown[0], known, section))
