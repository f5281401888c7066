"""Outplacement groups on Teams over real HTTP (the fake connector), on SQLite and PostgreSQL:
@mentions in a team channel (and a group chat) → create with the welcome card → join at each
level from the channel's cards → privacy changed in the personal chat → leave → gone. What the
channel reads never says anyone's level; the channel's conversation reference is kept."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.levels import SharingLevel
from bot.core.groups.views import LABELS
from storage.models import GroupCoach, GroupMember, GroupRow, User
from tests.adapters.teams.conftest import BOT, TENANT, TeamsClient
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector

CHANNEL = "19:cohort@thread.tacv2"
THREAD = f"{CHANNEL};messageid=1700000000000"
BOT_MENTION = {"type": "mention", "text": "<at>Reconnect</at>", "mentioned": BOT}


def in_channel(
    teams: TeamsClient,
    user: str,
    *,
    text: str | None = None,
    value: dict[str, Any] | None = None,
    kind: str = "channel",
    conversation: str = THREAD,
    tenant: str = TENANT,
    mentioned: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if text is not None:
        fields["text"] = f"<at>Reconnect</at> {text}"
        fields["entities"] = [BOT_MENTION, *mentioned]
    if value is not None:
        fields["value"] = value
        fields["replyToId"] = "1700000000000"
    activity = teams.activity(user, **fields)
    activity["conversation"] = {
        "isGroup": True,
        "conversationType": kind,
        "tenantId": tenant,
        "id": conversation,
    }
    activity["channelData"] = {"tenant": {"id": tenant}, "channel": {"id": CHANNEL}}
    return activity


def submit_of(card: dict[str, Any] | None, title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit" and node.get("title") == title:
                found.append(node["data"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    assert found, f"no button {title!r} in {card_text(card)}"
    return found[0]


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


async def test_create_join_at_each_level_change_leave_and_gone(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.post(in_channel(teams, "coach", text="group create Spring cohort"))
    notice, welcome = await connector.async_wait_for("reply", 2)
    assert {notice.conversation_id, welcome.conversation_id} == {THREAD}
    assert "Spring cohort is set up" in card_text(notice.card)
    assert "Welcome to Spring cohort" in card_text(welcome.card)
    async with engine.connect() as connection:
        group = (await connection.execute(select(GroupRow))).one()
    assert group.channel_id == CHANNEL
    reference = json.loads(group.post_reference)
    assert reference["conversation"]["id"] == CHANNEL and "activityId" not in reference
    assert reference["serviceUrl"] == connector.service_url
    join = submit_of(welcome.card, "Join")
    replies = 2
    for n, level in enumerate(SharingLevel, start=1):
        user = f"m{n}"
        await teams.post(in_channel(teams, user, value=join))
        replies += 1
        consent = (await connector.async_wait_for("reply", replies))[-1]
        shown = card_text(consent.card)
        assert "never shared" in shown and "your choice now" not in shown
        await teams.post(in_channel(teams, user, value=submit_of(consent.card, LABELS[level])))
        replies += 1
        done = card_text((await connector.async_wait_for("reply", replies))[-1].card)
        assert "You're in Spring cohort" in done
        for other in SharingLevel:  # the channel never learns the level chosen
            assert LABELS[other].lower() not in done.lower()
    assert await members(engine) == {
        f"aad-m{n}": level.value for n, level in enumerate(SharingLevel, start=1)
    }
    async with engine.connect() as connection:  # named in the coach's view as Teams does
        names = await connection.execute(
            select(User.external_id, GroupMember.display_name).join(
                GroupMember, GroupMember.user_id == User.id
            )
        )
        assert dict(names.all()) == {f"aad-m{n}": f"M{n}" for n in range(1, 5)}
    assert connector.calls_of("update") == [], "the channel's cards stay as they are"
    # In the personal chat: the membership with its level, changed there at once.
    await teams.say("group", user="m1")
    mine = (await connector.async_wait_for("reply", replies + 1))[-1]
    assert mine.conversation_id == "a:personal-m1"
    assert "**Spring cohort** — you share: membership only." in card_text(mine.card)
    await teams.say("group privacy 3", user="m1")
    changed = (await connector.async_wait_for("reply", replies + 2))[-1]
    assert "You share: numbers and names" in card_text(changed.card)
    assert (await members(engine))["aad-m1"] == "names"
    # Leave from the personal chat's button, and by @mention in the channel.
    await teams.submit(submit_of(mine.card, "Leave the group"), reply_to=None, user="m1")
    await connector.async_wait_for("reply", replies + 3)
    await teams.post(in_channel(teams, "m2", text="group leave"))
    left = (await connector.async_wait_for("reply", replies + 4))[-1]
    assert "You left Spring cohort" in card_text(left.card)
    assert set(await members(engine)) == {"aad-m3", "aad-m4"}
    await teams.say("group", user="m1")
    gone = (await connector.async_wait_for("reply", replies + 5))[-1]
    assert "You're not in any group" in card_text(gone.card)


async def test_forged_values_and_other_tenants_change_nothing(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.post(in_channel(teams, "coach", text="group create Spring cohort"))
    _, welcome = await connector.async_wait_for("reply", 2)
    join = submit_of(welcome.card, "Join")
    level = {**join, "action": "group.level", "value": f"{join['value']}:outcomes"}
    other = "00000000-0000-0000-0000-000000000002"
    await teams.post(in_channel(teams, "eve", value=level, tenant=other))
    await teams.post(in_channel(teams, "eve", value=level, conversation="19:other@thread.tacv2"))
    await teams.submit(level, reply_to=None, user="eve")  # from a personal chat
    replies = await connector.async_wait_for("reply", 5)
    for reply in replies[2:]:
        assert "isn't valid here any more" in card_text(reply.card)
    assert await members(engine) == {}
    # Other cards' buttons are still refused in the channel.
    await teams.post(in_channel(teams, "eve", value={"rc": "action", "action": "due", "value": ""}))
    refused = (await connector.async_wait_for("reply", 6))[-1]
    assert "let's talk one to one" in card_text(refused.card)


async def test_co_coaches_by_mention_and_only_by_a_coach(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.post(in_channel(teams, "coach", text="group create Spring cohort"))
    await connector.async_wait_for("reply", 2)
    bob = {
        "type": "mention",
        "text": "<at>Bob</at>",
        "mentioned": {"id": "29:bob", "name": "Bob", "aadObjectId": "aad-bob"},
    }
    await teams.post(in_channel(teams, "eve", text="group coach <at>Bob</at>", mentioned=[bob]))
    refused = (await connector.async_wait_for("reply", 3))[-1]
    assert "Only a coach" in card_text(refused.card)
    await teams.post(in_channel(teams, "coach", text="group coach <at>Bob</at>", mentioned=[bob]))
    unknown = (await connector.async_wait_for("reply", 4))[-1]
    assert "haven't used Reconnect yet" in card_text(unknown.card)
    await teams.say("help", user="bob")  # Bob opens a chat with Reconnect
    await connector.async_wait_for("reply", 5)
    await teams.post(in_channel(teams, "coach", text="group coach <at>Bob</at>", mentioned=[bob]))
    added = (await connector.async_wait_for("reply", 6))[-1]
    assert "they're now a coach" in card_text(added.card)
    assert await coaches(engine) == {"aad-coach", "aad-bob"}
    # A mention Teams sent without an object id, which the connector can't resolve either.
    carol = {"type": "mention", "text": "<at>Carol</at>", "mentioned": {"id": "29:carol"}}
    await teams.post(
        in_channel(teams, "coach", text="group coach <at>Carol</at>", mentioned=[carol])
    )
    asked = (await connector.async_wait_for("reply", 5))[-1]
    assert "Mention them" in card_text(asked.card)
    assert await coaches(engine) == {"aad-coach", "aad-bob"}


async def test_a_group_chat_can_be_a_group_and_other_commands_stay_private(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    chat = "19:meeting_abc@thread.v2"
    await teams.post(
        in_channel(teams, "coach", text="group create", kind="groupChat", conversation=chat)
    )
    await connector.async_wait_for("reply", 2)
    await teams.post(
        in_channel(teams, "ada", text="group join 2", kind="groupChat", conversation=chat)
    )
    done = (await connector.async_wait_for("reply", 3))[-1]
    assert "You're in Our group" in card_text(done.card)
    assert await members(engine) == {"aad-ada": "numbers"}
    await teams.post(in_channel(teams, "ada", text="group", kind="groupChat", conversation=chat))
    shown = card_text((await connector.async_wait_for("reply", 4))[-1].card)
    assert (
        "This channel is the group Our group" in shown
        and "weekly numbers" not in shown.split("Groups")[0]
    )
    await teams.post(in_channel(teams, "ada", text="due", kind="groupChat", conversation=chat))
    private = card_text((await connector.async_wait_for("reply", 5))[-1].card)
    assert "let's talk one to one" in private


async def test_a_deleted_channel_or_a_removed_bot_marks_the_group_broken(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    chat = "19:meeting_abc@thread.v2"
    await teams.post(in_channel(teams, "coach", text="group create A"))
    await teams.post(
        in_channel(teams, "coach", text="group create B", kind="groupChat", conversation=chat)
    )
    await connector.async_wait_for("reply", 4)
    deleted = in_channel(teams, "coach", conversation="19:general@thread.tacv2")
    deleted.update(type="conversationUpdate")
    deleted["channelData"] = {
        "tenant": {"id": TENANT},
        "eventType": "channelDeleted",
        "channel": {"id": CHANNEL},
        "team": {"id": "19:general@thread.tacv2"},
    }
    assert await teams.post(deleted) in (200, 202)
    removed = in_channel(teams, "coach", kind="groupChat", conversation=chat)
    removed.update(type="conversationUpdate", membersRemoved=[BOT])
    assert await teams.post(removed) in (200, 202)
    async with engine.connect() as connection:
        rows = await connection.execute(select(GroupRow.channel_id, GroupRow.broken))
        broken = {row.channel_id: row.broken for row in rows}
    assert broken == {CHANNEL: "channel_not_found", chat: "not_in_channel"}
