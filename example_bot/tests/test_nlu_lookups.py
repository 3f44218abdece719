"""The product vocabulary of the NLU data stays in sync with the catalog (the source of truth)."""

from __future__ import annotations

from pathlib import Path

import yaml
from shop.catalog import load_catalog

LOOKUPS = Path(__file__).resolve().parents[1] / "data" / "nlu_lookups.yml"


def _examples(block: dict) -> set[str]:
    return {
        line[2:].strip().lower() for line in block["examples"].splitlines() if line.startswith("- ")
    }


def test_every_catalog_product_is_found_by_name_and_sku_and_maps_to_its_name():
    nlu = yaml.safe_load(LOOKUPS.read_text(encoding="utf-8"))["nlu"]
    lookup = next(_examples(b) for b in nlu if b.get("lookup") == "product")
    synonyms = {b["synonym"]: _examples(b) for b in nlu if "synonym" in b}
    for product in load_catalog():
        assert product.name.lower() in lookup, product.name
        assert product.sku.lower() in lookup, product.sku
        assert product.sku.lower() in synonyms.get(product.name, set()), product.name
