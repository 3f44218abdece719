"""The signed channels' options: every mistake fails at start-up with a message that says what
to change."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.run import create_http_input_channels
from rasa.shared.exceptions import RasaException

from rasa_llm_components.channels.errors import (
    ChannelConfigError,
    MissingTokenKeyError,
    UnknownChannelOptionError,
    UnknownTokenAlgorithmError,
)
from rasa_llm_components.channels.identity import TokenSettings
from rasa_llm_components.channels.rest import SignedRestInput
from rasa_llm_components.channels.socketio import SignedSocketIOInput

SECRET = "z" * 40
OPTIONS = {"token_secret": SECRET, "token_audience": "voltnest-chat", "token_issuer": "shop"}
RS256 = {"token_algorithm": "RS256", "token_audience": "a", "token_issuer": "b"}
EXAMPLE_CREDENTIALS = Path(__file__).resolve().parents[2] / "example_bot" / "credentials.yml"


@pytest.mark.parametrize(
    ("options", "error", "names"),
    [
        ({"token_audience": "a", "token_issuer": "b"}, MissingTokenKeyError, "token_secret"),
        ({**OPTIONS, "token_algorithm": "HS512"}, UnknownTokenAlgorithmError, "token_algorithm"),
        ({**OPTIONS, "token_secret": "short"}, ChannelConfigError, "secrets.token_urlsafe"),
        ({**OPTIONS, "token_audience": None}, ChannelConfigError, "token_audience"),
        ({**OPTIONS, "token_issuer": ""}, ChannelConfigError, "token_issuer"),
        ({**OPTIONS, "token_secret_env": "X"}, ChannelConfigError, "not both"),
        ({**OPTIONS, "token_public_key": "k"}, ChannelConfigError, "RS256"),
        ({**OPTIONS, "token_leeway_s": 3600}, ChannelConfigError, "token_leeway_s"),
        ({**OPTIONS, "token_leeway_s": "30"}, ChannelConfigError, "token_leeway_s"),
        ({**RS256, "token_public_key": "/no/such/key.pem"}, MissingTokenKeyError, "/no/such"),
        ({**RS256, "token_public_key": "-----BEGIN PUBLIC KEY-----\nxx"}, ChannelConfigError,
         "not a PEM public key"),
        ({**OPTIONS, "token_algorithm": "RS256"}, ChannelConfigError, "token_public_key"),
    ],
)  # fmt: skip
def test_bad_token_settings(options, error, names):
    with pytest.raises(error, match=names.replace(".", r"\.")) as raised:
        TokenSettings.from_options(options, owner="signed_rest", environ={})
    assert isinstance(raised.value, RasaException)
    assert "signed_rest" in str(raised.value)


def test_an_unset_environment_variable_is_named():
    options = {**OPTIONS, "token_secret": None, "token_secret_env": "CUSTOMER_TOKEN_SECRET"}
    with pytest.raises(MissingTokenKeyError, match="CUSTOMER_TOKEN_SECRET"):
        TokenSettings.from_options(options, environ={"CUSTOMER_TOKEN_SECRET": "  "})


@pytest.mark.parametrize("channel", [SignedRestInput, SignedSocketIOInput])
def test_unknown_options_are_refused_with_a_suggestion(channel):
    with pytest.raises(UnknownChannelOptionError, match="Did you mean 'token_audience'"):
        channel.from_credentials({**OPTIONS, "token_audiance": "x"})


@pytest.mark.parametrize("channel", [SignedRestInput, SignedSocketIOInput])
def test_no_options_at_all_ask_for_a_secret(channel):
    with pytest.raises(MissingTokenKeyError, match="token_secret"):
        channel.from_credentials(None)


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"max_message_chars": 0}, "max_message_chars"),
        ({"max_body_bytes": "1MB"}, "max_body_bytes"),
        ({"allow_unauthenticated_api": "yes"}, "allow_unauthenticated_api"),
    ],
)
def test_bad_limits(options, names):
    with pytest.raises(ChannelConfigError, match=names):
        SignedRestInput.from_credentials({**OPTIONS, **options})


@pytest.mark.parametrize(
    ("options", "names"),
    [({"web_chat": "yes"}, "web_chat"), ({"bot_message_evt": ""}, "bot_message_evt")],
)
def test_bad_socket_options(options, names):
    with pytest.raises(ChannelConfigError, match=names):
        SignedSocketIOInput.from_credentials({**OPTIONS, **options})


def test_rest_options_are_not_socket_options():
    with pytest.raises(UnknownChannelOptionError, match="web_chat"):
        SignedRestInput.from_credentials({**OPTIONS, "web_chat": True})


def test_the_example_bots_credentials_load_through_rasa(monkeypatch):
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", SECRET)
    channels = create_http_input_channels(None, str(EXAMPLE_CREDENTIALS))
    assert sorted(type(channel).__name__ for channel in channels) == [
        "SignedRestInput",
        "SignedSocketIOInput",
    ]
    assert all(channel.settings.tokens.audience == "voltnest-chat" for channel in channels)

    monkeypatch.delenv("CUSTOMER_TOKEN_SECRET")
    with pytest.raises(MissingTokenKeyError, match="CUSTOMER_TOKEN_SECRET"):
        create_http_input_channels(None, str(EXAMPLE_CREDENTIALS))
    # `rasa shell` only builds its own cmdline channel: it needs no customer token secret.
    assert [channel.name() for channel in create_http_input_channels("cmdline", None)] == [
        "cmdline"
    ]
