"""Whether a customer's message reports a fault with a product ("it stopped working").

Such a message is a question for the warranty (`answer.defect_topic`), whatever product
details match its words, and the repair layer sends it to the knowledge answer even when it is
no question ("MY BOOM XL WONT CHARGE ANYMORE").
"""

from __future__ import annotations

import re

# What a fault needs from the knowledge: how to get it repaired or replaced (a search query).
FAULT_QUERY = "defect repair or replace claim"
# A report of a fault: "it stopped working", "won't charge any more", "stuck with a broken one".
_FAULT = re.compile(
    r"\b(?:broken|faulty|defective|breaks|stopped (?:working|charging|heating)"
    # "it broke", not "broke uni student here", "i'm so broke", "at uni and broke lol"
    r"|(?<!\bim )(?<!\bam )(?<!\bso )(?<!\bi'm )broke\b"
    r"(?! (?:uni|college|student|af|lol|lmao|haha|rn|atm|right now|these days|this month)\b)"
    r"|(?:does ?n[o']?t|do ?n[o']?t|is ?n[o']?t|not) (?:work|working|turn on|charge|charging)"
    r"|won'?t (?:charge|turn on|switch on|work|connect|pair|start|heat|power on)|dead|died|dies"
    r"|stops? (?:working|charging|heating)"
    r"|cracked|malfunction\w*|keeps? (?:disconnecting|dropping|crashing|turning off))\b",
    re.IGNORECASE,
)
# ... unless the customer asks for a return or a refund, which their own policies answer
_RETURN_ASKED = re.compile(
    r"\b(?:return|refund|exchange|(?:send|ship|mail|post)(?:ing)? (?:it|them) back|money back)",
    re.IGNORECASE,
)
# "its not broken or anything": no fault
_NO_FAULT = re.compile(
    r"\b(?:not|isn'?t|aren'?t|wasn'?t|weren'?t|never|nothing|no)\s+(?:\w+\s+)?"
    r"(?:broken|broke|faulty|defective|damaged|cracked|dead|wrong)\b",
    re.IGNORECASE,
)


def reports_a_fault(text: str) -> bool:
    """ "my boom xl won't charge any more", "stuck with a broken soundbar": a fault, and no
    request for a return or a refund (their own policies answer those)."""
    text = _NO_FAULT.sub(" ", text or "")
    return bool(_FAULT.search(text)) and not _RETURN_ASKED.search(text)
