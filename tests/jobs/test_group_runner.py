"""The group pass against the fake Slack on SQLite and PostgreSQL: the Monday theme and the
Friday recap in each group's channel, exactly once, with the right totals and only the
allowed names; two clocks; a failed post retried; a broken channel told once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import SlackMessenger
from bot.core.model import UserRef
from bot.core.service import Caller, Reconnect
from jobs.group_runner import GroupConfig, GroupRunner
from storage.group_posts import GroupPostStore
from storage.group_stats import GroupStatsStore
from storage.models import GroupPost, GroupRow
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, iter_texts
from tests.jobs.conftest import at
from tests.jobs.group_helpers import make_group, share_win
from tests.support import Clock

FAST = GroupConfig(backoff_base=0.01, backoff_max=0.05, concurrency=4)
MONDAY = date(2026, 11, 23)
THEME_AT = at(2026, 11, 23, 9, 5)
RECAP_AT = at(2026, 11, 27, 15, 5)

COACH = UserRef("slack", "T1", "UCOACH")
ANA = UserRef("slack", "T1", "UANA")  # names
BEN = UserRef("slack", "T1", "UBEN")  # numbers
CAT = UserRef("slack", "T1", "UCAT")  # membership only
DEV = UserRef("slack", "T1", "UDEV")  # outcomes


@pytest.fixture
async def messenger(fake_slack: FakeSlack) -> AsyncIterator[SlackMessenger]:
    messenger = SlackMessenger(
        AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, retry_handlers=[])
    )
    yield messenger
    await messenger.close()


def runner(engine: AsyncEngine, messenger: SlackMessenger, **kwargs: object) -> GroupRunner:
    return GroupRunner(
        GroupPostStore(engine),
        GroupStatsStore(engine),
        {"slack": messenger},
        config=FAST,
        **kwargs,  # type: ignore[arg-type]
    )


def text_of(message: dict[str, object]) -> str:
    return "\n".join(iter_texts(message["blocks"]))  # type: ignore[arg-type]


async def activity(service: Reconnect, clock: Clock) -> None:
    """A week of activity (Mon 23 – Fri 27 Nov 2026), through the real commands."""
    clock.now = at(2026, 11, 24, 10, 0)
    for who, people in ((ANA, 4), (BEN, 2), (CAT, 5), (DEV, 1)):
        caller = Caller(who)
        await service.command(caller, "goal 3")
        for i in range(people):
            await service.command(caller, f"add Person{i} Secretname{i}")
            await service.command(caller, f"reached Person{i}")
    await service.command(Caller(DEV), "log Person0 went well -- got a referral to Acme")


async def test_theme_then_recap_exactly_once_with_aggregates_and_allowed_names(
    engine: AsyncEngine, messenger: SlackMessenger, fake_slack: FakeSlack, service: Reconnect,
    clock: Clock,
) -> None:  # fmt: skip
    gid = await make_group(
        engine,
        "CGROUP",
        coach=COACH,
        members={ANA: "names", BEN: "numbers", CAT: "membership", DEV: "outcomes"},
        shoutouts=True,
    )
    first = await runner(engine, messenger).run_once(THEME_AT)
    assert (first.due, first.sent) == (1, 1)
    [theme] = fake_slack.messages_to("CGROUP")
    body = text_of(theme)
    assert "This week's theme" in body and "This week I'll reach out to" in body
    again = await runner(engine, messenger).run_once(THEME_AT + timedelta(minutes=1))
    assert (again.due, again.sent, again.already) == (1, 0, 1)

    await activity(service, clock)
    await share_win(engine, gid, BEN, MONDAY, "Landed a first interview <!channel>")
    recap = await runner(engine, messenger).run_once(RECAP_AT)
    assert (recap.due, recap.sent) == (1, 1)
    posted = fake_slack.messages_to("CGROUP")
    assert len(posted) == 2
    body = text_of(posted[1])
    # Ana 4 + Ben 2 + Dev 1 reached out; Cat (membership only) counts in no number.
    assert "reached out 7 times" in body
    assert "had 1 conversation" in body
    assert "1 conversation led to an introduction" in body  # Dev shares outcomes
    assert "1 of 3 members with a weekly goal met it" in body
    assert "Shout-out to <@UANA> for meeting the weekly goal." in body
    assert "UCAT" not in body and "UBEN" not in body  # Ben's level is numbers: never named
    assert "Secretname" not in body and "Acme" not in body  # no contact, no note
    assert "Landed a first interview <!channel>" not in body  # escaped in Slack mrkdwn
    assert "Landed a first interview &lt;!channel&gt;" in body
    assert "Totals count 3 members" in body
    assert (await runner(engine, messenger).run_once(RECAP_AT)).sent == 0


async def test_two_clocks_at_once_post_each_once(
    engine: AsyncEngine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    for i in range(6):
        await make_group(engine, f"C{i}", coach=COACH, members={ANA: "numbers"})
    fake_slack.latency = 0.02
    one, two = await asyncio.gather(
        runner(engine, messenger).run_once(THEME_AT), runner(engine, messenger).run_once(THEME_AT)
    )
    assert one.sent + two.sent == 6
    assert one.busy + two.busy == 6
    assert all(len(fake_slack.messages_to(f"C{i}")) == 1 for i in range(6))


async def test_a_failed_post_is_retried_and_a_post_in_doubt_is_not_repeated(
    engine: AsyncEngine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    await make_group(engine, "CA", coach=COACH)
    await make_group(engine, "CB", coach=COACH)
    fake_slack.fail("chat.postMessage", status=500, error="internal_error", times=2)
    summary = await runner(engine, messenger).run_once(THEME_AT)
    assert summary.sent == 2
    assert len(fake_slack.messages_to("CA")) == 1 and len(fake_slack.messages_to("CB")) == 1
    # A worker died mid-send: the post arrived, its attempt never closed.
    async with engine.begin() as connection:
        await connection.execute(
            update(GroupPost)
            .where(GroupPost.kind == "theme")
            .values(status="claimed", worker="gone:1:x", error="in flight")
        )
    later = await runner(engine, messenger).run_once(THEME_AT + timedelta(minutes=5))
    assert later.sent == 2  # found, recorded as sent …
    assert len(fake_slack.messages_to("CA")) == 1  # … and not posted again


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "is_archived"])
async def test_a_gone_channel_marks_the_group_broken_and_tells_the_coach_once(
    engine: AsyncEngine, messenger: SlackMessenger, fake_slack: FakeSlack, error: str
) -> None:
    gid = await make_group(engine, "CGONE", coach=COACH, members={ANA: "numbers"})
    fake_slack.fail("chat.postMessage", status=200, error=error, match={"channel": "CGONE"})
    summary = await runner(engine, messenger).run_once(THEME_AT)
    assert (summary.broken, summary.told, summary.sent) == (1, 1, 0)
    [notice] = fake_slack.messages_to("DUCOACH")
    assert "stopped the weekly posts" in text_of(notice)
    async with engine.connect() as connection:
        row = (await connection.execute(select(GroupRow).where(GroupRow.id == gid))).one()
    assert row.broken == error and row.broken_told_at is not None
    for hours in (1, 2, 96):  # later passes: no retry, no second notice, no loop
        later = await runner(engine, messenger).run_once(THEME_AT + timedelta(hours=hours))
        assert (later.due, later.told) == (0, 0)
    assert len(fake_slack.messages_to("DUCOACH")) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the failed post and the DM


async def test_dst_and_pause_in_the_groups_time_zone(
    engine: AsyncEngine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    # New York leaves DST on Sunday 1 Nov 2026: Monday 9:00 is 14:00 UTC (it was 13:00).
    await make_group(engine, "CNY", coach=COACH, timezone="America/New_York")
    await make_group(engine, "CPAUSED", coach=COACH, paused_until=date(2026, 11, 2))
    early = await runner(engine, messenger).run_once(at(2026, 11, 2, 13, 30))
    assert "CNY" not in fake_slack.messages and early.due == 0
    on_time = await runner(engine, messenger).run_once(at(2026, 11, 2, 14, 1))
    assert on_time.sent == 1 and len(fake_slack.messages_to("CNY")) == 1
    assert fake_slack.messages_to("CPAUSED") == []  # paused through 2 Nov
    await runner(engine, messenger).run_once(at(2026, 11, 9, 9, 1))
    assert len(fake_slack.messages_to("CPAUSED")) == 1  # back the week after


async def test_dry_run_lists_every_post_and_claims_nothing(
    engine: AsyncEngine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    for i in range(3):
        await make_group(engine, f"CD{i}", coach=COACH)
    summary = await runner(engine, messenger).run_once(THEME_AT, dry_run=True)
    assert len(summary.messages) == 3 and summary.sent == 0
    assert fake_slack.calls_to("chat.postMessage") == []
    assert await GroupPostStore(engine).post_statuses() == []


async def test_themes_rotate_without_repeating_for_a_group(
    engine: AsyncEngine, messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    await make_group(engine, "CROT", coach=COACH)
    start: datetime = THEME_AT
    for week in range(5):
        await runner(engine, messenger).run_once(start + timedelta(weeks=week))
    titles = [text_of(m).split("\n")[1] for m in fake_slack.messages_to("CROT")]
    assert len(titles) == 5 and len(set(titles)) == 5
