"""Commands acknowledged early ("One moment…"): recorded before the ack, taken over from dead
processes and run again exactly once, answered through the stored response URL, given up past
its 30 minutes (SQLite and PostgreSQL, against the fake Slack)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from bot.adapters.slack.pending import (
    SWEEP_SECONDS,
    PendingCommands,
    PendingRecovery,
    process_alive,
    worker_id,
)
from bot.core.model import UserRef
from bot.core.service import Caller, Reconnect
from storage.models import ConversationRow, SeenSlackRequest
from storage.pending_work import PendingWork
from storage.replays import PENDING
from storage.repository import SqlStore
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, iter_texts
from tests.support import SlackClient

ADA = UserRef("slack", "T1", "U1")
DEAD = "elsewhere:4242:deadbeef"


@pytest.fixture
async def client(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)


async def conversations(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(ConversationRow))
    return int(count or 0)


async def add_dana(service: Reconnect) -> None:
    await service.command(Caller(ADA), "add Dana Whitfield -- former CFO")


async def left_by_a_dead_process(
    store: SqlStore,
    text: str,
    response_url: str,
    *,
    key: tuple[int, str] | None = None,
    worker: str = DEAD,
    now: datetime | None = None,
) -> int:
    """A record as the listener of a process that then died would have left it."""
    table = PendingWork(store.engine, now=(lambda: now) if now else None)
    return await table.record(
        await store.owner_id(ADA),
        {"team_id": "T1", "user_id": "U1", "channel_id": "D1", "dm": True, "text": text},
        response_url=response_url,
        replay_key=key,
        worker=worker,
    )


def recovery(
    service: Reconnect,
    store: SqlStore,
    client: AsyncWebClient,
    fake: FakeSlack,
    *,
    alive: bool | None = False,
    now: datetime | None = None,
) -> PendingRecovery:
    pending = PendingCommands(store)
    if now is not None:
        pending.table.now = lambda: now
    return PendingRecovery(
        service, client, pending, api_url=fake.api_url, alive=lambda _worker: alive
    )


def answers(fake: FakeSlack, key: str) -> list[str]:
    return [
        " ".join([c.params.get("text", ""), *iter_texts(c.params.get("blocks") or [])])
        for c in fake.calls_to("response_url")
        if c.params["_key"] == key
    ]


async def test_a_command_a_dead_process_acked_is_run_again_and_answered(
    service: Reconnect, store: SqlStore, client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    await add_dana(service)
    await left_by_a_dead_process(
        store,
        "log Dana Whitfield -- talked about sailing",
        fake_slack.response_url("late"),
        key=(1_800_000_000, "v0=first"),
    )
    rescuer = recovery(service, store, client, fake_slack)
    await rescuer.sweep()
    await rescuer.wait()
    assert await conversations(store.engine) == 1
    (answer,) = answers(fake_slack, "late")
    assert "Dana Whitfield" in answer
    assert await PendingWork(store.engine).count() == 0
    async with store.engine.connect() as connection:  # the key went in with the work
        keys = (await connection.execute(select(SeenSlackRequest.signature))).scalars().all()
    assert keys == ["v0=first"]


async def test_work_that_had_committed_is_not_done_again(
    service: Reconnect, store: SqlStore, client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    """The process died after its work committed but before its record was deleted (the
    record landed after the work's transaction had passed): the key makes the rerun a no-op."""
    await add_dana(service)
    key = (1_800_000_000, "v0=done")
    token = PENDING.set((key,))
    try:
        await service.command(Caller(ADA), "log Dana Whitfield -- talked about sailing")
    finally:
        PENDING.reset(token)
    await left_by_a_dead_process(
        store, "log Dana Whitfield -- talked about sailing", fake_slack.response_url("x"), key=key
    )
    rescuer = recovery(service, store, client, fake_slack)
    await rescuer.sweep()
    await rescuer.wait()
    assert await conversations(store.engine) == 1
    assert answers(fake_slack, "x") == []
    assert await PendingWork(store.engine).count() == 0


async def test_two_processes_sweeping_at_once_run_each_command_once(
    service: Reconnect, store: SqlStore, client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    await add_dana(service)
    for n in range(4):
        await left_by_a_dead_process(
            store,
            f"log Dana Whitfield -- call number {n}",
            fake_slack.response_url(f"r{n}"),
            key=(1_800_000_000, f"v0=k{n}"),
        )
    first = recovery(service, store, client, fake_slack)
    second = recovery(Reconnect(SqlStore(store.engine)), store, client, fake_slack)
    await asyncio.gather(first.sweep(), second.sweep())
    await asyncio.gather(first.wait(), second.wait())
    assert await conversations(store.engine) == 4
    assert [len(answers(fake_slack, f"r{n}")) for n in range(4)] == [1, 1, 1, 1]
    assert await PendingWork(store.engine).count() == 0


async def test_a_live_owner_elsewhere_keeps_its_record_until_its_heartbeat_is_stale(
    service: Reconnect, store: SqlStore, client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    await add_dana(service)
    start = datetime.now(UTC)
    await left_by_a_dead_process(
        store, "log Dana Whitfield -- a call", fake_slack.response_url("s"), now=start
    )
    # Another host's process (alive: cannot tell), heard from 10 s ago: left alone, and the
    # sweeper comes back when it would go stale.
    early = recovery(
        service, store, client, fake_slack, alive=None, now=start + timedelta(seconds=10)
    )
    assert await early.sweep() == pytest.approx(20, abs=0.5)
    await early.wait()
    assert await conversations(store.engine) == 0
    late = recovery(
        service, store, client, fake_slack, alive=None, now=start + timedelta(seconds=31)
    )
    assert await late.sweep() == SWEEP_SECONDS
    await late.wait()
    assert await conversations(store.engine) == 1 and len(answers(fake_slack, "s")) == 1


async def test_past_the_response_urls_30_minutes_it_gives_up_with_a_log_line(
    service: Reconnect, store: SqlStore, client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    await add_dana(service)
    start = datetime.now(UTC) - timedelta(minutes=31)
    record = await left_by_a_dead_process(
        store, "log Dana Whitfield -- secret words", fake_slack.response_url("old"), now=start
    )
    rescuer = recovery(service, store, client, fake_slack, now=start + timedelta(minutes=31))
    with capture_logs() as logs:
        await rescuer.sweep()
        await rescuer.wait()
    assert await conversations(store.engine) == 0
    assert answers(fake_slack, "old") == []
    assert await PendingWork(store.engine).count() == 0
    expired = [e for e in logs if e["event"] == "slack.pending_expired"]
    assert [e["record"] for e in expired] == [record]
    assert "secret" not in repr(logs)


async def test_the_early_ack_goes_out_after_the_record_is_committed(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    """A command slow on Slack's side (the name of a mention is looked up) is recorded before
    "One moment…", and the record is gone once the work committed and the user has the answer."""
    await slack.command("add Dana Whitfield")
    fake_slack.hold_answers("users.info", len(fake_slack.calls_to("users.info")) + 1)
    try:
        response = await slack.command("log <@UDANA> -- talked about her new role")
        assert "One moment" in response.texts()
        assert await PendingWork(engine).count() == 1  # committed before the ack went out
        assert await conversations(engine) == 0
    finally:
        fake_slack.release_answers()
    posted = await fake_slack.async_wait_for("response_url", within=20)
    assert any("Dana Whitfield" in t for t in iter_texts(posted[0].params.get("blocks") or []))
    assert await conversations(engine) == 1
    for _ in range(100):  # deleted with the work, or just after the answer
        if await PendingWork(engine).count() == 0:
            break
        await asyncio.sleep(0.05)
    assert await PendingWork(engine).count() == 0


def test_a_process_on_this_host_is_known_alive_or_gone() -> None:
    assert process_alive(worker_id()) is True
    host = worker_id().split(":")[0]
    assert process_alive(f"{host}:999999999:abcd") is False
    assert process_alive("some-other-host:1:abcd") is None


async def test_the_owner_keeps_its_record_fresh_while_the_work_runs(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.slack import pending as module
    from storage.pending_work import Slot

    monkeypatch.setattr(module, "HEARTBEAT_SECONDS", 0.05)
    owner = PendingCommands(store)
    slot = Slot()
    await owner.record(slot, Caller(ADA), {"text": "due", "response_url": ""})
    (before,) = await owner.table.claims()
    async with owner.heartbeats(slot):
        await asyncio.sleep(0.4)
    (after,) = await owner.table.claims()
    assert after.claimed_by == owner.worker and after.claimed_at > before.claimed_at


async def test_a_process_never_takes_over_its_own_records(
    service: Reconnect, store: SqlStore, client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    rescuer = recovery(service, store, client, fake_slack)  # alive: False for anyone
    await left_by_a_dead_process(
        store, "due", fake_slack.response_url("own"), worker=rescuer.pending.worker
    )
    await rescuer.sweep()
    await rescuer.wait()
    assert await PendingWork(store.engine).count() == 1
    assert answers(fake_slack, "own") == []


async def test_a_rerun_the_database_cannot_serve_yet_is_run_again_shortly(
    store: SqlStore, database_url: object, client: AsyncWebClient, fake_slack: FakeSlack
) -> None:
    """The work finds no free connection (a pool of one, held here): not an error to show the
    user but a reason to try again; the record is released, and run again once it can be."""
    from sqlalchemy.engine import URL

    from storage import db
    from storage.dialect import dialect_of
    from storage.pending_work import RELEASED

    assert isinstance(database_url, URL)
    crowded = db.create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.3)
    try:
        service = Reconnect(SqlStore(crowded))
        await add_dana(service)
        await left_by_a_dead_process(
            store, "log Dana Whitfield -- a call", fake_slack.response_url("t"), key=(1, "v0=t")
        )
        rescuer = recovery(service, store, client, fake_slack)
        async with crowded.connect() as hog:
            # The pool's only connection, checked out (reading: SQLite's write lock stays free).
            await hog.execution_options(**dialect_of(crowded).read_options)
            await hog.execute(select(1))
            await rescuer.sweep()
            await rescuer.wait()
        (claim,) = await PendingWork(store.engine).claims()
        assert claim.claimed_by == RELEASED
        assert answers(fake_slack, "t") == []  # no "sorry": it is not over
        assert await rescuer.sweep() == pytest.approx(5, abs=1)  # comes back when it is due
        rescuer.pending.table.now = lambda: datetime.now(UTC) + timedelta(seconds=6)
        await rescuer.sweep()
        await rescuer.wait()
        assert await conversations(store.engine) == 1
        (answer,) = answers(fake_slack, "t")
        assert "Dana Whitfield" in answer
        assert await PendingWork(store.engine).count() == 0
    finally:
        await crowded.dispose()


async def test_many_commands_left_behind_are_taken_over_a_few_at_a_time(
    service: Reconnect,
    store: SqlStore,
    client: AsyncWebClient,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.adapters.slack import pending as module

    monkeypatch.setattr(module, "MAX_RERUNS", 2)
    await add_dana(service)
    for n in range(5):
        await left_by_a_dead_process(
            store, f"log Dana Whitfield -- call {n}", fake_slack.response_url(f"m{n}")
        )
    rescuer = recovery(service, store, client, fake_slack)
    assert await rescuer.sweep() == module.MIN_SWEEP_SECONDS  # 2 taken, 3 left for later
    assert len(rescuer._running) == 2
    await rescuer.wait()
    await rescuer.sweep()
    await rescuer.wait()
    await rescuer.sweep()
    await rescuer.wait()
    assert await conversations(store.engine) == 5
    assert await PendingWork(store.engine).count() == 0
