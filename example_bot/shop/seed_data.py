"""Static demo data for the seed: the customers and the hand-written scenario orders.

The scenario orders are documented in example_bot/README.md ("Demo shop data"); keep both in sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoCustomer:
    """A demo customer; `country` picks the shipping zone and carrier."""

    id: str
    name: str
    email: str
    phone: str
    country: str
    address: str


@dataclass(frozen=True)
class ScenarioOrder:
    """A hand-written order.

    `days_ago` is measured from the event that matters for the status: the order date for
    pending/paid/cancelled, the shipping date for shipped and the delivery date for
    delivered/returned. `returns` maps SKUs of this order to the return status to create
    ("requested", "received", "refunded"); a returned order gets refunded returns of every item.
    """

    customer_id: str
    status: str
    days_ago: int
    items: tuple[tuple[str, int], ...]
    express: bool = False
    returns: dict[str, str] = field(default_factory=dict)


CUSTOMERS = (
    DemoCustomer(
        "C1001",
        "Emma Johnson",
        "emma.johnson@example.com",
        "+1 614 555 0101",
        "United States",
        "742 Maple Avenue, Columbus, OH 43215, United States",
    ),
    DemoCustomer(
        "C1002",
        "Liam Carter",
        "liam.carter@example.com",
        "+1 617 555 0102",
        "United States",
        "18 Harbor Street, Boston, MA 02110, United States",
    ),
    DemoCustomer(
        "C1003",
        "Sofia Martinez",
        "sofia.martinez@example.com",
        "+1 415 555 0103",
        "United States",
        "2450 Mission Street, San Francisco, CA 94110, United States",
    ),
    DemoCustomer(
        "C1004",
        "Noah Williams",
        "noah.williams@example.com",
        "+1 404 555 0104",
        "United States",
        "91 Peachtree Road, Atlanta, GA 30305, United States",
    ),
    DemoCustomer(
        "C1005",
        "Olivia Brown",
        "olivia.brown@example.com",
        "+1 312 555 0105",
        "United States",
        "5 Lakeview Drive, Chicago, IL 60614, United States",
    ),
    DemoCustomer(
        "C1006",
        "Lukas Schneider",
        "lukas.schneider@example.com",
        "+49 30 5550106",
        "Germany",
        "Bergstrasse 12, 10115 Berlin, Germany",
    ),
    DemoCustomer(
        "C1007",
        "Chloe Tremblay",
        "chloe.tremblay@example.com",
        "+1 514 555 0107",
        "Canada",
        "350 Rue Sainte-Catherine Ouest, Montreal, QC H3B 1A2, Canada",
    ),
    DemoCustomer(
        "C1008",
        "Ethan Davis",
        "ethan.davis@example.com",
        "+1 214 555 0108",
        "United States",
        "1200 Elm Street, Dallas, TX 75201, United States",
    ),
    DemoCustomer(
        "C1009",
        "Amelia Clarke",
        "amelia.clarke@example.com",
        "+44 20 5550 0109",
        "United Kingdom",
        "27 Rosebery Avenue, London EC1R 4SX, United Kingdom",
    ),
    DemoCustomer(
        "C1010",
        "Mason Lee",
        "mason.lee@example.com",
        "+1 206 555 0110",
        "United States",
        "640 Pine Street, Seattle, WA 98101, United States",
    ),
    DemoCustomer(
        "C1011",
        "Giulia Rossi",
        "giulia.rossi@example.com",
        "+39 02 5550 0111",
        "Italy",
        "Via Garibaldi 8, 20121 Milano, Italy",
    ),
    DemoCustomer(
        "C1012",
        "James Wilson",
        "james.wilson@example.com",
        "+1 305 555 0112",
        "United States",
        "33 Ocean Drive, Miami, FL 33139, United States",
    ),
)

# Order ids are assigned in this order: ORD-10001, ORD-10002, ...
SCENARIO_ORDERS = (
    # C1001 Emma Johnson: one order for every situation.
    ScenarioOrder("C1001", "delivered", 5, (("AUR-X200", 1), ("VEL-CABLE2M", 1))),  # ORD-10001
    ScenarioOrder("C1001", "shipped", 1, (("NIM-PULSE3", 1),), express=True),  # ORD-10002
    ScenarioOrder("C1001", "paid", 0, (("TID-WAVE2", 1),)),  # ORD-10003
    ScenarioOrder("C1001", "delivered", 45, (("BRE-KETTLE17", 1),)),  # ORD-10004
    ScenarioOrder(
        "C1001", "delivered", 12, (("KES-MK850", 1), ("KES-M3", 1)), returns={"KES-M3": "received"}
    ),  # ORD-10005
    ScenarioOrder("C1001", "pending", 0, (("HAL-PB20K", 2),)),  # ORD-10006
    ScenarioOrder("C1001", "returned", 40, (("TID-WAVEMINI", 1),)),  # ORD-10007
    ScenarioOrder("C1001", "cancelled", 20, (("LUM-BULB4", 1),)),  # ORD-10008
    # C1002 Liam Carter
    ScenarioOrder("C1002", "delivered", 20, (("QUI-DOCK7", 1), ("QUI-CHG100", 1))),  # ORD-10009
    ScenarioOrder("C1002", "shipped", 2, (("AUR-G9", 1),)),  # ORD-10010
    ScenarioOrder("C1002", "paid", 1, (("OXE-GRIND2", 1),)),  # ORD-10011
    ScenarioOrder("C1002", "delivered", 75, (("LUM-BAR31", 1),)),  # ORD-10012
    ScenarioOrder(
        "C1002", "delivered", 8, (("HAL-MAG15", 1),), returns={"HAL-MAG15": "requested"}
    ),  # ORD-10013
    # C1003 Sofia Martinez: return window edges (last day tomorrow / closed yesterday).
    ScenarioOrder("C1003", "delivered", 29, (("NIM-PULSE3L", 1),)),  # ORD-10014
    ScenarioOrder("C1003", "delivered", 31, (("BRE-AIRFRY55", 1),)),  # ORD-10015
    ScenarioOrder("C1003", "pending", 1, (("VEL-S5", 1),)),  # ORD-10016
    ScenarioOrder("C1003", "returned", 50, (("COR-FIT2", 1),)),  # ORD-10017
)

# Further customers get generated orders (deterministic random generator, see seed.py).
GENERATED_ORDERS_PER_CUSTOMER = 4
GENERATED_STATUS_CYCLE = (
    "delivered",
    "shipped",
    "delivered",
    "paid",
    "cancelled",
    "delivered",
    "returned",
    "pending",
    "delivered",
    "shipped",
)
PAYMENT_METHODS = ("Visa", "Mastercard", "American Express", "PayPal", "Apple Pay", "Google Pay")
RETURN_REASONS = (
    "Did not fit my needs",
    "Found a better model",
    "Stopped working after a week",
    "Arrived with a scratch",
    "Ordered by mistake",
)
