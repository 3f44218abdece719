"""Which messages report a fault with a product (the warranty answers them)."""

from __future__ import annotations

import pytest

from rasa_llm_components.answering.faults import reports_a_fault


@pytest.mark.parametrize(
    "text, fault",
    [
        ("my boom xl wont charge anymore", True),
        ("the kettle stopped heating after a week", True),
        ("screen is cracked and it keeps turning off", True),
        # a fault the customer denies is none
        ("who pays for shipping it back? its not broken or anything", False),
        ("nothing wrong with it, i just dont like the colour", False),
        ("it isn't faulty, it's just too big", False),
        # a return asked for is answered by the returns policy, fault or not
        ("the mouse is broken, can i return it", False),
        ("it died, who pays for mailing it back", False),
    ],
)
def test_a_fault_is_reported(text, fault):
    assert reports_a_fault(text) is fault
