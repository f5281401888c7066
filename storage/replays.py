"""Replay protection for signed Slack requests, shared by every web process through the database.

A request is known by its ``(X-Slack-Request-Timestamp, X-Slack-Signature)``. The first time it
is seen, :meth:`SeenRequests.first_time` inserts that key (insert-or-ignore on the primary key:
one statement) and says True; a replay — or Slack's retry of it, which carries the same
signature with ``X-Slack-Retry-Num`` — finds the key and gets False. Keys older than the
signature window (Slack's five minutes, plus a minute's clock skew) can never be replayed, as
the signature check refuses them, and are pruned at most once a minute per process.

On the HTTP path a request that may write is not checked up front: ``bot/web.py`` puts its key
in :data:`PENDING`, and the first write transaction the request runs records it (the store's
``_transaction``, through :func:`claim`) together with the request's own writes. That is one
statement inside a transaction that exists anyway instead of a statement and a commit of its
own, and it is exactly-once under crashes: a process killed before its commit leaves no key
behind, so Slack's retry runs the command; a retry of a committed request finds the key and
raises :class:`Replayed`, which rolls its transaction back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.dialect import dialect_of
from storage.direct import Direct
from storage.models import PendingWorkRow, SeenSlackRequest

#: How long a key must be kept: the signature window (300 s) and a minute of clock skew.
KEEP_SECONDS = 6 * 60
#: Prune at most this often (per process).
PRUNE_EVERY_SECONDS = 60

#: The ``(timestamp, key)`` rows that mark the request being handled as taken in (over HTTP its
#: ``(X-Slack-Request-Timestamp, X-Slack-Signature)``; in Socket Mode see
#: ``bot/adapters/slack/socket_replays.py``), until a write transaction of it has recorded them.
PENDING: ContextVar[tuple[tuple[int, str], ...] | None] = ContextVar(
    "reconnect_pending_request", default=None
)


class Replayed(Exception):
    """The request being handled was taken in before: its transaction must not commit."""


def _claim_statement(dialect_name: str) -> Any:
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        insert: Any = pg_insert(SeenSlackRequest)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = sqlite_insert(SeenSlackRequest)
    return insert.on_conflict_do_nothing(
        index_elements=[SeenSlackRequest.timestamp, SeenSlackRequest.signature]
    ).returning(SeenSlackRequest.timestamp)


#: The claim of each dialect, run on the driver connection (one per write request).
_CLAIMS: dict[str, Direct] = {}


async def claim(connection: AsyncConnection) -> None:
    """Record the :data:`PENDING` request in ``connection``'s transaction; raise
    :class:`Replayed` if any of its rows was recorded before (by a committed transaction: a
    concurrent one holding the same row makes this wait for its outcome)."""
    keys = PENDING.get()
    if not keys:
        return
    name = connection.dialect.name
    statement = _CLAIMS.get(name)
    if statement is None:
        statement = _CLAIMS[name] = Direct(_claim_statement(name))
    # Each key goes in as parameters, not as ``.values(rows)``: a statement built around its
    # values is a new statement each time, compiled again (~0.3 ms) on every write request;
    # this one is compiled once per process. Over HTTP there is one key; a Socket Mode
    # envelope and its retries are a few.
    recorded = 0
    for timestamp, signature in keys:
        rows = await statement.rows(connection, {"timestamp": timestamp, "signature": signature})
        recorded += len(rows)
    if recorded < len(keys):
        raise Replayed()
    if name == "sqlite":
        await _prune_in_transaction(connection)


#: When this process last pruned SQLite's keys inside a claiming transaction.
_sqlite_pruned_at = [0.0]


async def _prune_in_transaction(connection: AsyncConnection) -> None:
    """On SQLite, old keys go in the claiming transaction, which holds the one write lock
    already: a prune of its own would wait for that lock on the request's path, up to the
    30 s busy timeout while another writer (the clock, a long import) holds it, and the ack
    would miss Slack's 3 seconds. PostgreSQL prunes separately (:meth:`SeenRequests.prune_if_due`),
    where the delete of old rows waits for nobody."""
    now = time.time()
    if now - _sqlite_pruned_at[0] < PRUNE_EVERY_SECONDS:
        return
    _sqlite_pruned_at[0] = now
    await connection.execute(_prune_statement(now))


def _prune_statement(now: float) -> Any:
    """Delete the keys past the window, except those of commands still pending
    (``storage/pending_work.py``): a command run again after its process died must still find
    its key if its work had committed, however late it is run."""
    pending = (
        select(PendingWorkRow.id)
        .where(
            PendingWorkRow.replay_timestamp == SeenSlackRequest.timestamp,
            PendingWorkRow.replay_signature == SeenSlackRequest.signature,
        )
        .exists()
    )
    return delete(SeenSlackRequest).where(
        SeenSlackRequest.timestamp < int(now) - KEEP_SECONDS, ~pending
    )


def claimed() -> None:
    """The transaction that recorded the pending key committed: later ones need not."""
    PENDING.set(None)


class SeenRequests:
    """The signed Slack requests taken in during the last few minutes."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        write_turn: asyncio.Lock | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        """``write_turn``: the lock the process's other SQLite writers queue on (the SQL
        store's), so this insert waits its turn in the queue instead of in SQLite's busy
        handler, which polls with sleeps of up to 100 ms."""
        self._engine = engine
        self._write_turn = write_turn if dialect_of(engine).single_writer else None
        self._now = now
        dialect = dialect_of(engine)
        # Statement by statement (autocommit): the insert is its own transaction, one round
        # trip with no BEGIN/COMMIT; SQLite takes its write lock for that statement only.
        self._options = dialect.read_options
        insert: Any = dialect.insert(SeenSlackRequest)
        # RETURNING says whether the row went in (rowcount is not reliable on every driver).
        self._insert = insert.on_conflict_do_nothing(
            index_elements=[SeenSlackRequest.timestamp, SeenSlackRequest.signature]
        ).returning(SeenSlackRequest.timestamp, SeenSlackRequest.signature)
        self._pruned_at = 0.0
        self._pending: dict[tuple[int, str], asyncio.Future[bool]] = {}
        self._flusher: asyncio.Future[None] | None = None

    async def first_time(self, timestamp: int, signature: str) -> bool:
        """Record the request; False when it was recorded before (a replay or a retry).

        Keys that arrive while an insert is under way go in together with the next one (one
        multi-row statement), so under load the cost per request shrinks.
        """
        key = (timestamp, signature)
        waiting = self._pending.get(key)
        if waiting is not None:  # the same request twice in one batch: the first one wins
            await waiting
            return False
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[key] = answer
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        return await answer

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, {}
                try:
                    if self._write_turn is None:
                        inserted = await self._insert_keys(list(batch))
                    else:
                        async with self._write_turn:
                            inserted = await self._insert_keys(list(batch))
                except Exception as exc:
                    for answer in batch.values():
                        answer.set_exception(exc)
                    continue
                for key, answer in batch.items():
                    answer.set_result(key in inserted)
        finally:
            self._flusher = None

    async def _insert_keys(self, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
        now = self._now()
        rows = [{"timestamp": t, "signature": s} for t, s in keys]
        async with self._engine.connect() as connection:
            connection = await connection.execution_options(**self._options)
            result = await connection.execute(self._insert.values(rows))
            inserted = {(t, s) for t, s in result.all()}
            if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
                self._pruned_at = now
                await connection.execute(_prune_statement(now))
        return inserted

    async def prune_if_due(self) -> None:
        """Delete keys past the window, at most once a minute (the HTTP path records keys in
        the requests' own transactions, so nothing else prunes them). PostgreSQL only: on
        SQLite the claiming transaction prunes, as it holds the write lock anyway."""
        if self._write_turn is not None or dialect_of(self._engine).single_writer:
            return  # SQLite: the claiming transaction prunes (_prune_in_transaction)
        now = self._now()
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        async with self._engine.connect() as connection:
            connection = await connection.execution_options(**self._options)
            await connection.execute(_prune_statement(now))

    async def count(self) -> int:
        """How many keys are kept (for tests and diagnostics)."""
        async with self._engine.connect() as connection:
            query = select(func.count()).select_from(SeenSlackRequest)
            return int((await connection.execute(query)).scalar_one())
