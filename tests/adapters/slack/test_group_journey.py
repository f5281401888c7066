"""One cohort's week on Slack, end to end over real HTTP (signed requests, the fake Web API)
on SQLite and PostgreSQL, through every group feature together: a coach creates the group,
members join at each sharing level by typing, the coach turns shout-outs on, members work,
one shares a win, the Friday recap goes out exactly once with the right totals and only the
allowed names, the coach's view shows each member at their level — and a member who leaves
is gone from every view at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import SlackMessenger
from jobs.group_runner import GroupConfig, GroupRunner
from storage.group_posts import GroupPostStore
from storage.group_stats import GroupStatsStore
from tests.adapters.slack.test_http import button
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, iter_texts
from tests.jobs.conftest import at
from tests.support import Clock, SlackClient

COACH = "UCOACH"
# Who joins at which level (1 membership … 4 outcomes), and the name Slack shows for them.
MEMBERS = {"UANA": ("3", "Ana Lima"), "UBEN": ("2", "Ben Okafor"), "UCAT": ("1", "Cat Wu")}
DEV = "UDEV"
RECAP_AT = at(2026, 11, 27, 15, 5)  # Friday, 15:00 UTC is the default recap time


@pytest.fixture
async def messenger(fake_slack: FakeSlack) -> AsyncIterator[SlackMessenger]:
    messenger = SlackMessenger(
        AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, retry_handlers=[])
    )
    yield messenger
    await messenger.close()


def group_pass(engine: AsyncEngine, messenger: SlackMessenger) -> GroupRunner:
    """The clock's group pass, as ``python -m jobs`` builds it, against the fake Slack."""
    config = GroupConfig(backoff_base=0.01, backoff_max=0.05, concurrency=4)
    return GroupRunner(
        GroupPostStore(engine), GroupStatsStore(engine), {"slack": messenger}, config=config
    )


def text(message: dict[str, object]) -> str:
    return "\n".join(iter_texts(message["blocks"]))  # type: ignore[arg-type]


async def test_a_cohorts_week_from_create_to_recap_to_leaving(
    slack: SlackClient,
    fake_slack: FakeSlack,
    engine: AsyncEngine,
    messenger: SlackMessenger,
    clock: Clock,
) -> None:
    clock.now = at(2026, 11, 23, 10, 0)  # Monday
    for user, (_, name) in {**MEMBERS, DEV: ("4", "Dev Patel")}.items():
        fake_slack.users[user] = {"real_name": name, "tz": "UTC", "profile": {"real_name": name}}

    created = await slack.command("group create Spring cohort", user=COACH)
    assert "you're its coach" in created.texts()
    [welcome] = await fake_slack.async_wait_for("chat.postMessage")  # posted after the answer
    assert welcome.params["channel"] == "C1"
    assert "Welcome to Spring cohort" in text(welcome.params)
    settings = await slack.command("group settings shoutouts on", user=COACH)
    assert "on" in settings.texts().lower()
    refused = await slack.command("group settings shoutouts off", user="UANA")
    assert "coach" in refused.texts().lower()  # only coaches change settings

    for user, (level, _) in {**MEMBERS, DEV: ("4", "")}.items():
        joined = await slack.command(f"group join {level}", user=user)
        assert "You share:" in joined.texts()

    # The week's work, through the ordinary commands (Mon 23 – Fri 27 Nov).
    clock.now = at(2026, 11, 24, 10, 0)
    for user, people in (("UANA", 3), ("UBEN", 2), ("UCAT", 4), (DEV, 1)):
        await slack.command("goal 2", user=user)
        for i in range(people):
            await slack.command(f"add Person{i} Secretname{i} -- PRIVATE-NOTE", user=user)
            await slack.command(f"reached Person{i}", user=user)
    logged = await slack.command(
        "log Person0 went well -- an interview learned: Person0 says they hire in Q1", user=DEV
    )
    share = button(logged.json["blocks"], "Share with my group")
    await slack.click(share["action_id"], share["value"], user=DEV)
    posts = await fake_slack.async_wait_for("chat.postMessage", 3)  # welcome, wins, the win
    win = text(posts[-1].params)
    assert "they hire in Q1" in win and "Secretname" not in win and "Person0" not in win

    # Friday: the recap, exactly once, whatever the number of clocks and passes.
    summary = await group_pass(engine, messenger).run_once(RECAP_AT)
    assert (summary.due, summary.sent) == (1, 1)
    again = await group_pass(engine, messenger).run_once(RECAP_AT + timedelta(minutes=1))
    assert again.sent == 0
    top_level = [m for m in fake_slack.messages_to("C1") if not m.get("thread_ts")]
    recaps = [m for m in top_level if "met it" in text(m)]
    assert len(recaps) == 1, [text(m) for m in top_level]
    recap = text(recaps[0])
    # Ana 3 + Ben 2 + Dev 1; Cat shares membership only and counts in no number.
    assert "reached out 6 times" in recap
    assert "<@UANA>" in recap  # names level, goal met, shout-outs on
    assert "UBEN" not in recap and "UCAT" not in recap  # their levels never name them
    assert "they hire in Q1" in recap  # the shared win, in the member's words
    for private in ("Secretname", "PRIVATE-NOTE", "Person"):
        assert private not in recap

    # The coach's view: each member at their level, and nothing private.
    view = (await slack.command("coach", user=COACH)).texts()
    assert "Ana Lima" in view and "Ben Okafor" in view and "Cat Wu" in view
    assert "PRIVATE-NOTE" not in view
    assert "Secretname" in view.split("Ben Okafor")[0]  # Ana shares names: whom she reached
    ben_to_cat = view.split("Ben Okafor")[1].split("Cat Wu")[0]
    assert "Secretname" not in ben_to_cat  # Ben shares numbers only
    assert (await slack.command("coach", user="UANA")).texts() != view  # not a coach

    # Ana leaves: gone from the coach's view at once, and from the next week's numbers.
    assert "You left Spring cohort" in (await slack.command("group leave", user="UANA")).texts()
    after = (await slack.command("coach", user=COACH)).texts()
    assert "Ana Lima" not in after and "Ben Okafor" in after
