"""A stopped form leaves no half-filled request behind."""

from __future__ import annotations

import asyncio

from actions.forms import ActionResetFormSlots
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

DOMAIN = {
    "forms": {
        "return_form": {"required_slots": ["order_id", "return_item", "return_reason"]},
        "change_address_form": {"required_slots": ["order_id", "new_address"]},
    }
}


def test_reset_clears_the_filled_form_slots_only():
    tracker = Tracker(
        "C1001",
        slots={"order_id": "ORD-10001", "return_item": "X200", "return_reason": None,
               "product": "Auralis X200 Headphones"},
        latest_message={"text": "stop", "intent": {"name": "stop"}},
        events=[], paused=False, followup_action=None, active_loop={},
        latest_action_name="action_deactivate_loop",
    )  # fmt: skip
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionResetFormSlots().run(dispatcher, tracker, DOMAIN))
    assert events == [SlotSet("order_id", None), SlotSet("return_item", None)]
    assert dispatcher.messages == []
