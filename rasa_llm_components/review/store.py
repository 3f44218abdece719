"""Where the conversations are: an SQLAlchemy URL, or the `tracker_store` of an endpoints.yml."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import URL, Engine, make_url

from rasa_llm_components.review.errors import ReviewError

EVENTS_TABLE = "events"
# The event types the review reads (user_featurization and the like are left in the database).
READ_TYPES = ("user", "bot", "action", "slot", "restart", "session_started")
SQL_STORE_TYPES = frozenset({"sql", "rasa_llm_components.redactingsqltrackerstore"})
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_STORE_OPTIONS = ("dialect", "port", "db", "username", "password", "login_db", "query")


@dataclass(frozen=True)
class StoredEvent:
    """One row of the tracker store's `events` table, with its event JSON decoded."""

    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]


def url_from_endpoints(path: str | Path) -> URL:
    """The database URL of the SQL `tracker_store` in an endpoints.yml (`${VAR}` values are
    read from the environment). A relative SQLite `db` is taken relative to the file's folder,
    where `rasa run` is usually started."""
    path = Path(path)
    if not path.is_file():
        raise ReviewError(f"Endpoints file '{path}' does not exist: pass --endpoints <file>.")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ReviewError(f"Cannot read the endpoints file '{path}': {error}") from error
    store = config.get("tracker_store") if isinstance(config, dict) else None
    if not isinstance(store, dict):
        raise ReviewError(
            f"'{path}' has no 'tracker_store' section: the review reads Rasa's SQL tracker "
            "store; configure one (type: SQL), or pass --tracker-store <SQLAlchemy URL>."
        )
    store_type = str(store.get("type") or "").lower()
    if store_type not in SQL_STORE_TYPES:
        raise ReviewError(
            f"The tracker_store in '{path}' has type '{store.get('type')}'; the review reads SQL "
            "tracker stores only (type: SQL or rasa_llm_components.RedactingSQLTrackerStore)."
        )
    # Only this section's ${VAR}s are needed (not, say, the action server's secret).
    store = {key: _expand(value, path) for key, value in store.items()}
    options = {key: store[key] for key in _STORE_OPTIONS if key in store}
    dialect = str(options.get("dialect", "sqlite"))
    if dialect == "sqlite" and "db" in options:
        db = Path(str(options["db"])).expanduser()
        options["db"] = str(db if db.is_absolute() else path.resolve().parent / db)
    url = SQLTrackerStore.get_db_url(host=store.get("url"), **options)
    return make_url(url) if isinstance(url, str) else url


def _expand(value: Any, path: Path) -> Any:
    """`value` with `${VAR}` replaced from the environment, as Rasa does."""
    if not isinstance(value, str):
        return value

    def variable(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ReviewError(
                f"The tracker_store in '{path}' uses ${{{name}}}, which is not set: export it "
                "as for `rasa run`."
            )
        return os.environ[name]

    return _VARIABLE.sub(variable, value)


def check_url(url: str | URL) -> URL:
    """The parsed URL; a SQLite file must exist (SQLite would create an empty one)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except sa.exc.ArgumentError as error:
        raise ReviewError(
            f"--tracker-store '{url}' is not an SQLAlchemy URL, e.g. sqlite:///conversations.db "
            "or postgresql://rasa:<password>@db.internal:5432/rasa."
        ) from error
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or not Path(parsed.database).is_file():
            raise ReviewError(
                f"The SQLite tracker store '{parsed.database}' does not exist: point "
                "--tracker-store (or the endpoints' tracker_store db) to the file `rasa run` "
                "writes."
            )
    return parsed


class EventReader:
    """Reads the events of an SQL tracker store, conversation by conversation, oldest first."""

    def __init__(self, url: str | URL) -> None:
        self.url = check_url(url)
        self.engine: Engine = sa.create_engine(self.url)
        try:
            has_events = sa.inspect(self.engine).has_table(EVENTS_TABLE)
        except sa.exc.SQLAlchemyError as error:
            self.engine.dispose()
            raise ReviewError(
                f"Cannot connect to the tracker store {self.url!r}: {error.orig or error}"
            ) from error
        if not has_events:
            self.engine.dispose()
            raise ReviewError(
                f"The database {self.url!r} has no '{EVENTS_TABLE}' table: it is not a Rasa SQL "
                "tracker store (or no conversation was stored yet)."
            )

    def events(self, since: float | None = None) -> Iterator[StoredEvent]:
        """The stored events (of `READ_TYPES`), ordered by conversation and time."""
        table = sa.Table(EVENTS_TABLE, sa.MetaData(), autoload_with=self.engine)
        query = (
            sa.select(table.c.sender_id, table.c.type_name, table.c.timestamp, table.c.data)
            .where(table.c.type_name.in_(READ_TYPES))
            .order_by(table.c.sender_id, table.c.timestamp, table.c.id)
        )
        if since is not None:
            query = query.where(table.c.timestamp >= since)
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(query)
            for sender_id, type_name, timestamp, data in result:
                try:
                    decoded = json.loads(data) if data else {}
                except ValueError:
                    continue  # a damaged row is skipped, not fatal to the review
                yield StoredEvent(sender_id, type_name, float(timestamp or 0.0), decoded)

    def close(self) -> None:
        self.engine.dispose()
