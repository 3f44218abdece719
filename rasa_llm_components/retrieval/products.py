"""Which catalog products a message names, by full name, short name or code.

"the pulse 3 lite", "Nimbra Pulse 3 Lite", "NIM-PULSE3L" and "pulse 3l" all name the same row;
the longest matching alias wins, so "pulse 3 lite" never also counts as "pulse 3". Aliases come
from the rows themselves: the name, the name without its brand and without its trailing category
words, the SKU and its model part, and model codes such as "x200" or "mh7".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from rasa_llm_components.retrieval.names import NAME_FIELDS
from rasa_llm_components.retrieval.passage import Passage
from rasa_llm_components.retrieval.text import IRREGULAR_PLURALS

_WORD = re.compile(r"[a-z0-9]+")
# Words that never name a product on their own ("the smart one", "pro").
_TOO_GENERIC = frozenset(
    """the a an and of for with in on to by smart pro mini lite plus max one home pack wireless
    portable power sport outdoor party studio classic kids junior precision rapid indoor
    gaming powered true new""".split()
)
# Trailing words dropped to form short names ("Auralis X200 Headphones" -> "x200").
_KIND_WORDS = frozenset(
    """speaker speakers headphones headphone headset earbuds buds watch smartwatch band case
    cable charger stand hub mouse keyboard kettle blender scale bulb plug cam camera doorbell
    thermostat vacuum sleeve mount tripod pad bank grinder maker machine fryer monitor
    soundbar""".split()
)

K = TypeVar("K")
# Words after "the" that tell no product apart: "the cheaper one", "the other version".
_SIBLING_FILLERS = frozenset(
    """the a an and of for with in on to by one ones version model kind type same other
    cheaper cheap cheapest bigger smaller newer older""".split()
)
# "the b2 or the soundbar": two products weighed, a kind word among them names a product.
_WEIGHS = re.compile(r"\b(?:or|vs|versus|compared|than)\b", re.IGNORECASE)
# Definite and possessive only: "a hub" is any hub, "the hub" is the one the shop sells.
_DETERMINERS = frozenset("the this that my your ur our his her their".split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-", " "))


@dataclass(frozen=True)
class ProductMention:
    """A product row named in a text, with the alias that named it."""

    passage_id: str
    name: str
    alias: str


class ProductCatalog:
    """Aliases of the knowledge base's table rows, for finding the products a message names."""

    def __init__(
        self,
        aliases: dict[tuple[str, ...], tuple[str, str]],
        kind_aliases: Iterable[tuple[str, ...]] = (),
        kinds: dict[str, frozenset[str]] | None = None,
        prices: dict[str, float] | None = None,
    ) -> None:
        self._aliases = aliases
        # A kind word names the product only after "the", "my", ... ("the case", not "in case").
        self._kind_aliases = frozenset(kind_aliases)
        self._longest = max((len(alias) for alias in aliases), default=0)
        # row id -> the words of its kind, singular and plural ("speaker", "speakers")
        self.kinds = dict(kinds or {})
        self._kind_words = frozenset().union(*self.kinds.values()) if self.kinds else frozenset()
        # row id -> its price, for "the cheaper one"
        self.prices = dict(prices or {})
        self.names = {row: name for row, name in aliases.values()}

    @classmethod
    def from_passages(
        cls, passages: Iterable[Passage], common_words: Iterable[str] = ()
    ) -> ProductCatalog:
        """Aliases of every table row. `common_words` (e.g. an encoder's vocabulary) are
        ordinary words that never name a product on their own ("robot", "laptop")."""
        passages = list(passages)
        rows = [passage for passage in passages if passage.metadata.get("kind") == "row"]
        candidates: dict[tuple[str, ...], set[tuple[str, str]]] = {}
        for row in rows:
            fields = {str(k).strip().lower(): str(v) for k, v in
                      (row.metadata.get("fields") or {}).items()}
            name = row.title or fields.get("name", "")
            for alias in _aliases_of(name, fields):
                candidates.setdefault(alias, set()).add((row.id, name))
        # An alias shared by several rows ("pulse 3" of "Pulse 3" and "Pulse 3 Lite") belongs to
        # the row whose full name it is closest to; a tie leaves it out.
        aliases: dict[tuple[str, ...], tuple[str, str]] = {}
        for alias, owners in candidates.items():
            ranked = sorted(owners, key=lambda owner: len(_words(owner[1])))
            if len(ranked) == 1 or len(_words(ranked[0][1])) < len(_words(ranked[1][1])):
                aliases[alias] = ranked[0]
        for alias, owner in _distinctive_aliases(rows, passages, set(common_words)).items():
            aliases.setdefault(alias, owner)
        kind_aliases = [alias for alias in aliases if len(alias) == 1 and alias[0] in _KIND_WORDS]
        kinds = {row.id: _kind_forms(row) for row in rows}
        prices = {row.id: price for row in rows if (price := _price(row)) is not None}
        return cls(aliases, kind_aliases, kinds, prices)

    def __bool__(self) -> bool:
        return bool(self._aliases)

    def referenced_kinds(self, text: str) -> set[str]:
        """The kinds of product a message refers to by kind alone: "is the speaker waterproof"
        refers to a speaker the conversation has named ("in that case" names no case)."""
        words = _words(text)
        return {
            word for position, word in enumerate(words)
            if word in self._kind_words and _after_determiner(words, position)
        }

    def rows_of_kinds_named(self, text: str) -> list[str]:
        """The ids of the rows whose kind the text names anywhere ("any headphones for a 6 year
        old?"), in catalog order."""
        named = set(_words(text)) & self._kind_words
        return [row for row, forms in self.kinds.items() if forms & named]

    def rows_like(self, mentions: Iterable[ProductMention]) -> list[str]:
        """The ids of the rows of the same kind as any of these products (the speakers, for
        the Home One), in catalog order."""
        kinds = frozenset().union(*(self.kinds.get(m.passage_id, frozenset()) for m in mentions))
        return [row for row, forms in self.kinds.items() if forms & kinds]

    def of_kinds(self, mentions: Iterable[ProductMention], kinds: set[str]
                 ) -> list[ProductMention]:
        """The mentions of products of any of these kinds."""
        return [mention for mention in mentions
                if self.kinds.get(mention.passage_id, frozenset()) & kinds]

    def sibling(self, mention: ProductMention, text: str) -> list[ProductMention]:
        """ "and the mini?" after the Wave 2: the product of its kind that `sibling_named`
        finds ("Wave Mini"); none when that is not one product."""
        kinds = self.kinds.get(mention.passage_id, frozenset())
        same_kind = {row: name for row, name in self.names.items()
                     if row != mention.passage_id and self.kinds.get(row, frozenset()) & kinds}
        row = sibling_named(mention.name, same_kind, text)
        if row is None:
            return []
        said = set(_words(text))
        alias = " ".join(word for word in _words(self.names[row]) if word in said)
        return [ProductMention(row, self.names[row], alias)]

    def mentions(self, text: str) -> list[ProductMention]:
        """The products named in ``text``, in order of appearance, longest alias first."""
        words = _words(text)
        found: list[ProductMention] = []
        seen: set[str] = set()
        position = 0
        while position < len(words):
            for length in range(min(self._longest, len(words) - position), 0, -1):
                alias = tuple(words[position : position + length])
                owner = self._aliases.get(alias)
                if owner is None and (singular := _singular_noun(alias[-1])):
                    # "the lumora smart bulbs", "x200s", "the mice"
                    alias = (*alias[:-1], singular)
                    owner = self._aliases.get(alias)
                if alias in self._kind_aliases and not _after_determiner(words, position):
                    owner = None
                if owner is not None:
                    if owner[0] not in seen:
                        seen.add(owner[0])
                        found.append(ProductMention(owner[0], owner[1], " ".join(alias)))
                    position += length
                    break
            else:
                position += 1
        named = [mention for mention in found if tuple(mention.alias.split()) not in
                 self._kind_aliases]
        # "how long is the cable on the mh7": a kind word next to a product named outright is
        # a part of that product, not the shop's one product of that kind; "the b2 or the
        # soundbar" weighs two products.
        return found if _WEIGHS.search(text) else named or found


def sibling_named(name: str, others: Mapping[K, str], text: str) -> K | None:
    """The key of the one name in `others` (products of the same kind as `name`) that has a
    word the text says after "the" and `name` lacks, sharing most words with `name`: "the mini"
    next to the Wave 2 is the Wave Mini; None when no one name is that."""
    words = _words(text)
    said = {word for position, word in enumerate(words) if word not in _SIBLING_FILLERS
            and "the" in words[max(0, position - 3):position]}
    own = set(_words(name))
    shared = [(len(set(_words(other)) & own), key) for key, other in others.items()
              if (set(_words(other)) - own) & said]
    shared.sort(key=lambda entry: -entry[0])
    if not shared or (len(shared) > 1 and shared[0][0] == shared[1][0]):
        return None
    return shared[0][1]


def _price(row: Passage) -> float | None:
    """The row's `price` field as a number ("$1,299.00" -> 1299.0), None without one."""
    fields = {str(k).strip().lower(): str(v) for k, v in (row.metadata.get("fields") or {}).items()}
    match = re.search(r"\d[\d,]*(?:\.\d+)?", fields.get("price", ""))
    return float(match.group().replace(",", "")) if match else None


def _singular_noun(word: str) -> str | None:
    """ "bulbs" -> "bulb", "mice" -> "mouse", "2s" -> "2"; None when the word is no plural."""
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith("s") and (len(word) > 3 or word[:-1].isdigit()):
        return word[:-1]  # "bulbs", "wave 2s"
    return None


def _after_determiner(words: list[str], position: int) -> bool:
    """Whether the word at `position` follows "the", "my", ... but not "in that" ("in that
    case" names no case)."""
    return position > 0 and words[position - 1] in _DETERMINERS and not (
        position > 1 and words[position - 2] == "in"
    )


def _kind_forms(row: Passage) -> frozenset[str]:
    """A row's kind words, singular and plural: its name's ("speaker") and its category's when
    that is a kind of product ("speakers", not "kitchen" or "smart home")."""
    category = _words(str((row.metadata.get("fields") or {}).get("category", "")))
    forms = set()
    for word in (_kind_word(row.title), *category):
        word = _singular_kind(word or "")
        if word in _KIND_WORDS:
            # with the kind it is a compound of: a smartwatch is "my watch" too
            for kind in {word} | {kind for kind in _KIND_WORDS if word.endswith(kind)}:
                forms |= {kind, _plural(kind)}
    return frozenset(forms)


def _singular_kind(word: str) -> str:
    """ "speakers" -> "speaker", "smartwatches" -> "smartwatch"; other words unchanged."""
    for suffix in ("es", "s"):
        if word.endswith(suffix) and word[: -len(suffix)] in _KIND_WORDS:
            return word[: -len(suffix)]
    return word


def _plural(kind: str) -> str:
    if kind.endswith("s"):
        return kind  # "headphones", "buds"
    return f"{kind}es" if kind.endswith(("ch", "sh")) else f"{kind}s"


def _kind_word(name: str) -> str | None:
    """The last kind word of a product name ("headphones" of "Auralis X200 Headphones")."""
    return next((word for word in reversed(_words(name)) if word in _KIND_WORDS), None)


def _distinctive_aliases(
    rows: list[Passage], passages: list[Passage], common_words: set[str]
) -> dict[tuple[str, ...], tuple[str, str]]:
    """One word, or the brand and one word, that names exactly one product.

    "roboclean" and "soundbar" name their product; "quillon hub" and "corvane junior" too
    (the brand's only hub, its only "junior"), and so does "laptop stand" (the word before the
    product's kind word, and that kind word). A word also used elsewhere in the knowledge
    ("iphone" in compatibility lists, "espresso" in the grinder's description), an ordinary
    word (`common_words`), or a kind word that is not the product's own kind ("Monitor
    Headphones" are headphones: "my external monitor" is not them) is no name on its own; the
    product's own kind word is ("the kettle") when it is the only product of that kind.
    """
    owners: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    heads: dict[str, str | None] = {}
    for row in rows:
        words = _words(row.title)
        heads[row.id] = _kind_word(row.title)
        brand = _words(str((row.metadata.get("fields") or {}).get("brand", "")))
        own = words[len(brand):] if brand and words[: len(brand)] == brand else []
        for word in set(words):
            owners.setdefault((word,), set()).add((row.id, row.title))
        for word in set(own):
            owners.setdefault((*brand, word), set()).add((row.id, row.title))
        head = heads[row.id]
        if head is not None and words.index(head) > 0:
            # "laptop stand", "robot vacuum", "air fryer": what the product is.
            before = words[words.index(head) - 1]
            owners.setdefault((before, head), set()).add((row.id, row.title))
    used_elsewhere: dict[str, set[str]] = {}
    for passage in passages:
        for word in set(_words(f"{passage.title} {passage.text}")):
            used_elsewhere.setdefault(word, set()).add(passage.id)
    aliases: dict[tuple[str, ...], tuple[str, str]] = {}
    for alias, named in owners.items():
        if len(named) != 1:
            continue
        (owner,) = named
        word = alias[-1]
        if len(word) < 3 or (len(alias) == 1 and word in _TOO_GENERIC):
            continue
        if len(alias) == 1:
            is_head = heads[owner[0]] == word
            if word in _KIND_WORDS and not is_head:
                continue
            if not is_head and (
                len(word) < 4 or word in common_words or used_elsewhere[word] - {owner[0]}
            ):
                continue
        aliases[alias] = owner
    return aliases


def _in_category(word: str, category: set[str]) -> bool:
    return any(word == part or f"{word}s" == part or f"{word}es" == part for part in category)


def _aliases_of(name: str, fields: dict[str, str]) -> set[tuple[str, ...]]:
    words = _words(name)
    brand = _words(fields.get("brand", ""))
    category = set(_words(fields.get("category", "")))
    aliases = {tuple(words)}
    core = list(words)
    if brand and core[: len(brand)] == brand:
        core = core[len(brand):]
    aliases.add(tuple(core))
    # "Auralis X200 Headphones" -> "x200"; "Nimbra Pulse 3 Lite Smartwatch" -> "pulse 3 lite".
    while len(core) > 1 and (core[-1] in _KIND_WORDS or _in_category(core[-1], category)):
        core = core[:-1]
        aliases.add(tuple(core))
        aliases.add(tuple(brand + core))
    # "Tidewell Boom XL Party Speaker" -> "boom xl".
    for length in range(2, len(core)):
        aliases.add(tuple(core[:length]))
    for key in NAME_FIELDS:
        value = fields.get(key)
        if value and key != "name":
            code = _words(value)
            aliases.add(tuple(code))
            aliases.add((("".join(code)),))
            if len(code) > 1:
                aliases.add(tuple(code[1:]))
    for word in words:
        if re.fullmatch(r"[a-z]+\d+[a-z0-9]*|\d+[a-z]+\d*[a-z]*", word) and word not in brand:
            aliases.add((word,))
    return {
        alias for alias in aliases
        if alias and not all(part in _TOO_GENERIC or part.isdigit() for part in alias)
    }
