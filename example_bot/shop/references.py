"""How customers refer to their orders and order items, as candidates for `choices.resolve`.

"the headphones", "the auralis pair", "my kettle", "the watch" (an item); "the one that's on its
way", "the pending one", "the speaker one", "my last order" (an order). The generic resolution lives
in rasa_llm_components.repair.choices; this module knows the shop: brands, categories, statuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from rasa_llm_components.repair.choices import Candidate, Resolution, resolve
from shop.catalog import CATEGORY_SYNONYMS

# What customers call an order in each status.
STATUS_WORDS = {
    "pending": ("pending", "waiting for payment", "payment pending", "unpaid", "processing"),
    "paid": ("paid", "being prepared", "preparing", "processing", "confirmed"),
    "shipped": (
        "shipped",
        "on its way",
        "on the way",
        "in transit",
        "coming",
        "dispatched",
        "out for delivery",
        "arriving",
        "tracking",
    ),
    "delivered": ("delivered", "arrived", "received", "came"),
    "cancelled": ("cancelled", "canceled"),
    "returned": ("returned", "refunded", "sent back"),
}
# What the customer calls the newest order.
LATEST_ORDER_WORDS = ("last", "latest", "newest", "most recent", "recent")
# Generic nouns for every product of a category ("the watch" may be any smartwatch).
CATEGORY_NOUNS = {
    "headphones": ("headphones",),
    "speakers": ("speaker",),
    "smartwatches": ("smartwatch", "watch"),
    "kitchen": ("kitchen appliance",),
    "laptop accessories": ("laptop accessory",),
    "phone accessories": ("phone accessory",),
    "smart home": ("smart home device",),
}
# Words of the request itself, never a reference to an order ("cancel the speaker one").
ORDER_REQUEST_WORDS = (
    "order",
    "orders",
    "purchase",
    "number",
    "return",
    "returning",
    "cancel",
    "cancelling",
    "canceling",
    "change",
    "address",
    "delivery",
    "shipping",
    "status",
    "track",
    "refund",
    "where",
    "item",
    "product",
    "bought",
    "ordered",
    # "send it back", "my money back" (not the MH7's "closed-back")
    "back",
)
ITEM_REQUEST_WORDS = ("return", "returning", "send", "back", "refund", "bought", "ordered", "item")


class ProductLike(Protocol):
    sku: str
    name: str
    brand: str
    category: str
    description: str
    features: str
    specs: dict[str, str]


class ItemLike(Protocol):
    product: ProductLike
    quantity: int


class OrderLike(Protocol):
    id: str
    status: str
    items: Sequence[ItemLike]


def _synonyms_in_text(product: ProductLike) -> list[str]:
    """Category synonyms the product's own texts use ("earbuds" for earbuds, not for headsets)."""
    text = " ".join(
        [product.name, product.description, product.features, product.specs.get("type", "")]
    ).lower()
    return [
        synonym
        for synonym in CATEGORY_SYNONYMS.get(product.category, ())
        if re.search(rf"(?<![a-z0-9]){re.escape(synonym)}(?![a-z0-9])", text)
    ]


def short_name(product: ProductLike) -> str:
    """The name without the brand: "X200 Headphones", "Smart Kettle 1.7 L"."""
    name = product.name
    return name[len(product.brand) :].strip() if name.startswith(product.brand) else name


def product_aliases(product: ProductLike) -> tuple[str, ...]:
    """What customers call a product: brand, SKU, short name, category, kind and type."""
    aliases = [
        product.brand,
        product.sku,
        short_name(product),
        product.category,
        *CATEGORY_NOUNS.get(product.category, ()),
        *_synonyms_in_text(product),
    ]
    if product.specs.get("type"):
        aliases.append(product.specs["type"])
    return tuple(dict.fromkeys(aliases))


def item_candidates(items: Iterable[ItemLike]) -> list[Candidate]:
    """One candidate per order line; the value is the product name (what return_item stores)."""
    return [
        Candidate(item.product.name, item.product.name, product_aliases(item.product))
        for item in items
    ]


def resolve_item(text: str, items: Sequence[ItemLike]) -> Resolution:
    """Which order line "the headphones" / "the auralis pair" / "the second one" means."""
    return resolve(text, item_candidates(items), ignore=ITEM_REQUEST_WORDS)


def order_label(order: OrderLike, status: bool = True) -> str:
    """ "ORD-10004 (delivered): Brevik Smart Kettle 1.7 L" (+ "and 1 more")."""
    names = [item.product.name for item in order.items]
    more = f" and {len(names) - 1} more" if len(names) > 1 else ""
    head = f"{order.id} ({order.status})" if status else order.id
    return f"{head}: {names[0] if names else 'no items'}{more}"


def order_candidates(orders: Sequence[OrderLike], statuses: bool = True) -> list[Candidate]:
    """One candidate per order, newest first as given; aliases: status words and the items.

    The first order also answers "my last order", "the latest one", "the most recent".
    """
    candidates = []
    for index, order in enumerate(orders):
        aliases = list(STATUS_WORDS.get(order.status, (order.status,))) if statuses else []
        for item in order.items:
            aliases.extend([item.product.name, *product_aliases(item.product)])
        if index == 0:
            aliases.extend(LATEST_ORDER_WORDS)
        label = order_label(order, statuses)
        candidates.append(Candidate(order.id, label, tuple(dict.fromkeys(aliases))))
    return candidates


def resolve_order(text: str, orders: Sequence[OrderLike], statuses: bool = True) -> Resolution:
    """Which of the customer's orders (newest first) "the one that shipped" means.

    Without `statuses` only items and "my last order" count ("where are my headphones").
    """
    return resolve(text, order_candidates(orders, statuses), ignore=ORDER_REQUEST_WORDS)
