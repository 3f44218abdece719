"""`SignedSocketIOInput`: Rasa's socket.io channel where the customer is who the token says.

The client sends its customer token in the connect `auth` payload (`{"token": "<jwt>"}`); the
channel keeps the verified customer in the socket session. Events are Rasa's
(`session_request` / `session_confirm`, `user_uttered` / `bot_uttered`): a signed customer's
conversation id is the customer id, everyone else is a `visitor-...` whatever `session_id` the
client sends. With `web_chat: true` the channel also serves the web chat page under `/webchat/`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from rasa_llm_components.channels.api_guard import register_api_guard
from rasa_llm_components.channels.errors import ChannelConfigError
from rasa_llm_components.channels.identity import (
    ChannelIdentity,
    CustomerTokenVerifier,
    visitor_conversation_id,
)
from rasa_llm_components.channels.settings import ChannelSettings
from rasa_llm_components.channels.socketio_output import SignedSocketIOOutput
from rasa_llm_components.channels.webchat_files import WEB_CHAT_DIR, web_chat_blueprint

logger = logging.getLogger(__name__)

# The channel's own options (besides the token and limit options) and their defaults.
SOCKET_OPTIONS: dict[str, Any] = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "namespace": None,
    "socketio_path": "/socket.io",
    "metadata_key": "metadata",
    "web_chat": False,
}
UNREADABLE_REPLY = "Sorry, I could not read that message. Could you send it again as text?"
EXPIRED_REPLY = "Your sign-in has expired. Please reload the page to keep chatting."


def _socket_options(settings: ChannelSettings, owner: str) -> dict[str, Any]:
    options = settings.options
    for key in ("user_message_evt", "bot_message_evt", "socketio_path", "metadata_key"):
        if not isinstance(options[key], str) or not options[key].strip():
            raise ChannelConfigError(f"{owner}: '{key}' must be a non-empty string.")
    if options["namespace"] is not None and not isinstance(options["namespace"], str):
        raise ChannelConfigError(f"{owner}: 'namespace' must be a string like /chat or null.")
    if not isinstance(options["web_chat"], bool):
        raise ChannelConfigError(f"{owner}: 'web_chat' must be true or false.")
    return options


class SignedSocketBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint, plus the web chat routes at the server root."""

    def __init__(
        self,
        sio: AsyncServer,
        socketio_path: str,
        web_chat: Blueprint | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(sio, socketio_path, *args, **kwargs)
        self.ctx.web_chat = web_chat

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        """Attaches socket.io, the channel's routes and (optionally) `/webchat/` to the app."""
        super().register(app, options)
        if self.ctx.web_chat is not None:
            app.blueprint(self.ctx.web_chat)


class SignedSocketIOInput(InputChannel):
    """socket.io input channel with signed customer identity, input hardening and web chat."""

    @classmethod
    def name(cls) -> str:
        """The channel's name (its health route is `/webhooks/signed_socketio/`)."""
        return "signed_socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SignedSocketIOInput:
        """Builds the channel from its credentials.yml section (validated)."""
        return cls(ChannelSettings.from_credentials(credentials, cls.name(), SOCKET_OPTIONS))

    def __init__(self, settings: ChannelSettings, web_chat_root: Path = WEB_CHAT_DIR) -> None:
        self.settings = settings
        self.options = _socket_options(settings, self.name())
        self.verifier = CustomerTokenVerifier(settings.tokens)
        self.web_chat_root = Path(web_chat_root)
        self.sio: AsyncServer | None = None
        if self.options["web_chat"] and not (self.web_chat_root / "index.html").is_file():
            logger.warning("web_chat: true, but %s has no index.html.", self.web_chat_root)

    def get_output_channel(self) -> OutputChannel | None:
        """The socket.io output channel (None before the blueprint exists)."""
        if self.sio is None:
            return None
        return SignedSocketIOOutput(self.sio, self.options["bot_message_evt"])

    async def _identity(self, sid: str, client_id: Any = None) -> ChannelIdentity | None:
        """The identity of a socket: its customer (checked at connect) or a visitor; None when
        the customer's token has expired since."""
        namespace = self.options["namespace"]
        assert self.sio is not None
        session = await self.sio.get_session(sid, namespace=namespace)
        customer_id = session.get("customer_id")
        if customer_id is not None:
            if time.time() > session.get("expires_at", 0) + self.settings.tokens.leeway_s:
                return None
            identity = ChannelIdentity(conversation_id=customer_id, customer_id=customer_id)
        else:
            conversation_id = session.get("conversation_id") or visitor_conversation_id(client_id)
            identity = ChannelIdentity(conversation_id=conversation_id)
        if session.get("conversation_id") != identity.conversation_id:
            session["conversation_id"] = identity.conversation_id
            await self.sio.save_session(sid, session, namespace=namespace)
        # Replies go to the conversation's room: every tab of the same customer gets them.
        await self.sio.enter_room(sid, identity.conversation_id, namespace=namespace)
        return identity

    async def _say(self, sid: str, text: str) -> None:
        assert self.sio is not None
        await self.sio.emit(
            self.options["bot_message_evt"],
            {"text": text},
            room=sid,
            namespace=self.options["namespace"],
        )

    def _metadata(self, data: dict[str, Any], identity: ChannelIdentity) -> dict[str, Any]:
        metadata = data.get(self.options["metadata_key"])
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = None
        if not isinstance(metadata, dict):
            metadata = {}
        return {**metadata, **identity.metadata()}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """socket.io on `socketio_path`, the health route and, with `web_chat`, `/webchat/`."""
        namespace = self.options["namespace"]
        limits = self.settings.limits
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=[],  # as Rasa: identity comes from the token, not cookies
            max_http_buffer_size=limits.max_body_bytes,
        )
        self.sio = sio
        web_chat = web_chat_blueprint(self.web_chat_root) if self.options["web_chat"] else None
        socket_blueprint = SignedSocketBlueprint(
            sio, self.options["socketio_path"], web_chat, "signed_socketio_webhook", __name__
        )

        @socket_blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, _environ: dict, auth: Any = None) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            claims = self.verifier.claims(token if isinstance(token, str) else None)
            session = {}
            if claims is not None:
                session = {"customer_id": claims["sub"], "expires_at": float(claims["exp"])}
            await sio.save_session(sid, session, namespace=namespace)
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            client_id = data.get("session_id") if isinstance(data, dict) else None
            identity = await self._identity(sid, client_id)
            if identity is None:
                await self._say(sid, EXPIRED_REPLY)
                return
            await sio.emit(
                "session_confirm", identity.conversation_id, room=sid, namespace=namespace
            )

        @sio.on(self.options["user_message_evt"], namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                logger.info("Refused a socket.io message without a 'message' string.")
                await self._say(sid, UNREADABLE_REPLY)
                return
            identity = await self._identity(sid, data.get("session_id"))
            if identity is None:
                await self._say(sid, EXPIRED_REPLY)
                return
            text = data["message"]
            if limits.is_too_long(text):
                logger.info(
                    "A message of %d characters from %s was over max_message_chars; not processed.",
                    len(text),
                    identity.conversation_id,
                )
                await self._say(sid, limits.too_long_reply())
                return
            message = UserMessage(
                text,
                SignedSocketIOOutput(sio, self.options["bot_message_evt"]),
                identity.conversation_id,
                input_channel=self.name(),
                metadata=self._metadata(data, identity),
            )
            await on_new_message(message)

        register_api_guard(socket_blueprint, self.settings.allow_unauthenticated_api, self.name())
        return socket_blueprint
