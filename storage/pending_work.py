"""Slash commands acknowledged early ("One moment…") whose work has not committed yet.

A command whose work misses Slack's ack budget is acknowledged with "One moment…" and
answered later through its ``response_url``. Slack, having its ack, never sends it again: if
the process doing the work died before the work committed, the command would be lost. So
before that ack goes out, the command is recorded here (a committed row: what is needed to run
it again, its owner, its response URL and its replay key), and:

* the work's first write transaction deletes the record just before it commits
  (:func:`settle`, called by the stores' write transactions, as :func:`storage.replays.claim`
  is): the work and the record's deletion commit together, or neither does;
* the process doing the work refreshes ``claimed_at`` while it runs (:meth:`PendingWork.heartbeat`),
  and deletes the record itself once the user has the answer, if no transaction did
  (:meth:`PendingWork.finish`: a command that only reads, or wrote nothing);
* any web process takes over a record whose owner is gone (:meth:`PendingWork.take_over`,
  a compare-and-set on ``claimed_by``), runs the command again under the same replay key — a
  second run of work that did commit finds the key and has no effect — and answers through the
  stored response URL; past the URL's 30 minutes it gives up (:meth:`PendingWork.give_up`);
* work that failed only for want of the database (:func:`transient`) is released
  (:meth:`PendingWork.release`) for any process to run again a few seconds later;
* the clock purges records older than an hour (``jobs/purge.py``), and erasing a user's data
  erases theirs (``user_id`` references ``users.id``: ``storage/user_data.py`` finds it).

Everything here is keyed by the record's id; nothing logs a payload.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.dialect import dialect_of
from storage.models import PendingWorkRow

#: Slack's response URLs take answers for 30 minutes: a record older than that can no longer
#: be answered, so it is not run again.
ANSWERABLE_FOR = timedelta(minutes=30)
#: Records older than this are purged by the clock, whatever became of them.
KEEP_FOR = timedelta(hours=1)
#: The widest response URL kept (Slack's are about 100 characters).
MAX_URL = 1000
#: ``claimed_by`` of a record whose work failed for want of the database (a full connection
#: pool, a lost connection): any process, its own included, runs it again soon.
RELEASED = "released"
#: A command released is run again only while younger than this, so a run that fails again
#: can still say so through the response URL before it expires.
RETRY_UNTIL = timedelta(minutes=25)

_table = cast(Table, PendingWorkRow.__table__)


@dataclass(slots=True)
class Slot:
    """The record of the command being handled, shared by the listener that makes it and the
    task that does the work (:data:`CURRENT` holds the same object in both contexts: the work
    starts before anyone knows whether it will need a record)."""

    record_id: int | None = None
    #: A write transaction deleted the record and has yet to commit.
    deleting: bool = False
    #: A committed write transaction deleted the record.
    settled: bool = False


#: The slot of the command this task is working on (``None``: not a command that may be
#: acknowledged early).
CURRENT: ContextVar[Slot | None] = ContextVar("reconnect_pending_work", default=None)


async def settle(connection: AsyncConnection) -> None:
    """In a write transaction of the command being handled, just before it commits: delete the
    command's record in it, so the record goes exactly when the work commits."""
    slot = CURRENT.get()
    if slot is None or slot.record_id is None or slot.settled:
        return
    await connection.execute(delete(_table).where(_table.c.id == slot.record_id))
    slot.deleting = True


def settled() -> None:
    """The transaction that ran :func:`settle` committed."""
    slot = CURRENT.get()
    if slot is not None and slot.deleting:
        slot.deleting = False
        slot.settled = True


@dataclass(frozen=True, slots=True)
class Claim:
    """A record as a sweep saw it: whose it was, and since when."""

    id: int
    claimed_by: str
    claimed_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """A record taken over: what is needed to run the command again and answer it."""

    id: int
    user_id: int
    payload: dict[str, Any]
    response_url: str | None
    replay_key: tuple[int, str] | None
    created_at: datetime


class PendingWork:
    """The ``pending_work`` table."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        write_turn: asyncio.Lock | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """``write_turn``: the lock this process's SQLite writers queue on (the SQL store's)."""
        self.engine = engine
        self._write_turn = write_turn if dialect_of(engine).single_writer else None
        self._read_options = dialect_of(engine).read_options
        self.now = now or (lambda: datetime.now(UTC))

    async def record(
        self,
        owner_id: int,
        payload: dict[str, Any],
        *,
        response_url: str | None,
        replay_key: tuple[int, str] | None,
        worker: str,
    ) -> int:
        """Record a command ``worker`` is working on, committed; returns the record's id.

        It does not queue on ``write_turn``: on SQLite the slow work it protects may be the
        one holding that turn, and the ack waits for this. It waits in SQLite's busy handler
        instead, and the caller bounds how long it waits (the record then lands late)."""
        now = self.now()
        if response_url is not None and len(response_url) > MAX_URL:
            response_url = None
        values = {
            "user_id": owner_id,
            "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            "response_url": response_url,
            "replay_timestamp": replay_key[0] if replay_key else None,
            "replay_signature": replay_key[1] if replay_key else None,
            "created_at": now,
            "claimed_by": worker,
            "claimed_at": now,
        }
        async with self.engine.begin() as connection:
            result = await connection.execute(insert(_table).values(values).returning(_table.c.id))
            return int(result.scalar_one())

    async def finish(self, record_id: int) -> None:
        """Delete a record (the command was answered; a no-op if a transaction deleted it)."""
        async with self._turn(), self.engine.begin() as connection:
            await connection.execute(delete(_table).where(_table.c.id == record_id))

    async def heartbeat(self, record_id: int, worker: str) -> bool:
        """``worker`` still works on the record; ``False`` if it is no longer theirs (taken
        over, or finished)."""
        async with self._turn(), self.engine.begin() as connection:
            result = await connection.execute(
                update(_table)
                .where(_table.c.id == record_id, _table.c.claimed_by == worker)
                .values(claimed_at=self.now())
            )
        return bool(result.rowcount)

    async def release(self, record_id: int, worker: str) -> bool:
        """``worker``'s work on the record failed for a reason that may pass (see
        :func:`transient`): leave it to be run again (by any process), unless it is older than
        :data:`RETRY_UNTIL`. Whether it was released."""
        now = self.now()
        async with self._turn(), self.engine.begin() as connection:
            result = await connection.execute(
                update(_table)
                .where(
                    _table.c.id == record_id,
                    _table.c.claimed_by == worker,
                    _table.c.created_at > now - RETRY_UNTIL,
                )
                .values(claimed_by=RELEASED, claimed_at=now)
            )
        return bool(result.rowcount)

    async def claims(self, *, limit: int = 100) -> list[Claim]:
        """The records there are, least recently claimed first (normally none or a few)."""
        query = (
            select(_table.c.id, _table.c.claimed_by, _table.c.claimed_at, _table.c.created_at)
            .order_by(_table.c.claimed_at, _table.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            await connection.execution_options(**self._read_options)
            rows = (await connection.execute(query)).all()
        return [Claim(r.id, r.claimed_by, aware(r.claimed_at), aware(r.created_at)) for r in rows]

    async def take_over(self, seen: Claim, worker: str) -> PendingRecord | None:
        """Make the record ``worker``'s if it is still as ``seen`` (same owner, no heartbeat
        since): the record, or ``None`` when someone else took it, its owner showed life, or
        it was finished meanwhile. Two processes taking over the same record: one wins."""
        statement = (
            update(_table)
            .where(*_unchanged(seen))
            .values(claimed_by=worker, claimed_at=self.now())
            .returning(
                _table.c.id,
                _table.c.user_id,
                _table.c.payload,
                _table.c.response_url,
                _table.c.replay_timestamp,
                _table.c.replay_signature,
                _table.c.created_at,
            )
        )
        async with self._turn(), self.engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            return None
        key = None
        if row.replay_timestamp is not None and row.replay_signature is not None:
            key = (int(row.replay_timestamp), str(row.replay_signature))
        try:
            payload = json.loads(row.payload)
        except ValueError:
            payload = {}
        return PendingRecord(
            id=row.id,
            user_id=row.user_id,
            payload=payload if isinstance(payload, dict) else {},
            response_url=row.response_url,
            replay_key=key,
            created_at=aware(row.created_at),
        )

    async def give_up(self, seen: Claim) -> bool:
        """Delete a record nobody can answer any more, if it is still as ``seen``; whether this
        call deleted it (so one process says so)."""
        async with self._turn(), self.engine.begin() as connection:
            result = await connection.execute(delete(_table).where(*_unchanged(seen)))
        return bool(result.rowcount)

    async def purge(self, now: datetime) -> int:
        """Delete records older than :data:`KEEP_FOR`; how many."""
        cutoff = now.astimezone(UTC) - KEEP_FOR
        async with self._turn(), self.engine.begin() as connection:
            result = await connection.execute(delete(_table).where(_table.c.created_at < cutoff))
        return result.rowcount or 0

    async def count(self) -> int:
        """How many records there are (for tests and operators)."""
        return len(await self.claims(limit=10_000))

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._write_turn is None:
            yield
        else:
            async with self._write_turn:
                yield


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database (or the network) was unavailable or overloaded — no
    connection free in the pool, a connection lost — rather than that the command cannot be
    done: running it again later may succeed."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, SqlTimeoutError | OperationalError | InterfaceError | TimeoutError | ConnectionError
    )


def _unchanged(seen: Claim) -> tuple[Any, ...]:
    # ``claimed_at <=`` rather than ``=``: a heartbeat moves it forward, and an inequality does
    # not depend on how exactly each database hands back the fraction of a second.
    return (
        _table.c.id == seen.id,
        _table.c.claimed_by == seen.claimed_by,
        _table.c.claimed_at <= seen.claimed_at,
    )


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
