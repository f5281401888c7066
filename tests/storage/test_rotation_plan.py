"""The morning pass's candidate read walks the fair-rotation index on each database: it stops
after each owner's first few eligible contacts instead of sorting all of them (the 10,000 ×
200 benchmark's decide budget depends on it)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.compose_reads import OWNED_CONTACT_COLUMNS
from storage.dialect import dialect_of


async def test_candidates_are_read_off_the_rotation_index(engine: AsyncEngine) -> None:
    dialect = dialect_of(engine)
    query = dialect.top_due(OWNED_CONTACT_COLUMNS, [1, 2, 3], date(2026, 11, 28), 6)
    if dialect.name == "postgresql":
        # PostgreSQL picks by statistics (an empty test table has none): check that the index
        # can serve the order without a sort, as it does on the benchmark's two million rows.
        async with engine.connect() as connection:
            await connection.execute(text("SET enable_seqscan = off"))
            await connection.execute(text("SET enable_sort = off"))
            rows = await connection.execute(
                text(
                    f"EXPLAIN {query.compile(dialect=engine.dialect, compile_kwargs={'literal_binds': True})}"
                )
            )
            plan = [row[0] for row in rows]
            await connection.rollback()
        assert any("ix_contacts_owner_rotation" in step for step in plan), plan
        assert not any("Sort" in step for step in plan), plan
        return
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as connection:
        plan = [row[3] for row in await connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    assert any("USING INDEX ix_contacts_owner_rotation" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
