"""Product names and codes in the knowledge base, for the fact guard's ``known_names``."""

from __future__ import annotations

from collections.abc import Iterable

from rasa_llm_components.retrieval.passage import Passage

NAME_FIELDS = ("name", "sku", "model", "product_name")


def known_names(passages: Iterable[Passage]) -> list[str]:
    """Names and SKUs of the table rows (catalog products), in first-seen order.

    FAQ questions and section headings are not names and are left out.
    """
    names: dict[str, None] = {}
    for passage in passages:
        if passage.metadata.get("kind") != "row":
            continue
        fields = passage.metadata.get("fields") or {}
        for key, value in fields.items():
            if key.strip().lower() in NAME_FIELDS and str(value).strip():
                names[str(value).strip()] = None
    return list(names)
