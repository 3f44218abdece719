"""SQLAlchemy 1.4 models of the demo shop and the engine/session factory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker

EXAMPLE_BOT_DIR = Path(__file__).resolve().parent.parent
DATABASE_URL_ENV = "SHOP_DATABASE_URL"
DEFAULT_DATABASE_URL = f"sqlite:///{EXAMPLE_BOT_DIR / 'shop.db'}"

ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "returned")
# Orders in these statuses have not been handed to a carrier yet.
NOT_YET_SHIPPED = ("pending", "paid")
RETURN_STATUSES = ("requested", "received", "refunded", "rejected")

Base = declarative_base()


class Customer(Base):
    """A registered customer; the id doubles as the chat conversation id (sender_id)."""

    __tablename__ = "customers"

    id = Column(String(16), primary_key=True)
    name = Column(String(120), nullable=False)
    email = Column(String(200), nullable=False, unique=True)
    phone = Column(String(40))
    country = Column(String(60), nullable=False)
    default_address = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)

    orders = relationship("Order", back_populates="customer")


class Product(Base):
    """A catalog product, loaded from knowledge/catalog.csv by the seed."""

    __tablename__ = "products"

    sku = Column(String(32), primary_key=True)
    name = Column(String(200), nullable=False, unique=True)
    category = Column(String(60), nullable=False, index=True)
    brand = Column(String(60), nullable=False)
    price_cents = Column(Integer, nullable=False)
    stock = Column(Integer, nullable=False)
    warranty_months = Column(Integer, nullable=False)
    description = Column(Text, nullable=False)
    specs = Column(Text, nullable=False)  # "key: value; key: value"
    compatibility = Column(Text, nullable=False)
    features = Column(Text, nullable=False)


class Order(Base):
    """An order of one customer; `id` is the public id such as ORD-10001."""

    __tablename__ = "orders"

    id = Column(String(16), primary_key=True)
    customer_id = Column(String(16), ForeignKey("customers.id"), nullable=False, index=True)
    status = Column(String(16), nullable=False)
    placed_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)
    cancelled_at = Column(DateTime)
    shipping_address = Column(Text, nullable=False)
    shipping_method = Column(String(40), nullable=False)
    shipping_cents = Column(Integer, nullable=False)
    payment_method = Column(String(40), nullable=False)

    customer = relationship("Customer", back_populates="orders")
    items = relationship("OrderItem", back_populates="order", order_by="OrderItem.id")
    shipment = relationship("Shipment", back_populates="order", uselist=False)
    returns = relationship("Return", back_populates="order", order_by="Return.id")


class OrderItem(Base):
    """One line of an order."""

    __tablename__ = "order_items"

    id = Column(Integer, primary_key=True)
    order_id = Column(String(16), ForeignKey("orders.id"), nullable=False, index=True)
    product_sku = Column(String(32), ForeignKey("products.sku"), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price_cents = Column(Integer, nullable=False)

    order = relationship("Order", back_populates="items")
    product = relationship("Product")


class Shipment(Base):
    """The carrier shipment of an order (one per order)."""

    __tablename__ = "shipments"

    id = Column(Integer, primary_key=True)
    order_id = Column(String(16), ForeignKey("orders.id"), nullable=False, unique=True)
    carrier = Column(String(40), nullable=False)
    tracking_number = Column(String(40), nullable=False, unique=True)
    shipped_at = Column(DateTime, nullable=False)
    estimated_delivery = Column(Date, nullable=False)
    delivered_at = Column(DateTime)

    order = relationship("Order", back_populates="shipment")


class Return(Base):
    """A return (RMA) of one order item; an item can be returned only once."""

    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("order_item_id", name="uq_returns_order_item"),)

    id = Column(Integer, primary_key=True)
    rma_number = Column(String(16), unique=True)  # set right after the insert, see repository
    order_id = Column(String(16), ForeignKey("orders.id"), nullable=False, index=True)
    order_item_id = Column(Integer, ForeignKey("order_items.id"), nullable=False)
    reason = Column(Text, nullable=False)
    status = Column(String(16), nullable=False)
    refund_cents = Column(Integer, nullable=False)
    created_at = Column(DateTime, nullable=False)
    received_at = Column(DateTime)
    refunded_at = Column(DateTime)

    order = relationship("Order", back_populates="returns")
    order_item = relationship("OrderItem")


class HandoffTicket(Base):
    """A request to be helped by a human colleague, with the chat transcript."""

    __tablename__ = "handoff_tickets"

    id = Column(Integer, primary_key=True)
    ticket_number = Column(String(16), unique=True)  # set right after the insert
    sender_id = Column(String(120), nullable=False)
    customer_id = Column(String(16), ForeignKey("customers.id"))
    contact_email = Column(String(200))
    reason = Column(Text, nullable=False)
    transcript = Column(Text, nullable=False)
    status = Column(String(16), nullable=False)
    created_at = Column(DateTime, nullable=False)


class AddressDraft(Base):
    """A new delivery address the change-address form accepted, until the change is submitted.

    The raw address lives only here (and, once submitted, on the order): the conversation's slot
    holds a placeholder, so the tracker store never sees it.
    """

    __tablename__ = "address_drafts"

    conversation_id = Column(String(120), primary_key=True)
    address = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)


def resolve_database_url(url: str | None = None) -> str:
    """The database URL: explicit argument, else $SHOP_DATABASE_URL, else the SQLite default."""
    return url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def _enable_sqlite_foreign_keys(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """A (cached) engine for the resolved database URL."""
    resolved = resolve_database_url(url)
    engine = _engines.get(resolved)
    if engine is None:
        engine = create_engine(resolved, future=True, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        _engines[resolved] = engine
    return engine


def dispose_engines() -> None:
    """Closes every cached engine (used by tests and after a reset)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def create_schema(engine: Engine) -> None:
    """Creates the tables that do not exist yet."""
    Base.metadata.create_all(engine)


def drop_schema(engine: Engine) -> None:
    """Drops every shop table."""
    Base.metadata.drop_all(engine)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    factory = sessionmaker(bind=engine or get_engine(), future=True, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class ShopDatabaseError(RuntimeError):
    """The shop database cannot be used: a wrong URL, a server that is down, no shop tables."""


def check_database(url: str | None = None) -> None:
    """Raises ShopDatabaseError, with a one-line reason, when the shop database is unusable.

    Connects and checks that every shop table exists; never creates a SQLite file (SQLite would
    silently create an empty database for a mistyped path).
    """
    resolved = resolve_database_url(url)
    try:
        parsed = make_url(resolved)
    except SQLAlchemyError as error:
        raise ShopDatabaseError(
            f"{DATABASE_URL_ENV} is not a database URL (e.g. sqlite:////path/shop.db or "
            "postgresql://user:password@host/shop)"
        ) from error
    shown = f"{DATABASE_URL_ENV}={parsed.render_as_string(hide_password=True)}"
    seed_hint = "seed it: cd example_bot && python -m shop.seed"
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise ShopDatabaseError(f"{shown}: the SQLite file does not exist; {seed_hint}")
    try:
        with get_engine(resolved).connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except SQLAlchemyError as error:
        reason = " ".join(str(error).split("(Background on this error")[0].split())
        raise ShopDatabaseError(f"{shown}: {reason or error.__class__.__name__}") from error
    missing = sorted(set(Base.metadata.tables) - tables)
    if missing:
        raise ShopDatabaseError(f"{shown} has no tables {', '.join(missing)}; {seed_hint}")
