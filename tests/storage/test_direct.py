"""storage/direct.py on SQLite and PostgreSQL: the book's statements run on the driver give
what SQLAlchemy gives (values, types, defaults, errors), and the statements it cannot run
as they are are refused."""

from datetime import date, time
from typing import Any

import pytest
from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import String, TypeDecorator

from bot.core.model import ContactDraft, Conversation, UserRef
from storage import repository
from storage.direct import Direct
from storage.models import ContactRow, ConversationRow, User
from storage.repository import SqlStore

ADA = UserRef("slack", "T1", "U1")
BOB = UserRef("slack", "T1", "U2")
TODAY = date(2026, 11, 25)


async def _dana(store: SqlStore) -> tuple[int, int]:
    """A contact with every field set (dates, flags, text); ``(owner id, contact id)``."""
    async with store.book(ADA) as book:
        dana = await book.add(
            ContactDraft(name="Dana Whitfield", company_role="CFO", notes="sails"),
            due_on=date(2026, 11, 20),
            today=TODAY,
        )
        await book.log(Conversation(dana.id, TODAY, "coffee", learned="moved to Lisbon"))
        await book.log(Conversation(dana.id, TODAY, "tea"))  # nothing learned yet: a target
    async with store.engine.begin() as connection:
        await connection.execute(
            update(ContactRow)
            .where(ContactRow.id == dana.id)
            .values(
                last_contacted_on=date(2026, 9, 1), last_note="coffee", skipped_on=date(2026, 9, 2),
                reached_out_on=date(2026, 9, 3), follow_up_on=date(2026, 9, 4),
                email="dana@example.com", connected_on=date(2015, 5, 5), win="promoted",
                win_on=date(2026, 11, 1), suggested_on=date(2026, 11, 2),
                suggested_before_on=date(2026, 10, 2),
            )
        )  # fmt: skip
        await connection.execute(
            update(User).values(nudge_time=time(7, 45), paused_until=date(2026, 12, 1))
        )
        owner = (await connection.execute(select(User.id).where(User.external_id == "U1"))).one()
    return owner[0], dana.id


def _params(statement: Any, owner: int, contact: int) -> dict[str, Any]:
    """Values for every parameter the book's statements take."""
    known = {
        "owner": owner, "id": contact, "key": "dana whitfield", "today": TODAY, "limit": 5,
        "offset": 0, "on": TODAY, "contact": contact,
    }  # fmt: skip
    names = set(statement.compile().bind_names.values())
    return {name: value for name, value in known.items() if name in names}


async def test_every_direct_read_gives_what_sqlalchemy_gives(store: SqlStore) -> None:
    owner, dana = await _dana(store)
    statements = [*repository._DIRECT, repository._OWNER, repository._OWNER_LOCKED]
    empty: list[Any] = []
    async with store.engine.connect() as connection, connection.begin():
        for statement in statements:
            params = _params(statement, owner, dana)
            expected = (await connection.execute(statement, params)).all()
            got = await Direct(statement).rows(connection, params)
            assert [tuple(r) for r in got] == [tuple(r) for r in expected], statement
            assert [r._fields for r in got] == [tuple(r._fields) for r in expected]
            assert [type(v) for r in got for v in r] == [type(v) for r in expected for v in r]
            if not got:
                empty.append(statement)
    # every read of contacts and users found its rows (none of outreach, steps or nudges here)
    assert set(empty) == {
        repository._OUTREACH, repository._LATEST_OUTREACH, repository._NEXT_STEP,
        repository._NEXT_STEPS_DUE, repository._NUDGE,
    }  # fmt: skip
    # and the reads found something: dates, times and flags came back typed
    async with store.engine.connect() as connection:
        row = await Direct(repository._GET).first(connection, {"owner": owner, "id": dana})
        user = await Direct(repository._OWNER).first(connection, {"owner": owner})
    assert row is not None and row.win_on == date(2026, 11, 1) and row.in_pool is False
    assert user.nudge_time == time(7, 45) and user.paused_until == date(2026, 12, 1)


async def test_reads_are_owner_scoped(store: SqlStore) -> None:
    owner, dana = await _dana(store)
    async with store.book(BOB) as book:  # another owner: nothing of Ada's
        assert await book.get(dana) is None
        assert await book.named("Dana Whitfield") is None
        assert await book.count() == 0
    async with store.engine.connect() as connection:
        assert (
            await Direct(repository._GET).rows(connection, {"owner": owner + 1, "id": dana}) == []
        )


async def test_writes_fill_defaults_and_raise_sqlalchemy_errors(store: SqlStore) -> None:
    owner, dana = await _dana(store)
    table: Any = ContactRow.__table__
    add = Direct(insert(table).returning(table.c.id))
    values = {
        "owner_id": owner, "name": "Marcus", "name_key": "marcus", "cadence_count": 1,
        "cadence_unit": "months", "created_on": TODAY, "next_due_on": TODAY,
    }  # fmt: skip
    async with store.engine.begin() as connection:
        [(marcus,)] = await add.rows(connection, values)
    async with store.book(ADA, write=False) as book:
        contact = await book.get(marcus)
    # the columns not given got their Python-side defaults, as through SQLAlchemy
    assert contact is not None and (contact.email, contact.notes, contact.in_pool) == (
        "",
        "",
        False,
    )
    with pytest.raises(IntegrityError):  # the owner's name keys are unique
        async with store.engine.begin() as connection:
            await add.rows(connection, {**values, "name": "MARCUS"})
    conversations: Any = ConversationRow.__table__
    with pytest.raises(IntegrityError):  # a conversation needs its contact
        async with store.engine.begin() as connection:
            await Direct(insert(conversations)).rows(
                connection,
                {"owner_id": owner, "contact_id": dana + 1000, "occurred_on": TODAY,
                 "note": "", "learned": "", "kind": "conversation", "outcomes": ""},
            )  # fmt: skip


async def test_many_runs_one_statement_for_each_row_and_raises_sqlalchemy_errors(
    store: SqlStore,
) -> None:
    owner, _ = await _dana(store)
    table: Any = ContactRow.__table__
    add = Direct(insert(table))
    rows = [
        {"owner_id": owner, "name": name, "name_key": name.lower(), "cadence_count": 1,
         "cadence_unit": "months", "created_on": TODAY, "next_due_on": TODAY}
        for name in ("Marcus", "Priya")
    ]  # fmt: skip
    async with store.engine.begin() as connection:
        await add.many(connection, rows)
        await add.many(connection, [])  # nothing to write: no statement
    async with store.book(ADA, write=False) as book:
        names = sorted(n for _, n in await book.names())
    assert names == ["Dana Whitfield", "Marcus", "Priya"]
    with pytest.raises(IntegrityError):  # the owner's name keys are unique
        async with store.engine.begin() as connection:
            await add.many(connection, [{**rows[0], "name": "Marcus two"}])
    async with store.book(ADA, write=False) as book:
        assert len(await book.names()) == 3


async def test_cursor_listeners_see_direct_statements(store: SqlStore) -> None:
    owner, dana = await _dana(store)
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with store.engine.connect() as connection:
            await Direct(repository._GET).rows(connection, {"owner": owner, "id": dana})
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    assert any(s.lstrip().upper().startswith("SELECT CONTACTS.ID") for s in seen)


async def test_statements_it_cannot_run_as_they_are_are_refused(store: SqlStore) -> None:
    async with store.engine.connect() as connection:
        with pytest.raises(ValueError, match="expanding"):  # an IN list expanded per call
            await Direct(repository._GET_MANY).rows(connection, {"owner": 1, "ids": [1, 2]})
        with pytest.raises(ValueError, match="required"):  # the owner left out
            await Direct(repository._GET).rows(connection, {"id": 1})


class _Upper(TypeDecorator[str]):
    """A type that changes what the driver returns."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else str(value).upper()


async def test_driver_rows_are_the_rows_sqlalchemy_reads_and_only_where_it_converts_nothing(
    engine: AsyncEngine,
) -> None:
    from sqlalchemy import column, literal, select, table

    from storage.direct import driver_rows

    async with engine.connect() as connection:
        plain = select(literal(7).label("n"), literal("Ada").label("name"))
        rows = await driver_rows(connection, plain)
        if engine.dialect.name == "sqlite":
            assert rows is None  # SQLite's rows have their own fast path (storage.dialect)
            return
        assert rows == [tuple(r) for r in (await connection.execute(plain)).all()] == [(7, "Ada")]
        # An expanding IN list, or a type that converts what the driver returns: SQLAlchemy's.
        numbers = table("t", column("n"))
        assert (
            await driver_rows(connection, select(numbers.c.n).where(numbers.c.n.in_([1, 2])))
            is None
        )
        assert await driver_rows(connection, select(literal("a", _Upper).label("u"))) is None
