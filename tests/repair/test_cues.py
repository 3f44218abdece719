"""Cues in what a customer typed: corrections within a message, frustration (repair/cues.py)."""

from __future__ import annotations

import pytest

from rasa_llm_components.repair.cues import (
    asks_before_buying,
    asks_what_if,
    corrected_part,
    looks_fed_up,
    looks_like_gibberish,
    looks_like_question,
    looks_upset,
    offers_a_person,
    only_asking,
    says_no,
    says_yes,
    takes_a_person,
)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("where is order 10011... no wait i meant 10010", "10010"),
        ("compare the wave 2 and the boom xl. actually no, the wave 2 and the mini",
         "the wave 2 and the mini"),
        ("send it to 5 elm rd, no wait, 7 elm rd", "7 elm rd"),
        ("cancel 10004, sorry, 10005", "10005"),
        ("i actually want to return it", "i actually want to return it"),
        ("sorry to bother you, where is 10010", "sorry to bother you, where is 10010"),
        ("i mean it works but it is loud", "i mean it works but it is loud"),
    ],
)
def test_corrected_part_of_a_message(text, part):
    assert corrected_part(text) == part


@pytest.mark.parametrize(
    ("text", "sentiment", "upset"),
    [
        ("i asked three times already!!! where are my thermostats", 0.0, True),
        ("this is unacceptable", None, True),
        ("where is my order", 0.0, False),
        ("my order is late", -0.6, True),  # the sentiment score alone
        ("thanks!", 0.5, False),
        ("thanks so much!! where is my order", 0.6, False),
    ],
)
def test_looks_upset(text, sentiment, upset):
    assert looks_upset(text, sentiment) is upset


@pytest.mark.parametrize(
    ("text", "gibberish"),
    [
        ("gggggg", True),
        ("mmmph", True),
        ("asdfgh", True),
        ("hmmm", True),
        ("thx", False),  # chat words without a vowel
        ("nvm", False),
        ("noooo", False),
        ("blue", False),
        ("10003", False),
        ("cancle ordr", False),  # typos are words
        ("oiuoiu", True),  # keys of one row, or a key sequence typed again
        ("lkasjd", True),
        ("wqeqwe", True),
        ("kjhkjh jhg", True),
        ("aaaaaa", True),
        ("aaa", False),  # a battery size
        ("jfkdls;a", True),
        ("k", False),
        ("???", True),  # punctuation alone
        ("...", True),
        ("👍", False),  # an emoji says something
        ("why???", False),
        ("power", False),  # real words typed on one row
        ("alaska", False),
        ("nonono", False),  # babble is speech
        ("haha", False),
        ("quillon", False),  # a name
        ("cahnge adress", False),
        ("gjgj 44", True),  # a few digits among mashed keys
        ("sdfkjh3", True),
        ("asd asd asd", True),
        ("asdf 10003", False),  # an order number after it
        ("12", False),
        ("", False),
    ],
)
def test_looks_like_gibberish(text, gibberish):
    assert looks_like_gibberish(text) is gibberish


@pytest.mark.parametrize(
    ("text", "fed_up"),
    [
        ("ugh this is taking forever, you're useless", True),
        ("stop asking me that", True),
        ("i already told you the address", True),
        ("this bot is going in circles", True),
        ("the app is useless", False),  # about the product: a return reason
        ("the charger takes forever to charge", False),
        ("you told me it would arrive monday", False),
    ],
)
def test_looks_fed_up(text, fed_up):
    assert looks_fed_up(text) is fed_up


def test_asks_what_if():
    assert asks_what_if("hallo, if my kitchen scale arrives broken, what happens?")
    assert asks_what_if("what happens if i miss the 14 days")
    assert asks_what_if("do i have to pay the return shipping from germany?")
    # a request about an order, or a request alone, is no question about the rules
    assert not asks_what_if("i want to return order 10030, do i have to pay the shipping?")
    assert not asks_what_if("return my kettle pls")
    # a case the rules decide, not a request
    assert asks_what_if("can i return it if i dont like it")
    assert asks_what_if("if i get something engraved as a present, can it be returned later")
    # ... unless the message asks the bot to act, or the "if" sets no case
    assert not asks_what_if("can you cancel my order if it hasnt shipped")
    assert not asks_what_if("i'd like to return the cable, can i do it if i lost the box?")
    assert not asks_what_if("can i return the kettle if thats ok")
    assert not asks_what_if("if it's still possible can i cancel my order")
    # things in general, not the customer's own
    assert asks_what_if("hey, can u return stuff once you've opened the box?")
    assert asks_what_if("do you take back items that were used for a day?")
    assert not asks_what_if("can i return items from my last order?")
    assert not asks_what_if("i want to return something please")
    assert not asks_what_if("how do i return something")  # how to do the task: a request


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("no no im not returning it, just asking. how long do i have left?", True),
        ("i havent bought it yet, whats the return window", True),
        ("i want to return it, the strap broke", False),
        ("just return it please", False),
        # a purchase in mind is no stop of the task under way ...
        ("oh also is the b30 in stock? thinking of getting those instead", False),
    ],
)
def test_only_asking(text, asking):
    assert only_asking(text) is asking


def test_asks_before_buying():
    # ... but before any purchase, a question about the rules is only a question
    assert asks_before_buying("thinking about buying the air fryer. can i send it back?")
    assert asks_before_buying("before i order, do you ship to ireland")
    assert not asks_before_buying("i bought the air fryer, can i send it back?")


def test_looks_like_question():
    assert looks_like_question("do you ship to canada")
    assert looks_like_question("the x200 - in stock?")
    assert looks_like_question("wat about the return shipping if i send stuff back from norway")
    assert not looks_like_question("???")  # punctuation alone asks nothing
    assert not looks_like_question("10003")
    # a question in a later sentence or clause of the message
    assert looks_like_question("so no good for the garden then. what would work outside")
    assert looks_like_question("nice. and customs, am i gonna get hit with fees at the door")
    assert looks_like_question("and if i have another code too can i use both")
    assert looks_like_question("and by when do i have to send it")
    assert looks_like_question("my daughter is 7, is the corvane junior ok for her age")
    assert not looks_like_question("it was a gift, the box is still sealed")
    assert not looks_like_question("i want to return it, which is annoying")
    assert not looks_like_question("if it breaks again i will be so mad")
    assert not looks_like_question("well its not on my card. mastercard")


@pytest.mark.parametrize(
    "text, no",
    [
        ("nah keep it", True),
        ("ok fine keep it then", True),
        ("Nope.", True),
        ("naw, leave it", True),
        ("never mind, i'll keep it", True),
        ("pls dont cancel it", True),
        ("on second thought no", True),
        ("no way", True),
        # agreeing, unclear, or not about the question
        ("no problem, go ahead", False),
        ("no worries do it", False),
        ("yes keep it", False),
        ("yeah sure", False),
        ("ok", False),
        ("not sure", False),
        ("i don't know", False),
        ("now please", False),
        ("keep going", False),
    ],
)
def test_says_no(text, no):
    assert says_no(text) is no


def test_offers_and_takes_a_person():
    assert offers_a_person("If it is faulty, I can connect you with a colleague for a claim.")
    assert not offers_a_person("Your speaker connects to Alexa.")
    assert takes_a_person("ok yeah connect me then")
    assert takes_a_person("pls put me through")
    assert not takes_a_person("how do i connect my speaker")
    assert not takes_a_person("no dont connect me to a human")


@pytest.mark.parametrize(
    ("text", "yes"),
    [
        ("yes the whole thing, kettle too", True),
        ("ok go ahead", True),
        ("Yep, do it.", True),
        ("sure, cancel it", True),
        ("yes but only the kettle", False),
        ("yes cancel everything except the case", False),
        ("yes, wait", False),
        ("yes?", False),
        ("yes dont", False),
        ("nope", False),
        ("i guess", False),
        ("no problem, go ahead", False),
    ],
)
def test_says_yes(text, yes):
    assert says_yes(text) is yes
