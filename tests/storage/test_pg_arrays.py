"""Array parameters sent as their literal's text (storage.pg_arrays): the same rows as a list
would select, typed as the array on the server, and nothing but integers or dates let in."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.dialect import dialect_of
from storage.pg_arrays import (
    BigIntArrayLiteral,
    bigint_array,
    bigint_literal,
    date_array,
    date_literal,
    register_dumpers,
)


def test_literals_are_array_text() -> None:
    assert bigint_literal([3, 1, 2]) == "{3,1,2}"
    assert bigint_literal([]) == "{}"
    assert date_literal([date(2026, 11, 28), date(2027, 1, 1)]) == "{2026-11-28,2027-01-01}"


@pytest.mark.parametrize("bad", [["1,2"], ["1}; select 1; --"], [None], [1.5j]])
def test_only_integers_make_a_bigint_literal(bad: list[object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        bigint_literal(bad)  # type: ignore[arg-type]


def test_only_dates_make_a_date_literal() -> None:
    with pytest.raises(AttributeError):
        date_literal(["2026-11-28}, {x"])  # type: ignore[list-item]


async def test_among_selects_the_same_rows_as_a_list(engine: AsyncEngine) -> None:
    dialect = dialect_of(engine)
    if dialect.name != "postgresql":
        pytest.skip("SQLite's among is an IN list: no array parameter to send")
    numbers = func.generate_series(1, 50).table_valued("n").render_derived()
    wanted = [7, 3, 49, 3, 2**40, 0]
    async with engine.connect() as connection:
        got = (
            await connection.execute(
                select(numbers.c.n).where(dialect.among(numbers.c.n, wanted)).order_by("n")
            )
        ).scalars()
        assert list(got) == [3, 7, 49]
        assert (
            await connection.execute(select(numbers.c.n).where(dialect.among(numbers.c.n, [])))
        ).all() == []


async def test_the_server_sees_typed_arrays(engine: AsyncEngine) -> None:
    if dialect_of(engine).name != "postgresql":
        pytest.skip("SQLite has no typed array parameters")
    ids, days = [5, 2**62], [date(2026, 3, 29), date(2026, 10, 25)]
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(
                    func.pg_typeof(bigint_array(ids)),
                    func.pg_typeof(date_array(days)),
                    func.array_length(bigint_array(ids), 1),
                )
            )
        ).one()
        assert (str(row[0]), str(row[1]), row[2]) == ("bigint[]", "date[]", 2)
        unnested = (
            func.unnest(bigint_array(ids), date_array(days)).table_valued("i", "d").render_derived()
        )
        rows = (await connection.execute(select(unnested.c.i, unnested.c.d))).all()
        assert [tuple(r) for r in rows] == list(zip(ids, days, strict=True))


def test_a_plain_list_is_dumped_as_before() -> None:
    # Registering the literal classes must not change how psycopg dumps anything else.
    from psycopg import adapters
    from psycopg.adapt import PyFormat

    register_dumpers()
    register_dumpers()  # once is enough; twice changes nothing

    assert adapters.get_dumper(list, PyFormat.AUTO).__name__ == "ListDumper"
    assert adapters.get_dumper(str, PyFormat.AUTO).__name__.startswith("StrDumper")
    assert adapters.get_dumper(BigIntArrayLiteral, PyFormat.AUTO).oid == 1016  # int8[]


def test_a_sqlite_deployment_never_imports_psycopg() -> None:
    import subprocess
    import sys

    code = (
        "import sys, jobs.app, bot.app, storage.dialect, storage.pg_arrays; "
        "print('psycopg' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
