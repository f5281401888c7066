"""``group settings`` / ``group pause`` / ``group resume`` and the theme's goal buttons, through
the real service and store on SQLite and PostgreSQL, and the goal button over real HTTP from
the fake Slack (answered ephemerally, the channel post left alone)."""

from __future__ import annotations

import json
from datetime import date, time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from bot.core.service import Caller, Reconnect
from storage.group_rhythm import SqlRhythmGroups
from storage.models import GroupRow, WeeklyGoal
from storage.repository import SqlStore
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import at
from tests.jobs.group_helpers import make_group
from tests.support import Clock, SlackClient

COACH = UserRef("slack", "T1", "UCOACH")
MEMBER = UserRef("slack", "T1", "U1")
OTHER = UserRef("slack", "T1", "UOTHER")
ELSEWHERE = UserRef("slack", "T2", "U1")


@pytest.fixture
def rhythm(store: SqlStore, clock: Clock, engine: AsyncEngine) -> Reconnect:
    return Reconnect(store, clock=clock, rhythm_groups=SqlRhythmGroups(engine))


async def group_row(engine: AsyncEngine, gid: int) -> GroupRow:
    async with engine.connect() as connection:
        return (await connection.execute(select(GroupRow).where(GroupRow.id == gid))).one()  # type: ignore[return-value]


def said(outcome: object) -> str:
    return getattr(outcome, "summary", "")


async def test_a_coach_changes_the_rhythm_and_others_are_refused_kindly(
    rhythm: Reconnect, engine: AsyncEngine
) -> None:
    gid = await make_group(engine, "CG", coach=COACH, members={MEMBER: "numbers"})
    coach = Caller(COACH, channel="CG")
    shown = said(await rhythm.command(coach, "group settings"))
    assert "Time zone UTC" in shown and "recap on Fridays at 15:00" in shown
    saved = said(
        await rhythm.command(
            coach, "group settings timezone europe/paris recap thursday 4pm shoutouts on quiet 10"
        )
    )
    assert saved.startswith("Saved.") and "Europe/Paris" in saved
    row = await group_row(engine, gid)
    assert (row.timezone, row.recap_day, row.recap_at, row.shoutouts, row.quiet_days) == (
        "Europe/Paris",
        3,
        time(16, 0),
        True,
        10,
    )
    for bad in ("group settings timezone Mars/Olympus", "group settings recap someday",
                "group settings quiet 1000", "group settings colour blue"):  # fmt: skip
        before = await group_row(engine, gid)
        reply = said(await rhythm.command(coach, bad))
        assert "Olympus" not in reply or "isn't one I know" in reply
        assert await group_row(engine, gid) == before, bad
    for who in (MEMBER, OTHER, ELSEWHERE):
        reply = said(
            await rhythm.command(Caller(who, channel="CG"), "group settings shoutouts off")
        )
        assert "Only the group's coaches" in reply or "isn't a group" in reply
        assert (await group_row(engine, gid)).shoutouts is True
    assert "channel" in said(await rhythm.command(Caller(COACH), "group settings"))


async def test_pause_until_a_date_and_resume(
    rhythm: Reconnect, engine: AsyncEngine, clock: Clock
) -> None:
    gid = await make_group(engine, "CP", coach=COACH)
    coach = Caller(COACH, channel="CP")
    clock.now = at(2026, 12, 18, 12, 0)
    reply = said(await rhythm.command(coach, "group pause until 2027-01-04"))
    assert "comes back on Monday, 04 January" in reply
    assert (await group_row(engine, gid)).paused_until == date(2027, 1, 3)
    refused = said(await rhythm.command(Caller(MEMBER, channel="CP"), "group resume"))
    assert "Only the group's coaches" in refused
    assert (await group_row(engine, gid)).paused_until == date(2027, 1, 3)
    assert "rhythm is on" in said(await rhythm.command(coach, "group resume"))
    assert (await group_row(engine, gid)).paused_until is None


async def goals(engine: AsyncEngine) -> list[tuple[date, int]]:
    async with engine.connect() as connection:
        return [
            tuple(r)
            for r in await connection.execute(select(WeeklyGoal.week_start, WeeklyGoal.goal))
        ]  # type: ignore[misc]


async def test_the_goal_button_sets_only_the_members_own_goal(
    rhythm: Reconnect, engine: AsyncEngine, clock: Clock
) -> None:
    gid = await make_group(engine, "CB", coach=COACH, members={MEMBER: "membership"})
    clock.now = at(2026, 11, 23, 10, 0)
    reply = said(
        await rhythm.action(Caller(MEMBER, channel="CB"), "group.goal", f"{gid}:2026-11-23:3")
    )
    assert "Your goal this week: 3 people" in reply
    assert await goals(engine) == [(date(2026, 11, 23), 3)]
    for who, value in (
        (OTHER, f"{gid}:2026-11-23:5"),  # not a member
        (ELSEWHERE, f"{gid}:2026-11-23:5"),  # another workspace
        (MEMBER, f"{gid}:2026-11-23:40"),  # not a choice on the post
        (MEMBER, f"{gid}:2026-11-24:5"),  # not a Monday
        (MEMBER, f"{gid}:2026-11-16:5"),  # last week's post
        (MEMBER, "1:x:2"),
        (MEMBER, f"{gid + 999}:2026-11-23:5"),
    ):
        await rhythm.action(Caller(who), "group.goal", value)
    assert await goals(engine) == [(date(2026, 11, 23), 3)]


async def test_the_goal_button_over_slack_answers_privately(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine, clock: Clock
) -> None:
    gid = await make_group(engine, "C1", coach=COACH, members={MEMBER: "numbers"})
    clock.now = at(2026, 11, 23, 10, 0)
    # The theme is a post everyone in the channel sees.
    response = await slack.click(
        "rc:group.goal:0", f"{gid}:2026-11-23:2", user="U1", ephemeral=False
    )
    assert response.status == 200
    [answer] = await fake_slack.async_wait_for("response_url")
    body = answer.params if isinstance(answer.params, dict) else json.loads(answer.params)
    assert body["response_type"] == "ephemeral"
    assert body["replace_original"] in (False, "false")  # the theme stays for everyone
    assert "Your goal this week: 2 people" in json.dumps(body)
    assert await goals(engine) == [(date(2026, 11, 23), 2)]
