"""Product actions: information, comparison, recommendations and stock, from the shop database."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop.assortment import UnsoldMention, closest_alternatives, unsold_mention
from shop.catalog import mentions, normalize_category
from shop.ids import normalize_order_id
from shop.repository import ProductView, ShopRepository

from actions.common import (
    UTTER_KNOWLEDGE_ANSWER,
    ShopAction,
    conversation_order,
    echo,
    entity_values,
    latest_text,
    open_repository,
    text_slot,
)
from actions.formatting import (
    join_words,
    label,
    money,
    ordered_specs,
    product_summary,
    stock_sentence,
)
from rasa_llm_components.answering.comparison import asked_aspects, field_is_about
from rasa_llm_components.answering.evidence import unknown_model_names
from rasa_llm_components.answering.suggestions import amount_of, most_wanted
from rasa_llm_components.retrieval.products import sibling_named

UTTER_ASK_PRODUCT = "utter_ask_product"
UTTER_PRODUCT_NOT_FOUND = "utter_product_not_found"
UTTER_ASK_COMPARE_PRODUCTS = "utter_ask_compare_products"
# The knowledge answer (LLMResponsePolicy's NLG): one aspect of a product is answered there.
MAX_RECOMMENDATIONS = 3

# Feature words customers use -> (words to look for in the message, patterns in product data).
FEATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "noise cancelling": (
        (
            "noise cancelling",
            "noise canceling",
            "noise cancellation",
            "noise-cancelling",
            "noise-canceling",
            "noise cancel",
            "noise-cancel",
            "anc",
        ),
        ("active noise cancelling",),
    ),
    "waterproof": (
        ("waterproof", "water resistant", "water-resistant", "swim", "shower", "rain"),
        ("ip67", "ip65", "ip55", "atm", "waterproof"),
    ),
    "works with iPhone": (("iphone", "ios"), ("iphone",)),
    "works with Android": (("android",), ("android",)),
    "built-in GPS": (("gps",), ("gps: built-in", "gps: multi-band", "built-in gps")),
    "works with Alexa": (("alexa",), ("alexa",)),
    "works with Google Assistant": (("google assistant", "google home"), ("google assistant",)),
    "works with Apple Home": (("homekit", "apple home"), ("apple home",)),
    "wireless": (
        ("wireless", "bluetooth", "cordless"),
        ("bluetooth 5", "connectivity: bluetooth", "true wireless", "2.4 ghz", "wi-fi"),
    ),
    "wireless charging": (("wireless charging", "qi", "magsafe"), ("qi", "wireless charging")),
    "gaming": (("gaming", "gamer", "playstation", "ps5", "game"), ("gaming", "playstation")),
    "for kids": (("kid", "kids", "child", "children"), ("kids", "children")),
    "over-ear": (("over-ear", "over ear", "over the ear", "overear"), ("type: over-ear",)),
    "on-ear": (("on-ear", "on ear"), ("type: on-ear",)),
    "in-ear": (("in-ear", "in ear", "earbuds", "earbud"), ("type: in-ear",)),
}
_AMOUNT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(k\b)?", re.IGNORECASE)
# "without built-in GPS", "not over-ear", "no noise cancelling", "I don't need GPS".
_NEGATORS = frozenset(
    "no not without w/o non never except minus avoid nothing neither nor dont don't doesnt "
    "doesn't isnt isn't arent aren't".split()
)
# Words that may stand between a negation and the feature: "without any built-in GPS".
_BETWEEN_NEGATION_AND_FEATURE = frozenset(
    "a an the any built-in builtin built in active real true proper actual need needs want "
    "wants have has like require requires needing wanting with to for do does really".split()
)
_INDIFFERENCE = frozenset({"care", "mind", "matter", "bother", "preference"})
_NEGATION_AFTER = re.compile(
    r"^\s*(?:is|are)?\s*(?:not|n't|isn't|aren't)\s+(?:needed|necessary|required|important|"
    r"a must)|^\s*(?:is|are)?\s*unnecessary"
)
_CLAUSE_BREAK = re.compile(r"[,.;!?]|\bbut\b|\bor\b|\band\b")
# What a request for a product's card says besides the product: "tell me about the x200",
# "info on the pulse 3 pls", "how much is the wave 2". Any other word asks about one aspect
# ("how heavy is the wave 2", "battery life of the pulse 3"), which the knowledge answers.
_CARD_REQUEST_WORDS = frozenset(
    "tell me more about info infos information details detail describe description specs spec "
    "specifications overview show what whats what's is it its it's the a an of on for like "
    "please pls plz can could you u give know anything everything all hi hey hello ok okay so "
    "and i i'd id want wanna would to see check out this that one product thing how much price "
    "prices cost costs pricing does do".split()
)


def _feature_mentions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, feature) of every feature word in the text; "wireless" inside "wireless
    charging" belongs to the longer feature only."""
    found = []
    for feature, (asked, _) in FEATURES.items():
        for word in asked:
            pattern = rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])"
            found.extend((m.start(), m.end(), feature) for m in re.finditer(pattern, text))
    return [
        (start, end, feature)
        for start, end, feature in found
        if not any(
            other_start <= start
            and end <= other_end
            and other_end - other_start > end - start
            and other_feature != feature
            for other_start, other_end, other_feature in found
        )
    ]


def _stance(text: str, start: int, end: int) -> str:
    """ "wanted", "unwanted" or "neutral" ("don't care about GPS") for a feature mention."""
    clause = _CLAUSE_BREAK.split(text[:start])[-1]
    words = clause.split()
    for index in range(len(words) - 1, max(len(words) - 7, -1), -1):
        if words[index] in _NEGATORS:
            between = words[index + 1 :]
            if _INDIFFERENCE & set(between):
                return "neutral"
            if all(word in _BETWEEN_NEGATION_AND_FEATURE for word in between):
                return "unwanted"
            break
    if _NEGATION_AFTER.match(text[end:]):
        return "unwanted"
    return "wanted"


def feature_wishes(text: str) -> tuple[list[str], list[str]]:
    """The features a message asks for and the ones it rules out.

    "a smartwatch without built-in GPS" -> ([], ["built-in GPS"]); "noise cancelling headphones
    but not over-ear" -> (["noise cancelling"], ["over-ear"]).
    """
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    wanted: list[str] = []
    unwanted: list[str] = []
    for start, end, feature in sorted(_feature_mentions(lowered)):
        stance = _stance(lowered, start, end)
        target = {"wanted": wanted, "unwanted": unwanted}.get(stance)
        if target is not None and feature not in target:
            target.append(feature)
    return [feature for feature in wanted if feature not in unwanted], unwanted


def requested_features(text: str) -> list[str]:
    """Features a message asks for ("waterproof speaker for my iPhone" -> waterproof, iPhone).

    Features the message rules out ("without GPS") are not included; see `feature_wishes`.
    """
    return feature_wishes(text)[0]


def has_feature(product: ProductView, feature: str) -> bool:
    """Whether the product data states the feature ("no noise cancelling" does not count)."""
    data = " ".join(
        [product.description, product.features, product.compatibility, product.name]
        + [f"{key}: {value}" for key, value in product.specs.items()]
    )
    return any(mentions(data, pattern) for pattern in FEATURES[feature][1])


def parse_budget(value: object) -> int | None:
    """A budget in cents from a number or text ("under $100", "1,500 dollars", "2k")."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(round(value * 100)) if value > 0 else None
    match = _AMOUNT.search(str(value))
    if not match:
        return None
    amount = float(match.group(1).replace(",", ""))
    if match.group(2):
        amount *= 1000
    return int(round(amount * 100)) if amount > 0 else None


def _requested_products(tracker: Tracker) -> list[str]:
    """Product names mentioned now (entities), else the product/product_b slots, else the item
    being returned ("how heavy are they?" in a return)."""
    mentioned = entity_values(tracker, "product")
    for slot in ("product", "product_b", "return_item"):
        value = text_slot(tracker, slot)
        if value and value not in mentioned:
            mentioned.append(value)
    return mentioned


def _with_products_asked_before(tracker: Tracker, requested: list[str]) -> list[str]:
    """`requested` completed to two different products with those named before, if there are
    enough of them; else `requested` as it is."""
    names: list[str] = []
    skus: set[str] = set()
    with open_repository() as repository:
        for name in [*requested, *_products_asked_about_before(tracker, limit=3)]:
            product = repository.find_product(name).product
            if product is not None and product.sku not in skus:
                skus.add(product.sku)
                names.append(product.name)
    return names[:2] if len(names) >= 2 else requested


def _products_asked_about_before(tracker: Tracker, limit: int = 2) -> list[str]:
    """The last `limit` products the customer named in earlier messages, latest first: "which
    one lasts longer?" after asking about the Halcyra Classic and then the Corvane Fit 2."""
    named: list[str] = []
    for event in reversed(tracker.events[:-1]):
        if event.get("event") != "user":
            continue
        for entity in reversed((event.get("parse_data") or {}).get("entities") or []):
            value = str(entity.get("value") or "").strip()
            if entity.get("entity") == "product" and value and value not in named:
                named.append(value)
        if len(named) >= limit:
            break
    return named[:limit]


def unsold_text(
    unsold: UnsoldMention, products: list[ProductView], categories: list[str], limit: int = 3
) -> str:
    """ "We don't sell <thing>" with the closest products we do sell (never a stock line)."""
    text = f"Sorry, {unsold.sentence()}."
    alternatives = closest_alternatives(unsold, products, limit)
    if alternatives:
        names = join_words(
            [f"{product.name} ({money(product.price_cents)})" for product in alternatives]
        )
        lead = "Similar products we do sell" if unsold.substitutes else "Related products we sell"
        return f"{text} {lead}: {names}."
    return (
        f"{text} We sell {join_words(categories)}. Tell me what you need it for and I'll "
        "suggest something."
    )


def _utter_unsold(
    dispatcher: CollectingDispatcher, repository: ShopRepository, unsold: UnsoldMention
) -> None:
    dispatcher.utter_message(
        text=unsold_text(unsold, repository.all_products(), repository.categories())
    )


def _find_product(
    dispatcher: CollectingDispatcher, repository: ShopRepository, query: str
) -> ProductView | None:
    """The product `query` names; None after asking which one is meant or saying it is unknown.

    Something the shop does not sell ("PlayStation 5", "an iPhone") gets "we don't sell it" with
    the closest products, never a random product that shares a word with it.
    """
    unsold = unsold_mention(query, repository.all_products(), include_compatibility=True)
    if unsold is not None:
        _utter_unsold(dispatcher, repository, unsold)
        return None
    match = repository.find_product(query)
    if match.product is not None:
        return match.product
    category = normalize_category(query)
    if category:  # "headphones", "a speaker": a kind of product, not one product
        _utter_category(dispatcher, repository, category)
    elif match.candidates:
        names = join_words([product.name for product in match.candidates], "or")
        dispatcher.utter_message(text=f"Which one do you mean: {names}?")
    else:
        dispatcher.utter_message(response=UTTER_PRODUCT_NOT_FOUND, product=echo(query, 60))
    return None


def _ordered_product(
    repository: ShopRepository, tracker: Tracker, category: str
) -> ProductView | None:
    """The one product of this category in the order the conversation is about, if any."""
    order = conversation_order(
        repository, tracker, normalize_order_id(tracker.get_slot("order_id"))
    )
    if order is None:
        return None
    products = {item.product.sku: item.product for item in order.items
                if normalize_category(item.product.category) == category}
    return next(iter(products.values())) if len(products) == 1 else None


def _utter_category(
    dispatcher: CollectingDispatcher, repository: ShopRepository, category: str
) -> None:
    products = [product.name for product in repository.products_in(category)][:5]
    dispatcher.utter_message(
        text=f"Which of our {category} do you mean? We have {join_words(products)}."
    )


def _similar_in_stock(repository: ShopRepository, product: ProductView) -> list[ProductView]:
    others = [
        other
        for other in repository.products_in(product.category)
        if other.sku != product.sku and other.in_stock
    ]
    others.sort(key=lambda other: abs(other.price_cents - product.price_cents))
    return others[:2]


def _unknown_model(text: str, products: Sequence[ProductView]) -> str | None:
    """A product model the message names ("zorblax 9000", "XR-77") that no product's name,
    SKU, specs or compatibility mention."""
    catalog = [
        " ".join([product.name, product.sku, product.compatibility, *product.specs.values()])
        for product in products
    ]
    unknown = unknown_model_names(text, catalog, [product.name for product in products])
    return unknown[0] if unknown else None


def _answer_about_product(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    answer: Callable[[ShopRepository, ProductView], str],
    one_aspect: bool = False,
) -> list[EventType]:
    """Answers about the first product the customer names (asks for one if there is none).

    With `one_aspect`, a question about one aspect of the product ("is it heavy?") goes on to
    the knowledge answer instead.

    Without a product in the message, a thing the shop does not sell ("do you have the PS5?")
    or a category ("any smartwatches in stock?") is answered as such: the product of an earlier
    turn is only used for messages that name nothing else ("is it in stock?").
    """

    def reply(repository: ShopRepository, product: ProductView) -> list[EventType]:
        if one_aspect and asks_about_one_aspect(tracker, product):
            return [SlotSet("product", product.name), FollowupAction(UTTER_KNOWLEDGE_ANSWER)]
        dispatcher.utter_message(text=answer(repository, product))
        return [SlotSet("product", product.name)]

    with open_repository() as repository:
        if not entity_values(tracker, "product"):
            unsold = unsold_mention(latest_text(tracker), repository.all_products())
            if unsold is not None:
                _utter_unsold(dispatcher, repository, unsold)
                return [SlotSet("product", None)]
            category = next(
                filter(None, map(normalize_category, entity_values(tracker, "category"))), None
            )
            in_order = _ordered_product(repository, tracker, category) if category else None
            if in_order is not None:
                # "how long does the speaker last?" while cancelling an order with one speaker
                return reply(repository, in_order)
            if category is not None:
                _utter_category(dispatcher, repository, category)
                return [SlotSet("product", None)]
        named = entity_values(tracker, "product")
        unknown = None if named else _unknown_model(latest_text(tracker), repository.all_products())
        if unknown:  # "tell me about the zorblax 9000", also after talking about another product
            dispatcher.utter_message(response=UTTER_PRODUCT_NOT_FOUND, product=echo(unknown))
            return [SlotSet("product", None)]
        requested = _requested_products(tracker)
        if not requested:
            dispatcher.utter_message(response=UTTER_ASK_PRODUCT)
            return []
        product = _find_product(dispatcher, repository, requested[0])
        if product is None:
            return [SlotSet("product", None)]
        return reply(repository, product)


def asks_about_one_aspect(tracker: Tracker, product: ProductView) -> bool:
    """Whether the message asks about one aspect of `product` ("how long does the wave 2 last
    on a charge") rather than for the product's card ("tell me about the lumora robot
    vacuum")."""
    text = latest_text(tracker)
    entities = (tracker.latest_message or {}).get("entities") or []
    for found in sorted(entities, key=lambda item: -(item.get("start") or 0)):
        start, end = found.get("start"), found.get("end")
        named = found.get("entity") in ("product", "category")
        if named and isinstance(start, int) and isinstance(end, int):
            text = text[:start] + " " + text[end:]
    own = set(re.findall(r"[a-z]+", f"{product.name} {product.brand} {product.category}".lower()))
    own |= {word[:-1] for word in own if word.endswith("s")}  # "speakers": "speaker"
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())
    return any(word not in _CARD_REQUEST_WORDS and word not in own for word in words)


def _stock_text(repository: ShopRepository, product: ProductView) -> str:
    """Whether the product is in stock, with similar in-stock products when it is not."""
    if product.in_stock:
        return (
            f"{product.name} ({money(product.price_cents)}): {stock_sentence(product)} "
            "Orders paid before 2 pm ET on a business day ship the same day."
        )
    text = f"Sorry, {product.name} is currently out of stock."
    alternatives = _similar_in_stock(repository, product)
    if alternatives:
        options = join_words(
            [f"{other.name} ({money(other.price_cents)})" for other in alternatives], "or"
        )
        text += f" Similar products in stock: {options}."
    return text


class ActionProductInfo(ShopAction):
    """Describes a product: price, key specs, compatibility, warranty and stock; a question
    about one aspect of it goes on to the knowledge answer."""

    def name(self) -> str:
        return "action_product_info"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return _answer_about_product(
            dispatcher,
            tracker,
            lambda _repository, product: product_summary(product),
            one_aspect=True,
        )


class ActionCheckStock(ShopAction):
    """Says whether a product is in stock and suggests in-stock alternatives if not."""

    def name(self) -> str:
        return "action_check_stock"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return _answer_about_product(dispatcher, tracker, _stock_text)


class ActionCompareProducts(ShopAction):
    """Compares two products side by side on price, warranty, stock and shared specs."""

    def name(self) -> str:
        return "action_compare_products"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        requested = _requested_products(tracker)
        if len(requested) == 1:
            with open_repository() as repository:
                first = repository.find_product(requested[0]).product
                sibling = (
                    sibling_in_text(repository.all_products(), first, latest_text(tracker))
                    if first is not None else None
                )
            if sibling is not None:  # "the pulse 3 ... the lite is cheaper"
                requested = [first.name, sibling.name]
        if len(requested) < 2:
            requested = _with_products_asked_before(tracker, requested)
        if len(requested) < 2:
            with open_repository() as repository:
                unsold = unsold_mention(
                    latest_text(tracker), repository.all_products(), include_compatibility=True
                )
                if unsold is not None:  # "compare the X200 with the AirPods Pro"
                    _utter_unsold(dispatcher, repository, unsold)
                    return []
            dispatcher.utter_message(response=UTTER_ASK_COMPARE_PRODUCTS)
            return []
        with open_repository() as repository:
            found = []
            for query in requested[:2]:
                product = _find_product(dispatcher, repository, query)
                if product is None:
                    return []
                found.append(product)
        first, second = found
        if first.sku == second.sku:
            dispatcher.utter_message(
                text=f"Both names point to {first.name}. Which other product should I compare "
                "it with?"
            )
            return [SlotSet("product", first.name), SlotSet("product_b", None)]
        text = compare_aspects_text(first, second, asked_aspects(latest_text(tracker)))
        dispatcher.utter_message(text=text or compare_text(first, second))
        return [SlotSet("product", first.name), SlotSet("product_b", second.name)]


def _name_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def sibling_in_text(
    products: Sequence[ProductView], first: ProductView, text: str
) -> ProductView | None:
    """The one other product whose name is `first`'s name plus words of `text`: "the lite" next
    to the Pulse 3 is the Pulse 3 Lite."""
    own, said = _name_words(first.name), _name_words(text)
    siblings = [
        product for product in products
        if product.sku != first.sku
        and own < _name_words(product.name)
        and _name_words(product.name) - own <= said
    ]
    if len(siblings) == 1:
        return siblings[0]
    # "the wave 2 ... louder than the mini": a word after "the" names one of the same kind
    same_kind = {product.sku: product for product in products
                 if product.sku != first.sku and product.category == first.category}
    sku = sibling_named(first.name, {sku: p.name for sku, p in same_kind.items()}, text)
    return same_kind[sku] if sku is not None else None


def _features(product: ProductView) -> list[str]:
    return [item.strip() for item in product.features.split(";") if item.strip()]


def compare_aspects_text(first: ProductView, second: ProductView, aspects: Sequence[str]) -> str:
    """Only what a comparison asks about ("which one is cheaper", "and battery?"), one sentence
    per aspect; empty when neither product states any of them."""
    sentences = []
    for aspect in aspects:
        if aspect == "price":
            if first.price_cents == second.price_cents:
                sentences.append(f"Both cost {money(first.price_cents)}.")
                continue
            low, high = sorted((first, second), key=lambda product: product.price_cents)
            sentences.append(
                f"The cheaper one is the {low.name} at {money(low.price_cents)}, against "
                f"{money(high.price_cents)} for the {high.name}."
            )
        elif aspect == "warranty":
            sentences.append(
                f"Warranty: {first.warranty_months} months for the {first.name}, "
                f"{second.warranty_months} months for the {second.name}."
            )
        else:
            keys = [key for key in dict.fromkeys([*first.specs, *second.specs])
                    if field_is_about(key, [aspect])]
            for key in keys:
                values = [product.specs.get(key, "not listed") for product in (first, second)]
                sentences.append(
                    f"{label(key).capitalize()}: {values[0]} for the {first.name}, "
                    f"{values[1]} for the {second.name}."
                )
    return " ".join(sentences)


def compare_text(first: ProductView, second: ProductView) -> str:
    """Side-by-side comparison of two products."""
    lines = [
        f"{first.name} vs {second.name}:",
        f"- price: {money(first.price_cents)} vs {money(second.price_cents)}",
        f"- warranty: {first.warranty_months} vs {second.warranty_months} months",
        f"- stock: {'in stock' if first.in_stock else 'out of stock'} vs "
        f"{'in stock' if second.in_stock else 'out of stock'}",
    ]
    second_specs = dict(ordered_specs(second))
    shared = [(key, value) for key, value in ordered_specs(first) if key in second_specs]
    for key, value in shared[:8]:
        lines.append(f"- {label(key)}: {value} vs {second_specs[key]}")
    for one, other in ((first, second), (second, first)):
        # What one has that the other lacks: "what would I miss with the Lite?"
        only = [item for item in _features(one) if item not in _features(other)]
        if only:
            lines.append(f"- only the {one.name}: {'; '.join(only)}")
    if first.compatibility == second.compatibility:
        lines.append(f"- compatibility (both): {first.compatibility}")
    else:
        lines.append(f"- compatibility: {first.compatibility} vs {second.compatibility}")
    if first.category != second.category:
        lines.append(
            f"(Note: they are different kinds of products: {first.category} vs {second.category}.)"
        )
    return "\n".join(lines)


class ActionRecommendProducts(ShopAction):
    """Recommends in-stock products by category, budget and wanted or ruled-out features."""

    def name(self) -> str:
        return "action_recommend_products"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        raw_category = next(iter(entity_values(tracker, "category")), None) or text_slot(
            tracker, "category"
        )
        raw_budget = next(iter(entity_values(tracker, "budget")), None)
        if raw_budget is None:
            raw_budget = tracker.get_slot("budget")
        budget_cents = parse_budget(raw_budget)
        text = latest_text(tracker)
        features, unwanted = feature_wishes(text)

        with open_repository() as repository:
            categories = repository.categories()
            products = repository.all_products()
            unsold = unsold_mention(raw_category, products) if raw_category else None
            category = (
                None if unsold else (normalize_category(raw_category) if raw_category else None)
            )
            if raw_category and category is None and unsold is None:
                dispatcher.utter_message(
                    text=f'Sorry, we don\'t sell "{raw_category}". Our categories are '
                    f"{join_words(categories)}."
                )
                return [SlotSet("category", None)]
            unsold = unsold or unsold_mention(text, products)
            if unsold is not None and category is None:  # "recommend a laptop / a good TV"
                dispatcher.utter_message(text=unsold_text(unsold, products, categories))
                return [SlotSet("category", None)]
            if category is None and budget_cents is None and not features and not unwanted:
                dispatcher.utter_message(
                    text=f"What are you looking for? We have {join_words(categories)}."
                )
                return []
            candidates = repository.products_in(category, budget_cents)

        matching = [
            product
            for product in candidates
            if product.in_stock
            and all(has_feature(product, feature) for feature in features)
            and not any(has_feature(product, feature) for feature in unwanted)
        ]
        # Within a budget, the best we can offer first; otherwise start with the affordable ones.
        matching.sort(
            key=lambda product: -product.price_cents if budget_cents else product.price_cents
        )
        wanted = _describe_wish(category, budget_cents, features, unwanted)
        events: list[EventType] = [SlotSet("category", category)]
        if budget_cents is not None:
            events.append(SlotSet("budget", budget_cents / 100))
        note = f"Sorry, {unsold.sentence()}. " if unsold is not None else ""
        if not matching:
            dispatcher.utter_message(
                text=f"{note}I couldn't find {wanted} in stock right now. Try a higher budget or "
                "fewer requirements."
            )
            return events
        ranked = by_aspect_asked(matching, text)
        if ranked:  # "which of your speakers is the loudest"
            lines = [f"{note}By {label(ranked[0][1])}, {wanted}:"]
            for product, key, value in ranked[:MAX_RECOMMENDATIONS]:
                lines.append(f"- {product.name}, {money(product.price_cents)}: {label(key)} "
                             f"{value}")
            dispatcher.utter_message(text="\n".join(lines))
            return events
        lines = [f"{note}Here is what I'd suggest for {wanted}:"]
        for product in matching[:MAX_RECOMMENDATIONS]:
            lines.append(f"- {product.name}, {money(product.price_cents)}: {product.description}")
        dispatcher.utter_message(text="\n".join(lines))
        return events


def by_aspect_asked(
    products: Sequence[ProductView], text: str
) -> list[tuple[ProductView, str, str]]:
    """For "the loudest", "the longest battery": (product, spec key, value) of the products that
    state the aspect, the most (or least) first; [] when the message asks for no such aspect."""
    wanted = most_wanted(text)
    aspects = [aspect for aspect in asked_aspects(text) if aspect != "price"]
    found = []
    for product in products if wanted and aspects else []:
        for key, value in ordered_specs(product):
            amount = amount_of(key, value)
            if amount is not None and field_is_about(key, aspects):
                found.append((amount, product, key, value))
                break
    found.sort(key=lambda item: -wanted * item[0])
    return [(product, key, value) for _, product, key, value in found]


def _describe_wish(
    category: str | None,
    budget_cents: int | None,
    features: Sequence[str],
    unwanted: Sequence[str] = (),
) -> str:
    text = category or "products"
    details = list(features) + [f"without {feature}" for feature in unwanted]
    if details:
        text += f" ({', '.join(details)})"
    if budget_cents is not None:
        text += f" up to {money(budget_cents)}"
    return text
