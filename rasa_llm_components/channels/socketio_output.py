"""The socket.io output of the signed channel: Rasa's, with custom payloads that arrive."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.socketio import SocketIOOutput


class SignedSocketIOOutput(SocketIOOutput):
    """Rasa's `SocketIOOutput`, except that a custom payload (an answer's sources) is sent as
    `{"custom": {...}}` on the bot event: Rasa's own passes the payload's keys to
    `AsyncServer.emit` as arguments, which fails for anything but `data`/`room`."""

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})
