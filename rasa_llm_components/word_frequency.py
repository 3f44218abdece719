"""How often a word is written in English (`wordfreq`), shared by the mashing and place checks."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable


@functools.lru_cache(maxsize=1)
def _zipf_frequency() -> Callable[[str, str], float]:
    # Imported on first use: the import warns (pkg_resources), which would add lines to an
    # action server's one-line start-up errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from wordfreq import zipf_frequency
    return zipf_frequency


def zipf(word: str) -> float:
    """The word's frequency in English on the Zipf scale (0: not a word people write; "the" is
    about 7.7)."""
    return _zipf_frequency()(word, "en")


def load_word_list() -> None:
    """Loads the word list now (about 0.7 s once per process), e.g. when a policy loads, so that
    the first message that needs it does not wait for it inside the event loop."""
    zipf("word")
