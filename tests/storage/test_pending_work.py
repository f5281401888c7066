"""The ``pending_work`` table: records of commands acknowledged early, deleted with their work,
taken over by exactly one process, purged, erased (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import ContactDraft, UserRef
from jobs.purge import Purger
from storage import db, pending_work
from storage.models import SeenSlackRequest, User
from storage.pending_work import CURRENT, Claim, PendingWork, Slot
from storage.replays import KEEP_SECONDS, SeenRequests
from storage.repository import SqlStore
from storage.user_data import erase_where

ADA = UserRef("slack", "T1", "U1")
DEAD = "elsewhere:4242:deadbeef"
NOW = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)


async def make_record(
    engine: AsyncEngine,
    *,
    worker: str = DEAD,
    at: datetime = NOW,
    key: tuple[int, str] | None = None,
) -> int:
    owner = await SqlStore(engine).owner_id(ADA)
    table = PendingWork(engine, now=lambda: at)
    return await table.record(
        owner,
        {"team_id": "T1", "user_id": "U1", "text": "log Dana -- a note"},
        response_url="https://hooks.slack.com/commands/T1/1/x",
        replay_key=key,
        worker=worker,
    )


async def test_the_record_is_deleted_by_the_transaction_that_commits_the_work(
    engine: AsyncEngine,
) -> None:
    store = SqlStore(engine)
    table = PendingWork(engine)
    slot = Slot(record_id=await make_record(engine))
    token = CURRENT.set(slot)
    try:
        # A write transaction that fails leaves the record: the work is still to be done.
        with pytest.raises(RuntimeError):
            async with store.book(ADA) as book:
                await book.add(ContactDraft("Dana Whitfield"), due_on=NOW.date(), today=NOW.date())
                raise RuntimeError("killed before the commit")
        assert await table.count() == 1 and not slot.settled
        async with store.book(ADA) as book:
            await book.add(ContactDraft("Dana Whitfield"), due_on=NOW.date(), today=NOW.date())
        assert await table.count() == 0 and slot.settled
    finally:
        CURRENT.reset(token)


async def test_a_read_only_transaction_leaves_the_record(engine: AsyncEngine) -> None:
    slot = Slot(record_id=await make_record(engine))
    token = CURRENT.set(slot)
    try:
        async with SqlStore(engine).book(ADA, write=False) as book:
            await book.count()
    finally:
        CURRENT.reset(token)
    assert await PendingWork(engine).count() == 1 and not slot.settled


async def test_two_processes_taking_over_the_same_records_one_wins_each(
    engine: AsyncEngine,
) -> None:
    for _ in range(6):
        await make_record(engine)
    seen = await PendingWork(engine).claims()
    assert len(seen) == 6
    # Two engines: two processes' connections, racing in the database itself.
    other = db.create_engine(engine.url)
    try:
        first, second = PendingWork(engine), PendingWork(other)
        results = await asyncio.gather(
            *(t.take_over(c, w) for c in seen for t, w in ((first, "a:1:1"), (second, "b:2:2")))
        )
    finally:
        await other.dispose()
    won = [r for r in results if r is not None]
    assert sorted(r.id for r in won) == sorted(c.id for c in seen)
    owners = {c.claimed_by for c in await PendingWork(engine).claims()}
    assert owners <= {"a:1:1", "b:2:2"}


async def test_an_owner_that_shows_life_after_the_sweep_looked_keeps_its_record(
    engine: AsyncEngine,
) -> None:
    record = await make_record(engine, worker="alive:1:1")
    (seen,) = await PendingWork(engine).claims()
    later = PendingWork(engine, now=lambda: NOW + timedelta(seconds=5))
    assert await later.heartbeat(record, "alive:1:1")
    assert await PendingWork(engine).take_over(seen, "thief:2:2") is None
    assert not await PendingWork(engine).give_up(seen)
    assert [c.claimed_by for c in await PendingWork(engine).claims()] == ["alive:1:1"]


async def test_a_record_taken_over_is_no_longer_its_old_owners(engine: AsyncEngine) -> None:
    record = await make_record(engine, key=(1_700_000_000, "v0=abc"))
    (seen,) = await PendingWork(engine).claims()
    taken = await PendingWork(engine).take_over(seen, "new:1:1")
    assert taken is not None and taken.replay_key == (1_700_000_000, "v0=abc")
    assert taken.payload["text"] == "log Dana -- a note"
    assert not await PendingWork(engine).heartbeat(record, DEAD)
    assert await PendingWork(engine).take_over(seen, "third:3:3") is None


async def test_a_finished_record_cannot_be_taken_over(engine: AsyncEngine) -> None:
    record = await make_record(engine)
    (seen,) = await PendingWork(engine).claims()
    await PendingWork(engine).finish(record)
    assert await PendingWork(engine).take_over(seen, "late:1:1") is None


async def test_the_clock_purges_records_older_than_an_hour(engine: AsyncEngine) -> None:
    await make_record(engine)
    purger = Purger(engine)
    assert (await purger.run_once(NOW + timedelta(minutes=59))).pending == 0
    assert (await purger.run_once(NOW + timedelta(minutes=61))).pending == 1
    assert await PendingWork(engine).count() == 0


async def test_erasing_the_user_erases_their_pending_commands(engine: AsyncEngine) -> None:
    await make_record(engine)
    assert await erase_where(engine, User.external_id == "U1") == 1
    assert await PendingWork(engine).count() == 0


async def test_old_replay_keys_of_commands_still_pending_are_kept(engine: AsyncEngine) -> None:
    """A command run again long after its process died must still find its key if its work
    had committed (else it would be done twice)."""
    now = 1_800_000_000
    old = now - KEEP_SECONDS - 60
    await make_record(engine, key=(old, "pending"))
    seen = SeenRequests(engine, now=lambda: float(now))
    assert await seen.first_time(old, "pending")
    assert await seen.first_time(old, "answered")
    seen = SeenRequests(engine, now=lambda: float(now))  # a process that has not pruned yet
    assert await seen.first_time(now, "fresh")  # prunes on the way (once a minute)
    async with engine.connect() as connection:
        kept = (await connection.execute(select(SeenSlackRequest.signature))).scalars().all()
    assert sorted(kept) == ["fresh", "pending"]


async def test_claims_come_back_as_utc(engine: AsyncEngine) -> None:
    await make_record(engine)
    (claim,) = await PendingWork(engine).claims()
    assert isinstance(claim, Claim)
    assert claim.claimed_at == NOW and claim.created_at == NOW


def test_settle_outside_a_command_does_nothing() -> None:
    assert CURRENT.get() is None
    pending_work.settled()  # no slot: nothing to mark


async def test_only_the_owner_releases_a_record_and_only_while_it_is_young(
    engine: AsyncEngine,
) -> None:
    from storage.pending_work import RELEASED

    record = await make_record(engine, worker="me:1:1")
    assert not await PendingWork(engine).release(record, "someone:2:2")
    assert await PendingWork(engine, now=lambda: NOW + timedelta(minutes=1)).release(
        record, "me:1:1"
    )
    (claim,) = await PendingWork(engine).claims()
    assert claim.claimed_by == RELEASED and claim.claimed_at == NOW + timedelta(minutes=1)
    old = await make_record(engine, worker="me:1:1")
    later = PendingWork(engine, now=lambda: NOW + timedelta(minutes=26))
    assert not await later.release(old, "me:1:1")


def test_what_counts_as_the_database_being_unavailable() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from storage.pending_work import transient

    assert transient(PoolTimeout("QueuePool limit reached"))
    assert transient(OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert transient(ConnectionResetError())
    assert not transient(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not transient(ValueError("a bug"))
