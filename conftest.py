"""Shared test setup (at the repository root, so that every test folder sees the fixtures).

Makes example_bot/ importable (the `shop` and `actions` packages, and the test helpers in
example_bot/tests/) and provides the session fixtures of the integration tests, so that every
test file shares ONE trained example-bot model and ONE pair of running servers:

- `example_bot_model`: path of the trained model (.tar.gz): $EXAMPLE_BOT_MODEL, or trained once.
- `shop_database` / `shop_db`: a freshly seeded temporary SQLite shop database (object / path).
- `bot_servers`: `rasa run actions` and `rasa run --enable-api` on free loopback ports.
- `chat_client`: the REST client (tests/chat_client.py) talking to those servers.
- `postgres_server` / `redis_server`: PostgreSQL and Redis on free loopback ports
  (tests/services.py), for tracker and lock stores.

The fixtures are lazy: unit tests that do not ask for them start nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLE_BOT_DIR = Path(__file__).resolve().parent / "example_bot"
TESTS_DIR = EXAMPLE_BOT_DIR / "tests"
for _path in (EXAMPLE_BOT_DIR, TESTS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from chat_client import ChatClient  # noqa: E402
from conversation_suite import BotServers, ShopDatabase, resolve_model  # noqa: E402
from services import PostgresServer, RedisServer  # noqa: E402


@pytest.fixture(scope="session")
def example_bot_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder for the model, the database, the endpoints file and server logs."""
    return tmp_path_factory.mktemp("example_bot_servers")


@pytest.fixture(scope="session")
def example_bot_model(example_bot_work_dir: Path) -> Path:
    """The trained model: $EXAMPLE_BOT_MODEL, or the example bot trained once per session."""
    return resolve_model(example_bot_work_dir)


@pytest.fixture(scope="session")
def shop_database(example_bot_work_dir: Path) -> ShopDatabase:
    """A freshly seeded shop database with a pristine copy to restore (`reset()`)."""
    return ShopDatabase.seed(example_bot_work_dir / "shop.db")


@pytest.fixture(scope="session")
def shop_db(shop_database: ShopDatabase) -> Path:
    """Path of the seeded SQLite shop database the action server uses."""
    return shop_database.path


@pytest.fixture(scope="session")
def bot_servers(
    request: pytest.FixtureRequest,
    example_bot_work_dir: Path,
    example_bot_model: Path,
    shop_database: ShopDatabase,
) -> Iterator[BotServers]:
    """The action server and the Rasa server, running until the end of the session."""
    servers = BotServers(example_bot_model, shop_database, example_bot_work_dir).start()
    try:
        yield servers
    finally:
        failed = request.session.testsfailed > 0
        description = servers.describe() if failed else ""
        servers.stop()
        if failed:
            print(description, file=sys.stderr)


@pytest.fixture(scope="session")
def chat_client(bot_servers: BotServers) -> Iterator[ChatClient]:
    """The REST client for the running bot."""
    client = ChatClient(bot_servers.url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server on a free loopback port (`services.PostgresServer`);
    `tracker_store()` is its endpoints.yml section, `query()` reads it."""
    with PostgresServer(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A throw-away Redis server on a free loopback port (`services.RedisServer`);
    `lock_store()` is its endpoints.yml section."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
