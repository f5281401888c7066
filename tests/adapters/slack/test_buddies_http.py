"""Practice buddies on Slack end to end over real HTTP (signed requests, the fake Web API), on
SQLite and PostgreSQL: join in the channel → opt in by command and from the Home tab's button
→ the weekly pass → one intro per pair in a group DM with both people and the bot."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import SlackMessenger
from jobs.buddy_runner import BuddyConfig, BuddyRunner
from storage.buddy_runs import BuddyRuns
from tests.adapters.slack.test_groups_http import click
from tests.adapters.slack.test_http import button
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack, iter_texts
from tests.jobs.conftest import at
from tests.support import SlackClient


def view_of(params: dict[str, Any]) -> dict[str, Any]:
    view = params["view"]
    return json.loads(view) if isinstance(view, str) else view


async def test_opt_in_by_command_and_home_then_intros_in_group_dms(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    names = {"UA": "Ada One", "UB": "Ben Two", "UC": "Cy Three", "UD": "Dee Four"}
    for user, name in names.items():
        fake_slack.users[user] = {"real_name": name, "profile": {"display_name": name}}
    await slack.command("group create Spring cohort", user="UCOACH")
    for user in [*names, "UE"]:
        assert "You're in Spring cohort" in (await slack.command("group join 2", user=user)).texts()
    for user in ("UA", "UB", "UC"):
        said = await slack.command("group buddies on", user=user)
        assert "You're in for practice buddies in Spring cohort" in said.texts()
    # Dee opts in from the Home tab's button.
    await slack.event(sr.app_home_opened(user="UD"))
    [published] = await fake_slack.async_wait_for("views.publish")
    await click(slack, button(view_of(published.params)["blocks"], "Pair me with a practice buddy"), "UD", home=True)  # fmt: skip
    after = (await fake_slack.async_wait_for("views.publish", 2))[1]
    assert "Practice buddies: on." in "\n".join(iter_texts(view_of(after.params)["blocks"]))
    # The coach sees the count only.
    count = (await slack.command("group buddies", user="UCOACH")).texts()
    assert "4 of the 5 members of Spring cohort have opted in" in count
    assert not any(name in count for name in names.values())

    messenger = SlackMessenger(
        AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, retry_handlers=[])
    )
    try:
        runner = BuddyRunner(BuddyRuns(engine), {"slack": messenger}, config=BuddyConfig())
        summary = await runner.run_once(at(2026, 11, 30, 9, 0))
    finally:
        await messenger.close()
    assert (summary.due, summary.sent) == (1, 2)
    opened = [c.params["users"] for c in fake_slack.calls_to("conversations.open")]
    assert len(opened) == 2 and all(len(users.split(",")) == 2 for users in opened)
    assert sorted(m for ids in fake_slack.group_dms.values() for m in ids) == sorted(names)
    for channel, members in fake_slack.group_dms.items():
        [intro] = fake_slack.messages_to(channel)
        text = "\n".join(iter_texts(intro["blocks"]))
        first, second = (names[m] for m in members)
        assert f"{first} and {second}: you're practice buddies this week in Spring" in text
        assert "UE" not in members
