"""The group pass on Teams against the fake connector (both databases): the theme posted
proactively into the team channel with its stored conversation reference, a member's click
on its goal button answered without their goal in the channel, and a channel the bot lost
(403 / 404) marking the group broken with its coach told once."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams.hosting import build_hosting
from bot.adapters.teams.messenger import TeamsMessenger
from bot.core.model import UserRef
from bot.settings import service_url_origins
from jobs.group_runner import GroupConfig, GroupRunner
from storage.group_posts import GroupPostStore
from storage.group_stats import GroupStatsStore
from storage.models import GroupRow, WeeklyGoal
from storage.repository import SqlStore
from tests.adapters.teams.conftest import ANONYMOUS, TENANT, TeamsClient
from tests.adapters.teams.test_teams_nudges import personal_reference
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.jobs.conftest import at
from tests.jobs.group_helpers import make_group
from tests.support import Clock

CHANNEL = "19:cohort@thread.tacv2"
COACH = UserRef("teams", TENANT, "aad-coach")
ADA = UserRef("teams", TENANT, "aad-ada")
THEME_AT = at(2026, 11, 23, 9, 5)


def channel_reference(service_url: str) -> str:
    return json.dumps(
        {
            "bot": {"id": "28:bot"},
            "channelId": "msteams",
            "conversation": {
                "id": CHANNEL,
                "tenantId": TENANT,
                "conversationType": "channel",
                "isGroup": True,
            },
            "serviceUrl": service_url,
        }
    )


def group_runner(engine: AsyncEngine, connector: FakeTeamsConnector) -> GroupRunner:
    allowed = service_url_origins(connector.base_url)
    messenger = TeamsMessenger(
        build_hosting(ANONYMOUS, allowed_service_urls=allowed), SqlStore(engine)
    )
    config = GroupConfig(backoff_base=0.01, backoff_max=0.05)
    return GroupRunner(
        GroupPostStore(engine), GroupStatsStore(engine), {"teams": messenger}, config=config
    )


async def test_the_theme_is_posted_in_the_channel_and_a_click_stays_private(
    engine: AsyncEngine, connector: FakeTeamsConnector, teams: TeamsClient, clock: Clock
) -> None:
    gid = await make_group(
        engine, CHANNEL, coach=COACH, members={ADA: "numbers"}, platform="teams",
        reference=channel_reference(connector.service_url),
    )  # fmt: skip
    summary = await group_runner(engine, connector).run_once(THEME_AT)
    assert summary.sent == 1
    [post] = [c for c in connector.sent(CHANNEL) if c.kind == "send"]
    card = json.dumps(post.cards)
    assert "This week I'll reach out to" in card and "group.goal" in card

    clock.now = at(2026, 11, 23, 10, 0)
    click = teams.activity(
        "ada",
        value={"rc": "action", "action": "group.goal", "value": f"{gid}:2026-11-23:5"},
        replyToId=post.response_id or "1",
        conversation={"conversationType": "channel", "tenantId": TENANT, "id": CHANNEL},
    )
    assert await teams.post(click) in (200, 202)
    async with engine.connect() as connection:
        goals = [
            tuple(r)
            for r in await connection.execute(select(WeeklyGoal.week_start, WeeklyGoal.goal))
        ]
    assert goals == [(date(2026, 11, 23), 5)]
    answers = [c for c in connector.calls if c.conversation_id == CHANNEL and c is not post]
    said = json.dumps([c.cards for c in answers])
    assert "your weekly goal is saved" in said
    assert "5 people" not in said  # the member's goal stays out of the channel
    assert connector.updates(CHANNEL) == []  # the theme is never replaced

    stranger = teams.activity(
        "bob",
        value={"rc": "action", "action": "group.goal", "value": f"{gid}:2026-11-23:2"},
        replyToId=post.response_id or "1",
        conversation={"conversationType": "channel", "tenantId": TENANT, "id": CHANNEL},
    )
    assert await teams.post(stranger) in (200, 202)
    async with engine.connect() as connection:
        after = [tuple(r) for r in await connection.execute(select(WeeklyGoal.goal))]
    assert after == [(5,)]  # nothing set for someone who isn't a member
    refusal = [c for c in connector.calls if c.conversation_id == CHANNEL][-1]
    assert "Join the group first" in json.dumps(refusal.cards)


@pytest.mark.parametrize("status", [403, 404])
async def test_a_lost_channel_marks_the_group_and_tells_the_coach_once(
    engine: AsyncEngine, connector: FakeTeamsConnector, status: int
) -> None:
    gid = await make_group(
        engine, CHANNEL, coach=COACH, platform="teams",
        reference=channel_reference(connector.service_url),
    )  # fmt: skip
    store = SqlStore(engine)
    await store.save_reference(
        COACH,
        "a:personal-coach",
        personal_reference("a:personal-coach", connector.service_url, "29:coach"),
    )
    connector.fail(status, times=None, conversation_id=CHANNEL)
    summary = await group_runner(engine, connector).run_once(THEME_AT)
    assert (summary.sent, summary.undeliverable, summary.broken, summary.told) == (0, 1, 1, 1)
    [notice] = [c for c in connector.sent("a:personal-coach") if c.kind == "send"]
    assert "stopped the weekly posts" in json.dumps(notice.cards)
    again = await group_runner(engine, connector).run_once(THEME_AT)
    assert (again.due, again.told) == (0, 0)
    assert len(connector.sent("a:personal-coach")) == 1
    async with engine.connect() as connection:
        broken = (
            await connection.execute(select(GroupRow.broken).where(GroupRow.id == gid))
        ).scalar()
    assert broken in ("forbidden", "conversation_not_found")
