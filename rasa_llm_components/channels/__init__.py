"""Input channels that know who the customer is: signed customer tokens (JWT) over REST and
socket.io, the web chat page, and the hardening of both (size caps, malformed input, a refused
start when Rasa's HTTP API has no authentication).

Import the channels by their module (`rasa_llm_components.channels.rest.SignedRestInput`) or
through the package root (`rasa_llm_components.SignedRestInput`). `mint_token` signs demo and
test tokens the way the shop backend does.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "mint_token": "rasa_llm_components.channels.tokens",
    "CustomerTokenVerifier": "rasa_llm_components.channels.identity",
    "TokenSettings": "rasa_llm_components.channels.identity",
    "SignedRestInput": "rasa_llm_components.channels.rest",
    "SignedSocketIOInput": "rasa_llm_components.channels.socketio",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Lazy, so that `python -m rasa_llm_components.channels.tokens` does not import itself twice.
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rasa_llm_components.channels' has no attribute '{name}'")
