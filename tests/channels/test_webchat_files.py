"""Serving the web chat folder: only plain files inside it, with the right content type."""

from __future__ import annotations

import pytest

from rasa_llm_components.channels.webchat_files import content_type, resolve_web_chat_file


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "webchat"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<html></html>")
    (root / "assets" / "chat.js").write_text("console.log(1)")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.mark.parametrize(
    ("name", "expected"),
    [("", "index.html"), ("index.html", "index.html"), ("assets/chat.js", "assets/chat.js"),
     ("assets/", None), ("assets%2Fchat.js", "assets/chat.js")],
)  # fmt: skip
def test_files_inside_the_folder(site, name, expected):
    found = resolve_web_chat_file(site, name)
    if expected is None:
        assert found is None
    else:
        assert found == (site / expected).resolve()


@pytest.mark.parametrize(
    "name",
    ["../secret.txt", "%2e%2e/secret.txt", "assets/../../secret.txt", "/etc/passwd", ".env",
     "link.txt", "assets", "missing.css", "a\\..\\..\\secret.txt", "index.html%00.js"],
)  # fmt: skip
def test_nothing_else_is_served(site, name):
    assert resolve_web_chat_file(site, name) is None


def test_content_types(site):
    assert content_type(site / "index.html") == "text/html; charset=utf-8"
    assert content_type(site / "assets" / "chat.js").endswith("javascript; charset=utf-8")
    assert content_type(site / "logo.png") == "image/png"
    assert content_type(site / "blob") == "application/octet-stream"
