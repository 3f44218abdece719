"""Actions shared by all forms."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from shop.ids import find_order_ids

from actions.common import ANOTHER_ORDER_HINT, UTTER_ASK_ORDER_ID, said_since_the_customer


class ActionResetFormSlots(Action):
    """Clears every slot a form asks for, so that a stopped request starts afresh next time."""

    def name(self) -> str:
        return "action_reset_form_slots"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        form_slots = {
            slot
            for form in (domain.get("forms") or {}).values()
            for slot in (form or {}).get("required_slots", [])
        }
        return [
            SlotSet(slot, None) for slot in sorted(form_slots) if tracker.get_slot(slot) is not None
        ]


class ActionAskOrderId(Action):
    """Asks the forms' order question: the usual question, or, right after the form turned an
    order down ("Order ORD-10047 is still on its way"), whether another order is meant; nothing
    when the refusal already asked that."""

    def name(self) -> str:
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        said = said_since_the_customer(tracker)
        if any(ANOTHER_ORDER_HINT in event.get("text", "") for event in said):
            return []
        offered = any((event.get("data") or {}).get("buttons") for event in said)
        if not offered and any(find_order_ids(event.get("text") or "") for event in said):
            dispatcher.utter_message(text=ANOTHER_ORDER_HINT)
        else:
            dispatcher.utter_message(response=UTTER_ASK_ORDER_ID)
        return []
