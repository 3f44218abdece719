"""Cues in what a customer typed: a question, a correction (English).

Used by the repair policy and by form validators in action servers ("actually the mouse" at the
reason question is a new item, not a reason).
"""

from __future__ import annotations

import re

from rasa_llm_components.word_frequency import zipf

_CORRECTION = re.compile(
    r"\b(actually|sorry|oops|wait|meant|instead|rather|wrong|my bad|correction|typo)\b"
    r"|\bno\s*,|\bnot that\b",
    re.IGNORECASE,
)
# A customer correcting themselves within one message: "where is 10011... no wait, I meant 10010",
# "return the dock, actually no the charger". Strong cues count anywhere after some text; weak ones
# only after a pause (punctuation or "no"), so that "I actually want to return it" is no correction.
_STRONG_CUE = re.compile(
    r"\b(?:no wait|wait no|i meant|i mean|scratch that|make (?:it|that)|no actually|actually no"
    r"|sorry i meant|my bad)\b",
    re.IGNORECASE,
)
_DECLINES_HUMAN = re.compile(
    r"\b(?:don'?t|do not|dont|doesn'?t)\s+(?:really\s+)?(?:want|need)\s+(?:a |an |any |to "
    r"(?:talk|speak|chat) (?:to|with) (?:a |an )?)?(?:real |human |live )?(?:human|person|agent|"
    r"colleague|someone|somebody|representative|rep|people)s?\b"
    r"|\bno (?:need for (?:a |an )?)?(?:human|agent|colleague|person|representative)s?\b",
    re.IGNORECASE,
)
# "get a real person to look at it", "can someone look into it please" (not "are you a real
# person?", which asks about the bot)
_WANTS_A_PERSON = re.compile(
    r"\b(?:someone|somebody|a (?:real |actual |live )?(?:person|human)|an? (?:agent|colleague|"
    r"rep|representative)|(?:real|actual) (?:people|humans))\b.{0,40}\b(?:look|check|sort|"
    r"handle|help|call|contact|investigate|deal)\b"
    r"|\b(?:get|put|pass|transfer|connect|want|need)\b.{0,20}\b(?:someone|somebody|a (?:real "
    r"|actual |live )?(?:person|human)|an? (?:agent|colleague))\b",
    re.IGNORECASE,
)
# "I can connect you with a colleague for a warranty claim": a reply that offers a person.
_OFFERS_A_PERSON = re.compile(
    r"\b(?:connect|put|pass|hand|transfer)\s+you\b[^.?!]{0,30}\b(?:colleague|person|human|"
    r"agent|team|someone|somebody)\b",
    re.IGNORECASE,
)
# "ok yeah connect me then", "put me through": taking a person who was offered.
_TAKES_A_PERSON = re.compile(
    r"\b(?:connect|transfer|hand) me\b|\bput me (?:through|on)\b|\bpass me (?:on|over)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\b(?:no|not|don'?t|do not|never)\b", re.IGNORECASE)
_ASKS_ABOUT_THE_BOT = re.compile(r"\b(?:are|r) (?:you|u)\b|\bis (?:this|it)\b|\bam i\b",
                                 re.IGNORECASE)
_WRONG_ONE = re.compile(r"\bwrong (?:order|item|one|number|product)\b", re.IGNORECASE)
_WEAK_CUE = re.compile(r"(?:[.,;!?-]|\bno)\s*(?:wait|actually|sorry|oops|rather)\b", re.IGNORECASE)
# What may follow a cue before the corrected value ("..., no, I meant order 10010").
_CUE_TAIL = re.compile(
    r"(?:[\s,.:;!-]|\b(?:no|wait|actually|sorry|oops|i meant|i mean|meant|it'?s|it is|instead)\b)*",
    re.IGNORECASE,
)
# Frustration that sentiment lexicons miss: "i asked three times already!!!", "still nothing".
_UPSET = re.compile(
    r"!{2,}|\b(?:asked|told you|tried|written|wrote|called|contacted)\b[^.!?]{0,25}"
    r"\b(?:twice|\d+ times|two times|three times|several times|many times|again|already)\b"
    r"|\b(?:ridiculous|unacceptable|not happy|fed up|sick of|annoyed|frustrat\w*|angry|furious|"
    r"useless|still (?:no|not|nothing|waiting)|ever again|worst|wtf|seriously|kidding me|"
    r"disappoint\w*|"
    r"stuck with)\b",
    re.IGNORECASE,
)
# Frustration with the conversation itself, not with a product: at a free-text question
# ("why do you want a reason") it answers nothing, while "the app is useless" can be a reason.
_FED_UP = re.compile(
    r"\b(?:you(?:'?re| are)|this (?:bot|chat|assistant|thing|conversation)|ur)\b[^.!?]{0,20}"
    r"\b(?:useless|stupid|dumb|annoying|ridiculous|a joke|hopeless|not helping|no help|"
    r"going in circles)"
    r"|\bthis (?:is )?(?:taking|takes) (?:forever|ages|so long|too long)\b"
    r"|\bwaste of (?:my )?time\b|\b(?:keep|stop|quit) asking\b|\bgoing (?:round )?in circles\b"
    r"|\b(?:already )?(?:told|gave) (?:you|it to you)(?: (?:already|twice|before))?\b",
    re.IGNORECASE,
)
_CLEARLY_POSITIVE = 0.3  # VADER compound
# Keyboard mashing and sounds, not words: "gggggg", "mmmph", "asdfgh", "sdfsdf".
_MASH = re.compile(r"^(?:asd|sdf|dfg|qwe|wer|zxc|xcv|hjk|jkl|fgh|ghj)[a-z]*$")
# A few digits among mashed letters ("sdfkjh3", "asd 12") are mashed too; an order number is not.
_MAX_MASHED_DIGITS = 3
# Chat words without a vowel that do mean something.
_VOWELLESS_WORDS = frozenset(
    "thx thnx tnx pls plz nvm np ty brb wtf smh ppl msg hrs mins yrs sms dm pm tv cd dvd usb "
    "hdmi nfc gps kg km cm mm ml st rd nd th mr mrs ms dr jr sr vs pcs pc btw".split()
)
_KEYBOARD_ROWS = (frozenset("qwertyuiop"), frozenset("asdfghjkl"), frozenset("zxcvbnm"))
# Babble made of one consonant and one vowel is speech, not mashing: "haha", "nonono".
_SYLLABLE = re.compile(r"^[^aeiouy][aeiouy]$")
# Openers before a question: "oh wait, do you have ...", "btw is it in stock".
_OPENER = (
    r"(?:(?:oh|ah|um+|hm+|ug+h|ok(?:ay)?|fine|well|alright|right|yeah|lol|so|and|also|btw|"
    r"by the way|wait|hey|hi|hello|hallo|actually|sorry|"
    r"quick (?:q|question)|one more thing)\b[\s,.:;!-]*)*"
)
_NON_ANSWER = re.compile(
    _OPENER + r"(?:well\W+|i\W+)?(?:(?:i'?m |im )?not (?:really |quite )?sure|idk|i don'?t know|"
    r"dunno|no idea|not certain|good question|let me think)(?: yet| tbh| really)?\W*",
    re.IGNORECASE,
)
_INFORMATION_QUESTION = re.compile(
    r"^\s*" + _OPENER + r"(?:what(?:'?s| is| are)\s+(?:the|ur|your|a)\b|how (?:long|many|much|"
    r"soon|far|quickly)\b|when\b|which\b)",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    # "wat about ...": the question words customers misspell most
    r"\?\s*$|^\s*" + _OPENER + r"((?:what|wat|wht|where|when|how|who)(?:'?s)?|why|which|"
    r"whose|can|could|"
    r"do|does|did|is|are|am|will|would|should|shall|may|(?:by|till|until) when|"
    # "and if i have another code too can i use both"
    r"if\b[^.?!]*\b(?:can|could|do|does|will|would|is|are|should)\s+"
    r"(?:i|you|u|we|it|they|she|he)\b)\b",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
# "and customs, am i gonna get hit with fees", "my daughter is 7, is the junior ok for her": a
# question after a comma.
_QUESTION_CLAUSE = re.compile(
    r",\s*(?:am|can|could|do|does|did|will|would|is|are|should)\s+"
    r"(?:i|you|u|we|it|they|she|he|there|the|this|that|these|those|my|your|ur)\b",
    re.IGNORECASE,
)


# A "no" to a yes/no question, in words the classifier may not have seen: "nah keep it",
# "ok fine, leave it then", "nope dont". "no problem" and "no worries" agree.
_NO = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|fine|alright|hmm+|um+|well|oh|ah|actually|wait|then)\b[\s,.!-]*)*"
    r"(?:n(?:o+|ah+|ope|aw|op|ay)\b(?![\s,.!-]*(?:problem|prob|worries|doubt|rush)\b)"
    r"|never ?mind\b|nvm\b|forget (?:it|about it)\b)"
    r"|\b(?:keep (?:it|them|that|the order|my order|the item|everything)|leave (?:it|them|that)"
    r"|i(?:'?ll| will) keep|(?:i )?changed my mind|on second thought"
    r"|(?:don'?t|do not|please don'?t) (?:cancel|do (?:it|that)|bother|go ahead|proceed|send|"
    r"change|submit))\b",
    re.IGNORECASE,
)
_YES_WORDS = (r"(?:yes|yeah|yep|yup|yea|ya|sure|go ahead|do it|please do|proceed|absolutely|"
              r"definitely|of course|confirm(?:ed)?)\b")
# A plain "yes" in the same message makes it unclear ("yes keep it" to "shall I cancel?").
_YES = re.compile(r"\b" + _YES_WORDS, re.IGNORECASE)


def says_no(text: str) -> bool:
    """A clear "no" to a yes/no question: a no word first ("nah", "nope, keep it", "ok fine,
    never mind") or keeping what was offered to change ("i'll keep it", "don't cancel"), and no
    "yes" beside it."""
    text = text or ""
    return bool(_NO.search(text)) and not _YES.search(text)


# A yes that leaves nothing open: first in the message ("yes the whole thing, kettle too", "ok
# go ahead"), with no "but", "only", "except", "wait" or negation after it ("yes but just the
# kettle" asks for something else).
_YES_FIRST = re.compile(r"^\W*(?:(?:ok(?:ay)?|fine|alright|right|then)\b[\s,.!-]*)*" + _YES_WORDS,
                        re.IGNORECASE)
_YES_WITH_RESERVATION = re.compile(
    r"\b(?:but|only|just|except|apart from|besides|wait|hold on|not|no|never|don'?t|dont|"
    r"doesn'?t|isn'?t|won'?t|can'?t|cannot|instead|rather|unless|if)\b|n't\b",
    re.IGNORECASE,
)


def says_yes(text: str) -> bool:
    """A clear "yes" to a yes/no question in more words than the classifier knows ("yes the
    whole thing, kettle too"): a yes word first, no reservation or negation after it, and no
    question."""
    text = text or ""
    match = _YES_FIRST.search(text)
    return bool(match) and not _YES_WITH_RESERVATION.search(text[match.end():]) and (
        "?" not in text) and not says_no(text)


def looks_upset(text: str, sentiment: float | None = None, threshold: float = -0.4) -> bool:
    """A clearly unhappy message: a sentiment score at or below `threshold` (VADER's compound),
    or words of frustration ("!!", "I asked three times", "unacceptable")."""
    if sentiment is not None and sentiment <= threshold:
        return True
    if sentiment is not None and sentiment >= _CLEARLY_POSITIVE:
        return False  # "thanks!! where is my order"
    return bool(_UPSET.search(text or ""))


def looks_fed_up(text: str) -> bool:
    """Frustration with the conversation itself: "you're useless", "this is taking forever",
    "stop asking me that", "i already told you"."""
    return bool(_FED_UP.search(text or ""))


def looks_like_gibberish(text: str) -> bool:
    """Whether a message is keyboard mashing or noise rather than words: only punctuation
    ("???"), or every run of letters is a vowelless sound ("mmmph", "hmmm"), a mashed key
    sequence ("asdfgh", "oiuoiu", "lkasjd") or a repeated one ("kjhkjh"). Digits, a chat
    abbreviation ("thx", "nvm"), a typo ("cahnge") or a name ("Quillon") make it a message, and
    so do more than a few digits ("10003")."""
    if not text or len(re.findall(r"\d", text)) > _MAX_MASHED_DIGITS:
        return False
    if not re.search(r"\w", text):
        # "???", "...": no words at all. An emoji (a thumbs up) is no punctuation.
        return bool(re.fullmatch(r"[\s!-/:-@\[-`{-~\u2026\u00bf\u00a1]+", text))
    words = re.findall(r"[a-z]+", text.lower())
    if not words:
        return False  # "12", "3?": a number, however short
    # A stray letter among mashed keys ("jfkdls;a") says nothing either.
    words = [word for word in words if len(word) > 1] or words
    return all(_mashed(word) for word in words)


def _mashed(word: str) -> bool:
    collapsed = re.sub(r"(.)\1+", r"\1", word)
    if collapsed in _VOWELLESS_WORDS:
        return False
    if (not re.search(r"[aeiouy]", collapsed) and len(word) >= 3) or _MASH.match(collapsed):
        return True
    if len(collapsed) == 1 and len(word) >= 4:
        return True  # "aaaaaa" (while "aaa" is a battery size)
    if len(word) < 4 or not (_one_keyboard_row(word) or _repeated_chunk(word)):
        return False
    # Shaped like mashing; the word list tells a word people write: "power", "alaska" are
    # typed on one row too.
    return zipf(word) == 0


def _one_keyboard_row(word: str) -> bool:
    return any(set(word) <= row for row in _KEYBOARD_ROWS)


def _repeated_chunk(word: str) -> bool:
    """"kjhkjh", "gjgj": a short key sequence typed again (not babble such as "nonono")."""
    for size in (1, 2, 3, 4):
        chunk = word[:size]
        if len(word) >= 2 * size and (chunk * len(word))[: len(word)] == word:
            return not _SYLLABLE.match(chunk)
    return False


def looks_like_question(text: str) -> bool:
    """A sentence with a question mark at its end or a question word at its start ("nice. and
    customs, am i gonna get hit with fees"); "???" alone asks nothing."""
    if not re.search(r"[^\W\d_]", text or ""):
        return False
    return bool(_QUESTION_CLAUSE.search(text)) or any(
        _QUESTION.search(sentence) for sentence in _SENTENCE_BREAK.split(text.strip())
    )


# "if my scale arrives broken, what happens?", "do i have to pay the return?": a question about
# what the rules say would happen, not a request to act now.
_WHAT_IF = re.compile(
    r"\bwhat happens (?:if|when)\b|\bif\b[^.?!]{3,80}?\bwhat (?:happens|then|do i do)\b"
    r"|\bwhat if\b"
    r"|\bwhat (?:do|would|should|can) i do (?:if|when)\b"
    r"|\b(?:do|would|will) i (?:have|need) to pay\b|\bwho pays\b",
    re.IGNORECASE,
)
# "can i send it back if i dont like it", "if i get it engraved, can it be returned later": what
# the rules allow in a case, not a request to act now ("can you cancel it if it hasn't shipped"
# asks the bot to act, and "if possible" or "if so" set no case).
_CONDITIONAL = re.compile(
    r"\b(?:can|could|do|would|will)\s+(?:i|we)\s+[^.?!]{2,40}?\bif\s+(?:i|it|they|we|my|the)\b"
    r"|\bif\b[^.?!]{3,80}?\b(?:can|could|will|would)\s+(?:it|they|that|those|i|we)\s+"
    r"(?:still\s+)?(?:be|get|send|return|exchange|swap)\b",
    re.IGNORECASE,
)
# "i'd like to return the cable, can i do it if i lost the box?" asks for the task as well.
_ASKS_FOR_TASK = re.compile(
    r"\b(?:i (?:want|wanna|need)|i'?d like|i would like|please|pls|plz)\b", re.IGNORECASE
)
_NO_CASE = re.compile(
    r"\bif (?:(?:it|that)(?:'?s| is) (?:still )?(?:possible|ok|okay|alright|fine)|possible|"
    r"you can|so|not)\b",
    re.IGNORECASE,
)
# "no no im not returning it, just asking": a customer who wants to know, not to do the task.
_ONLY_ASKING = re.compile(
    r"\b(?:just|only|simply) (?:asking|wondering|curious|checking)\b|\bhypothetical(?:ly)?\b"
    r"|\b(?:ha(?:ve)?n'?t|have not|not) (?:yet )?(?:bought|ordered|purchased)\b"
    r"|\bnot (?:returning|cancel+ing|sending (?:it|them) back)\b"
    r"|\b(?:i'?m|i am) not (?:going to|gonna) (?:return|cancel|send)\b",
    re.IGNORECASE,
)
# "thinking about buying the air fryer. can i send it back?": a question before a purchase (in
# a return, "thinking of getting those instead" is about the next purchase, not this task).
_BEFORE_BUYING = re.compile(
    r"\bbefore (?:i|we) (?:buy|order|purchase)\b"
    r"|\b(?:thinking|thought) (?:about|of) (?:buying|getting|ordering)\b",
    re.IGNORECASE,
)
# "can u return stuff once you've opened the box?", "do you take back items that were used?":
# a question about things in general, not about the customer's own order.
_GENERAL_OBJECT = re.compile(
    r"(?<!how )\b(?:can|could|do|does|will|would|are)\s+(?:i|you|u|we|people|customers)\s+"
    r"(?:still\s+)?(?:return|send back|take back|exchange|swap|refund)\s+"
    r"(?:stuff|things|items?|an item|something|anything|products?|a product|orders?)\b",
    re.IGNORECASE,
)
_OWN = re.compile(r"\b(?:my|mine|our)\b", re.IGNORECASE)
# An order number in the message: a request about that order, however it is worded.
_ORDER_NUMBER = re.compile(r"\b(?:ord\W?)?\d{4,}\b", re.IGNORECASE)


def asks_what_if(text: str) -> bool:
    """A question about what would happen ("if it arrives broken, what happens?", "do i have
    to pay the return shipping?", "can i send it back if i dont like it?", "can u return stuff
    once it's opened?") that names no order: the rules answer it."""
    text = text or ""
    return bool(
        _WHAT_IF.search(text) or (
            _CONDITIONAL.search(_NO_CASE.sub(" ", text)) and not _ASKS_FOR_TASK.search(text))
        or (_GENERAL_OBJECT.search(text) and not _OWN.search(text)
            and not _ASKS_FOR_TASK.search(text))
    ) and not _ORDER_NUMBER.search(text)


def asks_what_the_knowledge_answers(text: str) -> bool:
    """Whether one of the message's sentences asks what the rules say or what would happen
    ("seriously? it's one day over. what if it breaks later then")."""
    return any(asks_what_if(sentence) or asks_for_information(sentence)
               for sentence in _SENTENCE_BREAK.split((text or "").strip()))


def only_asking(text: str) -> bool:
    """ "just asking, how long do i have?", "i havent bought it yet": the customer wants an
    answer, not the task the words could start or the task under way."""
    return bool(_ONLY_ASKING.search(text or ""))


def asks_before_buying(text: str) -> bool:
    """ "thinking about buying the air fryer. can i send it back?": a question about the rules
    before a purchase, not the start of a task about an order."""
    return bool(_BEFORE_BUYING.search(text or ""))


def asks_for_information(text: str) -> bool:
    """A question that asks what something is ("whats ur return window", "how long does a
    refund take", "which items can't be returned?"), not one that asks the bot to do something
    ("can i return my headphones?", "how do i cancel?")."""
    return bool(_INFORMATION_QUESTION.search(text or ""))


_LEAVES = re.compile(
    _OPENER + r"(?:no\W+|nah\W+)?(?:never\s?mind|nvm|scratch that|forget (?:it|that|about it))\b",
    re.IGNORECASE,
)


def opens_with_leaving(text: str) -> bool:
    """ "actually never mind, the address is fine": a message that starts by dropping what it
    was asked for, whatever follows."""
    return bool(_LEAVES.match((text or "").strip()))


def declines_a_human(text: str) -> bool:
    """ "no i dont want a human, just tell me the status": a request that mentions a person to
    say no to one (the classifier reads it as asking for one)."""
    return bool(_DECLINES_HUMAN.search(text or ""))


def offers_a_person(text: str) -> bool:
    """Whether a bot message offers to connect the customer with a person."""
    return bool(_OFFERS_A_PERSON.search(text or ""))


def takes_a_person(text: str) -> bool:
    """ "ok yeah connect me then": a yes to a person offered before, in words of its own."""
    text = text or ""
    return bool(_TAKES_A_PERSON.search(text)) and not (
        declines_a_human(text) or _NEGATED.search(text))


def asks_for_a_person(text: str) -> bool:
    """ "yes get a real person to look at it": a request for a human, which the classifier may
    read as asking whether the bot is one."""
    text = text or ""
    return bool(_WANTS_A_PERSON.search(text)) and not _ASKS_ABOUT_THE_BOT.search(text) and (
        not declines_a_human(text)
    )


def says_it_corrects(text: str) -> bool:
    """An unmistakable correction ("i meant 10003", "sorry wrong order"), which a long message
    at a free-text question can be too."""
    return bool(_STRONG_CUE.search(text or "") or _WRONG_ONE.search(text or ""))


def is_non_answer(text: str) -> bool:
    """A message that answers nothing: "not sure", "umm idk", "dunno", "no idea"."""
    return bool(_NON_ANSWER.fullmatch((text or "").strip()))


def looks_like_correction(text: str) -> bool:
    """Words that announce a changed value: "actually", "sorry", "I meant", "no, ...", ..."""
    return bool(_CORRECTION.search(text or ""))


def corrected_offset(text: str) -> int | None:
    """Where the value a customer corrected themselves to begins, within one message.

    "where is order 10011... no wait i meant 10010" gives the offset of "10010"; None when the
    message holds no correction after some other text ("actually, the mouse" corrects an earlier
    message, not this one).
    """
    text = text or ""
    cues = [*_STRONG_CUE.finditer(text), *_WEAK_CUE.finditer(text)]
    cues = [cue for cue in cues if re.search(r"\w", text[: cue.start()])]
    if not cues:
        return None
    last = max(cues, key=lambda cue: cue.end())
    end = _CUE_TAIL.match(text, last.end()).end()
    return end if re.search(r"\w", text[end:]) else None


def corrected_part(text: str) -> str:
    """The part of a message after a correction within it ("the charger" of "return the dock...
    no actually the charger"); the whole message when there is none."""
    offset = corrected_offset(text)
    return text if offset is None else text[offset:]
