"""Serving the web chat page (`rasa_llm_components/channels/webchat/`) under `/webchat/`.

Only plain files inside that folder are served: no `..`, no hidden files, no symlinks out of it,
with a content type from the file name and `X-Content-Type-Options: nosniff`.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

WEB_CHAT_DIR = Path(__file__).resolve().parent / "webchat"
WEB_CHAT_ROUTE = "/webchat"
INDEX = "index.html"
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def resolve_web_chat_file(root: Path, name: str) -> Path | None:
    """The file `name` (relative, as in the URL) inside `root`, or None when it is not a plain
    file there (missing, a folder, hidden, or outside `root`)."""
    name = unquote(name or "")
    if not name or name.endswith("/"):
        name += INDEX
    parts = PurePosixPath(name).parts
    if not parts or any(
        part.startswith(".") or part == "/" or "\\" in part or "\x00" in part for part in parts
    ):
        return None
    base = root.resolve()
    candidate = (base / PurePosixPath(*parts)).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def content_type(path: Path) -> str:
    """The content type of a served file (UTF-8 for text)."""
    guessed, _ = mimetypes.guess_type(path.name)
    kind = guessed or "application/octet-stream"
    if kind.startswith(TEXT_TYPES):
        kind += "; charset=utf-8"
    return kind


def web_chat_blueprint(root: Path = WEB_CHAT_DIR) -> Blueprint:
    """`GET /webchat/` (index.html) and `GET /webchat/<file>` for the files of `root`."""
    blueprint = Blueprint("signed_web_chat", url_prefix=WEB_CHAT_ROUTE)

    async def serve(name: str) -> HTTPResponse:
        path = resolve_web_chat_file(root, name)
        if path is None:
            return response.json({"error": "not found", "status": 404}, status=404)
        return await response.file(path, mime_type=content_type(path), headers=SECURITY_HEADERS)

    @blueprint.get("", strict_slashes=True)
    async def web_chat_root(_: Request) -> HTTPResponse:
        return response.redirect(f"{WEB_CHAT_ROUTE}/")

    @blueprint.get("/", strict_slashes=True)
    async def web_chat_index(_: Request) -> HTTPResponse:
        return await serve(INDEX)

    @blueprint.get("/<name:path>")
    async def web_chat_file(_: Request, name: str) -> HTTPResponse:
        return await serve(name)

    return blueprint
