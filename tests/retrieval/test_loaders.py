"""Loading passages from YAML, JSON, Markdown and CSV, and the errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rasa_llm_components.retrieval import (
    KnowledgeBaseError,
    Passage,
    knowledge_fingerprint,
    known_names,
    load_passages,
)
from rasa_llm_components.retrieval.chunking import chunk_text, split_sentences
from tests.retrieval.conftest import write_knowledge_base


def by_id(passages: list[Passage]) -> dict[str, Passage]:
    return {passage.id: passage for passage in passages}


def test_faq_yaml_entries_become_passages(knowledge_dir: Path) -> None:
    passages = by_id(load_passages([knowledge_dir / "faq.yml"]))
    canada = passages["faq:shipping-canada"]
    assert canada.title == "Do you ship to Canada?"
    assert canada.text.startswith("Yes. Delivery to Canada")
    assert canada.source == "faq.yml"
    assert canada.metadata == {"topic": "shipping", "kind": "faq"}
    # No id: a slug of the question.
    assert "faq:which-payment-methods-do-you-accept" in passages
    assert "Do you ship to Canada?" in canada.content


def test_faq_json_list_and_yaml_list(tmp_path: Path) -> None:
    entries = [{"id": "a", "question": "Q one?", "answer": "A one."},
               {"title": "Q two", "text": "A two.", "extra": [1, 2]}]
    (tmp_path / "help.json").write_text(json.dumps(entries), encoding="utf-8")
    (tmp_path / "more.yaml").write_text("- question: Q three?\n  answer: A three.\n",
                                        encoding="utf-8")
    passages = by_id(load_passages([tmp_path]))
    assert set(passages) == {"help:a", "help:q-two", "more:q-three"}
    assert passages["help:q-two"].metadata["extra"] == [1, 2]
    json.dumps([passage.to_dict() for passage in passages.values()])


def test_markdown_is_split_on_headings_and_long_sections_are_chunked(knowledge_dir: Path) -> None:
    passages = load_passages([knowledge_dir / "policies.md"], max_words=100)
    ids = [passage.id for passage in passages]
    assert ids[:3] == ["policies:shop-policies", "policies:warranty", "policies:batteries"]
    privacy = [passage for passage in passages if passage.id.startswith("policies:privacy")]
    assert len(privacy) >= 3
    assert [passage.id for passage in privacy][:2] == ["policies:privacy#1", "policies:privacy#2"]
    assert all(len(passage.text.split()) <= 100 for passage in privacy)
    assert " ".join(passage.text for passage in privacy).count("Sentence") == 40
    batteries = by_id(passages)["policies:batteries"]
    assert batteries.title == "Batteries"
    assert batteries.metadata["section"] == "Shop policies > Warranty > Batteries"


def test_markdown_soft_wraps_and_bold_are_cleaned(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text(
        "## Returns\n\n- You can return within **30 days\n  of delivery**.\n- No restocking fee.\n",
        encoding="utf-8",
    )
    (passage,) = load_passages([tmp_path / "p.md"])
    assert passage.text == "- You can return within 30 days of delivery.\n- No restocking fee."
    assert split_sentences(passage.text) == [
        "You can return within 30 days of delivery.", "No restocking fee."
    ]


def test_nested_list_items_say_what_they_are_about(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text(
        "## Shipping\n\n- **United States**:\n  - Standard: 3 to 5 days,\n    $4.99.\n"
        "  - Express: 1 to 2 days.\n- Canada: 5 to 8 days.\n- A lead with nothing under it:\n",
        encoding="utf-8",
    )
    (passage,) = load_passages([tmp_path / "p.md"])
    assert split_sentences(passage.text) == [
        "United States, standard: 3 to 5 days, $4.99.",
        "United States, express: 1 to 2 days.",
        "Canada: 5 to 8 days.",
        "A lead with nothing under it:",
    ]


def test_csv_rows_become_passages(knowledge_dir: Path) -> None:
    passages = by_id(load_passages([knowledge_dir / "catalog.csv"]))
    assert list(passages) == ["catalog:AUR-X200", "catalog:TID-WAVE2", "catalog:BRE-KETTLE"]
    x200 = passages["catalog:AUR-X200"]
    assert x200.title == "Auralis X200 Headphones"
    assert "price: 249.00" in x200.text.splitlines()
    assert "name:" not in x200.text
    assert x200.metadata["sku"] == "AUR-X200"
    assert x200.metadata["fields"]["category"] == "headphones"
    assert known_names(passages.values())[:2] == ["AUR-X200", "Auralis X200 Headphones"]


def test_directory_is_loaded_recursively_in_sorted_order(tmp_path: Path) -> None:
    write_knowledge_base(tmp_path / "kb" / "nested")
    (tmp_path / "kb" / ".hidden.txt").write_text("ignored", encoding="utf-8")
    sources = [passage.source for passage in load_passages(tmp_path / "kb")]
    assert sources[0] == "catalog.csv" and sources[-1] == "policies.md"
    assert set(sources) == {"catalog.csv", "faq.yml", "policies.md"}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("faq.yml", "faqs:\n  - question: [unclosed\n", "not valid"),
        ("faq.yml", "faqs:\n  - question: Only a question\n", "answer"),
        ("faq.yml", "faqs: not-a-list\n", "must be a list"),
        ("faq.json", "{broken json", "not valid"),
        ("faq.yml", "just a string\n", "list of entries"),
        ("catalog.csv", "sku,name\nA-1,One\nB-2,Two,extra\n", "line 3"),
        ("catalog.csv", "sku,sku\nA,B\n", "header"),
        ("notes.docx", "binary", "unsupported extension"),
    ],
)
def test_bad_files_raise_an_error_naming_the_file(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as error:
        load_passages([tmp_path])
    assert name in str(error.value)
    assert reason in str(error.value)


def test_invalid_utf8_missing_path_and_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_bytes(b"## Title\n\xff\xfe broken")
    with pytest.raises(KnowledgeBaseError, match="bad.md.*UTF-8"):
        load_passages([tmp_path / "bad.md"])
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        load_passages([tmp_path / "missing"])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "faq.yml").write_text("- {id: x, question: Q, answer: A}\n")
    with pytest.raises(KnowledgeBaseError, match="faq:x"):
        load_passages([tmp_path / "a", tmp_path / "b"])


def test_fingerprint_follows_names_and_contents(tmp_path: Path) -> None:
    kb = write_knowledge_base(tmp_path / "kb")
    first = knowledge_fingerprint([kb])
    assert first == knowledge_fingerprint(str(kb))
    copy = write_knowledge_base(tmp_path / "elsewhere")
    assert knowledge_fingerprint([copy]) == first
    (kb / "faq.yml").write_text((kb / "faq.yml").read_text() + "\n# comment\n")
    second = knowledge_fingerprint([kb])
    assert second != first
    (kb / "faq.yml").rename(kb / "faq2.yml")
    assert knowledge_fingerprint([kb]) != second


def test_chunk_text_keeps_short_text_whole_and_bounds_long_text() -> None:
    assert chunk_text("Short text.", max_words=5) == ["Short text."]
    chunks = chunk_text(" ".join(f"Sentence number {i}." for i in range(30)), max_words=10)
    assert all(len(chunk.split()) <= 10 for chunk in chunks)
    assert len(chunks) == 10
