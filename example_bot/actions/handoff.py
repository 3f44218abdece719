"""Handoff to a human colleague: a support ticket with the conversation transcript."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop import dates

from actions.common import ShopAction, customer_for, latest_text, open_repository, text_slot
from rasa_llm_components.nlu.pii_detection import default_detector

UTTER_HANDOFF_FAILED = "utter_handoff_failed"
MAX_TRANSCRIPT_MESSAGES = 100
# Intents of messages that never say what the problem is.
_NOT_A_REASON = frozenset({"greet", "goodbye", "thanks", "stop", "bot_challenge"})
SUPPORT_HOURS = "Monday to Friday 8 am to 8 pm ET and Saturday 9 am to 5 pm ET"
NO_REASON = "Customer asked to talk to a colleague (no reason given)."
# The request for a person itself, and words that carry nothing else ("yes please", "agent!").
_HANDOFF_REQUEST = re.compile(
    r"(?i)\b(?:(?:can|could|may) i|i (?:want|need|would like|'d like|wanna)|let me|please|pls|"
    r"just|now|put me through|connect me|transfer me|get me|give me|i demand)?\s*"
    r"(?:to\s+)?(?:talk|speak|chat)?\s*(?:to|with)?\s*"
    r"(?:a|an|the|some|someone|somebody|anyone|anybody)?\s*"
    r"(?:real|actual|live|human|proper)?\s*"
    r"(?:person|human|agent|representative|rep|operator|colleague|someone|somebody|"
    r"people|staff|support|manager|supervisor|real one)\b"
)
_FILLER = frozenset(
    "yes yeah yep yup sure ok okay please pls plz do it go ahead fine alright right now then "
    "thanks thank you thx a an the i me to with some one someone real human person agent "
    "talk speak chat get put through connect transfer want need would like d ll can could "
    "just let hello hi hey".split()
)


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


def redacted_transcript(transcript: list[dict[str, str]]) -> list[dict[str, str]]:
    """The transcript with personal data replaced by placeholders ([CARD], [PHONE], ...): the
    ticket is read by colleagues and kept; the contact e-mail has its own field."""
    detector = default_detector()
    return [{**entry, "text": detector.redact(entry["text"])} for entry in transcript]


def _contact_email(tracker: Tracker) -> str | None:
    """A visitor's e-mail from the email slot (a redacted "[EMAIL]" of an earlier turn: none)."""
    value = text_slot(tracker, "email")
    return value if value and "@" in value else None


def says_something(text: str) -> bool:
    """Whether a message says more than "yes" or "get me a person" (e.g. frustration or a
    problem: "you're no help, get me someone real")."""
    remainder = _HANDOFF_REQUEST.sub(" ", text.lower().replace("\u2019", "'"))
    words = re.findall(r"[a-z0-9']+", remainder)
    return any(word.strip("'") not in _FILLER for word in words)


def handoff_reason(transcript: list[dict[str, str]], fallback: str) -> str:
    """The customer's last message that says what the problem is.

    "yes" (to an offer), a bare "agent please" and small talk are skipped; a request for a person
    that says more ("you're no help, get me someone real", "my refund never came, I want a
    human") is the reason itself, whatever intent the NLU gave it.
    """
    for entry in reversed(transcript):
        if (
            entry["speaker"] == "customer"
            and entry.get("intent") not in _NOT_A_REASON
            and says_something(entry["text"])
        ):
            return entry["text"]
    return fallback if says_something(fallback or "") else NO_REASON


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
            contact_email = customer.email if customer else _contact_email(tracker)
            transcript = redacted_transcript(transcript_from(tracker))
            # A handoff ends the bot's task: a new address the form was holding is not kept.
            repository.discard_address_draft(tracker.sender_id or "")
            ticket = repository.create_handoff_ticket(
                sender_id=tracker.sender_id or "unknown",
                customer_id=customer.id if customer else None,
                contact_email=contact_email,
                reason=handoff_reason(transcript, default_detector().redact(latest_text(tracker))),
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
