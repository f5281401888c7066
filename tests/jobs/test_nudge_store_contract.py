"""The nudge store contract: the same expectations on the in-memory fake the runner's unit tests
use (``tests/fakes/memory_nudges.py``) and on ``NudgeStore`` on SQLite and PostgreSQL, so the
fake cannot drift from the real store.

Both are seeded through the ``Store`` protocol (the fake over a ``MemoryStore``, the real one
over ``SqlStore``) and driven through :class:`jobs.ports.NudgeStorePort`; a small "world" per
kind reads back what the port does not hand out (attempt outcomes, errors, message ids).
The fake runs beside each database (it needs none; it costs milliseconds).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import ContactDraft, Conversation, UserRef
from bot.core.nudges import ACTIVITY_COUNTED, Activity
from bot.core.ports import Store
from bot.core.schedule import NudgePrefs
from jobs.ports import NudgeStorePort
from storage.models import DeliveryAttempt, Nudge, PromptView, User
from storage.nudges import NudgeStore
from storage.records import AttemptOutcome, AttemptResult, AttemptStart, NudgeStatus
from storage.repository import SqlStore
from tests.fakes.memory_nudges import MemoryNudgeStore
from tests.fakes.memory_store import MemoryStore

ADA = UserRef("slack", "T1", "U1")
BOB = UserRef("slack", "T1", "U2")
TEAMS = UserRef("teams", "tenant", "29:abc")
DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


@dataclass(frozen=True)
class NudgeView:
    """What a test checks of a nudge row, read the same way from both stores."""

    status: str
    worker: str
    attempts: int
    content: str
    channel: str | None
    message_id: str | None
    sent_at: datetime | None
    error: str | None


class World:
    """A nudge store, the ``Store`` its users are seeded through, and reads for the checks."""

    store: NudgeStorePort
    books: Store

    async def user_id(self, user: UserRef) -> int:
        raise NotImplementedError

    async def nudge(self, nudge_id: int) -> NudgeView:
        raise NotImplementedError

    async def attempts(self, nudge_id: int) -> list[tuple[int, str, str | None, str | None]]:
        """``(number, worker, outcome, detail)`` by number."""
        raise NotImplementedError

    async def undeliverable(self, user_id: int) -> str | None:
        raise NotImplementedError

    async def last_shown(self, user_id: int, prompt_id: str) -> date | None:
        raise NotImplementedError


class MemoryWorld(World):
    def __init__(self) -> None:
        self.books = MemoryStore()
        self.fake = MemoryNudgeStore(self.books)
        self.store = self.fake

    async def user_id(self, user: UserRef) -> int:
        return self.fake.user_id(user)

    async def nudge(self, nudge_id: int) -> NudgeView:
        n = self.fake.nudges[nudge_id]
        return NudgeView(
            n.status, n.worker, n.attempts, n.content, n.channel, n.message_id, n.sent_at, n.error
        )

    async def attempts(self, nudge_id: int) -> list[tuple[int, str, str | None, str | None]]:
        return [(a.number, a.worker, a.outcome, a.detail) for a in self.fake.attempts_of(nudge_id)]

    async def undeliverable(self, user_id: int) -> str | None:
        return self.fake.users()[user_id].undeliverable

    async def last_shown(self, user_id: int, prompt_id: str) -> date | None:
        entry = self.fake.prompt_views.get((user_id, prompt_id))
        return entry[1] if entry else None


class SqlWorld(World):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.books = SqlStore(engine)
        self.store = NudgeStore(engine)

    async def _one(self, query: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).one_or_none()

    async def user_id(self, user: UserRef) -> int:
        row = await self._one(select(User.id).where(User.external_id == user.user_id))
        return int(row.id)

    async def nudge(self, nudge_id: int) -> NudgeView:
        n = await self._one(select(Nudge).where(Nudge.id == nudge_id))
        sent_at = (
            n.sent_at if n.sent_at is None or n.sent_at.tzinfo else n.sent_at.replace(tzinfo=UTC)
        )
        return NudgeView(
            n.status, n.worker, n.attempts, n.content, n.channel, n.message_id, sent_at, n.error
        )

    async def attempts(self, nudge_id: int) -> list[tuple[int, str, str | None, str | None]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.nudge_id == nudge_id)
                .order_by(DeliveryAttempt.number)
            )
            return [(r.number, r.worker, r.outcome, r.detail) for r in rows]

    async def undeliverable(self, user_id: int) -> str | None:
        row = await self._one(select(User.undeliverable).where(User.id == user_id))
        reason: str | None = row.undeliverable
        return reason

    async def last_shown(self, user_id: int, prompt_id: str) -> date | None:
        row = await self._one(
            select(PromptView.last_shown).where(
                PromptView.user_id == user_id, PromptView.prompt_id == prompt_id
            )
        )
        return row.last_shown if row else None


@pytest.fixture(params=["memory", "sql"])
async def world(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[World]:
    """The fake, or ``NudgeStore`` on the ``engine`` fixture's database (each kind)."""
    yield MemoryWorld() if request.param == "memory" else SqlWorld(engine)


async def user(w: World, ref: UserRef, *, cards: int = 3, tz: str = "UTC") -> int:
    prefs = NudgePrefs(timezone=tz, time=time(8, 30), days=0b1111111, cards=cards)
    async with w.books.book(ref) as book:
        await book.save_prefs(prefs, timezone_from_user=True)
    return await w.user_id(ref)


async def claim_one(w: World, uid: int, worker: str = "w1", day: date = DAY) -> int:
    won = await w.store.claim([(uid, day)], worker, NOW)
    return won[uid]


# --- workers ---------------------------------------------------------------------------------


async def test_heartbeats_register_refresh_and_forget_workers(world: World) -> None:
    store = world.store
    await store.heartbeat("a", "host-a", 11, NOW)
    await store.heartbeat("b", "host-b", 22, NOW)
    await store.heartbeat("a", "elsewhere", 99, NOW + timedelta(seconds=15))  # time only
    assert await store.workers() == {
        "a": ("host-a", 11, NOW + timedelta(seconds=15)),
        "b": ("host-b", 22, NOW),
    }
    await store.remove_worker("b")
    await store.remove_worker("never-was")
    assert set(await store.workers()) == {"a"}
    # A beat a day and more later forgets workers silent since (killed ones never deregister).
    await store.heartbeat("c", "host-c", 33, NOW + timedelta(days=1, seconds=16))
    assert set(await store.workers()) == {"c"}


# --- planning --------------------------------------------------------------------------------


async def test_recipients_by_platform_with_prefs_and_cached_channel(world: World) -> None:
    ada = await user(world, ADA, cards=2, tz="Europe/London")
    teams = await user(world, TEAMS)
    await world.store.set_dm_channels({ada: "DADA", 10_000: "DNOBODY"})
    [recipient] = await world.store.recipients(["slack"])
    assert (recipient.id, recipient.user, recipient.dm_channel) == (ada, ADA, "DADA")
    assert recipient.prefs == NudgePrefs(
        timezone="Europe/London", time=time(8, 30), days=0b1111111, cards=2, timezone_locked=True
    )
    both = await world.store.recipients({"slack": None, "teams": None})
    assert sorted(r.id for r in both) == sorted([ada, teams])
    await world.store.set_dm_channels({ada: None})
    [recipient] = await world.store.recipients(["slack"])
    assert recipient.dm_channel is None


async def test_recipients_read_every_nudge_setting(world: World) -> None:
    """Planning reads the settings straight off the driver: times, dates and the lock as stored."""
    prefs = NudgePrefs(timezone="America/St_Johns", time=time(7, 45), days=0b0010101,
                       paused_until=date(2026, 12, 24), cards=5)  # fmt: skip
    async with world.books.book(ADA) as book:
        await book.save_prefs(prefs, timezone_from_user=False)
    [recipient] = await world.store.recipients(["slack"])
    assert recipient.prefs == prefs
    assert recipient.user == ADA and recipient.dm_channel is None


async def test_recipients_come_in_keyset_pages_by_id(world: World) -> None:
    ids = [await user(world, UserRef("slack", "T1", f"U{n}")) for n in range(5)]
    await user(world, TEAMS)
    first = await world.store.recipients(["slack"], limit=2)
    assert [r.id for r in first] == sorted(ids)[:2]
    rest = await world.store.recipients(["slack"], after=first[-1].id, limit=10)
    assert [r.id for r in rest] == sorted(ids)[2:]
    assert await world.store.recipients(["slack"], after=max(ids), limit=2) == []


async def test_existing_can_be_read_for_some_users_only(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    await world.store.claim([(ada, DAY), (bob, DAY)], "w1", NOW)
    assert set(await world.store.existing([DAY], [bob])) == {(bob, DAY)}
    assert await world.store.existing([DAY], []) == {}


async def test_an_outcome_can_cache_the_dm_channel_with_it(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    won = await world.store.claim([(ada, DAY), (bob, DAY)], "w1", NOW)
    await world.store.start_attempts(
        [AttemptStart(won[ada], 1, "w1", NOW, "{}"), AttemptStart(won[bob], 1, "w1", NOW, "{}")]
    )
    sent = NudgeStatus.SENT
    await world.store.record_outcomes(
        [
            AttemptOutcome(won[ada], ada, 1, AttemptResult.SENT, status=sent, channel="DADA",
                           message_id="1", at=NOW, cache_channel=True),
            AttemptOutcome(won[bob], bob, 1, AttemptResult.SENT, status=sent, channel="DBOB",
                           message_id="2", at=NOW),
        ]
    )  # fmt: skip
    channels = {r.id: r.dm_channel for r in await world.store.recipients(["slack"])}
    assert channels == {ada: "DADA", bob: None}


async def test_claims_are_unique_per_user_and_day(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    won = await world.store.claim([(ada, DAY), (bob, DAY)], "w1", NOW)
    assert set(won) == {ada, bob} and len(set(won.values())) == 2
    later = NOW + timedelta(minutes=1)
    assert await world.store.claim([(ada, DAY)], "w2", later) == {}  # the first claim wins
    tomorrow = await world.store.claim([(ada, DAY + timedelta(1))], "w2", later)
    assert set(tomorrow) == {ada}
    existing = await world.store.existing([DAY, DAY])
    assert set(existing) == {(ada, DAY), (bob, DAY)}
    state = existing[ada, DAY]
    assert (state.id, state.user_id, state.day) == (won[ada], ada, DAY)
    assert (state.status, state.worker, state.attempts, state.content) == ("claimed", "w1", 0, "")
    assert state.claimed_at == NOW and not state.open_attempt
    assert await world.store.existing([]) == {}


async def test_take_over_is_a_compare_and_set(world: World) -> None:
    ada = await user(world, ADA)
    await claim_one(world, ada, "dead")
    [state] = (await world.store.existing([DAY])).values()
    later = NOW + timedelta(minutes=5)
    assert await world.store.take_over(state, "w2", later)
    assert not await world.store.take_over(state, "w3", later)  # w2 got there first
    [taken] = (await world.store.existing([DAY])).values()
    assert (taken.worker, taken.status, taken.claimed_at) == ("w2", "claimed", later)
    # A failed nudge is retried by taking it over in its failed state; a stale status loses.
    await world.store.record_outcomes(
        [
            AttemptOutcome(
                state.id, ada, 0, AttemptResult.GAVE_UP, "8 attempts", status=NudgeStatus.FAILED
            )
        ]
    )
    assert not await world.store.take_over(taken, "w3", later)  # it was "claimed" then
    [failed] = (await world.store.existing([DAY])).values()
    assert failed.status == "failed"
    assert await world.store.take_over(failed, "w3", later)
    assert (await world.store.existing([DAY]))[ada, DAY].status == "claimed"


# --- delivering ------------------------------------------------------------------------------


async def test_attempts_open_before_and_close_after_a_send(world: World) -> None:
    ada = await user(world, ADA)
    nid = await claim_one(world, ada)
    await world.store.start_attempts([AttemptStart(nid, 1, "w1", NOW, '{"v": 1}')])
    state = (await world.store.existing([DAY]))[ada, DAY]
    assert (state.attempts, state.content, state.open_attempt) == (1, '{"v": 1}', True)
    # The same number again keeps the first attempt; count and content are written all the same.
    await world.store.start_attempts([AttemptStart(nid, 1, "w2", NOW, '{"v": 2}')])
    assert await world.attempts(nid) == [(1, "w1", None, None)]
    assert (await world.nudge(nid)).content == '{"v": 2}'
    await world.store.record_outcomes([AttemptOutcome(nid, ada, 1, "transient", "")])
    assert await world.attempts(nid) == [(1, "w1", "transient", None)]  # no detail: NULL
    assert not (await world.store.existing([DAY]))[ada, DAY].open_attempt
    assert (await world.nudge(nid)).status == "claimed"  # no status: the nudge is unchanged
    await world.store.start_attempts([AttemptStart(nid, 2, "w1", NOW, '{"v": 2}')])
    sent_at = NOW + timedelta(seconds=3)
    await world.store.record_outcomes(
        [
            AttemptOutcome(
                nid,
                ada,
                2,
                AttemptResult.SENT,
                "",
                status=NudgeStatus.SENT,
                channel="DADA",
                message_id="1.0002",
                prompt_id="fear-1",
                at=sent_at,
            )
        ]
    )
    assert await world.nudge(nid) == NudgeView(
        "sent", "w1", 2, '{"v": 2}', "DADA", "1.0002", sent_at, None
    )
    assert await world.attempts(nid) == [(1, "w1", "transient", None), (2, "w1", "sent", None)]
    assert not (await world.store.existing([DAY]))[ada, DAY].open_attempt


async def test_outcomes_without_an_attempt_and_failures_keep_the_error(world: World) -> None:
    ada = await user(world, ADA)
    nid = await claim_one(world, ada)
    await world.store.start_attempts([AttemptStart(nid, 1, "w1", NOW, "")])
    long = "x" * 250
    await world.store.record_outcomes(
        [
            AttemptOutcome(nid, ada, 1, "transient", long),
            AttemptOutcome(nid, ada, 7, "transient", "no such attempt"),  # nothing to close
            AttemptOutcome(
                nid,
                ada,
                0,
                AttemptResult.GAVE_UP,
                "1 attempts",
                status=NudgeStatus.FAILED,
                channel="DADA",
                at=NOW,
            ),
        ]
    )
    assert await world.attempts(nid) == [(1, "w1", "transient", "x" * 200)]
    assert await world.nudge(nid) == NudgeView(
        "failed", "w1", 1, "", "DADA", None, None, "1 attempts"
    )
    assert (await world.store.existing([DAY]))[ada, DAY].attempts == 1


async def test_undeliverable_users_are_marked_and_no_longer_recipients(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    nid = await claim_one(world, ada)
    reason = "account_inactive" + "!" * 80
    await world.store.record_outcomes(
        [AttemptOutcome(nid, ada, 0, "permanent", reason, status=NudgeStatus.UNDELIVERABLE)]
    )
    assert await world.undeliverable(ada) == reason[:64]
    assert (await world.nudge(nid)).error == reason
    assert [r.id for r in await world.store.recipients(["slack"])] == [bob]


async def test_sent_prompts_are_counted_for_composing(world: World) -> None:
    ada = await user(world, ADA)
    first = await claim_one(world, ada)
    second = await claim_one(world, ada, day=DAY + timedelta(1))
    for nid, at in ((first, NOW), (second, NOW + timedelta(days=1))):
        await world.store.record_outcomes(
            [
                AttemptOutcome(
                    nid,
                    ada,
                    0,
                    "sent",
                    status=NudgeStatus.SENT,
                    channel="D",
                    message_id=str(nid),
                    prompt_id="fear-1",
                    at=at,
                )
            ]
        )
    no_prompt = await claim_one(world, ada, day=DAY + timedelta(2))
    await world.store.record_outcomes(
        [AttemptOutcome(no_prompt, ada, 0, "sent", status=NudgeStatus.SENT, at=NOW)]
    )
    inputs = await world.store.compose_inputs({ada: DAY}, candidates_per_user=3)
    assert inputs[ada].prompt_views == {"fear-1": 2}
    assert await world.last_shown(ada, "fear-1") == DAY + timedelta(1)


# --- composing -------------------------------------------------------------------------------


async def test_compose_inputs_candidates_followups_and_activity(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    early = DAY - timedelta(days=30)
    async with world.books.book(ADA) as book:

        async def add(name: str, due: date, created: date = early) -> int:
            return (await book.add(ContactDraft(name=name), due_on=due, today=created)).id

        oldest = await add("Olive Oldest", DAY - timedelta(9))
        skipped = await add("Sam Skipped", DAY - timedelta(8))
        waiting = await add("Wes Waiting", DAY - timedelta(7))
        due = await add("Dana Due", DAY - timedelta(3), created=DAY - timedelta(2))
        await add("Tia Today", DAY)
        await add("Fay Future", DAY + timedelta(2))
        await add("Nia New", DAY + timedelta(5), created=DAY)
        contact = await book.get(skipped)
        assert contact is not None
        await book.save(replace(contact, skipped_on=DAY))
        contact = await book.get(waiting)
        assert contact is not None
        await book.save(replace(contact, reached_out_on=DAY, follow_up_on=DAY))
        await book.log(Conversation(oldest, DAY - timedelta(4), learned="sails"))
        await book.log(Conversation(due, DAY - timedelta(2), kind="outreach"))
        await book.log(Conversation(oldest, DAY - timedelta(2), learned=""))  # the latest
    async with world.books.book(BOB) as book:
        await book.add(ContactDraft(name="Bo Li"), due_on=DAY, today=early)

    # Bob's day is later than Ada's: the batch reads by its latest day and earliest week, and
    # keeps what each user's own day allows.
    bob_day = DAY + timedelta(3)
    inputs = await world.store.compose_inputs({ada: DAY, bob: bob_day}, candidates_per_user=3)
    a = inputs[ada]
    # The 3 most overdue not awaiting a reply (Olive, Sam, Dana), less the one skipped today.
    assert [c.name for c in a.candidates] == ["Olive Oldest", "Dana Due"]
    async with world.books.book(ADA, write=False) as book:
        assert a.candidates[0] == await book.get(oldest)
    assert [c.name for c in a.followups] == ["Wes Waiting"]
    assert a.activity == Activity(
        contacts=ACTIVITY_COUNTED,  # 7 in the circle, counted up to 5
        conversations=3,
        last_activity_on=DAY - timedelta(2),
        last_conversation_learned=False,
    )
    assert [c.name for c in inputs[bob].candidates] == ["Bo Li"]
    assert inputs[bob].activity == Activity(1, 0, None, None)
    assert inputs[bob].prompt_views == {}

    wider = await world.store.compose_inputs({ada: DAY}, candidates_per_user=10)
    assert [c.name for c in wider[ada].candidates] == ["Olive Oldest", "Dana Due", "Tia Today"]
    later = await world.store.compose_inputs({ada: DAY + timedelta(2)}, candidates_per_user=10)
    assert [c.name for c in later[ada].candidates] == [
        "Olive Oldest",
        "Sam Skipped",
        "Dana Due",
        "Tia Today",
        "Fay Future",
    ]
    assert await world.store.compose_inputs({}, candidates_per_user=3) == {}


async def test_compose_inputs_of_an_unknown_or_quiet_user_are_empty(world: World) -> None:
    ada = await user(world, ADA)
    inputs = await world.store.compose_inputs({ada: DAY, 10_000: DAY}, candidates_per_user=3)
    assert inputs[ada].candidates == [] and inputs[ada].followups == []
    assert inputs[ada].activity == Activity(0, 0, None, None)
    assert inputs[10_000].activity == Activity(0, 0, None, None)


async def test_contacts_for_reads_only_the_users_own(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    async with world.books.book(ADA) as book:
        dana = await book.add(ContactDraft(name="Dana"), due_on=DAY, today=DAY)
        await book.add(ContactDraft(name="Bo"), due_on=DAY, today=DAY)
        expected = await book.get(dana.id)
    assert await world.store.contacts_for(ada, [dana.id, 10_000]) == {dana.id: expected}
    assert await world.store.contacts_for(bob, [dana.id]) == {}
    assert await world.store.contacts_for(ada, []) == {}


async def test_a_group_of_delivery_writes_in_one_call(world: World) -> None:
    """What the runner's group commit hands over at once: attempts opened, outcomes (a sent
    nudge caching its DM channel and counting its prompt, an undeliverable user, an attempt
    closed without a status) and DM channels, for different users. On PostgreSQL that is one
    statement; a channel given with the group wins over an outcome's for the same user."""
    ada, bob = await user(world, ADA), await user(world, BOB)
    cy = await user(world, UserRef("slack", "T1", "U3"))
    won = await world.store.claim([(ada, DAY), (bob, DAY), (cy, DAY)], "w1", NOW)
    await world.store.start_attempts(
        [AttemptStart(won[ada], 1, "w1", NOW, "{}"), AttemptStart(won[bob], 1, "w1", NOW, "{}")]
    )
    statements: list[str] = []
    engine = getattr(world.store, "engine", None)

    def seen(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    if engine is not None:
        event.listen(engine.sync_engine, "before_cursor_execute", seen)
    sent_at = NOW + timedelta(seconds=2)
    await world.store.record_delivery(
        [AttemptStart(won[cy], 1, "w1", NOW, '{"c": 1}')],
        [
            AttemptOutcome(won[ada], ada, 1, AttemptResult.SENT, status=NudgeStatus.SENT,
                           channel="DADA", message_id="1.1", prompt_id="fear-1", at=sent_at,
                           cache_channel=True),
            AttemptOutcome(won[bob], bob, 1, "permanent", "user_disabled",
                           status=NudgeStatus.UNDELIVERABLE),
        ],
        {cy: "DCY", ada: "DLATER"},
    )  # fmt: skip
    if engine is not None:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
        if engine.dialect.name == "postgresql":
            assert len(statements) == 1
    assert await world.nudge(won[ada]) == NudgeView(
        "sent", "w1", 1, "{}", "DADA", "1.1", sent_at, None
    )
    assert await world.attempts(won[ada]) == [(1, "w1", "sent", None)]
    assert await world.attempts(won[bob]) == [(1, "w1", "permanent", "user_disabled")]
    assert (await world.nudge(won[bob])).status == "undeliverable"
    assert await world.undeliverable(bob) == "user_disabled"
    assert await world.attempts(won[cy]) == [(1, "w1", None, None)]
    assert (await world.nudge(won[cy])).content == '{"c": 1}'
    assert await world.last_shown(ada, "fear-1") == DAY
    channels = {r.id: r.dm_channel for r in await world.store.recipients(["slack"])}
    assert channels == {ada: "DLATER", cy: "DCY"}  # bob is undeliverable: no recipient


async def test_a_group_that_writes_one_row_twice_is_written_in_order(world: World) -> None:
    """A user marked undeliverable whose DM channel is forgotten in the same group (on
    PostgreSQL two writes of one row: not in one statement), and an attempt opened and closed
    in one group: everything is written, in the order the separate writes would."""
    ada, bob = await user(world, ADA), await user(world, BOB)
    won = await world.store.claim([(ada, DAY), (bob, DAY)], "w1", NOW)
    await world.store.set_dm_channels({ada: "DADA"})
    await world.store.record_delivery(
        [AttemptStart(won[bob], 1, "w1", NOW, "{}")],
        [
            AttemptOutcome(won[ada], ada, 0, "permanent", "account_inactive",
                           status=NudgeStatus.UNDELIVERABLE),
            AttemptOutcome(won[bob], bob, 1, "transient", "http_503"),
        ],
        {ada: None},
    )  # fmt: skip
    assert await world.undeliverable(ada) == "account_inactive"
    assert (await world.nudge(won[ada])).status == "undeliverable"
    assert await world.attempts(won[bob]) == [(1, "w1", "transient", "http_503")]
    [recipient] = await world.store.recipients(["slack"])
    assert recipient.id == bob


async def test_a_pass_reads_finished_nudges_without_their_content(world: World) -> None:
    ada, bob = await user(world, ADA), await user(world, BOB)
    sent, claimed = await claim_one(world, ada), await claim_one(world, bob)
    await world.store.start_attempts(
        [
            AttemptStart(sent, 1, "w1", NOW, '{"v": 1}'),
            AttemptStart(claimed, 1, "w1", NOW, '{"b": 1}'),
        ]
    )
    await world.store.record_outcomes(
        [AttemptOutcome(sent, ada, 1, AttemptResult.SENT, "", status=NudgeStatus.SENT)]
    )
    lean = await world.store.existing([DAY], [ada, bob], finished_content=False)
    # The sent one's content is not read; the one still to send (or take over) keeps its own.
    assert (lean[ada, DAY].status, lean[ada, DAY].content) == ("sent", "")
    assert lean[bob, DAY].content == '{"b": 1}'
    whole = await world.store.existing([DAY], [ada, bob])  # the console shows what was sent
    assert whole[ada, DAY].content == '{"v": 1}'
    assert {k: (s.id, s.status, s.attempts) for k, s in lean.items()} == {
        k: (s.id, s.status, s.attempts) for k, s in whole.items()
    }


async def test_refreshing_the_statistics_changes_nothing_it_reads(world: World) -> None:
    ada = await user(world, ADA)
    await claim_one(world, ada)
    before = await world.store.existing([DAY])
    await world.store.refresh_statistics()
    assert await world.store.existing([DAY]) == before


async def test_postgresql_counts_the_claimed_nudges_once_refreshed(engine: AsyncEngine) -> None:
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans these reads by its indexes alone")
    world = SqlWorld(engine)
    for ref in (ADA, BOB):
        await claim_one(world, await user(world, ref))
    tuples = text("SELECT reltuples FROM pg_class WHERE oid = 'nudges'::regclass")
    await world.store.refresh_statistics()
    async with engine.connect() as connection:
        assert await connection.scalar(tuples) == 2  # analyzed: the planner sees both
