"""What VoltNest does not sell, and the closest products it does sell.

Customers ask for things the catalog lacks ("do you have the PS5?", "a fridge", "Bose
headphones", "an iPhone 15"). `unsold_mention` recognises them in a message (but not when they are
only what a product should work with: "headphones for my PS5", "a case for my iPhone"), and
`closest_alternatives` picks catalog products that are related: same or related category, or a
product whose compatibility or description names the thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shop.catalog import CATEGORY_SYNONYMS, mentions, normalize_category


@dataclass(frozen=True)
class UnsoldKind:
    """A kind of product the shop does not sell: its name, the closest category, the words."""

    kind: str
    category: str | None
    terms: tuple[str, ...]


# Things customers ask for that are not in the catalog, with the closest category we do sell.
UNSOLD_KINDS = (
    UnsoldKind(
        "laptops",
        "laptop accessories",
        ("laptop", "laptops", "notebook", "notebooks", "macbook", "macbooks", "chromebook"),
    ),
    UnsoldKind(
        "computers",
        "laptop accessories",
        ("computer", "computers", "desktop pc", "gaming pc", "pc", "imac", "mac mini"),
    ),
    UnsoldKind("monitors", "laptop accessories", ("monitor", "monitors", "computer screen")),
    UnsoldKind("printers", "laptop accessories", ("printer", "printers", "scanner")),
    UnsoldKind(
        "tablets",
        "laptop accessories",
        ("tablet", "tablets", "ipad", "ipads", "kindle", "e-reader", "ereader"),
    ),
    UnsoldKind(
        "phones",
        "phone accessories",
        (
            "phone",
            "phones",
            "smartphone",
            "smartphones",
            "iphone",
            "iphones",
            "cell phone",
            "mobile phone",
            "android phone",
            "galaxy s24",
            "pixel 8",
        ),
    ),
    UnsoldKind("TVs", "speakers", ("tv", "tvs", "television", "televisions", "smart tv")),
    UnsoldKind("projectors", "speakers", ("projector", "projectors")),
    UnsoldKind(
        "game consoles",
        "headphones",
        (
            "playstation",
            "ps5",
            "ps4",
            "xbox",
            "nintendo switch",
            "nintendo",
            "game console",
            "gaming console",
            "console",
            "consoles",
            "steam deck",
        ),
    ),
    UnsoldKind("fridges", "kitchen", ("fridge", "fridges", "refrigerator", "freezer")),
    UnsoldKind("microwaves", "kitchen", ("microwave", "microwaves")),
    UnsoldKind("ovens", "kitchen", ("oven", "ovens", "stove", "cooktop")),
    UnsoldKind("toasters", "kitchen", ("toaster", "toasters")),
    UnsoldKind("dishwashers", "kitchen", ("dishwasher", "dishwashers")),
    UnsoldKind("washing machines", None, ("washing machine", "washer", "tumble dryer", "dryer")),
    UnsoldKind("drones", None, ("drone", "drones", "quadcopter")),
    UnsoldKind(
        "cameras",
        "smart home",
        ("dslr", "mirrorless camera", "digital camera", "action camera", "gopro", "camcorder"),
    ),
    UnsoldKind("VR headsets", None, ("vr headset", "vr", "oculus", "meta quest")),
    UnsoldKind(
        "e-scooters and e-bikes", None, ("e-scooter", "scooter", "e-bike", "ebike", "hoverboard")
    ),
    UnsoldKind("routers", None, ("router", "routers", "wifi router", "modem")),
)
# Terms above that name one product (line) rather than a kind: "the PS5", not "PS5s".
PRODUCT_NAMES = frozenset(
    "macbook macbooks chromebook imac ipad ipads kindle iphone iphones playstation ps5 ps4 xbox "
    "gopro oculus".split()
) | {"mac mini", "galaxy s24", "pixel 8", "nintendo switch", "steam deck", "meta quest"}
# Other makers' brands and product lines: display name, the category, and whether our products in
# that category are substitutes (True for a brand of headphones, False for a brand of TVs).
OTHER_MAKES: dict[str, tuple[str, str | None]] = {
    "apple watch": ("Apple Watch", "smartwatches"),
    "galaxy watch": ("Galaxy Watch", "smartwatches"),
    "airpods": ("AirPods", "headphones"),
    "beats": ("Beats products", "headphones"),
    "bose": ("Bose products", "headphones"),
    "sony": ("Sony products", None),
    "samsung": ("Samsung products", None),
    "apple": ("Apple products", None),
    "jbl": ("JBL products", "speakers"),
    "sonos": ("Sonos products", "speakers"),
    "homepod": ("HomePod", "speakers"),
    "echo dot": ("Amazon Echo", "speakers"),
    "garmin": ("Garmin products", "smartwatches"),
    "fitbit": ("Fitbit products", "smartwatches"),
    "nespresso": ("Nespresso products", "kitchen"),
    "keurig": ("Keurig products", "kitchen"),
    "kitchenaid": ("KitchenAid products", "kitchen"),
    "dyson": ("Dyson products", "smart home"),
    "roomba": ("Roomba", "smart home"),
    "philips hue": ("Philips Hue", "smart home"),
    "ring doorbell": ("Ring doorbells", "smart home"),
    "logitech": ("Logitech products", "laptop accessories"),
    "anker": ("Anker products", "phone accessories"),
    "belkin": ("Belkin products", "phone accessories"),
}
# Short forms customers use and what product data calls the same thing.
_ABBREVIATIONS = {
    "ps5": ("playstation 5", "playstation"),
    "ps4": ("playstation",),
    "switch": ("nintendo switch",),
    "tvs": ("tv",),
    "television": ("tv",),
    "iphones": ("iphone",),
    "macbooks": ("macbook",),
}
# "for my PS5", "works with my iPhone", "compatible with the Xbox": what a product should fit.
_COMPATIBILITY_BEFORE = re.compile(
    r"(?i)(?:\bfor|\bwith my|\bwith the|\bwith an?|\bto my|\bto the|\bon my|\bon the|"
    r"\bworks? with|\bwork(?:ing)? with|\bcompatible with|\bconnects? to|\bpairs? with|"
    r"\bfits?|\bfor use with)(?:\s+(?:my|the|a|an|your|our))?\s*$"
)
_STOP_AFTER_MENTION = frozenset(
    "a an and any are available be can compare could do does for have i in instead is it me or "
    "please price right sell should stock than the there to vs versus what which with would you "
    "your".split()
)
_WORD = re.compile(r"[\w'-]+")
_MODEL_WORDS = frozenset("pro max mini plus ultra lite air se series xl tv tvs".split())


class MatchableProduct(Protocol):
    """What the alternatives need to know about a product."""

    sku: str
    name: str
    category: str
    brand: str
    price_cents: int
    stock: int
    description: str
    features: str
    compatibility: str


@dataclass(frozen=True)
class UnsoldMention:
    """A thing the customer asked for that the shop does not sell.

    mention: as the customer wrote it ("PS5", "Bose headphones"); kind: what it is ("game
    consoles", "Bose products"); category: the closest category the shop sells, if any; terms:
    words to look for in product data for related products; substitutes: whether products of
    that category replace it (headphones for Bose headphones) rather than go with it (a soundbar
    for a TV).
    """

    mention: str
    kind: str
    category: str | None
    terms: tuple[str, ...]
    substitutes: bool = False

    @property
    def is_generic(self) -> bool:
        """Whether the customer named the kind itself ("a fridge") rather than one product."""
        mention = self.mention.lower()
        return mention in self.terms and mention not in PRODUCT_NAMES

    def sentence(self) -> str:
        """ "we don't sell fridges", "we don't sell the PS5: VoltNest doesn't carry game
        consoles", "we don't sell Bose headphones: VoltNest doesn't carry Bose products"."""
        if self.is_generic:
            return f"we don't sell {self.kind}"
        if self.mention == self.kind:
            return f"we don't sell {self.kind}"
        article = "" if self.substitutes or self.mention.lower().endswith("s") else "the "
        return f"we don't sell {article}{self.mention}: VoltNest doesn't carry {self.kind}"


def _phrase_pattern(term: str) -> re.Pattern[str]:
    escaped = re.escape(term).replace(r"\ ", r"[\s-]+")
    return re.compile(r"(?<![\w-])" + escaped + r"(?![\w-])", re.IGNORECASE)


def _find(term: str, text: str) -> re.Match[str] | None:
    return _phrase_pattern(term).search(text)


def _category_phrases() -> list[str]:
    """Category phrases that contain a word of something not sold ("phone accessories",
    "laptop accessories", "computer accessories"), longest first."""
    unsold = {term for kind in UNSOLD_KINDS for term in kind.terms}
    phrases = {category for category in CATEGORY_SYNONYMS} | {
        synonym for synonyms in CATEGORY_SYNONYMS.values() for synonym in synonyms if " " in synonym
    }
    return sorted(
        (phrase for phrase in phrases if unsold & set(phrase.split())), key=len, reverse=True
    )


def _stem(word: str) -> str:
    word = word.lower().strip("'-")
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("ch", "sh", "x")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def sold_kind_words(products: Iterable[MatchableProduct]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Words and phrases that name something the shop sells: kinds, brands, model names.

    Product kinds are the nouns that end product names ("Headphones", "Kettle", "Case" in "Armor
    Case for iPhone 15") and the category synonyms ("earbuds", "power bank"), minus the things the
    shop does not sell ("laptop", "phone").
    """
    unsold = {term for kind in UNSOLD_KINDS for term in kind.terms}
    words: set[str] = set()
    for product in products:
        identity = re.split(r"\s+for\s+", product.name, maxsplit=1)[0]
        name_words = [w for w in identity.split() if not re.fullmatch(r"[\d.,]+", w)]
        kind_words = [
            w for w in name_words if w.isalpha() and len(w) > 2 and w.lower() not in _MODEL_WORDS
        ]
        if kind_words:
            words.add(_stem(kind_words[-1]))
        words.add(_stem(product.brand))
        words.update(
            _stem(word)
            for word in name_words
            if re.fullmatch(r"[a-z]*\d+[a-z]+\d*|[a-z]+\d+[a-z]*", word, re.IGNORECASE)
        )
    phrases = []
    for synonyms in CATEGORY_SYNONYMS.values():
        for synonym in synonyms:
            if synonym in unsold or " " in synonym and synonym.split()[0] in unsold:
                continue  # "laptop", "phone accessories"
            if " " in synonym:
                phrases.append(synonym)
            else:
                words.add(_stem(synonym))
    return frozenset(words - {_stem(term) for term in unsold}), tuple(phrases)


def _names_something_sold(text: str, products: Sequence[MatchableProduct]) -> bool:
    words, phrases = sold_kind_words(products)
    return any(_stem(word) in words for word in _WORD.findall(text)) or any(
        _find(phrase, text) for phrase in phrases
    )


def unsold_mention(
    text: str | None, products: Sequence[MatchableProduct], include_compatibility: bool = False
) -> UnsoldMention | None:
    """The thing the shop does not sell that `text` asks for, or None.

    Not a mention when the message also names something the shop sells ("a case for my iPhone",
    "laptop stand", "PS5 headset"), or, unless `include_compatibility`, when the thing is only
    what a product should work with ("is it compatible with the Xbox?"). Other makers' products
    ("Bose headphones", "AirPods") are mentions even though we sell headphones.
    """
    if not text or not text.strip():
        return None
    original = text
    for phrase in _category_phrases():  # "phone accessories", "laptop accessories" are ours
        text = re.sub(_phrase_pattern(phrase), lambda match: " " * len(match.group()), text)
    makes = []
    for term, (display, category) in OTHER_MAKES.items():
        match = _find(term, text)
        if match:
            makes.append((match.start(), -len(term), match.end(), display, category, term))
    kinds = []
    for unsold in UNSOLD_KINDS:
        for term in sorted(unsold.terms, key=len, reverse=True):
            match = _find(term, text)
            if match:
                kinds.append((match.start(), match.end(), unsold))
                break
    if not makes and not kinds:
        return None
    rest = text
    for start, end in sorted(
        [(item[0], item[2]) for item in makes] + [(item[0], item[1]) for item in kinds],
        reverse=True,
    ):
        rest = rest[:start] + " " + rest[end:]
    if makes:
        start, _, end, kind, category, term = sorted(makes)[0]
        terms: tuple[str, ...] = (term,)
        substitutes = category is not None
        named = normalize_category(rest)
        if kinds and category is None:  # "a Samsung TV": the TV decides
            _, _, unsold = min(kinds, key=lambda item: item[0])
            category, terms, substitutes = unsold.category, unsold.terms, False
            end = max(end, min(kinds, key=lambda item: item[0])[1])
        elif named:
            category = named
    else:
        if _names_something_sold(rest, products):
            return None
        start, end, unsold = min(kinds, key=lambda item: item[0])
        kind, category, terms, substitutes = unsold.kind, unsold.category, unsold.terms, False
    if not include_compatibility and _COMPATIBILITY_BEFORE.search(text[:start]):
        return None
    mention = _with_following_words(original, start, end)
    if makes and mention.lower() == terms[0] and not kind.endswith(" products"):
        mention = kind  # "airpods" -> "AirPods"
    return UnsoldMention(mention, kind, category, terms, substitutes)


def _with_following_words(text: str, start: int, end: int, limit: int = 2) -> str:
    """The mention and up to `limit` words after it that still name it: model numbers and
    designators ("iPhone 15 Pro", "Bose QC45", "AirPods Max"), a kind ("Bose headphones")."""
    mention_end = end
    for match in _WORD.finditer(text, end):
        word = match.group()
        names_it = (
            any(character.isdigit() for character in word)
            or word.lower() in _MODEL_WORDS
            or normalize_category(word) is not None
            or (word[:1].isupper() and word.lower() not in _STOP_AFTER_MENTION)
        )
        if text[mention_end : match.start()].strip() or not names_it or limit == 0:
            break
        mention_end = match.end()
        limit -= 1
    return text[start:mention_end].strip()


def closest_alternatives(
    unsold: UnsoldMention, products: Iterable[MatchableProduct], limit: int = 3
) -> list[MatchableProduct]:
    """In-stock catalog products closest to what the customer asked for, best first.

    For another maker's headphones or watch: our products of that category, flagship first. For a
    kind we don't sell: products whose compatibility, features or description name the very
    thing first ("works with PlayStation 5" for a PS5), then those naming its kind, then products
    of the closest category, cheaper first. "Not compatible with Xbox" does not count.
    """
    mention = unsold.mention.lower()
    named = {mention, *_ABBREVIATIONS.get(mention, ())}
    scored = []
    for product in products:
        if product.stock <= 0:
            continue
        in_category = bool(unsold.category) and product.category == unsold.category
        if unsold.substitutes:
            if in_category:
                scored.append((0, -product.price_cents, product.name, product))
            continue
        data = " ".join([product.compatibility, product.features, product.description])
        score = 1 if in_category else 0
        if any(mentions(data, term) for term in named):
            score += 3
        if any(mentions(data, term) for term in unsold.terms):
            score += 2
        if score:
            scored.append((-score, product.price_cents, product.name, product))
    scored.sort(key=lambda item: item[:3])
    return [product for *_, product in scored[:limit]]
