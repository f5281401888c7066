"""Teams conversation references: one user per conversation, even under concurrent writers
and in a database that already holds duplicates (migration 0007); writers lock their owner."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from storage import db
from storage.repository import SqlStore
from tests.support import postgres_schema


def teams_user(name: str) -> UserRef:
    return UserRef("teams", "tenant", f"aad-{name}")


async def test_concurrent_claims_of_one_conversation_bind_it_to_one_user(
    engine: AsyncEngine, database_url: URL
) -> None:
    """Users racing to claim one conversation id (two stores: two processes) end with one
    reference, and nobody gets an error."""
    other_engine = db.create_engine(database_url)
    stores = [SqlStore(engine), SqlStore(other_engine)]
    try:
        for round_ in range(8):
            conversation = f"a:contested-{round_}"
            users = [teams_user(f"u{round_}-{n}") for n in range(6)]
            await asyncio.gather(
                *(
                    stores[n % 2].save_reference(user, conversation, f'{{"n": {n}}}')
                    for n, user in enumerate(users)
                )
            )
            async with engine.connect() as connection:
                owners = (
                    await connection.execute(
                        text("SELECT count(*) FROM conversation_refs WHERE conversation_id = :c"),
                        {"c": conversation},
                    )
                ).scalar_one()
            assert owners == 1
    finally:
        await other_engine.dispose()


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_reference_and_time_zone_writers_lock_their_owner_first(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    ada = teams_user("ada")
    await store.save_reference(ada, "a:personal-ada", "{}")  # creates her row
    with statements(engine) as seen:
        await store.save_reference(ada, "a:personal-ada-2", '{"v": 2}')
        await store.set_timezone(ada, "Asia/Tokyo")
    locks = [s for s in seen if " FOR " in s.upper()]
    if engine.dialect.name == "postgresql":
        assert len(locks) == 2 and all("FROM users" in s for s in locks), locks
        first_ref = next(i for i, s in enumerate(seen) if "conversation_refs" in s)
        assert seen.index(locks[0]) < first_ref  # the owner's row before the reference
    else:
        assert locks == []  # SQLite's writers take turns instead
    assert await store.reference_for_user(ada) == ("a:personal-ada-2", '{"v": 2}')


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0007_drops_duplicated_references_and_makes_them_unique(
    backend: str, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        if backend == "sqlite":
            url = db.normalise_url(f"sqlite:///{tmp_path / 'm.sqlite3'}")
            db.upgrade(url, "0006")
        else:
            url = stack.enter_context(postgres_schema())  # at head: back to 0006
            command.downgrade(db.alembic_config(url), "0006")
        engine = create_engine(db.sync_url(url))
        stack.callback(engine.dispose)
        with engine.begin() as connection:
            for n, who in enumerate(("ada", "bob", "cy"), start=1):
                connection.execute(
                    text(
                        "INSERT INTO users (id, platform, workspace_id, external_id, dm_channel) "
                        "VALUES (:id, 'teams', 't', :who, :dm)"
                    ),
                    {"id": n, "who": who, "dm": "a:shared" if who != "cy" else "a:cy"},
                )
            for n, conversation in ((1, "a:shared"), (2, "a:shared"), (3, "a:cy")):
                connection.execute(
                    text(
                        "INSERT INTO conversation_refs (user_id, conversation_id, reference, "
                        "updated_at) VALUES (:u, :c, '{}', CURRENT_TIMESTAMP)"
                    ),
                    {"u": n, "c": conversation},
                )
        db.upgrade(url)
        with engine.begin() as connection:
            refs = connection.execute(
                text("SELECT user_id, conversation_id FROM conversation_refs")
            ).all()
            assert [tuple(r) for r in refs] == [(3, "a:cy")]
            channels = connection.execute(text("SELECT id, dm_channel FROM users ORDER BY id"))
            assert [tuple(r) for r in channels] == [(1, None), (2, None), (3, "a:cy")]
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO conversation_refs (user_id, conversation_id, reference, "
                    "updated_at) VALUES (1, 'a:cy', '{}', CURRENT_TIMESTAMP)"
                )
            )
