"""A stand-in for a strong LLM: an OpenAI-compatible server that replies with written answers.

The answer benchmark uses it to measure what the grounded answerer does with a *good* model
(are good answers kept, or rejected by the answer checks?) without a large model. Each request
gets the `strong_answer` of the question whose text appears in the last user message (the
longest such question, compared after the prompt's sanitising, white space and case
normalisation); when none appears it gets `FALLBACK`.

    with StrongLLMServer([("how much is shipping?", "Shipping costs $4.99.")]) as url:
        backend = create_backend({"backend": "openai", "base_url": url, "model": "strong-sim"})

    python -m benchmarks.strong_llm_server --questions data/answers/heldout.yml --port 8765
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rasa_llm_components.answering.prompt import sanitize_user_text

FALLBACK = "I'm sorry, I don't know."
MODEL = "strong-sim"


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _last_user_message(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
                content = " ".join(
                    str(part.get("text", "")) for part in content if isinstance(part, dict)
                )
            return content if isinstance(content, str) else ""
    return ""


def _apply_stop(text: str, stop: Any) -> str:
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    for sequence in stops:
        if isinstance(sequence, str) and sequence and sequence in text:
            text = text[: text.index(sequence)]
    return text


class StrongAnswers:
    """Maps the text of a prompt's last user message to a written answer."""

    def __init__(self, pairs: Iterable[tuple[str, str]], fallback: str = FALLBACK) -> None:
        self.fallback = fallback
        keyed: dict[str, str] = {}
        for question, answer in pairs:
            # The prompt sanitises (and truncates) the question as `build_messages` does.
            key = _normalize(sanitize_user_text(question))
            if key:
                keyed[key] = answer
        # Longest first: the first contained key is the longest match.
        self._keys = sorted(keyed.items(), key=lambda item: len(item[0]), reverse=True)
        self.requests = 0
        self.matched = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def answer(self, messages: Any) -> str:
        text = _normalize(_last_user_message(messages))
        reply = next((answer for key, answer in self._keys if key in text), None)
        with self._lock:
            self.requests += 1
            self.matched += reply is not None
        return self.fallback if reply is None else reply


def chat_completion(content: str, model: str, number: int) -> dict[str, Any]:
    """An OpenAI chat-completion response with `content` as the assistant message."""
    tokens = len(content.split())
    return {
        "id": f"chatcmpl-strong-sim-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": tokens, "total_tokens": tokens},
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send(
                200,
                {
                    "object": "list",
                    "data": [{"id": MODEL, "object": "model", "owned_by": "benchmark"}],
                },
            )
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._error(404, f"no route {self.path}")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
        except (ValueError, json.JSONDecodeError):
            self._error(400, "the body is not JSON")
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._error(400, "'messages' is required")
            return
        answers = self.server.answers
        content = _apply_stop(answers.answer(body["messages"]), body.get("stop"))
        self._send(200, chat_completion(content, str(body.get("model") or MODEL), answers.requests))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], answers: StrongAnswers) -> None:
        super().__init__(address, _Handler)
        self.answers = answers


class StrongLLMServer:
    """Serves `POST /v1/chat/completions` and `GET /v1/models` on 127.0.0.1 in a thread.

    `pairs` are (question text, answer); port 0 picks a free port. As a context manager it
    yields the base URL (`http://127.0.0.1:PORT/v1`) for the OpenAI-compatible client.
    """

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]],
        host: str = "127.0.0.1",
        port: int = 0,
        fallback: str = FALLBACK,
    ) -> None:
        self.answers = StrongAnswers(pairs, fallback)
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return f"http://{self.host}:{self._server.server_address[1]}/v1"

    def start(self) -> str:
        """Starts serving (once) and returns the base URL."""
        if self._server is None:
            self._server = _Server((self.host, self.port), self.answers)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="strong-llm-server",
                daemon=True,
            )
            self._thread.start()
        return self.url

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def stats(self) -> dict[str, int]:
        return {
            "questions": len(self.answers),
            "requests": self.answers.requests,
            "matched": self.answers.matched,
        }

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def question_pairs(questions: Iterable[Any]) -> list[tuple[str, str]]:
    """(question, strong_answer) of the benchmark questions that have a strong answer."""
    return [(q.question, q.strong_answer) for q in questions if q.strong_answer]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.question_set import load_questions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default="data/answers/heldout.yml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    args = parser.parse_args(argv)
    pairs = question_pairs(load_questions(args.questions))
    if not pairs:
        raise SystemExit(f"{args.questions} has no strong_answer entries.")
    server = StrongLLMServer(pairs, host=args.host, port=args.port)
    url = server.start()
    print(f"Serving {len(pairs)} strong answers at {url} (model '{MODEL}'); Ctrl-C stops.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stats = server.stats()
        server.close()
        print(f"{stats['requests']} requests, {stats['matched']} matched a question.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
