"""The second request of a message: "where's order 10019, and can the watch go in the pool?".

`TransformerIntentClassifier` (`split_requests: true`) lists the parts of a message whose
confident intent is not the message's under the parse data's `requests`. Once the bot has
answered the message, `ConversationRepairPolicy` (`next_request_action`) runs this action, which
hands the first such part back to Rasa as if the customer had just sent it: an `action_listen`
and a `UserUttered` with the part's text, intent and entities. Rasa then extracts slots and
predicts the reply with the bot's own rules, stories and forms, as for any message (Rasa's
`TwoStageFallbackAction` re-utters a message the same way).

Register the action in your action server, e.g. in `actions/__init__.py`:

    from rasa_llm_components.repair.next_request import ActionNextRequest  # noqa: F401

and list `action_next_request` under `actions:` in the domain.
"""

from __future__ import annotations

import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, UserUttered
from rasa_sdk.executor import CollectingDispatcher

from rasa_llm_components.intent.sentences import REQUESTS_KEY

ACTION_NEXT_REQUEST = "action_next_request"
# Parse-data keys carried over from the whole message to its part.
_CARRIED_KEYS = ("sentiment",)


def pending_request(parse_data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The request of the message that comes next: the first of its other `requests`."""
    requests = (parse_data or {}).get(REQUESTS_KEY)
    if not isinstance(requests, list) or not requests:
        return None
    request = requests[0]
    valid = (
        isinstance(request, dict)
        and isinstance(request.get("text"), str)
        and isinstance(request.get("intent"), dict)
        and isinstance(request.get("start"), int)
        and isinstance(request.get("end"), int)
    )
    return request if valid else None


def _entities_within(entities: list[dict[str, Any]], start: int, end: int) -> list[dict[str, Any]]:
    """The entities found inside [start, end) of the message, with offsets into the part."""
    inside = []
    for entity in entities or []:
        begin, finish = entity.get("start"), entity.get("end")
        if isinstance(begin, int) and isinstance(finish, int) and start <= begin and finish <= end:
            inside.append({**entity, "start": begin - start, "end": finish - start})
    return inside


def next_request_events(latest_message: dict[str, Any] | None) -> list[EventType]:
    """The events that make the pending request the customer's latest message ([] if none)."""
    message = latest_message or {}
    request = pending_request(message)
    if request is None:
        return []
    metadata = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
    message_id = uuid.uuid4().hex
    parse_data = {
        "text": request["text"],
        "intent": request["intent"],
        "intent_ranking": [request["intent"]],
        "entities": _entities_within(message.get("entities") or [], request["start"],
                                     request["end"]),
        "message_id": message_id,
        "metadata": {**metadata, "part_of": message.get("message_id")},
        **{key: message[key] for key in _CARRIED_KEYS if key in message},
    }
    uttered = UserUttered(request["text"], parse_data)
    uttered.update(message_id=message_id, metadata=parse_data["metadata"])
    return [ActionExecuted("action_listen"), uttered]


class ActionNextRequest(Action):
    """Turns the pending request of the latest message into the customer's next message."""

    def name(self) -> str:
        return ACTION_NEXT_REQUEST

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return next_request_events(tracker.latest_message)
