"""Fair rotation in the nudge store (issue 10), on the in-memory fake and on ``NudgeStore`` over
SQLite and PostgreSQL: sent nudges mark their cards suggested, every eligible contact competes
in rotation order, nobody is read a third time in a week, and recent wins are read though not
due. The ranking columns SQL maintains agree with ``bot.core.ranking``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import Contact, ContactDraft
from bot.core.ranking import rotation_key, value_points
from bot.core.relationships import YEARS_AGO
from storage.models import ContactRow
from storage.records import AttemptOutcome, NudgeStatus
from tests.jobs.test_nudge_store_contract import (
    ADA,
    BOB,
    DAY,
    NOW,
    MemoryWorld,
    SqlWorld,
    World,
    claim_one,
    user,
)


@pytest.fixture(params=["memory", "sql"])
async def world(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[World]:
    """The fake, or ``NudgeStore`` on the ``engine`` fixture's database (each kind)."""
    yield MemoryWorld() if request.param == "memory" else SqlWorld(engine)


async def _sent(w: World, uid: int, day: date, *contact_ids: int) -> None:
    """The morning nudge of ``day`` was sent with cards for ``contact_ids``."""
    nudge = await claim_one(w, uid, day=day)
    outcome = AttemptOutcome(
        nudge, uid, 0, "sent", status=NudgeStatus.SENT, channel="D", message_id=str(nudge),
        at=NOW, suggested=contact_ids, day=day,
    )  # fmt: skip
    await w.store.record_outcomes([outcome])
    await w.store.record_outcomes([outcome])  # recorded twice (a retry): counts once


async def _get(w: World, user_ref: object, contact_id: int) -> Contact:
    async with w.books.book(user_ref, write=False) as book:  # type: ignore[arg-type]
        contact = await book.get(contact_id)
    assert contact is not None
    return contact


async def _names(w: World, uid: int, day: date, per_user: int) -> set[str]:
    """Who is read as a candidate (in no particular order: the core ranks them)."""
    inputs = await w.store.compose_inputs({uid: day}, candidates_per_user=per_user)
    return {c.name for c in inputs[uid].candidates}


async def test_sent_cards_rotate_and_nobody_comes_a_third_time_in_a_week(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    due = DAY - timedelta(days=1)
    async with world.books.book(ADA) as book:
        added = [
            await book.add(ContactDraft(name=name), due_on=due, today=DAY - timedelta(days=30))
            for name in ("Abe", "Bea", "Cal", "Dot")
        ]
        boss = await book.add(
            ContactDraft(name="Zed Boss", relationship="boss", last_in_touch=YEARS_AGO),
            due_on=DAY,  # the least overdue, and the highest id…
            today=DAY - timedelta(days=30),
        )
    abe, bea, cal = (c.id for c in added[:3])
    # …yet the most valuable: every eligible contact competes, not only the most overdue few.
    assert "Zed Boss" in await _names(world, ada, DAY, 2)

    await _sent(world, ada, DAY, boss.id, abe)
    await _sent(world, bob, DAY, cal)  # Bob's nudge cannot mark Ada's contact
    assert (await _get(world, ADA, boss.id)).suggested_on == DAY
    assert (await _get(world, ADA, boss.id)).suggested_before_on is None
    assert (await _get(world, ADA, cal)).suggested_on is None

    # The next morning those never suggested come first: Abe and the boss yield.
    assert await _names(world, ada, DAY + timedelta(days=1), 3) == {"Bea", "Cal", "Dot"}
    await _sent(world, ada, DAY + timedelta(days=2), boss.id, bea)
    shown = await _get(world, ADA, boss.id)
    assert (shown.suggested_on, shown.suggested_before_on) == (DAY + timedelta(days=2), DAY)
    # Twice within the week: not read again until seven days after the first time.
    names = await _names(world, ada, DAY + timedelta(days=3), 10)
    assert names == {"Abe", "Bea", "Cal", "Dot"}
    assert "Zed Boss" in await _names(world, ada, DAY + timedelta(days=7), 10)
    # Cal and Dot were never suggested: first in line, ahead of those shown.
    assert await _names(world, ada, DAY + timedelta(days=7), 2) == {"Cal", "Dot"}


async def test_recent_wins_are_read_even_when_not_due(world: World) -> None:
    ada = await user(world, ADA)
    later = DAY + timedelta(days=40)
    async with world.books.book(ADA) as book:
        fresh = await book.add(
            ContactDraft(name="Wren Fresh", win="launched her book", win_on=DAY - timedelta(3)),
            due_on=later,
            today=DAY - timedelta(days=3),
        )
        await book.add(
            ContactDraft(name="Olga Old", win="won", win_on=DAY - timedelta(days=40)),
            due_on=later,
            today=DAY - timedelta(days=40),
        )
        await book.add(ContactDraft(name="Nat Nowin"), due_on=later, today=DAY)
    assert await _names(world, ada, DAY, 3) == {"Wren Fresh"}
    await _sent(world, ada, DAY, fresh.id)
    # Congratulated (suggested since the win): no longer read until due.
    assert await _names(world, ada, DAY + timedelta(days=1), 3) == set()


async def test_the_ranking_columns_follow_the_core(world: World) -> None:
    if not isinstance(world, SqlWorld):
        return  # the fake computes them from the contact itself
    ada = await user(world, ADA)
    async with world.books.book(ADA) as book:
        boss = await book.add(
            ContactDraft(name="Zed Boss", relationship="boss", last_in_touch=date(2025, 3, 1)),
            due_on=DAY,
            today=DAY,
        )
    await _sent(world, ada, DAY, boss.id)
    contact = await _get(world, ADA, boss.id)
    async with world.engine.connect() as connection:
        row = (
            await connection.execute(
                select(ContactRow.value_points, ContactRow.rotation_key).where(
                    ContactRow.id == boss.id
                )
            )
        ).one()
    assert (row.value_points, row.rotation_key) == (value_points(contact), rotation_key(contact))
    contact.relationship = "friend"  # an edit recomputes them
    async with world.books.book(ADA) as book:
        await book.save(contact)
    async with world.engine.connect() as connection:
        row = (
            await connection.execute(
                select(ContactRow.value_points, ContactRow.rotation_key).where(
                    ContactRow.id == boss.id
                )
            )
        ).one()
    assert (row.value_points, row.rotation_key) == (value_points(contact), rotation_key(contact))
