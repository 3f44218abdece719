"""Product actions: information, comparison, recommendations and stock, from the shop database."""

from __future__ import annotations

import re
from collections.abc import Callable

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from shop.catalog import normalize_category
from shop.repository import ProductView, ShopRepository

from actions.common import (
    ShopAction,
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

UTTER_ASK_PRODUCT = "utter_ask_product"
UTTER_PRODUCT_NOT_FOUND = "utter_product_not_found"
UTTER_ASK_COMPARE_PRODUCTS = "utter_ask_compare_products"
MAX_RECOMMENDATIONS = 3

# Feature words customers use -> (words to look for in the message, patterns in product data).
FEATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "noise cancelling": (("noise cancel", "noise-cancel", "anc"), ("active noise cancelling",)),
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
}
_AMOUNT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(k\b)?", re.IGNORECASE)


def _contains(text: str, pattern: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(pattern)}(?![a-z0-9])", text) is not None


def requested_features(text: str) -> list[str]:
    """Features a message asks for ("waterproof speaker for my iPhone" -> waterproof, iPhone)."""
    lowered = text.lower()
    return [
        feature
        for feature, (asked, _) in FEATURES.items()
        if any(_contains(lowered, word) for word in asked)
    ]


def has_feature(product: ProductView, feature: str) -> bool:
    """Whether the product data states the feature."""
    data = " ".join(
        [product.description, product.features, product.compatibility, product.name]
        + [f"{key}: {value}" for key, value in product.specs.items()]
    ).lower()
    return any(_contains(data, pattern) for pattern in FEATURES[feature][1])


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
    """Product names mentioned now (entities), else the product/product_b slots."""
    mentioned = entity_values(tracker, "product")
    for slot in ("product", "product_b"):
        value = text_slot(tracker, slot)
        if value and value not in mentioned:
            mentioned.append(value)
    return mentioned


def _find_product(
    dispatcher: CollectingDispatcher, repository: ShopRepository, query: str
) -> ProductView | None:
    """The product `query` names; None after asking which one is meant or saying it is unknown."""
    match = repository.find_product(query)
    if match.product is not None:
        return match.product
    category = normalize_category(query)
    if category:  # "headphones", "a speaker": a kind of product, not one product
        products = [product.name for product in repository.products_in(category)][:5]
        dispatcher.utter_message(
            text=f"Which of our {category} do you mean? We have {join_words(products)}."
        )
    elif match.candidates:
        names = join_words([product.name for product in match.candidates], "or")
        dispatcher.utter_message(text=f"Which one do you mean: {names}?")
    else:
        dispatcher.utter_message(response=UTTER_PRODUCT_NOT_FOUND, product=echo(query, 60))
    return None


def _similar_in_stock(repository: ShopRepository, product: ProductView) -> list[ProductView]:
    others = [
        other
        for other in repository.products_in(product.category)
        if other.sku != product.sku and other.in_stock
    ]
    others.sort(key=lambda other: abs(other.price_cents - product.price_cents))
    return others[:2]


def _answer_about_product(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    answer: Callable[[ShopRepository, ProductView], str],
) -> list[EventType]:
    """Answers about the first product the customer names (asks for one if there is none)."""
    requested = _requested_products(tracker)
    if not requested:
        dispatcher.utter_message(response=UTTER_ASK_PRODUCT)
        return []
    with open_repository() as repository:
        product = _find_product(dispatcher, repository, requested[0])
        if product is None:
            return [SlotSet("product", None)]
        dispatcher.utter_message(text=answer(repository, product))
    return [SlotSet("product", product.name)]


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
    """Describes a product: price, key specs, compatibility, warranty and stock."""

    def name(self) -> str:
        return "action_product_info"

    def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return _answer_about_product(
            dispatcher, tracker, lambda _repository, product: product_summary(product)
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
        if len(requested) < 2:
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
        dispatcher.utter_message(text=compare_text(first, second))
        return [SlotSet("product", first.name), SlotSet("product_b", second.name)]


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
    """Recommends in-stock products by category, budget and requested features."""

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
        features = requested_features(latest_text(tracker))
        category = normalize_category(raw_category) if raw_category else None

        with open_repository() as repository:
            categories = repository.categories()
            if raw_category and category is None:
                dispatcher.utter_message(
                    text=f'Sorry, we don\'t sell "{raw_category}". Our categories are '
                    f"{join_words(categories)}."
                )
                return [SlotSet("category", None)]
            if category is None and budget_cents is None and not features:
                dispatcher.utter_message(
                    text=f"What are you looking for? We have {join_words(categories)}."
                )
                return []
            candidates = repository.products_in(category, budget_cents)
            if category is None and budget_cents is None:
                candidates = repository.products_in()

        matching = [
            product
            for product in candidates
            if product.in_stock and all(has_feature(product, feature) for feature in features)
        ]
        # Within a budget, the best we can offer first; otherwise start with the affordable ones.
        matching.sort(
            key=lambda product: -product.price_cents if budget_cents else product.price_cents
        )
        wanted = _describe_wish(category, budget_cents, features)
        events: list[EventType] = [SlotSet("category", category)]
        if budget_cents is not None:
            events.append(SlotSet("budget", budget_cents / 100))
        if not matching:
            dispatcher.utter_message(
                text=f"I couldn't find {wanted} in stock right now. Try a higher budget or "
                "fewer requirements."
            )
            return events
        lines = [f"Here is what I'd suggest for {wanted}:"]
        for product in matching[:MAX_RECOMMENDATIONS]:
            lines.append(f"- {product.name}, {money(product.price_cents)}: {product.description}")
        dispatcher.utter_message(text="\n".join(lines))
        return events


def _describe_wish(category: str | None, budget_cents: int | None, features: list[str]) -> str:
    text = category or "products"
    if features:
        text += f" ({', '.join(features)})"
    if budget_cents is not None:
        text += f" up to {money(budget_cents)}"
    return text
