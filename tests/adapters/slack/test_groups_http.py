"""Outplacement groups on Slack over real HTTP (signed requests, the fake Web API), on SQLite
and PostgreSQL: create in a channel → the welcome with Join in the channel → join at each
level through the consent step → privacy change → Home → leave → gone; co-coaches by
mention; forged clicks; channel events that mark the group broken."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.groups import NOT_POSTED, channel_of, mentions_in
from bot.core.groups.levels import SharingLevel
from bot.core.groups.views import LABELS
from storage.models import GroupCoach, GroupMember, GroupRow, User
from tests.adapters.slack.test_http import button
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.support import SlackClient

COACH = "UCOACH"


def click_body(
    action_id: str,
    value: str,
    *,
    user: str,
    response_url: str,
    team: str = sr.TEAM,
    channel: str | None = "C1",
    ephemeral: bool = True,
    home: bool = False,
) -> str:
    """A button press as Slack sends it: on a channel message (public or ephemeral) or on
    the Home tab."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": sr.new_trigger_id(),
        "team": {"id": team, "domain": "test"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Button"},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if home:
        payload["container"] = {"type": "view", "view_id": "V1"}
        payload["view"] = {"id": "V1", "type": "home", "callback_id": "", "blocks": []}
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": "1.1",
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        payload["channel"] = {"id": channel, "name": "cohort"}
    return urlencode({"payload": json.dumps(payload)})


async def click(slack: SlackClient, element: dict[str, Any], user: str, **where: Any) -> None:
    body = click_body(
        element["action_id"], element["value"], user=user, response_url=slack.response_url, **where
    )
    assert (await slack.post(body)).status == 200


async def answered(fake: FakeSlack, count: int) -> dict[str, Any]:
    """The ``count``-th answer posted to the response URL."""
    return (await fake.async_wait_for("response_url", count))[count - 1].params


def texts_of(params: dict[str, Any]) -> str:
    return "\n".join([str(params.get("text") or ""), *iter_texts(params.get("blocks") or [])])


async def members(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.external_id, GroupMember.level).join(
                GroupMember, GroupMember.user_id == User.id
            )
        )
        return {row.external_id: row.level for row in rows}


async def coaches(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.external_id).join(GroupCoach, GroupCoach.user_id == User.id)
        )
        return set(rows.scalars())


def event(body: dict[str, Any], team: str = sr.TEAM) -> str:
    return sr._event_callback(body, team)


async def test_create_join_at_each_level_change_leave_and_gone(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    created = await slack.command("group create Spring cohort", user=COACH)
    assert created.json["response_type"] == "ephemeral"
    assert "Spring cohort is set up, and you're its coach" in created.texts()
    [posted] = await fake_slack.async_wait_for("chat.postMessage")
    assert posted.params["channel"] == "C1"
    welcome = fake_slack.messages_to("C1")[0]
    assert "Welcome to Spring cohort" in "\n".join(iter_texts(welcome["blocks"]))
    join = button(welcome["blocks"], "Join")
    answers = 0
    for n, level in enumerate(SharingLevel, start=1):
        user = f"UM{n}"
        # Join on the public welcome: the consent step goes to the presser alone.
        await click(slack, join, user, ephemeral=False)
        answers += 1
        consent = await answered(fake_slack, answers)
        assert consent["replace_original"] is False and consent["response_type"] == "ephemeral"
        assert "never shared" in texts_of(consent)
        await click(slack, button(consent["blocks"], LABELS[level]), user)
        answers += 1
        joined = await answered(fake_slack, answers)
        assert joined["replace_original"] is True
        assert f"You share: {LABELS[level].lower()}" in texts_of(joined)
    assert await members(engine) == {
        f"UM{n}": level.value for n, level in enumerate(SharingLevel, 1)
    }
    # The welcome is still there, untouched, for everyone.
    assert fake_slack.calls_to("chat.update") == []
    # Privacy by command, in the channel: at once.
    changed = await slack.command("group privacy 4", user="UM1")
    assert "new sharing level" in changed.texts()
    assert (await members(engine))["UM1"] == "outcomes"
    shown = await slack.command("group", user="UM1")
    assert "This channel is the group Spring cohort" in shown.texts()
    assert "numbers, names and outcomes" in shown.texts()
    # Home: the membership, its level, and a Leave button that works from there.
    await slack.event(sr.app_home_opened(user="UM1"))
    [published] = await fake_slack.async_wait_for("views.publish")
    home = (
        json.loads(published.params["view"])
        if isinstance(published.params["view"], str)
        else published.params["view"]
    )
    assert "Your groups" in "\n".join(iter_texts(home["blocks"]))
    leave = button(home["blocks"], "Leave the group")
    await click(slack, leave, "UM1", home=True)
    publishes = await fake_slack.async_wait_for("views.publish", 2)
    after = publishes[1].params["view"]
    after = json.loads(after) if isinstance(after, str) else after
    shown_after = "\n".join(iter_texts(after["blocks"]))
    assert "You left Spring cohort" in shown_after and "Your groups" not in shown_after
    assert "UM1" not in await members(engine)
    # Leaving by command.
    left = await slack.command("group leave", user="UM2")
    assert "You left Spring cohort" in left.texts()
    assert set(await members(engine)) == {"UM3", "UM4"}
    assert "not a member" in (await slack.command("group", user="UM2")).texts()


async def test_forged_clicks_from_other_users_channels_and_workspaces_change_nothing(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("group create Spring cohort", user=COACH)
    await fake_slack.async_wait_for("chat.postMessage")
    join = button(fake_slack.messages_to("C1")[0]["blocks"], "Join")
    group_id = join["value"]
    level = {
        "action_id": join["action_id"].replace("group.join", "group.level"),
        "value": f"{group_id}:outcomes",
    }
    await click(slack, level, "U1", team="T2")  # another workspace
    await click(slack, level, "U1", channel="C9")  # another channel
    await click(slack, join, "U1", channel="C9", ephemeral=False)
    await click(slack, {**level, "value": "1 OR 1=1:outcomes"}, "U1")
    for n in range(1, 5):
        assert "isn't valid here any more" in texts_of(await answered(fake_slack, n))
    assert await members(engine) == {}
    # A member's Leave pressed by someone else leaves no one.
    await slack.command("group join 2", user="U1")
    leave = {"action_id": join["action_id"].replace("group.join", "group.leave"), "value": group_id}
    await click(slack, leave, "U2")
    assert "You're not a member" in texts_of(await answered(fake_slack, 5))
    assert await members(engine) == {"U1": "numbers"}


async def test_co_coaches_are_added_by_mention_and_only_by_a_coach(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    await slack.command("group create Spring cohort", user=COACH)
    unknown = await slack.command("group coach <@U2|bob>", user=COACH)
    assert "haven't used Reconnect yet" in unknown.texts()
    for user in ("U1", "U2"):
        await slack.command("due", user=user)  # they use Reconnect
    refused = await slack.command("group coach <@U1|ada>", user="U2")
    assert "Only a coach" in refused.texts()
    assert await coaches(engine) == {COACH}
    added = await slack.command("group coach <@U2|bob>", user=COACH)
    assert "they're now a coach" in added.texts()
    assert await coaches(engine) == {COACH, "U2"}
    bare = await slack.command("group coach <@U1>", user="U2")  # names looked up, ids kept
    assert "they're now a coach" in bare.texts()
    assert await coaches(engine) == {COACH, "U1", "U2"}
    assert "Mention them" in (await slack.command("group coach ada", user=COACH)).texts()


async def test_a_welcome_slack_refuses_says_how_to_fix_it(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    fake_slack.fail("chat.postMessage", status=200, error="not_in_channel")
    created = await slack.command("group create Spring cohort", user=COACH)
    assert "set up" in created.texts()
    assert NOT_POSTED in texts_of(await answered(fake_slack, 1))
    again = await slack.command("group create", user=COACH)
    assert "I've posted the welcome again" in again.texts()
    assert len(await fake_slack.async_wait_for("chat.postMessage", 2)) == 2


async def test_in_a_dm_group_commands_need_a_channel(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    dm = sr.slash_command("group create X", user="U1", response_url=slack.response_url)
    dm = dm.replace("channel_id=C1", "channel_id=D1").replace(
        "channel_name=general", "channel_name=directmessage"
    )
    answer = await slack.post(dm)
    assert "Groups live in channels" in answer.texts()
    async with engine.connect() as connection:
        assert (await connection.execute(select(GroupRow.id))).all() == []


async def test_archived_deleted_and_left_channels_mark_the_group_broken(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    for channel in ("C1", "C2", "C3", "C4", "G5"):
        body = sr.slash_command("group create G", user=COACH, response_url=slack.response_url)
        await slack.post(body.replace("channel_id=C1", f"channel_id={channel}"))
    await slack.event(event({"type": "channel_archive", "channel": "C1", "user": "U1"}))
    await slack.event(event({"type": "channel_deleted", "channel": "C2"}))
    await slack.event(event({"type": "member_left_channel", "user": "U1", "channel": "C3"}))
    await slack.event(event({"type": "member_left_channel", "user": "UBOT", "channel": "C4"}))
    await slack.event(event({"type": "channel_archive", "channel": "C4"}, team="T2"))
    await slack.event(event({"type": "group_left", "channel": "G5"}))
    expected = {
        "C1": "is_archived",
        "C2": "channel_not_found",
        "C3": None,
        "C4": "not_in_channel",
        "G5": "not_in_channel",
    }
    # Events are acknowledged first and handled after: wait for them (the T2 one and the
    # other member's leaving must change nothing, so check again once all arrived).
    deadline = asyncio.get_running_loop().time() + 10
    while (broken := await broken_groups(engine)) != expected:
        assert asyncio.get_running_loop().time() < deadline, broken
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert await broken_groups(engine) == expected


async def broken_groups(engine: AsyncEngine) -> dict[str, str | None]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(GroupRow.channel_id, GroupRow.broken))
        return {row.channel_id: row.broken for row in rows}


def test_reading_channels_and_mentions() -> None:
    assert channel_of({"channel_id": "C1", "channel_name": "general"}) == "C1"
    assert channel_of({"channel_id": "D1", "channel_name": "directmessage"}) is None
    assert channel_of({"channel_id": "D1"}) is None
    assert channel_of({"channel": {"id": "G1"}}) == "G1"
    assert channel_of({"container": {"channel_id": "C7"}}) == "C7"
    assert channel_of({"channel_id": "C1; DROP"}) is None
    assert mentions_in("coach <@U1|ada> and <@W2> <#C1|x> <!here>") == ("U1", "W2")


async def test_uninstalling_removes_the_workspaces_groups_and_their_members(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    await slack.command("group create Spring cohort", user=COACH)
    await slack.command("group join 4", user="U1")
    await slack.command("group coach <@U1|ada>", user=COACH)
    assert await coaches(engine) == {COACH, "U1"}
    other = sr.slash_command("group create Elsewhere", user="UX", team="T2")
    await slack.post(other)
    await slack.event(event({"type": "app_uninstalled"}))
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with engine.connect() as connection:
            left = (await connection.execute(select(GroupRow.workspace_id))).scalars().all()
        if left == ["T2"]:
            break
        assert asyncio.get_running_loop().time() < deadline, left
        await asyncio.sleep(0.02)
    assert await members(engine) == {} and await coaches(engine) == {"UX"}


async def test_a_group_name_is_shown_as_typed_never_as_markup(
    slack: SlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command("group create &lt;!channel&gt; &amp; friends", user=COACH)
    [call] = await fake_slack.async_wait_for("chat.postMessage")
    assert "&lt;!channel&gt; &amp; friends" in call.params["text"]  # the fallback: escaped
    message = fake_slack.messages_to("C1")[0]
    mrkdwn: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                mrkdwn.append(str(node.get("text")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message["blocks"])
    assert mrkdwn and not any("<!channel>" in text for text in mrkdwn)
    [header] = [b for b in message["blocks"] if b["type"] == "header"]
    assert header["text"] == {
        "type": "plain_text",  # shown as typed: Slack reads no markup there
        "text": "Welcome to <!channel> & friends",
        "emoji": True,
    }


async def test_joining_keeps_the_name_slack_shows_for_the_coach_view(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    """The coach's view names members as Slack shows them: looked up once, on joining (by
    button or typed), never for anything else."""
    await slack.command("group create Spring cohort", user=COACH)
    await fake_slack.async_wait_for("chat.postMessage")
    await slack.command("group join 2", user="U1")  # Ada One in the fake's directory
    fake_slack.users["UDANA"]["profile"]["display_name"] = "Dana W."
    blocks = fake_slack.messages_to("C1")[0]["blocks"]
    await click(slack, button(blocks, "Join"), "UDANA", ephemeral=False)
    consent = await answered(fake_slack, 1)
    await click(slack, button(consent["blocks"], LABELS[SharingLevel.NAMES]), "UDANA")
    await answered(fake_slack, 2)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.external_id, GroupMember.display_name).join(
                GroupMember, GroupMember.user_id == User.id
            )
        )
        assert dict(rows.all()) == {"U1": "Ada One", "UDANA": "Dana W."}
