"""Customer tokens: minting, verification (HS256 and RS256) and the conversation ids they give."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rasa_llm_components.channels import tokens
from rasa_llm_components.channels.identity import (
    CustomerTokenVerifier,
    TokenSettings,
    visitor_conversation_id,
)
from rasa_llm_components.channels.tokens import mint_token
from tests.log_records import logged_messages

SECRET = "s3cret-" + "x" * 40
AUDIENCE, ISSUER = "voltnest-chat", "voltnest-shop"
OPTIONS = {"token_secret": SECRET, "token_audience": AUDIENCE, "token_issuer": ISSUER}


@pytest.fixture
def verifier() -> CustomerTokenVerifier:
    return CustomerTokenVerifier(TokenSettings.from_options(OPTIONS))


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_a_valid_token_names_its_customer(verifier):
    token = mint_token("C1001", SECRET)
    assert verifier.customer_id(token) == "C1001"
    identity = verifier.identify(token, client_id="C1002")
    assert identity.conversation_id == "C1001" and identity.authenticated
    assert identity.metadata() == {"customer_id": "C1001", "authenticated": True}


def test_minted_claims():
    claims = jwt.decode(mint_token("C1003", SECRET, ttl_s=60), options={"verify_signature": False})
    assert claims["sub"] == "C1003" and claims["aud"] == AUDIENCE and claims["iss"] == ISSUER
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(mint_token("C1002", "another-secret-" + "y" * 40), id="forged"),
        pytest.param(mint_token("C1002", SECRET, ttl_s=-120), id="expired"),
        pytest.param(mint_token("C1002", SECRET, audience="admin-console"), id="wrong-audience"),
        pytest.param(mint_token("C1002", SECRET, issuer="someone-else"), id="wrong-issuer"),
        pytest.param(
            jwt.encode({"sub": "C1002", "aud": AUDIENCE, "iss": ISSUER}, SECRET), id="no-exp"
        ),
        pytest.param(
            jwt.encode(
                {"sub": "C1002", "aud": AUDIENCE, "iss": ISSUER, "exp": time.time() + 60},
                None,
                algorithm="none",
            ),
            id="alg-none",
        ),
        pytest.param(mint_token("visitor-abc", SECRET), id="visitor-subject"),
        pytest.param(mint_token("C1002; DROP", SECRET), id="odd-subject"),
        pytest.param("not.a.token", id="garbage"),
        pytest.param(mint_token("C1002", SECRET)[:-3] + "abc", id="tampered"),
    ],
)
def test_tokens_that_do_not_verify_make_a_visitor(verifier, token):
    with logged_messages("rasa_llm_components.channels.identity") as messages:
        identity = verifier.identify(token, client_id="C1002")
    assert identity.customer_id is None and not identity.authenticated
    assert identity.conversation_id == "visitor-C1002"
    logged = " ".join(messages)
    assert "rejected" in logged and token not in logged


def test_no_token_is_a_visitor_without_a_log(verifier, caplog):
    caplog.set_level(logging.INFO)
    assert verifier.identify(None, "abc").conversation_id == "visitor-abc"
    assert verifier.identify("", None).conversation_id.startswith("visitor-")
    assert "rejected" not in caplog.text


def test_leeway_accepts_a_token_that_just_expired():
    lenient = CustomerTokenVerifier(TokenSettings.from_options({**OPTIONS, "token_leeway_s": 30}))
    strict = CustomerTokenVerifier(TokenSettings.from_options({**OPTIONS, "token_leeway_s": 0}))
    token = mint_token("C1001", SECRET, ttl_s=-5)
    assert lenient.customer_id(token) == "C1001"
    assert strict.customer_id(token) is None


def test_rs256_with_pem_text_and_file(rsa_keys, tmp_path):
    private, public = rsa_keys
    key_file = tmp_path / "shop.pub.pem"
    key_file.write_text(public)
    token = mint_token("C1004", private, algorithm="RS256")
    for key in (public, str(key_file)):
        settings = TokenSettings.from_options(
            {"token_algorithm": "RS256", "token_public_key": key, **_no_secret(OPTIONS)}
        )
        verifier = CustomerTokenVerifier(settings)
        assert verifier.customer_id(token) == "C1004"
        # Algorithm confusion: an HS256 token keyed with the (public) PEM text is refused.
        assert verifier.customer_id(_hs256_keyed_with(public)) is None
        assert verifier.customer_id(mint_token("C1002", SECRET)) is None


def _hs256_keyed_with(key: str) -> str:
    """A C1002 token signed by HMAC with `key` (PyJWT refuses to do this with a PEM key)."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": "C1002", "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 60}
    signing_input = header + b"." + b64(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


def _no_secret(options):
    return {key: value for key, value in options.items() if key != "token_secret"}


def test_secret_from_an_environment_variable():
    settings = TokenSettings.from_options(
        {**_no_secret(OPTIONS), "token_secret_env": "SHOP_SECRET"}, environ={"SHOP_SECRET": SECRET}
    )
    assert CustomerTokenVerifier(settings).customer_id(mint_token("C1001", SECRET)) == "C1001"
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("C1002", "visitor-C1002"),
        ("visitor-abc123", "visitor-abc123"),
        ("../../etc passwd!", "visitor-etcpasswd"),
        (42, "visitor-42"),
        ("x" * 500, "visitor-" + "x" * 64),
    ],
)
def test_visitor_conversation_ids(value, expected):
    assert visitor_conversation_id(value) == expected


def test_visitors_without_an_id_get_distinct_random_ids():
    ids = {visitor_conversation_id(value) for value in (None, "", "!!!", {"a": 1}, None)}
    assert len(ids) == 5 and all(value.startswith("visitor-") for value in ids)


def test_cli_prints_a_token(monkeypatch, capsys):
    monkeypatch.setenv(tokens.SECRET_ENV, SECRET)
    assert tokens.main(["--customer", "C1001", "--ttl-s", "120"]) == 0
    token = capsys.readouterr().out.strip()
    verifier = CustomerTokenVerifier(TokenSettings.from_options(OPTIONS))
    assert verifier.customer_id(token) == "C1001"


def test_cli_without_secret_explains(monkeypatch, capsys):
    monkeypatch.delenv(tokens.SECRET_ENV, raising=False)
    assert tokens.main(["--customer", "C1001"]) == 2
    assert tokens.SECRET_ENV in capsys.readouterr().err
