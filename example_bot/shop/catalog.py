"""Reads the product catalog (knowledge/catalog.csv, the single source of truth for products)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

CATALOG_PATH = Path(__file__).resolve().parent.parent / "knowledge" / "catalog.csv"
REQUIRED_COLUMNS = (
    "sku",
    "name",
    "category",
    "brand",
    "price",
    "stock",
    "warranty_months",
    "description",
    "specs",
    "compatibility",
    "features",
)

# Words customers use for a category -> the catalog's category name.
CATEGORY_SYNONYMS = {
    "headphones": (
        "headphone",
        "headphones",
        "earbud",
        "earbuds",
        "earphone",
        "earphones",
        "headset",
        "headsets",
        "buds",
        "in-ear",
        "over-ear",
    ),
    "speakers": ("speaker", "speakers", "soundbar", "soundbars", "bluetooth speaker"),
    "smartwatches": (
        "smartwatch",
        "smartwatches",
        "smart watch",
        "smart watches",
        "watch",
        "watches",
        "fitness tracker",
        "fitness band",
        "wearable",
        "wearables",
    ),
    "kitchen": (
        "kitchen",
        "kitchen appliance",
        "kitchen appliances",
        "coffee",
        "coffee machine",
        "kettle",
        "blender",
        "air fryer",
    ),
    "laptop accessories": (
        "laptop accessories",
        "laptops accessories",
        "laptop accessory",
        "laptop",
        "laptops",
        "computer accessories",
        "pc accessories",
        "keyboard",
        "keyboards",
        "mouse",
        "usb-c hub",
        "hub",
        "ssd",
    ),
    "phone accessories": (
        "phone accessories",
        "phone accessory",
        "phone",
        "phones",
        "mobile accessories",
        "charger",
        "chargers",
        "power bank",
        "powerbank",
        "phone case",
        "cable",
    ),
    "smart home": (
        "smart home",
        "smarthome",
        "home automation",
        "smart bulb",
        "smart bulbs",
        "smart plug",
        "camera",
        "security camera",
        "doorbell",
        "thermostat",
        "robot vacuum",
    ),
}


@dataclass(frozen=True)
class CatalogProduct:
    """One row of the catalog, with the price in cents and the specs parsed."""

    sku: str
    name: str
    category: str
    brand: str
    price_cents: int
    stock: int
    warranty_months: int
    description: str
    specs: str
    compatibility: str
    features: str


def parse_specs(specs: str) -> dict[str, str]:
    """Parses "key: value; key: value" into an ordered dict."""
    parsed: dict[str, str] = {}
    for part in specs.split(";"):
        key, separator, value = part.partition(":")
        if separator and key.strip():
            parsed[key.strip()] = value.strip()
    return parsed


def price_to_cents(price: str) -> int:
    """Converts a catalog price such as "249.00" to cents without float rounding errors."""
    units, _, decimals = price.strip().partition(".")
    return int(units) * 100 + int((decimals + "00")[:2])


def load_catalog(path: Path | str | None = None) -> list[CatalogProduct]:
    """Reads and validates the catalog CSV; raises ValueError on a malformed file."""
    catalog_path = Path(path) if path else CATALOG_PATH
    with catalog_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{catalog_path}: missing columns {missing}")
        products = []
        for line_number, row in enumerate(reader, start=2):
            try:
                products.append(
                    CatalogProduct(
                        sku=row["sku"].strip(),
                        name=row["name"].strip(),
                        category=row["category"].strip().lower(),
                        brand=row["brand"].strip(),
                        price_cents=price_to_cents(row["price"]),
                        stock=int(row["stock"]),
                        warranty_months=int(row["warranty_months"]),
                        description=row["description"].strip(),
                        specs=row["specs"].strip(),
                        compatibility=row["compatibility"].strip(),
                        features=row["features"].strip(),
                    )
                )
            except (TypeError, ValueError, AttributeError) as error:
                raise ValueError(f"{catalog_path}:{line_number}: {error}") from error
    skus = [product.sku for product in products]
    if len(set(skus)) != len(skus):
        raise ValueError(f"{catalog_path}: duplicate SKUs")
    return products


def normalize_category(raw: object) -> str | None:
    """Maps what a customer calls a category ("earbuds", "laptops accessories") to its name."""
    if raw is None:
        return None
    text = " ".join(str(raw).lower().replace("-", " ").split())
    if not text:
        return None
    for category, synonyms in CATEGORY_SYNONYMS.items():
        normalized = {" ".join(s.replace("-", " ").split()) for s in synonyms}
        if text == category or text in normalized:
            return category
    # "wireless earbuds", "a new smartwatch": look for a known word inside the phrase.
    for category, synonyms in CATEGORY_SYNONYMS.items():
        for synonym in sorted(synonyms, key=len, reverse=True):
            if f" {synonym.replace('-', ' ')} " in f" {text} ":
                return category
    return None


# Words that turn a statement in product data into its opposite: "no noise cancelling", "without
# built-in GPS", "not compatible with Xbox", "gps: none".
_NEGATING_WORDS = frozenset("no not without non never nor isn't doesn't lacks".split())


def mentions(text: str, phrase: str) -> bool:
    """Whether product data states `phrase`, not negated ("without built-in GPS" does not count).

    Case-insensitive and on word boundaries; an occurrence counts unless one of the three words
    before it negates it or it is followed by ": none" / ": no".
    """
    pattern = r"(?<![a-z0-9])" + re.escape(phrase.lower()) + r"(?![a-z0-9])"
    lowered = text.lower()
    for match in re.finditer(pattern, lowered):
        before = re.split(r"[;,.(]", lowered[: match.start()])[-1].split()[-3:]
        after = lowered[match.end() : match.end() + 8]
        if _NEGATING_WORDS.isdisjoint(before) and not re.match(r"\s*:\s*(?:none|no)\b", after):
            return True
    return False
