"""The queries the custom actions use.

Every order query is scoped by customer id in the SQL itself: an order of another customer is
simply not found, exactly like an order id that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from shop import dates
from shop.catalog import parse_specs
from shop.db import (
    NOT_YET_SHIPPED,
    AddressDraft,
    Customer,
    HandoffTicket,
    Order,
    OrderItem,
    Product,
    Return,
)
from shop.matching import best_match, rank_products
from shop.references import resolve_item

MAX_REASON_LENGTH = 500
MAX_ADDRESS_LENGTH = 300
_ViewT = TypeVar("_ViewT")


def rma_number_for(return_id: int) -> str:
    """The RMA number of a return row (derived from its primary key, so it is unique)."""
    return f"RMA-{500000 + return_id}"


def ticket_number_for(ticket_id: int) -> str:
    """The public number of a handoff ticket."""
    return f"HT-{10000 + ticket_id}"


@dataclass(frozen=True)
class CustomerView:
    """A customer, as the actions see it."""

    id: str
    name: str
    email: str
    country: str

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class ProductView:
    """A product, as the actions see it."""

    sku: str
    name: str
    category: str
    brand: str
    price_cents: int
    stock: int
    warranty_months: int
    description: str
    specs: dict[str, str]
    compatibility: str
    features: str

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


@dataclass(frozen=True)
class ReturnView:
    """A return (RMA) of one order item."""

    rma_number: str
    sku: str
    product_name: str
    status: str
    reason: str
    refund_cents: int
    created_at: datetime
    received_at: datetime | None
    refunded_at: datetime | None


@dataclass(frozen=True)
class ItemView:
    """One order line and whether it has been returned."""

    item_id: int
    product: ProductView
    quantity: int
    unit_price_cents: int
    return_rma: str | None

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class ShipmentView:
    """The carrier shipment of an order."""

    carrier: str
    tracking_number: str
    shipped_at: datetime
    estimated_delivery: date
    delivered_at: datetime | None


@dataclass(frozen=True)
class OrderView:
    """An order with its items, shipment and returns."""

    id: str
    status: str
    placed_at: datetime
    cancelled_at: datetime | None
    shipping_address: str
    shipping_method: str
    shipping_cents: int
    payment_method: str
    items: tuple[ItemView, ...]
    shipment: ShipmentView | None
    returns: tuple[ReturnView, ...]

    @property
    def total_cents(self) -> int:
        return sum(item.total_cents for item in self.items) + self.shipping_cents

    @property
    def delivered_on(self) -> date | None:
        if self.shipment and self.shipment.delivered_at:
            return self.shipment.delivered_at.date()
        return None

    @property
    def return_deadline(self) -> date | None:
        delivered_on = self.delivered_on
        return dates.return_deadline(delivered_on) if delivered_on else None

    @property
    def returnable_items(self) -> tuple[ItemView, ...]:
        return tuple(item for item in self.items if item.return_rma is None)


@dataclass(frozen=True)
class ProductMatch:
    """The product a query names, or the closest candidates when it is ambiguous."""

    product: ProductView | None
    candidates: tuple[ProductView, ...] = ()


@dataclass(frozen=True)
class OrderChange:
    """Outcome of a cancel or address change: "done", "not_found" or "already_shipped" etc."""

    outcome: str
    order: OrderView | None = None


@dataclass(frozen=True)
class ReturnCheck:
    """Outcome of a return eligibility check or a return request.

    outcome: "ok", "order_not_found", "not_delivered", "outside_window", "nothing_returnable",
    "item_not_found", "item_already_returned", "created". For "item_not_found", `candidates` are
    the order lines the item query fits equally well (empty when it fits none).
    """

    outcome: str
    order: OrderView | None = None
    item: ItemView | None = None
    rma_number: str | None = None
    candidates: tuple[ItemView, ...] = field(default=())


def _view(view_class: type[_ViewT], row: object, **values: object) -> _ViewT:
    """A view of a database row: `values`, and the row's attributes for the other fields."""
    for view_field in fields(view_class):
        if view_field.name not in values:
            values[view_field.name] = getattr(row, view_field.name)
    return view_class(**values)


def _product_view(product: Product) -> ProductView:
    return _view(ProductView, product, specs=parse_specs(product.specs))


def _return_view(record: Return) -> ReturnView:
    return _view(
        ReturnView,
        record,
        sku=record.order_item.product_sku,
        product_name=record.order_item.product.name,
    )


def _order_view(order: Order) -> OrderView:
    rma_by_item = {record.order_item_id: record.rma_number for record in order.returns}
    items = tuple(
        _view(
            ItemView,
            item,
            item_id=item.id,
            product=_product_view(item.product),
            return_rma=rma_by_item.get(item.id),
        )
        for item in order.items
    )
    return _view(
        OrderView,
        order,
        items=items,
        shipment=_view(ShipmentView, order.shipment) if order.shipment else None,
        returns=tuple(_return_view(record) for record in order.returns),
    )


def _customer_orders(customer_id: str) -> Select:
    """The customer's orders with everything their views show; every order query starts here."""
    return (
        select(Order)
        .where(Order.customer_id == customer_id)
        .options(
            selectinload(Order.items).selectinload(OrderItem.product),
            selectinload(Order.shipment),
            selectinload(Order.returns)
            .selectinload(Return.order_item)
            .selectinload(OrderItem.product),
        )
    )


def match_order_item(
    order: OrderView, query: str | None
) -> tuple[ItemView | None, tuple[ItemView, ...]]:
    """Finds the order line a customer means ("the mouse", "KES-M3", "2", "the second one",
    "the auralis pair", "the headphnes", "my kettle").

    Returns (item, candidates): the item, or None with the equally plausible lines when the query
    fits several of them (empty when it fits none).
    """
    text = (query or "").strip()
    if not text or not order.items:
        return None, ()
    by_name = {item.product.name: item for item in order.items}
    resolution = resolve_item(text, order.items)
    if resolution.kind == "match":
        return by_name[resolution.match.value], ()
    if resolution.kind == "ambiguous":
        return None, tuple(by_name[option.value] for option in resolution.options)
    return None, ()


class ShopRepository:
    """Customer-scoped order queries and catalog queries over one session (one transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # Customers and orders -------------------------------------------------------------------

    def customer(self, customer_id: str) -> CustomerView | None:
        """The customer with this id, or None."""
        customer = self.session.get(Customer, customer_id) if customer_id else None
        return _view(CustomerView, customer) if customer is not None else None

    def _load_order(
        self, customer_id: str, order_id: str, for_update: bool = False
    ) -> Order | None:
        statement = _customer_orders(customer_id).where(Order.id == order_id)
        if for_update:
            statement = statement.with_for_update()  # no-op on SQLite, row lock elsewhere
        return self.session.scalars(statement).first()

    def order(self, customer_id: str, order_id: str) -> OrderView | None:
        """The customer's order with this id; None if it does not exist or is someone else's."""
        order = self._load_order(customer_id, order_id)
        return _order_view(order) if order else None

    def recent_orders(self, customer_id: str, limit: int = 5) -> list[OrderView]:
        """The customer's most recent orders, newest first."""
        statement = _customer_orders(customer_id).order_by(Order.placed_at.desc()).limit(limit)
        return [_order_view(order) for order in self.session.scalars(statement)]

    def cancel_order(self, customer_id: str, order_id: str, now: datetime) -> OrderChange:
        """Cancels the order if it has not shipped yet (status checked in this transaction)."""
        return self._change_order(customer_id, order_id, now, status="cancelled", cancelled_at=now)

    def change_shipping_address(
        self, customer_id: str, order_id: str, address: str, now: datetime
    ) -> OrderChange:
        """Changes the shipping address if the order has not shipped yet."""
        return self._change_order(
            customer_id, order_id, now, shipping_address=address.strip()[:MAX_ADDRESS_LENGTH]
        )

    def save_address_draft(self, conversation_id: str, address: str, now: datetime) -> None:
        """Keeps the conversation's new address until the change is submitted (replaces one)."""
        draft = self.session.get(AddressDraft, conversation_id)
        if draft is None:
            draft = AddressDraft(conversation_id=conversation_id)
            self.session.add(draft)
        draft.address = address.strip()[:MAX_ADDRESS_LENGTH]
        draft.created_at = now
        self.session.flush()

    def address_draft(self, conversation_id: str) -> str | None:
        """The conversation's pending new address, or None."""
        draft = self.session.get(AddressDraft, conversation_id)
        return draft.address if draft is not None else None

    def discard_address_draft(self, conversation_id: str) -> None:
        """Forgets the conversation's pending new address (after the change, or when it is off)."""
        draft = self.session.get(AddressDraft, conversation_id)
        if draft is not None:
            self.session.delete(draft)
            self.session.flush()

    def _change_order(
        self, customer_id: str, order_id: str, now: datetime, **changes: object
    ) -> OrderChange:
        """Sets `changes` on the order if it has not shipped yet (checked in this transaction)."""
        order = self._load_order(customer_id, order_id, for_update=True)
        if order is None:
            return OrderChange("not_found")
        if order.status == "cancelled":
            return OrderChange("already_cancelled", _order_view(order))
        if order.status not in NOT_YET_SHIPPED:
            return OrderChange("already_shipped", _order_view(order))
        for column, value in changes.items():
            setattr(order, column, value)
        order.updated_at = now
        self.session.flush()
        return OrderChange("done", _order_view(order))

    # Returns ----------------------------------------------------------------------------------

    def check_return(
        self, customer_id: str, order_id: str, item_query: str | None, today: date
    ) -> ReturnCheck:
        """Applies the return policy to an order and, when given, one of its items."""
        order = self._load_order(customer_id, order_id)
        return self._check_return(order, item_query, today)

    def _check_return(
        self, order: Order | None, item_query: str | None, today: date
    ) -> ReturnCheck:
        if order is None:
            return ReturnCheck("order_not_found")
        view = _order_view(order)
        if order.status != "delivered" or view.delivered_on is None:
            return ReturnCheck("not_delivered", view)
        if today > view.return_deadline:
            return ReturnCheck("outside_window", view)
        if not view.returnable_items:
            return ReturnCheck("nothing_returnable", view)
        if item_query is None:
            return ReturnCheck("ok", view)
        item, candidates = match_order_item(view, item_query)
        returnable = [candidate for candidate in candidates if candidate.return_rma is None]
        if item is None and len(returnable) == 1:
            item = returnable[0]  # "the kestrel one" when the Kestrel mouse is already returned
        if item is None:
            return ReturnCheck("item_not_found", view, candidates=candidates)
        if item.return_rma is not None:
            return ReturnCheck("item_already_returned", view, item)
        return ReturnCheck("ok", view, item)

    def create_return(
        self,
        customer_id: str,
        order_id: str,
        item_query: str,
        reason: str,
        today: date,
        now: datetime,
    ) -> ReturnCheck:
        """Re-checks the policy and creates the return; outcome "created" with its RMA number."""
        order = self._load_order(customer_id, order_id, for_update=True)
        check = self._check_return(order, item_query, today)
        if check.outcome != "ok":
            return check
        item = check.item
        record = Return(
            order_id=order.id,
            order_item_id=item.item_id,
            reason=reason.strip()[:MAX_REASON_LENGTH],
            status="requested",
            refund_cents=item.total_cents,
            created_at=now,
        )
        self.session.add(record)
        self.session.flush()
        record.rma_number = rma_number_for(record.id)
        order.updated_at = now
        self.session.flush()
        return ReturnCheck("created", check.order, item, record.rma_number)

    def withdraw_return(self, customer_id: str, rma_number: str) -> str | None:
        """Withdraws one of the customer's returns that is still only requested (nothing sent,
        nothing refunded), so that the item can be kept, or returned later; returns the item's
        name, or None when there is no such return."""
        statement = (
            select(Return)
            .join(Order, Order.id == Return.order_id)
            .where(Return.rma_number == rma_number, Order.customer_id == customer_id,
                   Return.status == "requested")
        )
        record = self.session.scalars(statement).first()
        if record is None:
            return None
        item = self.session.get(OrderItem, record.order_item_id)
        product = self.session.get(Product, item.product_sku) if item is not None else None
        self.session.delete(record)
        self.session.flush()
        return product.name if product is not None else "the item"

    # Catalog ----------------------------------------------------------------------------------

    def all_products(self) -> list[ProductView]:
        """Every product, sorted by category and price."""
        statement = select(Product).order_by(Product.category, Product.price_cents)
        return [_product_view(product) for product in self.session.scalars(statement)]

    def categories(self) -> list[str]:
        """The category names, sorted."""
        return sorted(set(self.session.scalars(select(Product.category)).all()))

    def find_product(self, query: str | None) -> ProductMatch:
        """The product a customer means by `query` (name, part of the name or SKU)."""
        if not query or not query.strip():
            return ProductMatch(None)
        ranked = rank_products(query, self.all_products())
        product = best_match(ranked)
        if product is not None:
            return ProductMatch(product)
        top = [match.product for match in ranked if match.score == ranked[0].score][:3]
        return ProductMatch(None, tuple(top))

    def products_in(
        self, category: str | None = None, max_price_cents: int | None = None
    ) -> list[ProductView]:
        """Products filtered by category and maximum price."""
        statement = select(Product).order_by(Product.price_cents)
        if category:
            statement = statement.where(Product.category == category)
        if max_price_cents is not None:
            statement = statement.where(Product.price_cents <= max_price_cents)
        return [_product_view(product) for product in self.session.scalars(statement)]

    # Handoff ----------------------------------------------------------------------------------

    def create_handoff_ticket(
        self,
        sender_id: str,
        customer_id: str | None,
        contact_email: str | None,
        reason: str,
        transcript: Sequence[dict[str, str]],
        now: datetime,
    ) -> str:
        """Stores a ticket with the conversation transcript; returns its number (HT-10001)."""
        ticket = HandoffTicket(
            sender_id=sender_id[:120],
            customer_id=customer_id,
            contact_email=contact_email,
            reason=(reason or "").strip()[:MAX_REASON_LENGTH] or "(no reason given)",
            transcript=json.dumps(list(transcript), ensure_ascii=False),
            status="open",
            created_at=now,
        )
        self.session.add(ticket)
        self.session.flush()
        ticket.ticket_number = ticket_number_for(ticket.id)
        self.session.flush()
        return ticket.ticket_number
