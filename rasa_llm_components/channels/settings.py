"""A signed channel's options from credentials.yml, validated before the server starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rasa_llm_components.channels.errors import ChannelConfigError, UnknownChannelOptionError
from rasa_llm_components.channels.hardening import LIMIT_OPTIONS, MessageLimits
from rasa_llm_components.channels.identity import TOKEN_OPTIONS, TokenSettings
from rasa_llm_components.config_validation import check_known_options

# Options every signed channel has, with their defaults.
COMMON_OPTIONS: dict[str, Any] = {
    **TOKEN_OPTIONS,
    **LIMIT_OPTIONS,
    "allow_unauthenticated_api": False,
}


@dataclass(frozen=True)
class ChannelSettings:
    """Token verification, input limits, the API guard switch and the channel's own options."""

    tokens: TokenSettings
    limits: MessageLimits
    allow_unauthenticated_api: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_credentials(
        cls,
        credentials: Mapping[str, Any] | None,
        owner: str,
        channel_options: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ChannelSettings:
        """Validates a channel's credentials.yml section; `channel_options` are the channel's
        own options and their defaults."""
        channel_options = dict(channel_options or {})
        credentials = {} if credentials is None else credentials
        check_known_options(
            owner,
            credentials,
            {**COMMON_OPTIONS, **channel_options},
            error=UnknownChannelOptionError,
            allow_rasa_keys=False,
        )
        allow_open_api = credentials.get("allow_unauthenticated_api", False)
        if not isinstance(allow_open_api, bool):
            raise ChannelConfigError(f"{owner}: 'allow_unauthenticated_api' must be true or false.")
        return cls(
            tokens=TokenSettings.from_options(credentials, owner, environ),
            limits=MessageLimits.from_options(credentials, owner),
            allow_unauthenticated_api=allow_open_api,
            options={
                key: credentials.get(key, default) for key, default in channel_options.items()
            },
        )
