"""What differs between SQLite and PostgreSQL, in one place: one strategy object per engine.

Everything else in ``storage`` is written once and asks its :class:`Dialect` for:

* ``insert`` — the dialect's INSERT, with ``ON CONFLICT DO NOTHING / DO UPDATE``;
* ``read_options`` — how a read-only connection reads statement by statement;
* ``single_writer`` — whether writers should queue in the process (SQLite's one write lock);
* ``among`` — ``column IN ids``, in the form the database handles best;
* ``rows`` / ``owned_contacts`` — a hot-path read, always as one typed row shape;
* ``claim_batch`` — claim morning nudges for many users in one statement;
* ``try_lock_page`` — let one of several clock workers claim a page of users, the others skip it;
* ``top_due`` — each owner's ``limit`` most overdue contacts.

The morning pass's tricks live here: SQLite rows come straight from the driver (dates as ISO
text, converted while building the typed rows), PostgreSQL gets ``= ANY(array)`` and
``INSERT … SELECT FROM unnest(…)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, NamedTuple

import orjson
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    Text,
    any_,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from bot.core.cadence import Span, Unit
from bot.core.model import Contact
from bot.core.ranking import WEEK
from storage.db import READ_ONLY
from storage.direct import driver_rows
from storage.ids import ids_text
from storage.models import ContactRow, Nudge, User
from storage.pg_arrays import bigint_array, date_array, register_dumpers
from storage.records import MORNING, NudgeStatus

#: A SELECT of any columns.
type AnySelect = Select[*tuple[Any, ...]]
#: ``(user id, local date)`` pairs to claim.
Wanted = Sequence[tuple[int, date]]


#: A contact and its owner's user id: what the morning pass reads by the hundred thousand (a
#: plain pair, which costs a fraction of a NamedTuple's construction).
type OwnedContact = tuple[int, Contact]


class Claimed(NamedTuple):
    """A nudge this worker claimed."""

    id: int
    user_id: int


class Dialect(ABC):
    """The SQLite or PostgreSQL way of doing what ``storage`` needs; see :func:`dialect_of`."""

    name: ClassVar[str]
    #: Execution options for a connection that only reads, statement by statement.
    read_options: ClassVar[dict[str, Any]]
    #: Writers queue in the process instead of in the database's lock.
    single_writer: ClassVar[bool]

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @abstractmethod
    def insert(self, table: Any) -> Any:
        """The dialect's ``INSERT`` (which has ``on_conflict_do_nothing/do_update``)."""
        raise NotImplementedError

    def among(self, column: Any, ids: list[int]) -> ColumnElement[bool]:
        """``column IN ids``, the ids written into the statement's text.

        SQLite statements go to the driver with their values inline (:meth:`SqliteDialect._fetch`),
        and SQLAlchemy renders an ``IN`` list one literal at a time, each through its type: a
        batch of 2,000 users cost ~2,000 calls per statement. Ids are integers (``int`` refuses
        anything else), so their text is written directly."""
        if not ids:
            return false()
        listed = ids_text(ids)
        condition: ColumnElement[bool] = column.op("IN")(literal_column(f"({listed})"))
        return condition

    async def analyze(self, table: str) -> None:
        """Have the planner look at ``table`` again. SQLite: nothing (the pass's reads there
        are planned by their indexes alone)."""
        return None

    @abstractmethod
    async def rows[R: tuple[Any, ...]](
        self,
        connection: AsyncConnection,
        query: AnySelect,
        shape: Callable[[Sequence[Any]], R],
        *,
        dates: Sequence[int] = (),
    ) -> list[R]:
        """Every row of a read on the hot path as ``shape`` (a NamedTuple's ``_make``), with
        the columns at positions ``dates`` as :class:`date` objects."""
        raise NotImplementedError

    @abstractmethod
    async def owned_contacts(
        self, connection: AsyncConnection, query: AnySelect
    ) -> list[OwnedContact]:
        """Rows of ``(*CONTACT_COLUMNS, owner_id)`` as :class:`OwnedContact`."""
        raise NotImplementedError

    async def owned_contacts_by_row(
        self, connection: AsyncConnection, query: AnySelect
    ) -> list[OwnedContact]:
        """What :meth:`owned_contacts` reads, the plain way: one SQLAlchemy row per contact,
        dates converted by the column types. Slower; the reference the fast reads are tested
        against (``tests/storage/test_compose_read_paths.py``)."""
        return [_owned_contact_as_read(row) for row in (await connection.execute(query)).all()]

    @abstractmethod
    async def claim_batch(
        self,
        connection: AsyncConnection,
        batch: Wanted,
        worker: str,
        now: datetime,
        kind: str = MORNING,
    ) -> list[Claimed]:
        """Claim a nudge of ``kind`` for each ``(user id, local date)`` of ``batch``; returns the
        claims won (an existing nudge for the same user and day wins over a new one)."""
        raise NotImplementedError

    async def try_lock_page(self, connection: AsyncConnection, kind: str, page: int) -> bool:
        """Take the claim lock of page ``page`` (its first user id) of a ``kind`` pass for the
        rest of ``connection``'s transaction, without waiting: ``False`` when another worker
        is claiming that page right now (it will have claimed it when this one looks again).
        SQLite has one writer at a time anyway: always ``True``."""
        return True

    @abstractmethod
    def top_due(
        self,
        columns: Sequence[Any],
        owners: list[int],
        latest: date,
        limit: int,
    ) -> AnySelect:
        """``columns`` of each of ``owners``' first ``limit`` contacts in fair-rotation order
        (``rotation_key``, then most overdue) that are due by ``latest``, not awaiting a reply
        and not suggested twice in the week before ``latest`` (``bot.core.ranking.eligible``).
        Read straight off the (owner_id, rotation_key, next_due_on) index, so every eligible
        contact competes while a window over every due contact would sort far more rows."""
        raise NotImplementedError


class SqliteDialect(Dialect):
    """SQLite through aiosqlite: one writer, reads straight from the driver."""

    name = "sqlite"
    read_options: ClassVar[dict[str, Any]] = {READ_ONLY: True}
    single_writer = True

    def insert(self, table: Any) -> Any:
        return sqlite.insert(table)

    async def _fetch(self, connection: AsyncConnection, query: AnySelect) -> Sequence[Any]:
        """The statement, compiled with its values inline, goes straight to the driver in one
        hop to its thread: SQLAlchemy's result rows cost as much again as SQLite's own work,
        and on SQLite all of it runs in this process. Dates come back as ISO text."""
        sql = str(
            query.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True})
        )
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        rows: Sequence[Any] = await driver.execute_fetchall(sql)
        return rows

    async def rows[R: tuple[Any, ...]](
        self,
        connection: AsyncConnection,
        query: AnySelect,
        shape: Callable[[Sequence[Any]], R],
        *,
        dates: Sequence[int] = (),
    ) -> list[R]:
        raw = await self._fetch(connection, query)
        if not dates:
            return [shape(row) for row in raw]
        out: list[R] = []
        days = _ISO_DAYS
        for row in raw:
            values = list(row)
            for at in dates:
                values[at] = days[values[at]]
            out.append(shape(values))
        return out

    async def owned_contacts(
        self, connection: AsyncConnection, query: AnySelect
    ) -> list[OwnedContact]:
        # Each row comes back as one JSON array: the sqlite3 module takes the connection's
        # mutex and builds an object for every column of every row (22 here, thousands of
        # rows a batch), while orjson reads the array's text at a fraction of that. SQLite
        # hands dates back as ISO text either way.
        packed = query.with_only_columns(func.json_array(*query.selected_columns))
        loads = orjson.loads
        return [
            _owned_contact(loads(row[0]), _ISO_DAYS)
            for row in await self._fetch(connection, packed)
        ]

    async def claim_batch(
        self,
        connection: AsyncConnection,
        batch: Wanted,
        worker: str,
        now: datetime,
        kind: str = MORNING,
    ) -> list[Claimed]:
        # Rows as executemany parameters, not one multi-VALUES statement — SQLAlchemy still
        # sends them as multi-row INSERT … RETURNING, but compiles the statement once (a
        # ``.values([...])`` statement cannot be cached and recompiles every time).
        statement = (
            sqlite.insert(Nudge)
            .on_conflict_do_nothing(index_elements=_NUDGE_KEY)
            .returning(Nudge.id, Nudge.user_id)
        )
        params = [
            {
                "user_id": uid,
                "kind": kind,
                "local_date": day,
                "status": NudgeStatus.CLAIMED,
                "worker": worker,
                "claimed_at": now,
                "attempts": 0,
                "content": "",
            }
            for uid, day in batch
        ]
        result = await connection.execute(statement, params)
        return [Claimed(nudge_id, user_id) for nudge_id, user_id in result.all()]  # one fetch

    def top_due(
        self,
        columns: Sequence[Any],
        owners: list[int],
        latest: date,
        limit: int,
    ) -> AnySelect:
        # No LATERAL: a correlated ``IN (… LIMIT n)`` walks the same index.
        owner = User.__table__.alias("u")
        other = aliased(ContactRow, name="rotation")
        ids = (
            select(other.id)
            .where(
                other.owner_id == owner.c.id,
                # Unary plus: not a term for an index, so the planner walks the rotation
                # index in order and stops after ``limit`` (checking the due date from the
                # index) instead of taking the due-date index and sorting every due contact.
                literal_column("+rotation.next_due_on") <= latest,
                other.follow_up_on.is_(None),
                _weekly_limit(other, latest),
            )
            .order_by(other.rotation_key, other.next_due_on, other.id)
            .limit(limit)
            .correlate(owner)
        )
        return (
            select(*columns)
            .select_from(owner.join(ContactRow, ContactRow.id.in_(ids)))
            .where(self.among(owner.c.id, owners))
        )


class PostgresDialect(Dialect):
    """PostgreSQL through psycopg: array parameters, LATERAL, rows through SQLAlchemy."""

    name = "postgresql"
    # Each statement reads what was committed when it started, as READ COMMITTED
    # transactions do, without BEGIN and COMMIT round trips.
    read_options: ClassVar[dict[str, Any]] = {"isolation_level": "AUTOCOMMIT"}
    single_writer = False

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        register_dumpers()  # for engines not made by storage.db (tests, Alembic)

    def insert(self, table: Any) -> Any:
        return postgresql.insert(table)

    async def analyze(self, table: str) -> None:
        # A table the pass filled from nothing has no statistics until autovacuum comes (never,
        # where it is off): the next passes' claims reads were planned as for an empty table.
        async with self.engine.begin() as connection:
            await connection.execute(text(f"ANALYZE {table}"))

    def among(self, column: Any, ids: list[int]) -> ColumnElement[bool]:
        # ``= ANY(array)``: one short statement text for any number of ids, which psycopg and
        # the server can cache (a long ``IN`` list is re-parsed every time). A typed bigint[]
        # parameter (storage.pg_arrays), not text cast by the server: in a condition the cast
        # is not folded in a generic plan, and where the plan filters rows (stale statistics,
        # e.g. no autovacuum) it re-parsed 2,000 ids for every row — 4 s a page at 100,000
        # users (docs/benchmarks.md, "Issue 14 at 100,000 users, again").
        condition: ColumnElement[bool] = column == any_(bigint_array(ids))
        return condition

    async def rows[R: tuple[Any, ...]](
        self,
        connection: AsyncConnection,
        query: AnySelect,
        shape: Callable[[Sequence[Any]], R],
        *,
        dates: Sequence[int] = (),
    ) -> list[R]:
        # psycopg already returns dates as dates, in the driver's own tuples too.
        return [shape(row) for row in await _all_rows(connection, query)]

    async def owned_contacts(
        self, connection: AsyncConnection, query: AnySelect
    ) -> list[OwnedContact]:
        # Row by row: the whole result as one JSON text built by the server (json_agg, read
        # with orjson) cost 2 % more instructions a page (docs/benchmarks.md, issue 14). The
        # driver's own tuples (storage.direct.driver_rows): psycopg returns dates as dates.
        return [_owned_contact_as_read(row) for row in await _all_rows(connection, query)]

    async def try_lock_page(self, connection: AsyncConnection, kind: str, page: int) -> bool:
        # A transaction-level advisory lock, released at commit: several clock workers that
        # start together at 08:30 spread over the pages instead of queueing behind each
        # other's uncommitted claims (an INSERT … ON CONFLICT waits for those). One lock per
        # page, not per user: the lock table holds a few thousand entries in all.
        # Advisory locks belong to the database, not the schema: the schema is in the key, so
        # deployments (and test runs) in schemas of one database do not skip each other's pages.
        kind_key = func.hashtext(func.current_schema() + literal(f":claims:{kind}", String))
        result = await connection.execute(
            select(func.pg_try_advisory_xact_lock(kind_key, literal(page % 0x7FFFFFFF, Integer)))
        )
        return bool(result.scalar())

    async def claim_batch(
        self,
        connection: AsyncConnection,
        batch: Wanted,
        worker: str,
        now: datetime,
        kind: str = MORNING,
    ) -> list[Claimed]:
        # One INSERT … SELECT FROM unnest(ids, dates): two array parameters instead of eight
        # per row, so the statement is short, cached and cheap to send.
        rows = (
            func.unnest(
                bigint_array([uid for uid, _ in batch]),
                date_array([day for _, day in batch]),
            )
            .table_valued("user_id", "local_date")
            .render_derived()
        )
        source = select(
            rows.c.user_id,
            literal(kind, String),
            rows.c.local_date,
            literal(NudgeStatus.CLAIMED.value, String),
            literal(worker, String),
            literal(now, DateTime(timezone=True)),
            literal(0, Integer),
            literal("", Text),
        )
        statement = (
            postgresql.insert(Nudge)
            .from_select(
                [
                    "user_id",
                    "kind",
                    "local_date",
                    "status",
                    "worker",
                    "claimed_at",
                    "attempts",
                    "content",
                ],
                source,
            )
            .on_conflict_do_nothing(index_elements=_NUDGE_KEY)
            .returning(Nudge.id, Nudge.user_id)
        )
        result = await connection.execute(statement)
        return [Claimed(nudge_id, user_id) for nudge_id, user_id in result.all()]  # one fetch

    def top_due(
        self,
        columns: Sequence[Any],
        owners: list[int],
        latest: date,
        limit: int,
    ) -> AnySelect:
        owner = User.__table__.alias("u")
        top = (
            select(*columns)
            .where(
                ContactRow.owner_id == owner.c.id,
                ContactRow.next_due_on <= latest,
                ContactRow.follow_up_on.is_(None),
                _weekly_limit(ContactRow, latest),
            )
            .order_by(ContactRow.rotation_key, ContactRow.next_due_on, ContactRow.id)
            .limit(limit)
            .lateral("top")
        )
        return (
            select(top).select_from(owner.join(top, true())).where(self.among(owner.c.id, owners))
        )


class DialectStore:
    """Base of the stores: an engine, its :class:`Dialect`, and read-only connections."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = dialect_of(engine)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads only. On SQLite it begins no transaction (each statement
        reads on its own), so the pass never holds SQLite's write lock while it reads and
        button clicks in the web process don't wait behind it."""
        async with self.engine.connect() as connection:
            await connection.execution_options(**self.dialect.read_options)
            yield connection


async def _all_rows(connection: AsyncConnection, query: AnySelect) -> Sequence[Any]:
    """Every row of ``query`` as the driver's tuples (:func:`storage.direct.driver_rows`), or
    else through SQLAlchemy: ``all()``, one fetch, not three calls a row through its iterator
    (~0.6 µs a row)."""
    rows = await driver_rows(connection, query)
    return rows if rows is not None else (await connection.execute(query)).all()


def dialect_of(engine: AsyncEngine) -> Dialect:
    """The strategy for ``engine``'s database."""
    if engine.dialect.name == "postgresql":
        return PostgresDialect(engine)
    if engine.dialect.name == "sqlite":
        return SqliteDialect(engine)
    raise ValueError(f"unsupported database {engine.dialect.name!r}")


def _weekly_limit(contacts: Any, latest: date) -> ColumnElement[bool]:
    """Not suggested twice in the seven days up to ``latest`` (``ranking.within_weekly_limit``;
    the caller checks each user's own day again)."""
    condition: ColumnElement[bool] = or_(
        contacts.suggested_before_on.is_(None),
        contacts.suggested_before_on <= latest - timedelta(days=WEEK),
    )
    return condition


def _owned_contact(row: Any, days: Remembered) -> OwnedContact:
    """``(owner id, contact)`` from a row of ``(*CONTACT_COLUMNS, owner_id)``, by position (the
    morning pass reads thousands: no per-row mapping by name); ``days`` maps a date column's
    value to its date (a subscript, not a call: ten date columns a row)."""
    (cid, name, count, unit, role, how, notes, last, due, note, created, skipped,
     reached, follow, preferred, tie, touch, win, win_on, shown, shown_before,
     owner) = row  # fmt: skip
    # Every field by position (:data:`_CONTACT_ORDER` checks the order at import): keyword
    # arguments cost three times as much to match, 1.6 µs a contact, ~80,000 per page.
    contact = Contact(
        cid, name, _span(count, unit), role, how, notes, days[last], days[due], note,
        days[created], days[skipped], days[reached], days[follow], preferred, "", "", None,
        False, tie, days[touch], win, days[win_on], days[shown], days[shown_before],
    )  # fmt: skip
    return owner, contact


def _owned_contact_as_read(row: Any) -> OwnedContact:
    """:func:`_owned_contact` for a driver that returns dates as dates (psycopg): the same
    fields, without looking each date up."""
    (cid, name, count, unit, role, how, notes, last, due, note, created, skipped,
     reached, follow, preferred, tie, touch, win, win_on, shown, shown_before,
     owner) = row  # fmt: skip
    span = _SPANS.get((count, unit)) or _span(count, unit)  # the call only for a new one
    contact = Contact(
        cid, name, span, role, how, notes, last, due, note, created, skipped, reached, follow,
        preferred, "", "", None, False, tie, touch, win, win_on, shown, shown_before,
    )  # fmt: skip
    return owner, contact


#: :class:`Contact`'s fields in the order :func:`_owned_contact` passes them (email,
#: linkedin_url, connected_on and in_pool as a pool contact's defaults: never due, never read).
_CONTACT_ORDER = (
    "id", "name", "cadence", "company_role", "how_known", "notes", "last_contacted_on",
    "next_due_on", "last_note", "created_on", "skipped_on", "reached_out_on", "follow_up_on",
    "preferred_name", "email", "linkedin_url", "connected_on", "in_pool", "relationship",
    "last_in_touch", "win", "win_on", "suggested_on", "suggested_before_on",
)  # fmt: skip
if tuple(f.name for f in fields(Contact)) != _CONTACT_ORDER:  # pragma: no cover - a new field
    raise RuntimeError("Contact's fields changed: update storage.dialect._owned_contact")


class Remembered(dict[Any, Any]):
    """A column's value as read → as parsed, each distinct value parsed once (up to ``kept``
    of them): the morning pass reads the same few thousand days, and the same few dozen nudge
    times, in every row, and a dict lookup costs a fraction of parsing."""

    __slots__ = ("_kept", "_parse")

    def __init__(self, parse: Callable[[Any], Any], kept: int = 50_000) -> None:
        super().__init__()
        self._parse = parse
        self._kept = kept

    def __missing__(self, value: Any) -> Any:
        parsed = self._parse(value)
        if len(self) < self._kept:
            self[value] = parsed
        return parsed


#: SQLite hands dates back as ISO text (or NULL); psycopg already as dates.
_ISO_DAYS = Remembered(lambda value: date.fromisoformat(value) if value else None)


def _span(count: int, unit: str) -> Span:
    """One shared :class:`Span` per cadence (there are only a handful)."""
    span = _SPANS.get((count, unit))
    if span is None:
        span = _SPANS.setdefault((count, unit), Span(count, Unit(unit)))
    return span


_SPANS: dict[tuple[int, str], Span] = {}
_NUDGE_KEY = ["user_id", "kind", "local_date"]

__all__ = [
    "AnySelect",
    "Claimed",
    "Dialect",
    "DialectStore",
    "OwnedContact",
    "PostgresDialect",
    "Remembered",
    "SqliteDialect",
    "Wanted",
    "dialect_of",
]
