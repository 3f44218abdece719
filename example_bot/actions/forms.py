"""Actions shared by all forms."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


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
