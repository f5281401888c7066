"""Database URLs, async engines and migrations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = Path("data") / "reconnect.sqlite3"
#: Execution option: this transaction only reads (SQLite then runs each statement on its own).
READ_ONLY = "reconnect_read_only"
#: A pooled PostgreSQL connection idle for longer than this is pinged before it is used.
PING_AFTER_IDLE_SECONDS = 10.0
_LAST_USED = "reconnect_last_used"


class DatabaseUrlError(ValueError):
    """The URL names no database we support."""


def normalise_url(raw: str) -> URL:
    """Turn what operators paste into an async SQLAlchemy URL.

    Accepts Heroku-style ``postgres://``, plain ``postgresql://`` and ``sqlite:///path``; returns
    ``postgresql+psycopg://`` or ``sqlite+aiosqlite://`` URLs.
    """
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:
        # Never echo the URL: it may contain a password.
        raise DatabaseUrlError("it is not a database URL") from exc
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise DatabaseUrlError("use a SQLite file, e.g. sqlite:///data/reconnect.sqlite3")
        return url.set(drivername="sqlite+aiosqlite")
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def sync_url(url: URL) -> URL:
    """The same database with a synchronous driver (Alembic runs synchronously)."""
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite")
    return url


def create_engine(url: URL, *, fresh_plans: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, a busy timeout and write-ahead locking.

    ``fresh_plans`` (PostgreSQL; the clock's engine): every statement is planned for the tables
    as they are when it runs (:func:`_plan_every_statement`)."""
    # Never print bound parameters (names, notes) in errors or logs.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    from storage.pg_arrays import register_dumpers

    register_dumpers()  # before the first connection copies psycopg's adapters
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    ping_after = kwargs.pop("ping_after_idle", PING_AFTER_IDLE_SECONDS)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine, ping_after)
    if fresh_plans:
        _plan_every_statement(engine)
    return engine


def _plan_every_statement(engine: AsyncEngine) -> None:
    """``plan_cache_mode = force_custom_plan`` on each new connection.

    psycopg prepares a statement run five times, and the server may then keep one generic
    plan for it as long as the connection lives. The morning pass fills the day's nudges from
    nothing: a plan made over the first pages (an index "10 rows" long) then read every nudge
    of the day for every later page — deciding 100,000 users went from 10 s to 15–18 s, or not,
    by the luck of the planner (docs/benchmarks.md, "Deciding 100,000 users in 10 s"). Planned
    anew each time, a statement costs the server ~0.1 ms more: a few hundred a pass."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside a transaction lasts the session
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        finally:
            cursor.close()
            dbapi_connection.autocommit = autocommit


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection with ``SELECT 1`` only when it sat idle for ``idle_seconds``.

    ``pool_pre_ping`` pings on every checkout: a round trip (and about a millisecond of CPU)
    on every request. A connection that was in use moments ago is as good as a pinged one; one
    that sat idle may have been closed by a database restart, a failover or an idle timeout,
    and is replaced before anyone uses it. A connection that breaks between two busy uses
    fails that one request, and SQLAlchemy then recycles the whole pool.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is None or time.monotonic() - last_used < idle_seconds:
            return  # brand new, or in use moments ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError("stale pooled connection") from exc


def ensure_sqlite_dir(url: URL) -> None:
    """Create the folder of a SQLite file (``./data/`` by default)."""
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later writes can
        # fail with "database is locked" without waiting, while BEGIN IMMEDIATE waits for
        # busy_timeout. Readers (READ_ONLY) begin no transaction at all: each of their
        # statements reads the latest committed data on its own (as PostgreSQL's READ
        # COMMITTED does), alongside writers thanks to WAL, and costs no BEGIN round trip.
        if not connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(url: URL, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` (blocking: call it in a thread from async code)."""
    from alembic import command

    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def current_revision(url: URL) -> str | None:
    """The revision the database is at, or ``None`` for an empty database (blocking)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine as create_sync_engine

    engine = create_sync_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest migration in this checkout."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def alembic_config(url: URL | None) -> Any:
    """An Alembic ``Config`` pointing at our migrations and, if given, at ``url``."""
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "storage" / "migrations"))
    if url is not None:
        config.attributes["url"] = sync_url(url)
    return config
