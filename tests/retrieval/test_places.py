import pytest

from rasa_llm_components.retrieval.places import PlaceNames


@pytest.fixture(scope="module")
def places():
    return PlaceNames.load()


@pytest.mark.parametrize(
    ("message", "countries"),
    [
        ("my sister lives in Melbourne, can u ship a gift there?", ["Australia"]),
        ("shipping to krakow?", ["Poland"]),  # written without its accent
        ("can you deliver to cracow", ["Poland"]),  # another spelling
        ("can i send it to my dad in Toronto", ["Canada"]),  # the place after a second "in"
        ("do you deliver to the netherlands", ["The Netherlands"]),
        ("ship to my office in the US", ["United States"]),
        ("i live in texas, is shipping free", ["United States"]),  # a US state
        ("we're moving from London to Dublin, can you deliver", ["United Kingdom", "Ireland"]),
        ("how much is delivery to rio de janeiro", ["Brazil"]),  # a name of three words
    ],
)
def test_a_place_after_a_preposition_is_read_as_its_country(places, message, countries):
    assert [country for _, country in places.places_in(message)] == countries


@pytest.mark.parametrize(
    "message",
    [
        "does it come in orange?",  # a city name, but nothing about shipping or living
        "can i ship it to us?",  # "us" is the shop
        "i live alone and want to split the payment",  # Split (Croatia) is mostly a word
        "im reading the shipping policy, is it in reading?",  # Reading (UK) too
        "can you ship it in a gift box",
    ],
)
def test_words_that_are_also_place_names_are_not_places(places, message):
    assert places.places_in(message) == []
