"""CSV knowledge: one passage per row (a product catalog, a price list ...)."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from rasa_llm_components.retrieval.files import read_text
from rasa_llm_components.retrieval.passage import KnowledgeBaseError, Passage, slugify

logger = logging.getLogger(__name__)

TITLE_COLUMNS = ("name", "title", "product_name", "product", "question")
ID_COLUMNS = ("sku", "id", "product_id", "code", "key")


def _pick(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {column.strip().lower(): column for column in columns}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None


def load_table(path: Path) -> list[Passage]:
    """Loads a CSV file with a header row.

    The title comes from the first of the columns name/title/product_name/product/question, the
    id key from sku/id/product_id/code/key (the row number otherwise); the text is one
    ``"column: value"`` line per other non-empty cell. All cells go to ``metadata["fields"]``.
    """
    text = read_text(path)
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise KnowledgeBaseError(
            f"Knowledge file '{path.name}' line {reader.line_num}: not valid CSV ({error}). Quote "
            "cells that contain commas, quotes or line breaks."
        ) from error
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        logger.warning("Knowledge file '%s' is empty.", path.name)
        return []
    header = [cell.strip() for cell in rows[0]]
    if any(not name for name in header) or len(set(header)) != len(header):
        raise KnowledgeBaseError(
            f"Knowledge file '{path.name}': the header row needs unique, non-empty column names."
        )
    title_column = _pick(header, TITLE_COLUMNS)
    id_column = _pick(header, ID_COLUMNS)
    passages = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise KnowledgeBaseError(
                f"Knowledge file '{path.name}': line {number} has {len(row)} cells, the header "
                f"has {len(header)}."
            )
        fields = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        title = fields.get(title_column, "") if title_column else ""
        key = fields.get(id_column, "") if id_column else ""
        key = key or (slugify(title) if title else f"row-{number - 1}")
        lines = [
            f"{name}: {value}"
            for name, value in fields.items()
            if value and name not in (title_column,)
        ]
        metadata: dict[str, object] = {"kind": "row", "row": number - 1, "fields": fields}
        if title_column:
            metadata["name"] = title
        if id_column and fields.get(id_column):
            metadata[id_column.lower()] = fields[id_column]
        passages.append(
            Passage(id=f"{path.stem}:{key}", title=title, text="\n".join(lines), source=path.name,
                    metadata=metadata)
        )
    return passages
