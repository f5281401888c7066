"""The pass streams page by page (issue 14): memory bounded by the page, not by the users, and
several clock workers sharing one pass on PostgreSQL without waiting on each other's claims."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import jobs.runner
from bot.core.ports import Sent
from bot.core.replies import Reply
from jobs.runner import NudgeRunner
from storage.dialect import dialect_of
from storage.nudges import NudgeStore
from tests.fakes.memory_messenger import MemoryMessenger
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import FAST, at
from tests.jobs.test_runner_unit import CONFIG, Env

DAY = date(2026, 12, 1)


def _live_jobs() -> int:
    """This test's jobs (one per user being sent to, ``UMEM…``) still alive in the process
    (other tests' may linger in the same process: they are not counted). The pass sets older
    objects aside from the collector (``gc.freeze``), where ``gc.get_objects`` cannot see them:
    handed back first (the pass only runs its collections over more objects after that)."""
    gc.unfreeze()
    return sum(
        1
        for o in gc.get_objects()
        if type(o) is jobs.runner._Job and o.recipient.user.user_id.startswith("UMEM")
    )


class _Counting(MemoryMessenger):
    """Counts the live jobs at every post."""

    def __init__(self) -> None:
        super().__init__()
        self.live: list[int] = []

    async def post(self, target: str, reply: Reply, key: str) -> Sent:
        self.live.append(_live_jobs())
        return await super().post(target, reply, key)


async def test_per_user_state_is_released_once_its_page_is_sent() -> None:
    env = Env()
    env.slack = _Counting()
    for n in range(60):
        await env.user(f"UMEM{n}", "Dana Whitfield", "Bo Li")
    runner = env.runner(replace(CONFIG, batch=5, concurrency=2))
    summary = await runner.run_once(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    assert (summary.due, summary.sent) == (60, 60)
    assert len(env.slack.live) == 60
    # At most the page being decided, the pages ahead (planned meanwhile), the queue (a page)
    # and one per sender are alive, however many users there are; deciding everything first
    # kept all 60 alive while sending.
    assert max(env.slack.live) <= 5 + 5 * CONFIG.pages_ahead + 5 + 2 + 1
    assert min(env.slack.live) >= 1
    del runner
    assert _live_jobs() == 0


async def test_a_dry_run_reads_page_by_page_and_previews_the_first_twenty() -> None:
    env = Env()
    for n in range(25):
        await env.user(f"U{n}", "Dana Whitfield")
    summary = await env.runner(replace(CONFIG, batch=4)).run_once(
        datetime(2026, 12, 1, 8, 30, tzinfo=UTC), dry_run=True
    )
    assert summary.due == 25 and summary.sent == 0 and len(summary.previews) == 20
    assert env.store.calls.count("recipients") == 8  # 7 pages of 4, then an empty one
    assert not env.store.nudges


async def test_two_workers_split_a_pass_page_by_page(
    make_runner, user, fake_slack: FakeSlack, nudge_store: NudgeStore
) -> None:
    # Enough pages that one worker, however quick off the mark, cannot claim them all ahead
    # (the pages it reads ahead, the one composed and the ones queued to send).
    for i in range(48):
        await user(f"U{i}", "Dana", "Bo")
    fake_slack.latency = 0.02
    config = replace(FAST, batch=4, concurrency=2)
    one, two = make_runner(config=config), make_runner(config=config)
    first, second = await asyncio.gather(
        one.run_once(at(2026, 12, 1, 8, 30)), two.run_once(at(2026, 12, 1, 8, 30))
    )
    assert first.sent + second.sent == 48
    assert first.sent > 0 and second.sent > 0  # both took pages
    for i in range(48):
        assert len(fake_slack.messages_to(f"DU{i}")) == 1
    assert await nudge_store.counts_by_status() == {"sent": 48}


async def test_a_page_being_claimed_is_skipped_not_waited_for(
    engine: AsyncEngine, nudge_store: NudgeStore, make_runner, user
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: claims queue in the process, not in the database")
    for i in range(3):
        await user(f"U{i}", "Dana")
    page = sorted((await nudge_store.recipients(["slack"])), key=lambda r: r.id)
    wanted = [(r.id, DAY) for r in page]
    first = page[0].id
    now = at(2026, 12, 1, 8, 30)
    dialect = dialect_of(engine)
    async with engine.begin() as connection:  # another worker, in the middle of its claim
        assert await dialect.try_lock_page(connection, "morning", first)
        claimed = await dialect.claim_batch(connection, wanted, "other:1:a", now)
        assert len(claimed) == 3
        # Without the page lock this INSERT would wait for the other worker's commit.
        won = await asyncio.wait_for(nudge_store.claim(wanted, "me:2:b", now, page=first), 5)
        assert won == {}
    # Committed: the page lock is free again, and the rows are the other worker's.
    won = await asyncio.wait_for(nudge_store.claim(wanted, "me:2:b", now, page=first), 5)
    assert won == {}
    assert await nudge_store.counts_by_status() == {"claimed": 3}
    # A recap pass's claims lock pages of their own.
    async with engine.begin() as connection:
        assert await dialect.try_lock_page(connection, "morning", first)
        async with engine.begin() as other:
            assert await dialect.try_lock_page(other, "recap", first)
            assert not await dialect.try_lock_page(other, "morning", first)


async def test_a_runner_killed_mid_pass_leaves_its_unsent_claims_to_be_taken_over(
    make_runner, user, fake_slack: FakeSlack, nudge_store: NudgeStore
) -> None:
    for i in range(10):
        await user(f"U{i}", "Dana")
    fake_slack.latency = 0.2
    config = replace(FAST, batch=3, concurrency=2)
    doomed: NudgeRunner = make_runner(config=config)
    task = asyncio.create_task(doomed.run_once(at(2026, 12, 1, 8, 30)))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The same process's next pass (its own claims count as abandoned) finishes everything.
    summary = await doomed.run_once(at(2026, 12, 1, 8, 31))
    assert summary.due == 10 and summary.sent + summary.already == 10
    for i in range(10):
        assert len(fake_slack.messages_to(f"DU{i}")) == 1
    assert await nudge_store.counts_by_status() == {"sent": 10}


async def test_a_page_ahead_that_fails_to_plan_fails_the_pass_after_the_pages_before_it() -> None:
    env = Env()
    for n in range(12):
        await env.user(f"UP{n}", "Dana Whitfield")
    real = env.store.recipients
    pages = 0

    async def recipients(*args: object, **kwargs: object) -> object:
        nonlocal pages
        pages += 1
        if pages == 3:  # planned ahead while the first pages are composed and sent
            raise RuntimeError("database went away")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    env.store.recipients = recipients  # type: ignore[method-assign]
    runner = env.runner(replace(CONFIG, batch=4))
    with pytest.raises(RuntimeError, match="went away"):
        await runner.decide_all(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    assert env.store.calls.count("claim") == 2  # the two pages before it were claimed


async def test_reads_started_for_pages_ahead_are_cancelled_when_deciding_stops() -> None:
    env = Env()
    for n in range(20):
        await env.user(f"UC{n}", "Dana Whitfield")
    started: list[asyncio.Task[object]] = []
    real = env.store.compose_inputs

    async def compose_inputs(*args: object, **kwargs: object) -> object:
        task = asyncio.current_task()
        assert task is not None
        started.append(task)
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    env.store.compose_inputs = compose_inputs  # type: ignore[method-assign]
    runner = env.runner(replace(CONFIG, batch=4))
    summary = jobs.runner.RunSummary()
    with jobs.runner.PassHeap().frozen() as heap:
        pages = runner._decided(datetime(2026, 12, 1, 8, 30, tzinfo=UTC), summary, heap)
        first = await anext(pages)
        assert len(first) == 4
        await asyncio.sleep(0.01)  # the pages ahead are planned and their reads started
        await pages.aclose()
    assert len(started) == 1 + CONFIG.pages_ahead
    assert all(task.done() for task in started)
    assert summary.due <= 4 * (1 + CONFIG.pages_ahead + 1)  # no page read beyond those ahead


async def test_pages_are_sized_for_the_database(engine: AsyncEngine) -> None:
    from jobs.app import _paging

    batch, ahead = _paging(engine)
    if engine.dialect.name == "sqlite":
        # Reads run in the clock's process: a bigger page, nothing read ahead that waits.
        assert (batch, ahead) == (2000, 1)
    else:
        # The server reads while the clock composes: two smaller pages ahead keep it busy.
        assert (batch, ahead) == (1000, 2)
    # What deciding holds in memory, in users: no more than two pages of 2,000 did before.
    assert batch * (ahead + 1) <= 4000
