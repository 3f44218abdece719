"""`AtomicRedisLockStore`: Rasa's Redis lock store, safe when several Rasa servers share it.

Rasa takes a per-conversation ticket lock around every message: a JSON "ticket lock" per
conversation in Redis. Rasa Open Source's `RedisLockStore` changes it by read-modify-write
(GET, add or remove a ticket, SET), so two replicas that take a message of the same conversation
at the same moment can both read the lock before either writes it: both get the same ticket,
both process at once, and one replica's events overwrite the other's in the tracker store (a
customer message is lost; RasaHQ/rasa#9213). This subclass does each read-modify-write under a
short Redis mutex (redis-py's `Lock`: `SET NX PX`, released by token), so tickets are issued
and returned one at a time across all replicas. Everything else is Rasa's.

    # endpoints.yml of every replica
    lock_store:
      type: rasa_llm_components.AtomicRedisLockStore
      url: redis.internal        # host
      port: 6379
      db: 0
      password: ${REDIS_PASSWORD}
      mutex_timeout: 5           # seconds a replica may hold / wait for the mutex
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

DEFAULT_MUTEX_TIMEOUT_S = 5.0
MUTEX_PREFIX = "mutex:"


class LockStoreConfigError(RasaException, ValueError):
    """The `lock_store:` options in endpoints.yml are invalid."""


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose ticket changes are atomic across processes."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        mutex_timeout: float = DEFAULT_MUTEX_TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        """Takes Rasa's `RedisLockStore` options (`url` is the host) from the endpoint config
        Rasa passes, or as keyword arguments (`host=...`)."""
        options = dict(kwargs)
        if endpoint_config is not None:
            options.update(endpoint_config.kwargs or {})
            if endpoint_config.url:
                options["host"] = endpoint_config.url
        mutex_timeout = options.pop("mutex_timeout", mutex_timeout)
        if (
            isinstance(mutex_timeout, bool)
            or not isinstance(mutex_timeout, (int, float))
            or mutex_timeout <= 0
        ):
            raise LockStoreConfigError(
                f"lock_store 'mutex_timeout' must be a number of seconds > 0, got "
                f"{mutex_timeout!r}."
            )
        self.mutex_timeout = float(mutex_timeout)
        try:
            super().__init__(**options)
        except TypeError as error:
            raise LockStoreConfigError(
                f"Unknown lock_store option for AtomicRedisLockStore: {error}. It takes "
                "RedisLockStore's options (url, port, db, username, password, use_ssl, "
                "ssl_certfile, ssl_keyfile, ssl_ca_certs, key_prefix, socket_timeout) and "
                "mutex_timeout."
            ) from error

    @contextmanager
    def _mutex(self, conversation_id: str) -> Iterator[None]:
        """Holds the conversation's mutex (another key than the lock's own)."""
        from redis.exceptions import LockError as RedisLockError
        from redis.exceptions import RedisError

        mutex = self.red.lock(
            MUTEX_PREFIX + self.key_prefix + conversation_id,
            timeout=self.mutex_timeout,
            blocking_timeout=self.mutex_timeout,
            sleep=0.005,
        )
        try:
            acquired = mutex.acquire()
        except RedisError as error:
            raise LockError(f"Redis mutex for conversation '{conversation_id}': {error}") from error
        if not acquired:
            raise LockError(
                f"Could not take the Redis mutex of conversation '{conversation_id}' within "
                f"{self.mutex_timeout:.0f} s."
            )
        try:
            yield
        finally:
            try:
                mutex.release()
            except RedisLockError:
                pass  # it expired (held longer than mutex_timeout); nothing left to release

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Returns the ticket and deletes the lock when no one else holds a ticket, in one step
        (a replica that takes a ticket in between keeps its lock)."""
        with self._mutex(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)
