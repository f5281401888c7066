"""Engine set-up: pooled PostgreSQL connections are checked only after sitting idle."""

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage import db
from tests.support import postgres_schema


@pytest.fixture
def pg_url() -> Iterator[URL]:
    # PostgreSQL only: SQLite has no server connections to lose.
    with postgres_schema() as url:
        yield url


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)


async def terminate(url: URL, pid: int) -> None:
    killer = create_async_engine(url, poolclass=NullPool)
    try:
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


async def test_a_connection_closed_while_idle_is_replaced_before_use(pg_url: URL) -> None:
    engine = db.create_engine(pg_url, pool_size=1, max_overflow=0, ping_after_idle=0.0)
    try:
        pid = await backend_pid(engine)
        await terminate(pg_url, pid)
        assert await backend_pid(engine) != pid  # no error: the dead connection was replaced
    finally:
        await engine.dispose()


async def test_a_connection_in_recent_use_is_not_pinged(pg_url: URL) -> None:
    # The price of not pinging busy connections: one that dies between two uses fails once,
    # and the pool is renewed for the next request.
    engine = db.create_engine(pg_url, pool_size=1, max_overflow=0, ping_after_idle=3600.0)
    try:
        pid = await backend_pid(engine)
        await terminate(pg_url, pid)
        with pytest.raises(DBAPIError):
            await backend_pid(engine)
        assert await backend_pid(engine) != pid
    finally:
        await engine.dispose()


async def plan_cache_mode(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        # A read rolled back at check-in, as most of the pass's are: the setting must outlive it.
        return str(await connection.scalar(text("SHOW plan_cache_mode")))


async def test_the_clock_engine_plans_every_statement_afresh(pg_url: URL) -> None:
    engine = db.create_engine(pg_url, fresh_plans=True, pool_size=1, max_overflow=0)
    plain = db.create_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        assert [await plan_cache_mode(engine) for _ in range(2)] == ["force_custom_plan"] * 2
        async with engine.connect() as connection:
            # The search path and other options of the URL still hold.
            schema = str(pg_url.query["options"]).removeprefix("-csearch_path=")
            assert await connection.scalar(text("SELECT current_schema()")) == schema
        assert await plan_cache_mode(plain) == "auto"
    finally:
        await engine.dispose()
        await plain.dispose()
