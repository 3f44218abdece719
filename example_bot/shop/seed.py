"""Creates the deterministic demo shop: `python -m shop.seed [--url URL] [--reset]`.

All dates are relative to today, so the 30-day return window stays meaningful whenever the seed
runs. Ids (customers, orders, RMA and ticket numbers) do not depend on the date.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from shop import dates
from shop.catalog import CatalogProduct, load_catalog
from shop.db import (
    ORDER_STATUSES,
    Customer,
    Order,
    OrderItem,
    Product,
    Return,
    Shipment,
    create_schema,
    drop_schema,
    get_engine,
    resolve_database_url,
    session_scope,
)
from shop.ids import format_order_id
from shop.repository import rma_number_for
from shop.seed_data import (
    CUSTOMERS,
    GENERATED_ORDERS_PER_CUSTOMER,
    GENERATED_STATUS_CYCLE,
    PAYMENT_METHODS,
    RETURN_REASONS,
    SCENARIO_ORDERS,
    DemoCustomer,
    ScenarioOrder,
)
from shop.shipping import shipping_rate

FIRST_ORDER_NUMBER = 10001
RANDOM_SEED = 20260101


class AlreadySeededError(RuntimeError):
    """Raised when the database already holds shop data and no reset was requested."""


@dataclass(frozen=True)
class SeedSummary:
    """What the seed created."""

    customers: int
    products: int
    categories: int
    orders: int
    order_statuses: dict[str, int]
    shipments: int
    returns: int


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def _tracking_number(carrier: str, rng: random.Random) -> str:
    if carrier == "UPS":
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXY0123456789") for _ in range(6))
        return f"1Z{letters}{rng.randrange(10**9, 10**10)}"
    if carrier == "USPS":
        return f"9400{rng.randrange(10**17, 10**18)}"
    return str(rng.randrange(10**9, 10**10))  # DHL Express: 10 digits


class _ShopBuilder:
    """Adds customers, products and orders to one session."""

    def __init__(self, session: Session, catalog: list[CatalogProduct], today: date) -> None:
        self.session = session
        self.products = {product.sku: product for product in catalog}
        self.today = today
        self.rng = random.Random(RANDOM_SEED)
        self.next_order_number = FIRST_ORDER_NUMBER
        self.return_count = 0

    def add_products(self) -> None:
        for product in self.products.values():
            self.session.add(Product(**asdict(product)))

    def add_customers(self) -> None:
        for index, customer in enumerate(CUSTOMERS):
            self.session.add(
                Customer(
                    id=customer.id,
                    name=customer.name,
                    email=customer.email,
                    phone=customer.phone,
                    country=customer.country,
                    default_address=customer.address,
                    created_at=_at(self.today - timedelta(days=400 - 20 * index), 10),
                )
            )

    def add_order(self, customer: DemoCustomer, scenario: ScenarioOrder) -> None:
        if scenario.status not in ORDER_STATUSES:
            raise ValueError(f"Unknown order status {scenario.status!r}")
        rng = self.rng
        rate = shipping_rate(customer.country, scenario.express)
        carrier = rate.carrier
        if customer.country == "United States" and not scenario.express:
            carrier = rng.choice(("UPS", "USPS"))

        shipped_on = delivered_on = None
        if scenario.status in ("delivered", "returned"):
            delivered_on = self.today - timedelta(days=scenario.days_ago)
            shipped_on = delivered_on - timedelta(days=rate.transit_days - rng.randrange(0, 2))
            placed_on = shipped_on - timedelta(days=1)
        elif scenario.status == "shipped":
            shipped_on = self.today - timedelta(days=scenario.days_ago)
            placed_on = shipped_on - timedelta(days=1)
        else:
            placed_on = self.today - timedelta(days=scenario.days_ago)

        order_id = format_order_id(self.next_order_number)
        self.next_order_number += 1
        placed_at = _at(placed_on, rng.randrange(8, 20), rng.randrange(60))
        items = [
            OrderItem(
                product_sku=sku, quantity=quantity, unit_price_cents=self.products[sku].price_cents
            )
            for sku, quantity in scenario.items
        ]
        subtotal = sum(item.unit_price_cents * item.quantity for item in items)
        order = Order(
            id=order_id,
            customer_id=customer.id,
            status=scenario.status,
            placed_at=placed_at,
            updated_at=placed_at,
            shipping_address=customer.address,
            shipping_method=rate.method,
            shipping_cents=rate.cost_for(subtotal),
            payment_method=rng.choice(PAYMENT_METHODS),
            items=items,
        )
        if scenario.status == "cancelled":
            order.cancelled_at = placed_at + timedelta(hours=rng.randrange(1, 20))
            order.updated_at = order.cancelled_at
        if shipped_on is not None:
            order.shipment = Shipment(
                carrier=carrier,
                tracking_number=_tracking_number(carrier, rng),
                shipped_at=_at(shipped_on, rng.randrange(14, 18)),
                estimated_delivery=shipped_on + timedelta(days=rate.transit_days),
                delivered_at=_at(delivered_on, rng.randrange(9, 18)) if delivered_on else None,
            )
            order.updated_at = order.shipment.delivered_at or order.shipment.shipped_at
        self.session.add(order)
        self.session.flush()

        return_statuses = dict(scenario.returns)
        if scenario.status == "returned":
            return_statuses = {sku: "refunded" for sku, _ in scenario.items}
        for item in items:
            if item.product_sku in return_statuses:
                self._add_return(order, item, return_statuses[item.product_sku], delivered_on)

    def _add_return(self, order: Order, item: OrderItem, status: str, delivered_on: date) -> None:
        rng = self.rng
        # Requested a few days after delivery, received about 4 days later, refunded 2 days later.
        days_since_delivery = (self.today - delivered_on).days
        requested_on = delivered_on + timedelta(days=min(3, max(days_since_delivery - 6, 0)))
        created_at = _at(requested_on, rng.randrange(9, 20))
        record = Return(
            order_id=order.id,
            order_item_id=item.id,
            reason=rng.choice(RETURN_REASONS),
            status=status,
            refund_cents=item.unit_price_cents * item.quantity,
            created_at=created_at,
        )
        if status in ("received", "refunded"):
            record.received_at = created_at + timedelta(days=4)
        if status == "refunded":
            record.refunded_at = record.received_at + timedelta(days=2)
            order.updated_at = record.refunded_at
        self.session.add(record)
        self.session.flush()
        record.rma_number = rma_number_for(record.id)

    def add_orders(self) -> None:
        customers = {customer.id: customer for customer in CUSTOMERS}
        for scenario in SCENARIO_ORDERS:
            self.add_order(customers[scenario.customer_id], scenario)
        scripted = {scenario.customer_id for scenario in SCENARIO_ORDERS}
        skus = sorted(self.products)
        status_index = 0
        for customer in CUSTOMERS:
            if customer.id in scripted:
                continue
            for _ in range(GENERATED_ORDERS_PER_CUSTOMER):
                status = GENERATED_STATUS_CYCLE[status_index % len(GENERATED_STATUS_CYCLE)]
                status_index += 1
                self.add_order(customer, self._generated_order(customer.id, status, skus))

    def _generated_order(self, customer_id: str, status: str, skus: list[str]) -> ScenarioOrder:
        rng = self.rng
        days_ago = {
            "pending": rng.randrange(0, 2),
            "paid": rng.randrange(0, 2),
            "cancelled": rng.randrange(3, 90),
            "shipped": rng.randrange(0, 3),
            "delivered": rng.randrange(2, 120),
            "returned": rng.randrange(35, 150),
        }[status]
        chosen = rng.sample(skus, rng.choice((1, 1, 1, 2, 3)))
        items = tuple((sku, rng.choice((1, 1, 1, 2))) for sku in chosen)
        returns = {}
        if status == "delivered" and days_ago > 8 and rng.random() < 0.3:
            # Old returns are finished; a fully refunded order would have the status "returned".
            if days_ago <= 20:
                returns = {chosen[0]: rng.choice(("requested", "received"))}
            elif len(chosen) > 1:
                returns = {chosen[0]: "refunded"}
        return ScenarioOrder(customer_id, status, days_ago, items, returns=returns)


def _has_shop_data(session: Session) -> bool:
    return bool(
        session.scalar(select(func.count()).select_from(Customer))
        or session.scalar(select(func.count()).select_from(Product))
        or session.scalar(select(func.count()).select_from(Order))
    )


def summarize(engine: Engine) -> SeedSummary:
    """Counts what is in the database."""
    with session_scope(engine) as session:
        statuses = Counter(session.scalars(select(Order.status)).all())
        return SeedSummary(
            customers=session.scalar(select(func.count()).select_from(Customer)),
            products=session.scalar(select(func.count()).select_from(Product)),
            categories=session.scalar(select(func.count(func.distinct(Product.category)))),
            orders=sum(statuses.values()),
            order_statuses=dict(sorted(statuses.items())),
            shipments=session.scalar(select(func.count()).select_from(Shipment)),
            returns=session.scalar(select(func.count()).select_from(Return)),
        )


def seed_database(engine: Engine, reset: bool = False, today: date | None = None) -> SeedSummary:
    """Creates the schema and the demo data in one transaction.

    With `reset`, drops every shop table first. Without it, refuses (AlreadySeededError) when
    the database already holds shop data, instead of adding duplicates.
    """
    catalog = load_catalog()
    if reset:
        drop_schema(engine)
    create_schema(engine)
    with session_scope(engine) as session:
        if _has_shop_data(session):
            raise AlreadySeededError(
                "The shop database already contains data; run with --reset to recreate it."
            )
        builder = _ShopBuilder(session, catalog, today or dates.today())
        builder.add_products()
        builder.add_customers()
        session.flush()
        builder.add_orders()
    return summarize(engine)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m shop.seed", description=__doc__)
    parser.add_argument(
        "--url",
        help="SQLAlchemy database URL (default: $SHOP_DATABASE_URL "
        "or sqlite:///<example_bot>/shop.db)",
    )
    parser.add_argument(
        "--reset", action="store_true", help="drop and recreate all shop tables before seeding"
    )
    parser.add_argument(
        "--keep-existing",
        action="store_true",
        help="succeed without changes when the database already holds shop data",
    )
    args = parser.parse_args(argv)
    url = resolve_database_url(args.url)
    try:
        summary = seed_database(get_engine(url), reset=args.reset)
    except AlreadySeededError as error:
        if args.keep_existing:
            print(f"Keeping the existing demo data in {url} (reset it with --reset).")
            return 0
        print(f"Not seeded: {error}", file=sys.stderr)
        return 1
    print(f"Seeded {url}")
    print(f"  customers:  {summary.customers}")
    print(f"  products:   {summary.products} in {summary.categories} categories")
    print(f"  orders:     {summary.orders} {summary.order_statuses}")
    print(f"  shipments:  {summary.shipments}")
    print(f"  returns:    {summary.returns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
