"""Handoff to a human colleague: a support ticket with the conversation transcript."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop import dates

from actions.common import ShopAction, customer_for, latest_text, open_repository, text_slot

UTTER_HANDOFF_FAILED = "utter_handoff_failed"
MAX_TRANSCRIPT_MESSAGES = 100
_NOT_A_REASON = frozenset(
    {"affirm", "deny", "human_handoff", "greet", "goodbye", "thanks", "stop", "bot_challenge"}
)
SUPPORT_HOURS = "Monday to Friday 8 am to 8 pm ET and Saturday 9 am to 5 pm ET"


def transcript_from(tracker: Tracker) -> list[dict[str, str]]:
    """The user and bot messages of the conversation, oldest first (the last 100)."""
    messages = []
    for event in tracker.events:
        kind = event.get("event")
        text = event.get("text")
        if kind == "user" and text:
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            messages.append({"speaker": "customer", "text": text, "intent": intent})
        elif kind == "bot" and text:
            messages.append({"speaker": "bot", "text": text})
    return messages[-MAX_TRANSCRIPT_MESSAGES:]


def handoff_reason(transcript: list[dict[str, str]], fallback: str) -> str:
    """The customer's last message that says what the problem is (not "yes" or "agent please")."""
    for entry in reversed(transcript):
        if entry["speaker"] == "customer" and entry.get("intent") not in _NOT_A_REASON:
            return entry["text"]
    return fallback


class ActionHandoff(ShopAction):
    """Opens a support ticket with the transcript and tells the customer what happens next."""

    error_response = UTTER_HANDOFF_FAILED

    def name(self) -> str:
        return "action_handoff"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with open_repository() as repository:
            customer = customer_for(repository, tracker)
            contact_email = customer.email if customer else text_slot(tracker, "email")
            transcript = transcript_from(tracker)
            ticket = repository.create_handoff_ticket(
                sender_id=tracker.sender_id or "unknown",
                customer_id=customer.id if customer else None,
                contact_email=contact_email,
                reason=handoff_reason(transcript, latest_text(tracker)),
                transcript=transcript,
                now=dates.utc_now(),
            )
        if contact_email:
            reply_to = f"by email to {contact_email}"
            follow_up = ""
        else:
            reply_to = "by email"
            follow_up = (
                " I couldn't find an account for this chat, so please send your email address "
                f"to support@voltnest.example quoting {ticket}, or call +1 800 555 0199."
            )
        dispatcher.utter_message(
            text=(
                f"I've opened ticket {ticket} for you and attached our conversation, so you won't "
                f"have to repeat yourself. A colleague will reply {reply_to} within 1 business "
                f"day, usually within 4 hours during support hours ({SUPPORT_HOURS})."
                f"{follow_up}"
            )
        )
        return [SlotSet("handoff_ticket", ticket)]
