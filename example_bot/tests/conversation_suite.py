"""The customer conversation suite: loading, running and checking conversations against the bot.

The conversations live in `conversations/*.yml` (the suite the bot is tuned on) and in
`conversations_heldout/*.yml` (a smaller held-out set, written blind and never tuned on; ids start
with `ho-`), written the way customers type. Each one has an
`id`, a `customer` (a customer id such as C1001, or null for an anonymous visitor), `tags` (the
flow and the repair cases it covers), `turns` and optional `db` checks:

    - id: cancel-never-mind-at-order-id
      customer: C1005
      tags: [cancel_order, cancel]
      action_server: up            # optional; `down`: the runner stops the action server first
      turns:
        - user: "cancel an order"
          expect: ['order (number|id)|which order']     # regexes that must all match the reply
          forbid: ['ORD-\\d{5} (is|has been) cancelled']  # optional: regexes that must not match
      db:
        - {unchanged: true}

`expect` and `forbid` are case-insensitive regular expressions searched in the bot's texts of
that turn, joined by newlines. A turn without any bot text is always a failure (a silent turn).

Database checks (run after the last turn; the database is restored to its seeded state before
every conversation):

- `{order: ORD-x, status: S}`: the order has status S.
- `{order: ORD-x, address_contains: T}` / `address_not_contains: T` / `address_unchanged: true`.
- `{returns: N, order: ORD-x, item: T, reason_contains: T, rma_in_reply: true}`: N returns were
  created in this conversation (filtered by order, item name and reason when given); with
  `rma_in_reply`, their RMA numbers appear in the bot's replies.
- `{tickets: N, customer: C, ticket_in_reply: true}`: N handoff tickets were created.
- `{unchanged: true}`: orders, shipments and returns are exactly as seeded.

This module also starts the servers (`BotServers`), trains or finds the model and seeds the
database, so that the pytest fixtures (conftest.py) and `benchmarks/conversation_suite.py` share
one implementation.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rasa_sdk
import requests
import yaml
from bot_processes import ManagedProcess, free_port, http_ok, run_checked
from chat_client import (
    CUSTOMER_TOKEN_SECRET_ENV,
    RASA_API_TOKEN_ENV,
    TEST_SECRETS,
    ChatClient,
    message_texts,
)

BOT_DIR = Path(__file__).resolve().parent.parent
CONVERSATIONS_DIR = Path(__file__).resolve().parent / "conversations"
# The held-out set: written blind, never tuned on; only for reporting (same format and runner).
HELDOUT_CONVERSATIONS_DIR = Path(__file__).resolve().parent / "conversations_heldout"
RASA = str(Path(sys.executable).parent / "rasa")
MODEL_ENV = "EXAMPLE_BOT_MODEL"
TRAIN_TIMEOUT_S = 900
START_TIMEOUT_S = 300
SEED_TIMEOUT_S = 120
ACTION_SERVER_TOKEN_ENV = "ACTION_SERVER_TOKEN"

# Quiet, deterministic subprocesses that never phone home.
PROCESS_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "RASA_TELEMETRY_ENABLED": "false",
    "PYTHONHASHSEED": "0",
    "TOKENIZERS_PARALLELISM": "false",
}

CUSTOMER_ID = re.compile(r"^C\d{4}$")
ORDER_ID = re.compile(r"^ORD-\d{5}$")
RMA_NUMBER = re.compile(r"RMA-\d{6}")
TICKET_NUMBER = re.compile(r"HT-\d+")
REGEX_FLAGS = re.IGNORECASE

CONVERSATION_KEYS = {"id", "customer", "tags", "turns", "db", "action_server"}
TURN_KEYS = {"user", "expect", "forbid"}
# The repair layer's "not understood" outside forms (the example domain's utter_repair_fallback):
# in every turn, never after another reply.
NOT_UNDERSTOOD_AFTER_A_REPLY = r"^Sorry, I didn't understand that\."
DB_CHECK_KEYS = {
    "order",
    "status",
    "address_contains",
    "address_not_contains",
    "address_unchanged",
    "returns",
    "item",
    "reason_contains",
    "rma_in_reply",
    "tickets",
    "customer",
    "ticket_in_reply",
    "unchanged",
}


class SuiteFormatError(ValueError):
    """A conversation file does not follow the format described in this module."""


# --- the conversations ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TurnSpec:
    """One customer message and what the bot's answer must (not) contain."""

    user: str
    expect: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConversationSpec:
    """One conversation of the suite, as written in a conversations/*.yml file."""

    id: str
    customer: str | None
    tags: tuple[str, ...]
    turns: tuple[TurnSpec, ...]
    db: tuple[dict[str, Any], ...] = ()
    action_server: str = "up"
    source: str = ""

    @property
    def needs_action_server_down(self) -> bool:
        """Whether the runner has to stop the action server for this conversation."""
        return self.action_server == "down"


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SuiteFormatError(f"{where}: expected a list of strings, got {value!r}")
    for pattern in value:
        try:
            re.compile(pattern, REGEX_FLAGS)
        except re.error as error:
            raise SuiteFormatError(f"{where}: invalid regex {pattern!r}: {error}") from error
    return tuple(value)


def _db_check(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise SuiteFormatError(f"{where}: a db check is a mapping, got {raw!r}")
    unknown = set(raw) - DB_CHECK_KEYS
    if unknown:
        raise SuiteFormatError(f"{where}: unknown db check keys {sorted(unknown)}")
    kinds = {"status", "address_contains", "address_not_contains", "address_unchanged"}
    if kinds & set(raw) and not ORDER_ID.match(str(raw.get("order", ""))):
        raise SuiteFormatError(f"{where}: order checks need `order: ORD-xxxxx`")
    if not ({"returns", "tickets", "unchanged"} | kinds) & set(raw):
        raise SuiteFormatError(f"{where}: the db check {raw!r} checks nothing")
    return dict(raw)


def parse_conversation(raw: Any, source: str) -> ConversationSpec:
    """Validates one conversation mapping of a conversations file."""
    if not isinstance(raw, dict):
        raise SuiteFormatError(f"{source}: a conversation is a mapping, got {raw!r}")
    conversation_id = str(raw.get("id") or "")
    where = f"{source}:{conversation_id or '?'}"
    if not conversation_id:
        raise SuiteFormatError(f"{where}: missing id")
    unknown = set(raw) - CONVERSATION_KEYS
    if unknown:
        raise SuiteFormatError(f"{where}: unknown keys {sorted(unknown)}")
    customer = raw.get("customer")
    if customer is not None and not CUSTOMER_ID.match(str(customer)):
        raise SuiteFormatError(f"{where}: customer must be like C1001 or null, got {customer!r}")
    tags = _string_list(raw.get("tags"), f"{where}: tags")
    if not tags:
        raise SuiteFormatError(f"{where}: at least one tag is needed")
    raw_turns = raw.get("turns")
    if not isinstance(raw_turns, list) or not raw_turns:
        raise SuiteFormatError(f"{where}: turns must be a non-empty list")
    turns = []
    for index, raw_turn in enumerate(raw_turns, start=1):
        turn_where = f"{where}: turn {index}"
        if not isinstance(raw_turn, dict) or not isinstance(raw_turn.get("user"), str):
            raise SuiteFormatError(f"{turn_where}: needs `user: <text>`")
        unknown = set(raw_turn) - TURN_KEYS
        if unknown:
            raise SuiteFormatError(f"{turn_where}: unknown keys {sorted(unknown)}")
        turns.append(
            TurnSpec(
                user=raw_turn["user"],
                expect=_string_list(raw_turn.get("expect"), f"{turn_where}: expect"),
                forbid=_string_list(raw_turn.get("forbid"), f"{turn_where}: forbid"),
            )
        )
    raw_db = raw.get("db") or []
    if not isinstance(raw_db, list):
        raise SuiteFormatError(f"{where}: db must be a list of checks")
    action_server = str(raw.get("action_server", "up"))
    if action_server not in ("up", "down"):
        raise SuiteFormatError(f"{where}: action_server must be up or down")
    return ConversationSpec(
        id=conversation_id,
        customer=customer,
        tags=tags,
        turns=tuple(turns),
        db=tuple(_db_check(check, f"{where}: db") for check in raw_db),
        action_server=action_server,
        source=source,
    )


def load_conversations(directory: Path = CONVERSATIONS_DIR) -> list[ConversationSpec]:
    """All conversations of `directory/*.yml`, in file order; the ones that need the action
    server stopped come last. Ids must be unique."""
    conversations: list[ConversationSpec] = []
    for path in sorted(Path(directory).glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        raw_conversations = content.get("conversations") if isinstance(content, dict) else None
        if not isinstance(raw_conversations, list):
            raise SuiteFormatError(f"{path.name}: needs a top-level `conversations:` list")
        conversations.extend(parse_conversation(raw, path.name) for raw in raw_conversations)
    seen: set[str] = set()
    for conversation in conversations:
        if conversation.id in seen:
            raise SuiteFormatError(f"duplicate conversation id {conversation.id!r}")
        seen.add(conversation.id)
    return sorted(conversations, key=lambda conversation: conversation.needs_action_server_down)


def select_conversations(
    conversations: Iterable[ConversationSpec],
    tags: Sequence[str] = (),
    ids: Sequence[str] = (),
) -> list[ConversationSpec]:
    """The conversations with any of `tags` and any of `ids` (an empty filter keeps all)."""
    return [
        conversation
        for conversation in conversations
        if (not tags or set(tags) & set(conversation.tags)) and (not ids or conversation.id in ids)
    ]


# --- results -------------------------------------------------------------------------------------
@dataclass
class TurnResult:
    """What the bot answered to one customer message, and which expectations failed."""

    user: str
    messages: list[dict[str, Any]]
    failures: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        """The bot's texts for this turn."""
        return message_texts(self.messages)

    @property
    def silent(self) -> bool:
        """True when the bot sent no text at all."""
        return not self.texts


@dataclass
class ConversationResult:
    """The outcome of one conversation."""

    spec: ConversationSpec
    turns: list[TurnResult] = field(default_factory=list)
    db_failures: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """No failed expectation, no silent turn, no failed database check, no error."""
        return (
            self.error is None
            and not self.db_failures
            and not any(turn.failures for turn in self.turns)
            and len(self.turns) == len(self.spec.turns)
        )

    @property
    def silent_turns(self) -> int:
        """How many turns got no bot text."""
        return sum(turn.silent for turn in self.turns)

    def failure_reasons(self) -> list[str]:
        """Every failure, each prefixed with where it happened."""
        reasons = [
            f"turn {index}: {failure}"
            for index, turn in enumerate(self.turns, start=1)
            for failure in turn.failures
        ]
        reasons.extend(f"db: {failure}" for failure in self.db_failures)
        if self.error:
            reasons.append(f"error: {self.error}")
        return reasons

    def transcript(self) -> str:
        """The conversation as the customer saw it, with the failed expectations marked."""
        spec = self.spec
        who = spec.customer or "anonymous visitor"
        lines = [
            f"conversation {spec.id} as {who} ({spec.source}; tags: {', '.join(spec.tags)})"
            + (" [action server stopped]" if spec.needs_action_server_down else "")
        ]
        for index, turn in enumerate(self.turns, start=1):
            lines.append(f"  {index}> {turn.user}")
            for text in turn.texts or ["(no text: silent turn)"]:
                lines.extend(
                    f"     {'<' if i == 0 else ' '} {line}"
                    for i, line in enumerate(text.splitlines() or [""])
                )
            lines.extend(f"     FAILED: {failure}" for failure in turn.failures)
        for index in range(len(self.turns), len(spec.turns)):
            lines.append(f"  {index + 1}> {spec.turns[index].user}   (not sent)")
        lines.extend(f"  FAILED db: {failure}" for failure in self.db_failures)
        if self.error:
            lines.append(f"  ERROR: {self.error}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly record of this result."""
        return {
            "id": self.spec.id,
            "customer": self.spec.customer,
            "tags": list(self.spec.tags),
            "source": self.spec.source,
            "passed": self.passed,
            "silent_turns": self.silent_turns,
            "seconds": round(self.seconds, 2),
            "turns": [
                {"user": turn.user, "bot": turn.texts, "failures": turn.failures}
                for turn in self.turns
            ],
            "db_failures": self.db_failures,
            "error": self.error,
        }


def check_turn(turn: TurnSpec, messages: list[dict[str, Any]]) -> TurnResult:
    """Checks one bot answer against the turn's expectations."""
    result = TurnResult(user=turn.user, messages=messages)
    joined = "\n".join(result.texts)
    if result.silent:
        result.failures.append("silent turn: the bot sent no text")
    for pattern in turn.expect:
        if not re.search(pattern, joined, REGEX_FLAGS):
            result.failures.append(f"expected /{pattern}/ in the reply")
    for pattern in turn.forbid:
        match = re.search(pattern, joined, REGEX_FLAGS)
        if match:
            result.failures.append(f"forbidden /{pattern}/ matched {match.group(0)!r}")
    if any(re.search(NOT_UNDERSTOOD_AFTER_A_REPLY, text, REGEX_FLAGS) for text in result.texts[1:]):
        # an answer followed by "I didn't understand that" contradicts itself, whatever the
        # expectations say
        result.failures.append("the bot said it did not understand after replying")
    return result


# --- the shop database ---------------------------------------------------------------------------
class ShopDatabase:
    """The SQLite shop database of the action server, with a pristine seeded copy to restore.

    `reset()` copies the pristine database into the live file with SQLite's online backup API,
    which takes the proper locks, so it is safe while the action server is running.
    """

    def __init__(self, path: Path, pristine_path: Path) -> None:
        self.path = Path(path)
        self.pristine_path = Path(pristine_path)

    @property
    def url(self) -> str:
        """The SQLAlchemy URL for SHOP_DATABASE_URL."""
        return f"sqlite:///{self.path}"

    @classmethod
    def seed(cls, path: Path) -> ShopDatabase:
        """Seeds a fresh database at `path` (shop.seed --reset) and keeps a pristine copy."""
        path = Path(path)
        run_checked(
            [sys.executable, "-m", "shop.seed", "--url", f"sqlite:///{path}", "--reset"],
            cwd=BOT_DIR,
            env=PROCESS_ENV,
            timeout=SEED_TIMEOUT_S,
        )
        pristine = path.with_name(f"{path.stem}.pristine{path.suffix}")
        shutil.copyfile(path, pristine)
        return cls(path, pristine)

    def reset(self) -> None:
        """Restores the seeded state (the same day's dates and ids)."""
        with sqlite3.connect(self.pristine_path) as source, sqlite3.connect(self.path) as target:
            source.backup(target)

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        """Reads the live database."""
        with sqlite3.connect(self.path) as connection:
            return connection.execute(sql, parameters).fetchall()

    def _pristine_query(self, sql: str, *parameters: object) -> list[tuple]:
        with sqlite3.connect(self.pristine_path) as connection:
            return connection.execute(sql, parameters).fetchall()

    def _order(self, order_id: str, pristine: bool = False) -> tuple | None:
        run = self._pristine_query if pristine else self.query
        rows = run("SELECT status, shipping_address FROM orders WHERE id = ?", order_id)
        return rows[0] if rows else None

    def new_returns(self) -> list[dict[str, Any]]:
        """Returns created since the seed, with order, item name, reason and RMA number."""
        seeded_max = self._pristine_query("SELECT COALESCE(MAX(id), 0) FROM returns")[0][0]
        rows = self.query(
            "SELECT r.order_id, p.name, r.reason, r.rma_number FROM returns r "
            "JOIN order_items i ON i.id = r.order_item_id "
            "JOIN products p ON p.sku = i.product_sku WHERE r.id > ? ORDER BY r.id",
            seeded_max,
        )
        keys = ("order", "item", "reason", "rma_number")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def new_tickets(self) -> list[dict[str, Any]]:
        """Handoff tickets created since the seed."""
        seeded_max = self._pristine_query("SELECT COALESCE(MAX(id), 0) FROM handoff_tickets")[0][0]
        rows = self.query(
            "SELECT ticket_number, customer_id FROM handoff_tickets WHERE id > ? ORDER BY id",
            seeded_max,
        )
        return [{"ticket_number": number, "customer": customer} for number, customer in rows]

    def _business_state(self, pristine: bool = False) -> dict[str, list[tuple]]:
        run = self._pristine_query if pristine else self.query
        return {
            "orders": run(
                "SELECT id, status, shipping_address, cancelled_at FROM orders ORDER BY id"
            ),
            "shipments": run("SELECT * FROM shipments ORDER BY id"),
            "returns": run("SELECT * FROM returns ORDER BY id"),
        }

    def check(self, checks: Iterable[dict[str, Any]], transcript: str) -> list[str]:
        """Runs the conversation's database checks; returns the failures."""
        failures: list[str] = []
        for check in checks:
            failures.extend(self._check_one(check, transcript))
        return failures

    def _check_one(self, check: dict[str, Any], transcript: str) -> list[str]:
        failures: list[str] = []
        order_id = check.get("order")
        if any(key.startswith("address") or key == "status" for key in check):
            current = self._order(order_id)
            if current is None:
                return [f"order {order_id} is missing"]
            status, address = current
            if "status" in check and status != check["status"]:
                failures.append(f"{order_id} status is {status!r}, expected {check['status']!r}")
            if "address_contains" in check and check["address_contains"] not in (address or ""):
                failures.append(
                    f"{order_id} address is {address!r}, expected it to contain "
                    f"{check['address_contains']!r}"
                )
            if "address_not_contains" in check and (
                check["address_not_contains"].lower() in (address or "").lower()
            ):
                failures.append(
                    f"{order_id} address {address!r} contains {check['address_not_contains']!r}"
                )
            if check.get("address_unchanged"):
                seeded = self._order(order_id, pristine=True)
                if seeded is None or seeded[1] != address:
                    failures.append(f"{order_id} address changed to {address!r}")
        if "returns" in check:
            returns = self.new_returns()
            matching = [
                record
                for record in returns
                if (not order_id or record["order"] == order_id)
                and ("item" not in check or check["item"].lower() in record["item"].lower())
                and (
                    "reason_contains" not in check
                    or check["reason_contains"].lower() in (record["reason"] or "").lower()
                )
            ]
            if len(matching) != check["returns"]:
                failures.append(
                    f"expected {check['returns']} new return(s) matching "
                    f"{ {k: v for k, v in check.items() if k != 'rma_in_reply'} }, "
                    f"found {len(matching)}; all new returns: {returns}"
                )
            if check.get("rma_in_reply"):
                for record in matching:
                    if record["rma_number"] not in transcript:
                        failures.append(f"RMA {record['rma_number']} is not in the bot's replies")
        if "tickets" in check:
            tickets = [
                ticket
                for ticket in self.new_tickets()
                if "customer" not in check or ticket["customer"] == check["customer"]
            ]
            if len(tickets) != check["tickets"]:
                failures.append(
                    f"expected {check['tickets']} new handoff ticket(s), found {tickets}"
                )
            if check.get("ticket_in_reply"):
                for ticket in tickets:
                    if ticket["ticket_number"] not in transcript:
                        failures.append(
                            f"ticket {ticket['ticket_number']} is not in the bot's replies"
                        )
        if check.get("unchanged"):
            current_state = self._business_state()
            seeded_state = self._business_state(pristine=True)
            for table, rows in current_state.items():
                if rows != seeded_state[table]:
                    changed = sorted(set(rows) ^ set(seeded_state[table]))[:4]
                    failures.append(f"table {table} changed: {changed}")
        return failures


# --- running -------------------------------------------------------------------------------------
def run_conversation(
    client: ChatClient,
    spec: ConversationSpec,
    database: ShopDatabase | None,
    servers: BotServers | None = None,
) -> ConversationResult:
    """Holds one conversation with the running bot and checks every turn and the database.

    The database is restored to its seeded state first. A conversation with
    `action_server: down` stops the action server (through `servers`) and starts it again after.
    """
    result = ConversationResult(spec=spec)
    started = time.monotonic()
    stopped_actions = False
    try:
        if database is not None:
            database.reset()
        if spec.needs_action_server_down:
            if servers is None:
                raise RuntimeError("this conversation needs the servers to stop the action server")
            servers.stop_actions()
            stopped_actions = True
        conversation = client.conversation(spec.customer, visitor=spec.id)
        for turn in spec.turns:
            result.turns.append(check_turn(turn, conversation.say(turn.user)))
        if spec.db:
            if database is None:
                result.db_failures.append("database checks need the shop database")
            else:
                transcript = "\n".join(text for turn in result.turns for text in turn.texts)
                result.db_failures.extend(database.check(spec.db, transcript))
    except (requests.RequestException, RuntimeError, sqlite3.Error) as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        if stopped_actions and servers is not None:
            servers.start_actions()
        result.seconds = time.monotonic() - started
    return result


def run_suite(
    client: ChatClient,
    conversations: Iterable[ConversationSpec],
    database: ShopDatabase | None,
    servers: BotServers | None = None,
    on_result: Callable[[ConversationResult], None] | None = None,
) -> list[ConversationResult]:
    """Runs conversations one after the other; restores the database at the end."""
    results = []
    for spec in conversations:
        result = run_conversation(client, spec, database, servers)
        results.append(result)
        if on_result is not None:
            on_result(result)
    if database is not None:
        database.reset()
    return results


@dataclass(frozen=True)
class SuiteSummary:
    """The suite's figures: conversations passed, turns, silent turns, pass rate per tag."""

    conversations: int
    passed: int
    turns: int
    silent_turns: int
    per_tag: dict[str, tuple[int, int]]  # tag -> (passed, total)
    failed_ids: tuple[str, ...]

    @property
    def pass_rate(self) -> float:
        """Share of conversations that passed (0 when there are none)."""
        return self.passed / self.conversations if self.conversations else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly record of the summary."""
        return {
            "conversations": self.conversations,
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 4),
            "turns": self.turns,
            "silent_turns": self.silent_turns,
            "per_tag": {tag: {"passed": p, "total": t} for tag, (p, t) in self.per_tag.items()},
            "failed_ids": list(self.failed_ids),
        }


def summarize(results: Sequence[ConversationResult]) -> SuiteSummary:
    """Counts the results."""
    per_tag: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for result in results:
        for tag in result.spec.tags:
            per_tag[tag][0] += result.passed
            per_tag[tag][1] += 1
    return SuiteSummary(
        conversations=len(results),
        passed=sum(result.passed for result in results),
        turns=sum(len(result.turns) for result in results),
        silent_turns=sum(result.silent_turns for result in results),
        per_tag={tag: (counts[0], counts[1]) for tag, counts in sorted(per_tag.items())},
        failed_ids=tuple(result.spec.id for result in results if not result.passed),
    )


def format_summary(summary: SuiteSummary) -> str:
    """The summary as a few lines of text, with a per-tag table."""
    lines = [
        f"conversations passed: {summary.passed}/{summary.conversations} "
        f"({100 * summary.pass_rate:.1f}%)",
        f"customer turns: {summary.turns}, silent turns: {summary.silent_turns}",
        "",
        f"{'tag':<20} {'passed':>7} {'total':>6} {'rate':>7}",
    ]
    for tag, (passed, total) in summary.per_tag.items():
        lines.append(f"{tag:<20} {passed:>7} {total:>6} {100 * passed / total:>6.1f}%")
    return "\n".join(lines)


def results_json(results: Sequence[ConversationResult], **extra: Any) -> str:
    """The summary and every conversation's details as JSON text."""
    payload = {
        **extra,
        "summary": summarize(results).to_dict(),
        "conversations": [result.to_dict() for result in results],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


# --- model and servers ---------------------------------------------------------------------------
def train_model(out_dir: Path, name: str = "suite") -> Path:
    """Trains the example bot into `out_dir/name.tar.gz`."""
    run_checked(
        [RASA, "train", "--out", str(out_dir), "--fixed-model-name", name],
        cwd=BOT_DIR,
        env=PROCESS_ENV,
        timeout=TRAIN_TIMEOUT_S,
    )
    return Path(out_dir) / f"{name}.tar.gz"


def resolve_model(work_dir: Path, given: str | None = None) -> Path:
    """The model to test: `given`, else $EXAMPLE_BOT_MODEL, else a fresh training in work_dir."""
    given = given or os.environ.get(MODEL_ENV)
    if given:
        path = Path(given).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"{given} is not a model file")
        return path
    return train_model(Path(work_dir) / "models", "example_bot")


def _model_loaded(url: str, api_token: str) -> Callable[[], bool]:
    def check() -> bool:
        response = requests.get(f"{url}/status", params={"token": api_token}, timeout=5)
        return response.status_code == 200 and bool(response.json().get("model_id"))

    return check


def action_call(
    action: str, sender_id: str, order_id: str, intent: str = "affirm"
) -> dict[str, Any]:
    """What Rasa would post to /webhook: `action` for `sender_id`, who said "yes" about an order."""
    return {
        "next_action": action,
        "sender_id": sender_id,
        "tracker": {
            "sender_id": sender_id,
            "slots": {"order_id": order_id},
            "latest_message": {"text": "yes", "intent": {"name": intent}, "entities": []},
            "events": [],
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": rasa_sdk.__version__,
    }


def action_server_command(port: int) -> list[str]:
    """The locked-down action server of the example bot (run in BOT_DIR, needs the secret in
    $ACTION_SERVER_TOKEN); it checks the shop database at start-up and on /health."""
    return [
        sys.executable, "-m", "rasa_llm_components.repair.action_server",
        "--actions", "actions", "--port", str(port),
        "--health-check", "database=actions.common:check_shop_database",
    ]  # fmt: skip


class BotServers:
    """The action server and `rasa run --enable-api` as subprocesses on free loopback ports."""

    def __init__(
        self,
        model: Path,
        database: ShopDatabase,
        work_dir: Path,
        endpoints_overrides: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.model = Path(model)
        self.database = database
        self.work_dir = Path(work_dir)
        # Sections of endpoints.yml to replace (tracker_store, lock_store, nlg, ...) and extra
        # environment variables of both servers.
        self.endpoints_overrides = dict(endpoints_overrides or {})
        self.tracker_db: Path | None = None  # the SQLite tracker store's file, once started
        self.env = {**PROCESS_ENV, **(env or {})}
        # Customer tokens' secret and the HTTP API token: this test process's random ones
        # (which ChatClient uses by default) unless `env` names others.
        self.env.setdefault(CUSTOMER_TOKEN_SECRET_ENV, TEST_SECRETS.customer_token_secret)
        self.env.setdefault(RASA_API_TOKEN_ENV, TEST_SECRETS.api_token)
        # The action server's shared secret, which Rasa sends from endpoints.yml.
        self.env.setdefault(ACTION_SERVER_TOKEN_ENV, secrets.token_urlsafe(32))
        self.action_port = free_port()
        self.rasa_port = free_port()
        self.actions: ManagedProcess | None = None
        self.rasa: ManagedProcess | None = None
        self._action_starts = 0

    @property
    def url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def api_token(self) -> str:
        """The token of Rasa's HTTP API (`rasa run --auth-token`)."""
        return self.env[RASA_API_TOKEN_ENV]

    @property
    def customer_token_secret(self) -> str:
        """The secret the signed channels verify customer tokens with."""
        return self.env[CUSTOMER_TOKEN_SECRET_ENV]

    def start(self) -> BotServers:
        """Starts both servers and waits until the model is loaded."""
        endpoints = yaml.safe_load((BOT_DIR / "endpoints.yml").read_text(encoding="utf-8")) or {}
        endpoints["action_endpoint"] = {
            **(endpoints.get("action_endpoint") or {}),  # keeps the shared secret's header
            "url": f"http://127.0.0.1:{self.action_port}/webhook",
        }
        endpoints.update(self.endpoints_overrides)
        store = endpoints.get("tracker_store") or {}
        if store.get("dialect") == "sqlite" and not Path(store.get("db", "")).is_absolute():
            # Conversations go to this work folder, never to the bot's own SQLite file.
            store = {**store, "db": str(self.work_dir / Path(store.get("db") or "rasa.db").name)}
            endpoints["tracker_store"] = store
        if store.get("dialect") == "sqlite":
            self.tracker_db = Path(store["db"])
        endpoints_path = self.work_dir / "endpoints.yml"
        endpoints_path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        try:
            self.start_actions(wait=False)
            self.rasa = ManagedProcess(
                "rasa server",
                [
                    RASA, "run", "--enable-api", "--model", str(self.model),
                    "--port", str(self.rasa_port), "--interface", "127.0.0.1",
                    "--endpoints", str(endpoints_path),
                    "--credentials", str(BOT_DIR / "credentials.yml"),
                    f"--auth-token={self.api_token}",  # a token may start with "-"
                ],
                cwd=BOT_DIR,
                log_path=self.work_dir / "rasa.log",
                env=self.env,
            )  # fmt: skip
            self._wait_for_actions()
            self.rasa.wait_until(
                _model_loaded(self.url, self.api_token), START_TIMEOUT_S, "loaded model"
            )
        except BaseException:
            self.stop()
            raise
        return self

    def start_actions(self, wait: bool = True) -> None:
        """Starts the action server (again) on its port."""
        if self.actions is not None and self.actions.is_running():
            return
        self._action_starts += 1
        self.actions = ManagedProcess(
            "action server",
            action_server_command(self.action_port),
            cwd=BOT_DIR,
            log_path=self.work_dir / f"actions-{self._action_starts}.log",
            env={**self.env, "SHOP_DATABASE_URL": self.database.url},
        )
        if wait:
            self._wait_for_actions()

    def _wait_for_actions(self) -> None:
        assert self.actions is not None
        self.actions.wait_until(
            http_ok(f"http://127.0.0.1:{self.action_port}/health"), START_TIMEOUT_S, "health check"
        )

    def stop_actions(self) -> None:
        """Stops the action server (the Rasa server keeps running)."""
        if self.actions is not None:
            self.actions.stop()

    def stop(self) -> None:
        """Stops both servers."""
        for process in (self.rasa, self.actions):
            if process is not None:
                process.stop()

    def describe(self) -> str:
        """Both servers' commands, states and log tails, for failure reports."""
        return "\n".join(
            process.describe() for process in (self.actions, self.rasa) if process is not None
        )
