"""Tests of the demo shop seed: the numbers the demo promises, determinism and idempotency."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from shop import dates
from shop.catalog import load_catalog, normalize_category
from shop.db import ORDER_STATUSES, Order, Product, dispose_engines, get_engine, session_scope
from shop.seed import AlreadySeededError, main, seed_database
from sqlalchemy import select


@pytest.fixture
def engine(tmp_path):
    yield get_engine(f"sqlite:///{tmp_path / 'seed.db'}")
    dispose_engines()


def order_facts(engine) -> list[tuple]:
    with session_scope(engine) as session:
        return [
            (
                order.id,
                order.customer_id,
                order.status,
                tuple((item.product_sku, item.quantity) for item in order.items),
                tuple(record.rma_number for record in order.returns),
            )
            for order in session.scalars(select(Order).order_by(Order.id))
        ]


def test_seed_meets_the_demo_numbers(engine):
    summary = seed_database(engine)
    assert summary.customers >= 10
    assert summary.orders >= 40
    assert set(summary.order_statuses) == set(ORDER_STATUSES)
    assert summary.products >= 40
    assert summary.categories >= 5


def test_products_come_from_the_catalog(engine):
    seed_database(engine)
    catalog = {product.sku: product for product in load_catalog()}
    with session_scope(engine) as session:
        products = session.scalars(select(Product)).all()
        assert {product.sku for product in products} == set(catalog)
        for product in products:
            assert product.price_cents == catalog[product.sku].price_cents
            assert product.warranty_months in (12, 24, 36)
            assert ": " in product.specs


def test_delivered_orders_inside_and_outside_the_return_window(engine):
    seed_database(engine)
    today = dates.today()
    with session_scope(engine) as session:
        delivered = session.scalars(select(Order).where(Order.status == "delivered")).all()
        ages = [(today - order.shipment.delivered_at.date()).days for order in delivered]
    assert any(age <= 30 for age in ages)
    assert any(age > 30 for age in ages)


def test_seed_is_deterministic_and_ids_do_not_depend_on_the_date(tmp_path):
    first = get_engine(f"sqlite:///{tmp_path / 'a.db'}")
    second = get_engine(f"sqlite:///{tmp_path / 'b.db'}")
    seed_database(first, today=date(2026, 1, 15))
    seed_database(second, today=date(2026, 1, 15) + timedelta(days=100))
    try:
        assert order_facts(first) == order_facts(second)
        assert order_facts(first)[0][:3] == ("ORD-10001", "C1001", "delivered")
    finally:
        dispose_engines()


def test_seed_refuses_to_duplicate_and_reset_recreates(engine):
    seed_database(engine)
    facts = order_facts(engine)
    with pytest.raises(AlreadySeededError):
        seed_database(engine)
    assert order_facts(engine) == facts  # nothing added
    seed_database(engine, reset=True)
    assert order_facts(engine) == facts


def test_seed_command_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    try:
        assert main(["--url", url]) == 0
        assert "customers:  12" in capsys.readouterr().out
        assert main(["--url", url]) == 1
        assert "--reset" in capsys.readouterr().err
        assert main(["--url", url, "--reset"]) == 0
    finally:
        dispose_engines()


def test_category_synonyms():
    assert normalize_category("Laptops Accessories") == "laptop accessories"
    assert normalize_category("wireless earbuds") == "headphones"
    assert normalize_category("smart watch") == "smartwatches"
    assert normalize_category("toys") is None


def test_readme_scenario_orders(engine):
    """The orders documented in README.md ("Demo shop data") stay true."""
    seed_database(engine)
    today = dates.today()
    expected = {
        "ORD-10001": ("C1001", "delivered", 5),
        "ORD-10002": ("C1001", "shipped", None),
        "ORD-10003": ("C1001", "paid", None),
        "ORD-10004": ("C1001", "delivered", 45),
        "ORD-10005": ("C1001", "delivered", 12),
        "ORD-10006": ("C1001", "pending", None),
        "ORD-10007": ("C1001", "returned", 40),
        "ORD-10008": ("C1001", "cancelled", None),
        "ORD-10009": ("C1002", "delivered", 20),
        "ORD-10013": ("C1002", "delivered", 8),
        "ORD-10014": ("C1003", "delivered", 29),
        "ORD-10015": ("C1003", "delivered", 31),
    }
    with session_scope(engine) as session:
        for order_id, (customer_id, status, delivered_days_ago) in expected.items():
            order = session.get(Order, order_id)
            assert (order.customer_id, order.status) == (customer_id, status), order_id
            if delivered_days_ago is not None:
                age = (today - order.shipment.delivered_at.date()).days
                assert age == delivered_days_ago, order_id
        rmas = {
            order_id: [record.rma_number for record in session.get(Order, order_id).returns]
            for order_id in ("ORD-10005", "ORD-10007", "ORD-10013")
        }
    assert rmas == {
        "ORD-10005": ["RMA-500001"],
        "ORD-10007": ["RMA-500002"],
        "ORD-10013": ["RMA-500003"],
    }
