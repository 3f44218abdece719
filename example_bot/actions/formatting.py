"""Turning shop data into customer-facing sentences."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from shop import dates
from shop.repository import ItemView, OrderView, ProductView, ReturnView

REFUND_PROCESSING_BUSINESS_DAYS = 5
CANCELLATION_REFUND_BUSINESS_DAYS = 3
# Spec keys shown first in product descriptions and comparisons when present.
KEY_SPECS = (
    "type",
    "connectivity",
    "battery_hours",
    "battery_days",
    "noise_cancelling",
    "water_resistance",
    "gps",
    "display",
    "output",
    "capacity",
    "power",
    "ports",
    "resolution",
    "weight",
)


def money(cents: int) -> str:
    """$1,249.00 style amounts."""
    return f"${cents / 100:,.2f}"


def join_words(parts: Sequence[str], last: str = "and") -> str:
    """ "a, b and c"."""
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {last} {parts[-1]}"


def item_label(item: ItemView) -> str:
    """ "2 x Halcyra PowerBank 20000" or just the name for a single piece."""
    return f"{item.quantity} x {item.product.name}" if item.quantity > 1 else item.product.name


def items_summary(order: OrderView) -> str:
    return join_words([item_label(item) for item in order.items])


def describe_order(order: OrderView, today: date) -> str:
    """The status of an order with tracking or return details."""
    head = (
        f"Order {order.id} (placed on {dates.format_date(order.placed_at)}: "
        f"{items_summary(order)}, total {money(order.total_cents)})"
    )
    shipment = order.shipment
    if order.status == "pending":
        return (
            f"{head} is pending: we are still verifying the payment. Orders whose payment is not "
            "confirmed within 48 hours are cancelled automatically."
        )
    if order.status == "paid":
        return (
            f"{head} is paid and being prepared. Orders paid before 2 pm ET on a business day ship "
            "the same day; you will get the tracking number by email."
        )
    if order.status == "cancelled":
        when = f" on {dates.format_date(order.cancelled_at)}" if order.cancelled_at else ""
        return f"{head} was cancelled{when}."
    if order.status == "shipped" and shipment:
        eta = shipment.estimated_delivery
        expected = (
            f"expected delivery is {dates.format_date(eta)}"
            if eta >= today
            else f"it was expected on {dates.format_date(eta)} and should arrive very soon"
        )
        return (
            f"{head} shipped on {dates.format_date(shipment.shipped_at)} with {shipment.carrier}, "
            f"tracking number {shipment.tracking_number}; {expected}."
        )
    if order.status == "delivered" and order.delivered_on:
        deadline = order.return_deadline
        window = (
            f"You can return items until {dates.format_date(deadline)}."
            if today <= deadline
            else f"The 30-day return window closed on {dates.format_date(deadline)}."
        )
        return f"{head} was delivered on {dates.format_date(order.delivered_on)}. {window}"
    if order.status == "returned":
        refunded = sum(record.refund_cents for record in order.returns)
        return f"{head} was returned; {money(refunded)} has been refunded."
    return f"{head} has the status {order.status}."


def not_returnable_reason(order: OrderView, outcome: str, today: date) -> str:
    """Why an order cannot be returned (for the outcomes of ShopRepository.check_return)."""
    if outcome == "outside_window" and order.delivered_on:
        longest_warranty = max(item.product.warranty_months for item in order.items)
        return (
            f"Order {order.id} was delivered on {dates.format_date(order.delivered_on)}, so the "
            f"30-day return window closed on {dates.format_date(order.return_deadline)} and I "
            "can't start a return. If a product is faulty, it is still covered by its warranty "
            f"(up to {longest_warranty} months); I can connect you with a colleague for a "
            "warranty claim."
        )
    if outcome == "nothing_returnable":
        return f"Every item of order {order.id} already has a return request."
    if order.status in ("pending", "paid"):
        return (
            f"Order {order.id} hasn't shipped yet, so there is nothing to return: you can cancel "
            "it instead, free of charge."
        )
    if order.status == "shipped" and order.shipment:
        return (
            f"Order {order.id} is still on its way (expected on "
            f"{dates.format_date(order.shipment.estimated_delivery)}). Once it is delivered you "
            "have 30 days to return items."
        )
    if order.status == "cancelled":
        return f"Order {order.id} was cancelled, so there is nothing to return."
    if order.status == "returned":
        return f"All items of order {order.id} have already been returned."
    return f"Order {order.id} can't be returned."


def returnable_items_text(order: OrderView) -> str:
    """ "Order X (delivered on D) can be returned until E. Items you can return: a; b."."""
    names = [item_label(item) for item in order.returnable_items]
    return (
        f"Order {order.id} was delivered on {dates.format_date(order.delivered_on)}, so you can "
        f"return items until {dates.format_date(order.return_deadline)}. Items you can return: "
        f"{'; '.join(names)}."
    )


def describe_return(record: ReturnView, payment_method: str) -> str:
    """Where a return and its refund stand."""
    head = f"{record.rma_number} ({record.product_name}, {money(record.refund_cents)})"
    if record.status == "requested":
        return (
            f"{head}: return requested on {dates.format_date(record.created_at)}; we are waiting "
            "for the item to arrive. The refund is issued within "
            f"{REFUND_PROCESSING_BUSINESS_DAYS} business days after it reaches our warehouse."
        )
    if record.status == "received" and record.received_at:
        due = dates.add_business_days(record.received_at.date(), REFUND_PROCESSING_BUSINESS_DAYS)
        return (
            f"{head}: we received the item on {dates.format_date(record.received_at)}; the refund "
            f"to your {payment_method} will be issued by {dates.format_date(due)}."
        )
    if record.status == "refunded" and record.refunded_at:
        return (
            f"{head}: refunded to your {payment_method} on "
            f"{dates.format_date(record.refunded_at)}. Card refunds take 3 to 7 business days to "
            "show on your statement; PayPal, Apple Pay and Google Pay usually 2 business days."
        )
    if record.status == "rejected":
        return (
            f"{head}: the return was rejected after inspection; we sent you the reasons by email "
            "and ship the item back free of charge."
        )
    return f"{head}: {record.status}."


def product_summary(product: ProductView, spec_limit: int = 6) -> str:
    """A compact product description with price, key specs, compatibility, warranty and stock."""
    specs = ordered_specs(product)[:spec_limit]
    specs_text = "; ".join(f"{label(key)}: {value}" for key, value in specs)
    return (
        f"{product.name} ({product.brand}, SKU {product.sku}) costs {money(product.price_cents)}. "
        f"{product.description} Key specs: {specs_text}. Compatibility: {product.compatibility}. "
        f"Features: {product.features}. Warranty: {product.warranty_months} months. "
        f"{stock_sentence(product)}"
    )


def stock_sentence(product: ProductView) -> str:
    if product.stock <= 0:
        return "It is currently out of stock."
    if product.stock < 10:
        return f"Only {product.stock} left in stock."
    return f"In stock ({product.stock} available)."


def label(spec_key: str) -> str:
    """ "battery_hours" -> "battery hours"."""
    return spec_key.replace("_", " ")


def ordered_specs(product: ProductView) -> list[tuple[str, str]]:
    """The product's specs, the most telling ones first."""
    first = [(key, product.specs[key]) for key in KEY_SPECS if key in product.specs]
    rest = [(key, value) for key, value in product.specs.items() if key not in KEY_SPECS]
    return first + rest
