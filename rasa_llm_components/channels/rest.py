"""`SignedRestInput`: Rasa's REST channel where the customer is who the signed token says.

    POST /webhooks/signed_rest/webhook
    Authorization: Bearer <customer token>
    {"sender": "anything", "message": "where is my order?"}

With a valid token the conversation id is the token's customer id; without one (or with an
invalid one) the sender is the visitor `visitor-<sender>`: the `sender` field never makes anyone
a customer. The identity also goes into `UserMessage.metadata` (`customer_id`, `authenticated`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_llm_components.channels.api_guard import register_api_guard
from rasa_llm_components.channels.hardening import (
    BadRequest,
    message_text,
    optional_field,
    parse_json_object,
)
from rasa_llm_components.channels.identity import ChannelIdentity, CustomerTokenVerifier
from rasa_llm_components.channels.settings import ChannelSettings

logger = logging.getLogger(__name__)

BEARER = "bearer"


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (None without one)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != BEARER or not token.strip():
        logger.info("Ignoring an Authorization header that is not 'Bearer <token>'.")
        return None
    return token.strip()


class SignedRestInput(RestInput):
    """REST input channel with signed customer identity and input hardening."""

    @classmethod
    def name(cls) -> str:
        """The channel's name: its webhook is `/webhooks/signed_rest/webhook`."""
        return "signed_rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SignedRestInput:
        """Builds the channel from its credentials.yml section (validated)."""
        return cls(ChannelSettings.from_credentials(credentials, cls.name()))

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        self.verifier = CustomerTokenVerifier(settings.tokens)

    def identify(self, request: Request, payload: dict[str, Any]) -> ChannelIdentity:
        """Who sent the request: the customer of the bearer token (or of a `token` field in
        the body), else a visitor named after the `sender` field."""
        body_token = optional_field(payload, "token", (str,))
        sender = optional_field(payload, "sender", (str, int))
        return self.verifier.identify(bearer_token(request) or body_token, sender)

    async def _handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Any:
        limits = self.settings.limits
        try:
            payload = parse_json_object(request.body, limits)
            text = message_text(payload)
            client_metadata = optional_field(payload, "metadata", (dict,)) or {}
            identity = self.identify(request, payload)
        except BadRequest as error:
            logger.info("Refused a REST request: %s.", error)
            return response.json(error.to_json(), status=error.status)

        if limits.is_too_long(text):
            logger.info(
                "A message of %d characters from %s was over max_message_chars; not processed.",
                len(text),
                identity.conversation_id,
            )
            reply = {"recipient_id": identity.conversation_id, "text": limits.too_long_reply()}
            return response.json([reply])

        metadata = {**client_metadata, **identity.metadata()}
        if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
            return response.stream(
                self.stream_response(
                    on_new_message, text, identity.conversation_id, self.name(), metadata
                ),
                content_type="text/event-stream",
            )
        collector = CollectingOutputChannel()
        message = UserMessage(
            text, collector, identity.conversation_id, input_channel=self.name(), metadata=metadata
        )
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            logger.error("Timed out processing a message of %s.", identity.conversation_id)
        except Exception:
            logger.exception("Failed to process a message of %s.", identity.conversation_id)
        return response.json(collector.messages)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The channel's routes: `GET /` (health) and `POST /webhook`."""
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            return await self._handle(request, on_new_message)

        register_api_guard(webhook, self.settings.allow_unauthenticated_api, self.name())
        return webhook
