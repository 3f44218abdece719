"""Shared fixtures: the real packaged encoder and a small knowledge base written to disk."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rasa_llm_components.encoders import SentenceEncoder

FAQ_YAML = """
faqs:
  - id: send-back
    topic: returns
    question: Sending items back
    answer: You may send an unwanted purchase back within thirty days for a full refund.
  - id: shipping-canada
    topic: shipping
    question: Do you ship to Canada?
    answer: Yes. Delivery to Canada takes 5 to 8 business days and costs $12.99.
  - question: Which payment methods do you accept?
    answer: Visa, Mastercard and PayPal. We do not accept cryptocurrency.
"""

POLICIES_MD = """
# Shop policies

Intro text about the shop.

## Warranty

Every device has a warranty of 24 months from delivery.

### Batteries

Batteries are covered if capacity drops below 80% within 12 months.

## Privacy

{long_text}
"""

CATALOG_CSV = """sku,name,category,price,description
AUR-X200,Auralis X200 Headphones,headphones,249.00,Over-ear headphones with noise cancelling.
TID-WAVE2,Tidewell Wave 2 Speaker,speakers,89.00,A portable speaker for the beach.
BRE-KETTLE,Brevik Smart Kettle,kitchen,69.00,A kettle you can control from your phone.
"""

LONG_PRIVACY = " ".join(
    f"Sentence {number} explains how personal data is handled in case {number}."
    for number in range(1, 41)
)


def write_knowledge_base(directory: Path) -> Path:
    """Writes faq.yml, policies.md and catalog.csv into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "faq.yml").write_text(textwrap.dedent(FAQ_YAML), encoding="utf-8")
    (directory / "policies.md").write_text(
        textwrap.dedent(POLICIES_MD).format(long_text=LONG_PRIVACY), encoding="utf-8"
    )
    (directory / "catalog.csv").write_text(CATALOG_CSV, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


@pytest.fixture(scope="module")
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_knowledge_base(tmp_path_factory.mktemp("knowledge"))
