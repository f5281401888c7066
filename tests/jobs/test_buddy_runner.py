"""The weekly practice-buddy pass over real HTTP (the fake Slack Web API), on SQLite and
PostgreSQL: pairs introduced once in a group DM each, across two clocks and a worker killed
mid-send; members who left or opted out are never introduced; no pair repeats until everyone
has met; DST; broken and paused groups; the dry run."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import EVENT_TYPE, SlackMessenger
from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef
from bot.core.replies import message
from jobs.buddy_runner import BuddyConfig, BuddyRunner
from storage.buddy_runs import BUDDIES, BuddyRuns
from storage.groups import SqlGroups
from storage.models import BuddyMatch, GroupPost, GroupRow
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.jobs.conftest import at

FAST = BuddyConfig(backoff_base=0.01, backoff_max=0.05)
MONDAY = at(2026, 11, 30, 9, 5)  # the default theme time, Monday 09:00 UTC
WEEK = date(2026, 11, 30)
PEOPLE = {"UADA": "Ada One", "UBEN": "Ben Two", "UCY": "Cy Three", "UDEE": "Dee Four"}
COACH = UserRef("slack", "T1", "UCOACH")


def slack(user_id: str) -> UserRef:
    return UserRef("slack", "T1", user_id)


@pytest.fixture
def runs(engine: AsyncEngine) -> BuddyRuns:
    return BuddyRuns(engine)


@pytest.fixture
def make(runs: BuddyRuns, messenger: SlackMessenger) -> Any:
    def make_runner(worker: str | None = None) -> BuddyRunner:
        return BuddyRunner(runs, {"slack": messenger}, config=FAST, worker=worker)

    return make_runner


@pytest.fixture
async def cohort(engine: AsyncEngine, fake_slack: FakeSlack) -> int:
    """Spring cohort in C1: four members opted in to buddies, Eve a member who did not."""
    for user_id, name in PEOPLE.items():
        fake_slack.users[user_id] = {"real_name": name, "profile": {"display_name": name}}
    groups = SqlGroups(engine)
    group, _ = await groups.create("C1", "Spring cohort", COACH)
    for user_id in [*PEOPLE, "UEVE"]:
        await groups.join(group.id, slack(user_id), SharingLevel.NUMBERS)
        if user_id != "UEVE":
            assert await groups.set_buddies(group.id, slack(user_id), True)
    return group.id


def intros(fake: FakeSlack) -> dict[str, list[str]]:
    """Every group DM's messages' texts, by the sorted member ids of the DM."""
    found: dict[str, list[str]] = {}
    for channel, members in fake.group_dms.items():
        for posted in fake.messages_to(channel):
            text = " ".join(iter_texts(posted.get("blocks") or []))
            found.setdefault(",".join(members), []).append(text)
    return found


async def test_pairs_are_introduced_once_each_in_a_group_dm(
    make: Any, fake_slack: FakeSlack, cohort: int
) -> None:
    summary = await make().run_once(MONDAY)
    assert (summary.due, summary.sent, summary.failed) == (1, 2, 0)
    sent = intros(fake_slack)
    assert len(sent) == 2 and all(len(texts) == 1 for texts in sent.values())
    paired = [set(k.split(",")) for k in sent]
    assert set().union(*paired) == set(PEOPLE)  # Eve did not opt in: never paired
    for members, [text] in sent.items():
        names = [PEOPLE[m] for m in members.split(",")]
        assert f"{names[0]} and {names[1]}: you're practice buddies this week in Spring" in text
        assert "One thing to try together this week" in text
        assert "/reconnect group buddies off" in text
    # Again, and from a second clock: nothing more.
    again = await make().run_once(MONDAY + timedelta(minutes=5))
    assert (again.due, again.sent, again.already) == (1, 0, 1)
    assert intros(fake_slack) == sent
    # Not due on Tuesday, nor before 09:00.
    assert (await make().run_once(at(2026, 12, 1, 9, 5))).due == 0
    assert (await make().run_once(at(2026, 11, 30, 8, 59))).due == 0


async def test_two_clocks_at_once_introduce_each_pair_once(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    one, two = await asyncio.gather(make().run_once(MONDAY), make().run_once(MONDAY))
    assert one.sent + two.sent == 2
    assert sorted(len(texts) for texts in intros(fake_slack).values()) == [1, 1]
    async with engine.connect() as connection:
        claims = (
            await connection.execute(select(GroupPost.status).where(GroupPost.kind == BUDDIES))
        ).all()
    assert [c.status for c in claims] == ["sent"]


async def dead_claim(runs: BuddyRuns, group_id: int, engine: AsyncEngine) -> list[tuple[int, ...]]:
    """A worker claimed the week and died (kill -9: no heartbeat, its process gone)."""
    members = await runs.members(group_id)
    pairs = [tuple(sorted(members)[:2]), tuple(sorted(members)[2:])]
    assert await runs.claim(group_id, WEEK, pairs, "elsewhere:1:dead", MONDAY)
    return pairs


async def test_a_worker_killed_mid_send_is_taken_over_without_sending_twice(
    make: Any, runs: BuddyRuns, messenger: SlackMessenger, fake_slack: FakeSlack, cohort: int,
    engine: AsyncEngine,
) -> None:  # fmt: skip
    pairs = await dead_claim(runs, cohort, engine)
    members = await runs.members(cohort)
    # The dead worker recorded its first intro's attempt, and the intro did arrive...
    first = [members[m] for m in pairs[0]]
    channel = await messenger.open_group(first)
    await runs.start_intro(cohort, WEEK, "p0", channel, "elsewhere:1:dead", datetime.now(UTC))
    await messenger.post(channel, message("intro"), f"buddies:{cohort}:{WEEK}:p0")
    # ...and its second was in doubt too, but never reached Slack.
    second = [members[m] for m in pairs[1]]
    other = await messenger.open_group(second)
    await runs.start_intro(cohort, WEEK, "p1", other, "elsewhere:1:dead", datetime.now(UTC))
    summary = await make().run_once(MONDAY + timedelta(minutes=2))
    assert summary.sent == 1  # p1 once; p0 found in the group DM's history, not sent again
    assert len(fake_slack.messages_to(channel)) == 1
    assert len(fake_slack.messages_to(other)) == 1
    [posted] = fake_slack.messages_to(other)
    assert posted["metadata"]["event_type"] == EVENT_TYPE
    assert (await make().run_once(MONDAY + timedelta(minutes=4))).sent == 0


async def test_a_member_who_leaves_mid_week_is_not_introduced_nor_paired_again(
    make: Any, runs: BuddyRuns, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    pairs = await dead_claim(runs, cohort, engine)  # paired, not yet introduced
    members = await runs.members(cohort)
    leaver = members[pairs[0][0]]
    assert await SqlGroups(engine).leave(cohort, leaver)
    summary = await make().run_once(MONDAY + timedelta(minutes=2))
    assert summary.sent == 1
    sent = intros(fake_slack)
    assert all(leaver.user_id not in members for members in sent)
    # The next week: three left, a trio, the leaver nowhere.
    fake_slack.group_dms.clear()
    summary = await make().run_once(MONDAY + timedelta(days=7))
    assert summary.sent == 1
    [(members_of, [text])] = intros(fake_slack).items()
    assert leaver.user_id not in members_of and len(members_of.split(",")) == 3
    assert "a trio this time" in text


async def test_opting_out_stops_the_pairing_from_the_next_week(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    await make().run_once(MONDAY)
    assert await SqlGroups(engine).set_buddies(cohort, slack("UBEN"), False)
    fake_slack.group_dms.clear()
    await make().run_once(MONDAY + timedelta(days=7))
    sent = intros(fake_slack)
    assert sent and all("UBEN" not in members for members in sent)


async def test_no_pair_repeats_until_everyone_has_met(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    for week in range(3):
        await make().run_once(MONDAY + timedelta(days=7 * week))
    async with engine.connect() as connection:
        rows = (await connection.execute(select(BuddyMatch))).all()
    weeks: dict[tuple[date, int], list[int]] = {}
    for r in rows:
        weeks.setdefault((r.week_start, r.pair_no), []).append(r.user_id)
    met = Counter(tuple(sorted(p)) for p in weeks.values())
    assert len(weeks) == 6 and max(met.values()) == 1
    users = sorted({r.user_id for r in rows})
    assert set(met) == set(combinations(users, 2))  # 4 people, 3 weeks: everyone met once
    assert sum(len(texts) for texts in intros(fake_slack).values()) == 6


async def test_the_groups_own_time_zone_across_dst(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            update(GroupRow).values(timezone="America/New_York", theme_day=1, theme_at=time(8, 0))
        )
    # Tuesday 2026-12-01 08:00 in New York (EST) is 13:00 UTC.
    assert (await make().run_once(at(2026, 12, 1, 12, 59))).due == 0
    assert (await make().run_once(at(2026, 12, 1, 13, 0))).sent == 2
    # Tuesday 2027-03-16 (EDT): 12:00 UTC.
    assert (await make().run_once(at(2027, 3, 16, 11, 59))).due == 0
    assert (await make().run_once(at(2027, 3, 16, 12, 0))).sent == 2


async def test_broken_and_paused_groups_are_left_alone(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(update(GroupRow).values(broken="is_archived"))
    assert (await make().run_once(MONDAY)).due == 0
    async with engine.begin() as connection:
        await connection.execute(update(GroupRow).values(broken=None, paused_until=WEEK))
    assert (await make().run_once(MONDAY)).due == 0
    assert fake_slack.group_dms == {}


async def test_failures_are_retried_and_a_gone_person_does_not_stop_the_others(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    fake_slack.fail("chat.postMessage", status=500, times=1)
    fake_slack.fail("chat.postMessage", status=429, retry_after=0, times=1)
    fake_slack.fail("conversations.open", status=200, error="user_disabled", times=1)
    summary = await make().run_once(MONDAY)
    assert (summary.sent, summary.undeliverable, summary.failed) == (1, 1, 0)
    assert sorted(len(t) for t in intros(fake_slack).values()) == [1]
    async with engine.connect() as connection:
        [status] = (
            await connection.execute(select(GroupPost.status).where(GroupPost.kind == BUDDIES))
        ).scalars()
    assert status == "sent"


async def test_an_install_without_the_group_dm_scope_does_not_loop(
    make: Any, fake_slack: FakeSlack, cohort: int
) -> None:
    fake_slack.fail("conversations.open", status=200, error="missing_scope", times=10)
    summary = await make().run_once(MONDAY)
    assert (summary.sent, summary.undeliverable, summary.failed) == (0, 2, 0)
    assert len(fake_slack.calls_to("conversations.open")) == 2
    assert (await make().run_once(MONDAY + timedelta(minutes=1))).already == 1


async def test_a_failed_week_is_retried_by_the_next_pass(
    make: Any, fake_slack: FakeSlack, cohort: int
) -> None:
    fake_slack.fail("chat.postMessage", status=500, times=FAST.max_attempts)
    first = await make().run_once(MONDAY)
    assert first.failed == 1 and first.sent == 1
    second = await make().run_once(MONDAY + timedelta(minutes=1))
    assert second.sent == 1
    assert sorted(len(t) for t in intros(fake_slack).values()) == [1, 1]


async def test_the_dry_run_lists_the_pairs_with_their_intros_and_sends_nothing(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    summary = await make().run_once(MONDAY, dry_run=True)
    assert summary.due == 1 and len(summary.messages) == 2
    for where, reply in summary.messages:
        assert "Spring cohort" in where and "a group DM with" in where
        assert "practice buddies this week" in reply.summary + json.dumps(str(reply.blocks))
    assert fake_slack.group_dms == {} and not fake_slack.calls_to("chat.postMessage")
    async with engine.connect() as connection:
        assert (await connection.execute(select(GroupPost))).first() is None
        assert (await connection.execute(select(BuddyMatch))).first() is None


async def test_a_single_opted_in_member_gets_nothing(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    groups = SqlGroups(engine)
    for user_id in ("UBEN", "UCY", "UDEE"):
        await groups.set_buddies(cohort, slack(user_id), False)
    assert (await make().run_once(MONDAY)).due == 0
    assert fake_slack.group_dms == {}


class Flaky(SlackMessenger):
    """The Slack messenger with a platform library that blows up once, unexpectedly."""

    broke = False

    async def open_group(self, users: Any) -> str:
        if not self.broke:
            self.broke = True
            raise RuntimeError("unexpected")
        return await super().open_group(users)


async def test_an_unexpected_error_leaves_the_week_for_the_next_pass(
    runs: BuddyRuns, messenger: SlackMessenger, fake_slack: FakeSlack, cohort: int,
    engine: AsyncEngine,
) -> None:  # fmt: skip
    flaky = Flaky(messenger.client)
    runner = BuddyRunner(runs, {"slack": flaky}, config=FAST)
    first = await runner.run_once(MONDAY)
    assert first.failed == 1 and first.sent == 0
    async with engine.connect() as connection:
        [status] = (
            await connection.execute(select(GroupPost.status).where(GroupPost.kind == BUDDIES))
        ).scalars()
    assert status == "failed"
    # The same clock, a minute later, finishes the week.
    assert (await runner.run_once(MONDAY + timedelta(minutes=1))).sent == 2
    assert sorted(len(t) for t in intros(fake_slack).values()) == [1, 1]


async def test_export_lists_my_buddy_weeks_not_whom_and_erasing_removes_them(
    make: Any, fake_slack: FakeSlack, cohort: int, engine: AsyncEngine
) -> None:
    from storage.models import User
    from storage.user_data import erase_where, export_owner

    await make().run_once(MONDAY)
    async with engine.connect() as connection:
        ada = (
            await connection.execute(select(User.id).where(User.external_id == "UADA"))
        ).scalar_one()
        exported = await export_owner(connection, ada)
    weeks = exported.sections["practice_buddy_weeks"]
    assert weeks == [{"group": "Spring cohort", "week": "2026-11-30"}]
    assert not any(u in json.dumps(exported.sections, default=str) for u in ("UBEN", "UCY", "UDEE"))
    assert await erase_where(engine, User.external_id == "UADA") == 1
    async with engine.connect() as connection:
        left = (await connection.execute(select(BuddyMatch.user_id))).scalars().all()
    assert ada not in left and len(left) == 3
    # The next week pairs the other three as a trio; Ada is nowhere.
    fake_slack.group_dms.clear()
    assert (await make().run_once(MONDAY + timedelta(days=7))).sent == 1
    assert all("UADA" not in members for members in intros(fake_slack))


async def test_the_clock_runs_the_buddies_pass_each_minute(
    runner: Any, runs: BuddyRuns, messenger: SlackMessenger, fake_slack: FakeSlack, cohort: int
) -> None:
    from jobs.app import JOB_ID, build_scheduler

    buddies = BuddyRunner(runs, {"slack": messenger}, config=FAST, clock=lambda: MONDAY)
    scheduler = build_scheduler(runner, buddies=buddies)
    tick = scheduler.get_job(JOB_ID).func
    await tick()
    await tick()
    assert sorted(len(t) for t in intros(fake_slack).values()) == [1, 1]


class _AnotherClockStartsMeanwhile(BuddyRuns):
    """The store as a clock sees it when another clock starts just after it looked at who is
    alive: the other beats and claims the week between that look and this clock's claim."""

    def __init__(self, engine: AsyncEngine, other: BuddyRunner) -> None:
        super().__init__(engine)
        self.other = other
        self.looks = 0

    async def workers(self, now: datetime, stale_after: float) -> dict[str, tuple[str, int]]:
        seen = await super().workers(now, stale_after)
        self.looks += 1
        if self.looks == 1:  # the other clock: its heartbeat, then its claim of the week
            await self.other.run_once(MONDAY)
        return seen


async def test_a_clock_that_started_after_this_one_looked_is_not_taken_for_dead(
    runs: BuddyRuns, messenger: SlackMessenger, fake_slack: FakeSlack, cohort: int,
    engine: AsyncEngine,
) -> None:  # fmt: skip
    other = BuddyRunner(runs, {"slack": messenger}, config=FAST, worker="other:1:b")
    store = _AnotherClockStartsMeanwhile(engine, other)
    # The other clock's pass is still running (its claim not finished): pretend so by
    # putting its claim back to "claimed" once it has sent.
    mine = BuddyRunner(store, {"slack": messenger}, config=FAST, worker="mine:2:a")
    original = other.run_once

    async def leave_it_claimed(at: datetime) -> Any:
        summary = await original(at)
        async with engine.begin() as connection:
            await connection.execute(
                update(GroupPost).where(GroupPost.kind == BUDDIES).values(status="claimed")
            )
        return summary

    other.run_once = leave_it_claimed  # type: ignore[method-assign]
    summary = await mine.run_once(MONDAY)
    assert store.looks >= 2  # looked again on finding a claim by a worker it had not seen
    assert summary.sent == 0 and summary.busy == 1
    assert sorted(len(texts) for texts in intros(fake_slack).values()) == [1, 1]
