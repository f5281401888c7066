"""Outplacement groups in the core, on SQLite and PostgreSQL: create, the consent step, every
sharing level, privacy, leave, co-coaches, the Home section, export and erase — and every
forged or misplaced request refused without changing anything."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.actions import Act
from bot.core.groups import views as gv
from bot.core.groups.commands import GroupCommandError, parse_group
from bot.core.groups.levels import DEFAULT_LEVEL, SharingLevel
from bot.core.groups.model import Group, Place
from bot.core.model import UserRef
from bot.core.replies import Actions, Button, Reply, message, plain
from bot.core.service import Caller, Reconnect
from storage.groups import SqlGroups
from storage.models import GroupCoach, GroupMember, GroupRow
from storage.repository import SqlStore
from tests.support import Clock

COACH = UserRef("slack", "T1", "UCOACH")
ADA = UserRef("slack", "T1", "UADA")
BOB = UserRef("slack", "T1", "UBOB")
STRANGER = UserRef("slack", "T2", "UADA")  # same user id, another workspace
CHANNEL = "C1"
CMD = "/reconnect "


def at(user: UserRef, channel: str | None = CHANNEL, mentions: tuple[str, ...] = ()) -> Caller:
    return Caller(user, command=CMD, channel=channel, mentions=mentions)


@pytest.fixture
def groups(engine: AsyncEngine) -> SqlGroups:
    return SqlGroups(engine)


@pytest.fixture
def service(engine: AsyncEngine, groups: SqlGroups) -> Reconnect:
    return Reconnect(SqlStore(engine), clock=Clock(), groups=groups)


def reply(outcome: Any) -> Reply:
    assert isinstance(outcome, Reply), outcome
    return outcome


def text(outcome: Any) -> str:
    r = reply(outcome)
    parts = [r.summary]
    for block in r.blocks:
        if hasattr(block, "parts"):
            parts.append(plain(block.parts))
        elif hasattr(block, "text"):
            parts.append(block.text)
        elif isinstance(block, Actions):
            parts.extend(b.label for b in block.buttons)
    return "\n".join(parts)


def buttons(outcome: Any) -> dict[str, Button]:
    return {
        b.label: b
        for block in reply(outcome).blocks
        if isinstance(block, Actions)
        for b in block.buttons
    }


async def create(service: Reconnect, name: str = "Spring cohort") -> Reply:
    return reply(await service.command(at(COACH), f"group create {name}"))


async def level_of(groups: SqlGroups, user: UserRef) -> SharingLevel | None:
    places = await groups.places(user)
    return places[0].level if places else None


async def test_create_makes_the_caller_coach_and_posts_a_welcome_with_join(
    service: Reconnect, groups: SqlGroups
) -> None:
    created = await create(service)
    assert "Spring cohort is set up, and you're its coach" in text(created)
    assert created.post is not None
    welcome = created.post
    assert "Welcome to Spring cohort" in text(welcome)
    assert "never shared" in text(welcome)
    join = buttons(welcome)["Join"]
    assert join.action == Act.GROUP_JOIN
    [place] = await groups.places(COACH)
    assert place.coach and place.level is None and place.group.channel_id == CHANNEL


async def test_one_channel_one_group(service: Reconnect, groups: SqlGroups) -> None:
    await create(service)
    again = reply(await service.command(at(ADA), "group create Another"))
    assert "already is the group Spring cohort" in text(again)
    assert again.post is None
    assert await groups.places(ADA) == []
    # The coach running it again gets the welcome posted again (e.g. after inviting the bot).
    repost = await create(service, "Renamed")
    assert repost.post is not None and "Welcome to Spring cohort" in text(repost.post)
    other = reply(await service.command(at(COACH, "C2"), "group create"))
    assert "Our group is set up" in text(other)


async def test_group_commands_outside_a_channel_say_where_to_run_them(
    service: Reconnect, groups: SqlGroups
) -> None:
    for verb in ("create", "join", "coach"):
        answer = text(await service.command(at(ADA, None), f"group {verb}"))
        assert "Groups live in channels" in answer, verb
    assert await groups.places(ADA) == []
    assert "This channel isn't a group yet" in text(await service.command(at(ADA), "group join"))


async def test_the_consent_step_explains_every_level_in_plain_words(
    service: Reconnect, groups: SqlGroups
) -> None:
    await create(service)
    consent = await service.command(at(ADA), "group join")
    shown = text(consent)
    assert "1. Membership only (" not in shown
    assert "2. My weekly numbers (suggested)" in shown
    for level in SharingLevel:
        assert gv.COACH_SEES[level] in shown
    assert "never shared" in shown and "totals" in shown
    choices = buttons(consent)
    assert [b.label for b in choices.values()] == [gv.LABELS[level] for level in SharingLevel]
    assert choices[gv.LABELS[DEFAULT_LEVEL]].style == "primary"
    assert await groups.places(ADA) == [], "the consent step itself joins no one"


@pytest.mark.parametrize("level", list(SharingLevel))
async def test_join_at_each_level_by_button_and_by_command(
    service: Reconnect, groups: SqlGroups, level: SharingLevel
) -> None:
    await create(service)
    welcome = (await create(service)).post
    assert welcome is not None
    join = buttons(welcome)["Join"]
    consent = await service.action(at(ADA), join.action, join.value)
    choice = buttons(consent)[gv.LABELS[level]]
    joined = await service.action(at(ADA), choice.action, choice.value)
    assert f"You share: {gv.LABELS[level].lower()}" in text(joined)
    assert gv.COACH_SEES[level] in text(joined)
    assert await level_of(groups, ADA) is level
    typed = await service.command(at(BOB), f"group join {level.rank + 1}")
    assert "You're in Spring cohort" in text(typed)
    assert await level_of(groups, BOB) is level


async def test_privacy_changes_the_level_at_once_and_leave_removes_the_member(
    service: Reconnect, groups: SqlGroups, engine: AsyncEngine
) -> None:
    await create(service)
    await service.command(at(ADA), "group join")
    await service.command(at(ADA), "group join numbers")
    shown = text(await service.command(at(ADA), "group privacy"))
    assert "2. My weekly numbers (suggested, your choice now)" in shown
    changed = await service.command(at(ADA), "group privacy names")
    assert "new sharing level" in text(changed)
    assert await level_of(groups, ADA) is SharingLevel.NAMES
    # From a DM (or the Home), with one group: that group.
    await service.command(at(ADA, None), "group privacy 4")
    assert await level_of(groups, ADA) is SharingLevel.OUTCOMES
    left = await service.command(at(ADA), "group leave")
    assert "You left Spring cohort" in text(left)
    assert await groups.places(ADA) == []
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(GroupMember)) == 0
    again = await service.command(at(ADA), "group leave")
    assert "You're not a member of Spring cohort" in text(again)
    assert "You're not in any group" in text(await service.command(at(ADA, None), "group"))


async def test_several_groups_outside_a_channel_offer_a_choice(
    service: Reconnect, groups: SqlGroups
) -> None:
    await create(service)
    await service.command(at(COACH, "C2"), "group create Autumn cohort")
    await service.command(at(ADA), "group join 1")
    await service.command(at(ADA, "C2"), "group join 3")
    choice = await service.command(at(ADA, None), "group leave")
    options = buttons(choice)
    assert set(options) == {"Autumn cohort", "Spring cohort"}
    await service.action(at(ADA, None), Act.GROUP_LEAVE, options["Autumn cohort"].value)
    [place] = await groups.places(ADA)
    assert place.group.name == "Spring cohort" and place.level is SharingLevel.MEMBERSHIP


async def test_forged_and_misplaced_buttons_change_nothing(
    service: Reconnect, groups: SqlGroups
) -> None:
    await create(service)
    [coach_place] = await groups.places(COACH)
    gid = coach_place.group.id
    invalid = "isn't valid here any more"
    forged = [
        (at(STRANGER), Act.GROUP_LEVEL, f"{gid}:names"),  # another workspace
        (at(STRANGER), Act.GROUP_JOIN, str(gid)),
        (Caller(UserRef("teams", "T1", "UADA"), channel=CHANNEL), Act.GROUP_LEVEL, f"{gid}:names"),
        (at(ADA, "C9"), Act.GROUP_LEVEL, f"{gid}:names"),  # not from the group's channel
        (at(ADA, None), Act.GROUP_LEVEL, f"{gid}:names"),
        (at(ADA, "C9"), Act.GROUP_JOIN, str(gid)),
        (at(ADA), Act.GROUP_LEVEL, f"{gid}:everything"),
        (at(ADA), Act.GROUP_LEVEL, f"{gid}"),
        (at(ADA), Act.GROUP_LEVEL, "x:names"),
        (at(ADA), Act.GROUP_LEVEL, "-1:names"),
        (at(ADA), Act.GROUP_LEVEL, "99999999999999999999999:names"),
        (at(ADA), Act.GROUP_JOIN, str(gid + 1)),
        (at(ADA), Act.GROUP_LEAVE, ""),
    ]
    for caller, act, value in forged:
        assert invalid in text(await service.action(caller, act, value)), (caller, act, value)
    for user in (ADA, STRANGER):
        assert await groups.places(user) == []
    # A member's own buttons work from anywhere; someone else's membership is never touched.
    await service.command(at(ADA), "group join 2")
    left = await service.action(at(BOB, None), Act.GROUP_LEAVE, str(gid))
    assert "You're not a member" in text(left)
    changed = await service.action(at(BOB, None), Act.GROUP_LEVEL, f"{gid}:outcomes")
    assert invalid in text(changed)
    assert await level_of(groups, ADA) is SharingLevel.NUMBERS
    assert await groups.places(BOB) == []


async def test_only_coaches_add_coaches_named_by_mention(
    service: Reconnect, groups: SqlGroups
) -> None:
    await create(service)
    refused = await service.command(at(ADA, mentions=("UADA",)), "group coach Ada")
    assert "Only a coach" in text(refused)
    assert await groups.places(ADA) == []
    assert "Mention them" in text(await service.command(at(COACH), "group coach Bob"))
    two = await service.command(at(COACH, mentions=("UBOB", "UADA")), "group coach Bob Ada")
    assert "one coach at a time" in text(two)
    # Someone who never used Reconnect is not made a user (morning messages would start).
    unknown = await service.command(at(COACH, mentions=("UBOB",)), "group coach Bob")
    assert "haven't used Reconnect yet" in text(unknown)
    assert await groups.places(BOB) == []
    await service.home(at(BOB, None))  # Bob opens Reconnect once
    added = await service.command(at(COACH, mentions=("UBOB",)), "group coach Bob")
    assert "they're now a coach of Spring cohort" in text(added)
    [bob] = await groups.places(BOB)
    assert bob.coach and bob.level is None
    again = await service.command(at(BOB, mentions=("UBOB",)), "group coach Bob")
    assert "already a coach" in text(again)
    # A coach of another group cannot add coaches here.
    await service.command(at(ADA, "C2"), "group create Other")
    assert "Only a coach" in text(await service.command(at(ADA, mentions=("UADA",)), "group coach"))


async def test_bare_group_says_what_this_channel_is_and_your_level(service: Reconnect) -> None:
    assert "isn't a group yet" in text(await service.command(at(ADA), "group"))
    await create(service)
    shown = text(await service.command(at(ADA), "group"))
    assert "This channel is the group Spring cohort" in shown and "not a member" in shown
    await service.command(at(ADA), "group join names")
    shown = text(await service.command(at(ADA), "group"))
    assert "You share: numbers and names" in shown
    assert "You're a coach" in text(await service.command(at(COACH), "group"))
    assert "group privacy" in text(await service.command(at(ADA), "group help"))


async def test_home_shows_memberships_with_change_and_leave(service: Reconnect) -> None:
    home = await service.home(at(ADA, None))
    assert "Your groups" not in text(home)
    await create(service)
    await service.command(at(ADA), "group join 3")
    home = await service.home(at(ADA, None))
    assert "Spring cohort — you share: numbers and names." in text(home)
    found = buttons(home)
    assert found["Change what I share"].action == Act.GROUP_PRIVACY
    leave = found["Leave the group"]
    await service.action(at(ADA, None), leave.action, leave.value)
    assert "Your groups" not in text(await service.home(at(ADA, None)))
    assert "You're a coach of this group" in text(await service.home(at(COACH, None)))


async def test_export_holds_my_memberships_and_erase_removes_them_but_not_the_group(
    service: Reconnect, groups: SqlGroups, engine: AsyncEngine
) -> None:
    await create(service)
    await service.command(at(ADA), "group join 4")  # Ada is known from here on
    await service.command(at(COACH, mentions=("UADA",)), "group coach @Ada")
    exported = reply(await service.command(at(ADA, None), "export json"))
    data = json.loads(exported.files[0].content)
    assert data["group_memberships"][0]["group"] == "Spring cohort"
    assert data["group_memberships"][0]["sharing_level"] == "outcomes"
    assert data["groups_coached"][0]["group"] == "Spring cohort"
    coach_export = reply(await service.command(at(COACH, None), "export json"))
    assert "UADA" not in coach_export.files[0].content.decode()
    # The creator erases their data: the group stays, with Ada as its coach.
    confirm = await service.command(at(COACH, None), "delete my data")
    button = buttons(confirm)["Delete everything"]
    await service.action(at(COACH, None), button.action, button.value)
    async with engine.connect() as connection:
        assert (await connection.execute(select(GroupRow.created_by))).scalars().all() == [None]
        assert await connection.scalar(select(func.count()).select_from(GroupCoach)) == 1
    [place] = await groups.places(ADA)
    assert place.coach and place.level is SharingLevel.OUTCOMES
    confirm = await service.command(at(ADA, None), "delete my data")
    button = buttons(confirm)["Delete everything"]
    assert button.value  # the token
    await service.action(at(ADA, None), button.action, button.value)
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(GroupMember)) == 0
        assert await connection.scalar(select(func.count()).select_from(GroupCoach)) == 0
        assert await connection.scalar(select(func.count()).select_from(GroupRow)) == 1


async def test_channel_gone_marks_the_group_once(service: Reconnect, groups: SqlGroups) -> None:
    await create(service)
    assert service.groups is not None
    assert await service.groups.channel_gone("slack", "T1", CHANNEL, "is_archived")
    assert not await service.groups.channel_gone("slack", "T1", CHANNEL, "channel_not_found")
    assert not await service.groups.channel_gone("slack", "T2", CHANNEL, "is_archived")
    group = await groups.by_channel("slack", "T1", CHANNEL)
    assert group is not None and group.broken == "is_archived"
    assert "can't post in this channel" in text(await service.command(at(ADA), "group"))


def test_parse_group() -> None:
    assert parse_group("").verb == ""
    assert parse_group("create  Spring  cohort ").name == "Spring cohort"
    assert parse_group("join 3").level is SharingLevel.NAMES
    assert parse_group("privacy membership only").level is SharingLevel.MEMBERSHIP
    assert parse_group("sharing outcomes").level is SharingLevel.OUTCOMES
    assert parse_group("quit").verb == "leave"
    assert not parse_group("join").writes and parse_group("join 2").writes
    for bad in ("join 7", "privacy everything", "explode", "create " + "x" * 81):
        with pytest.raises(GroupCommandError):
            parse_group(bad, CMD)


# --- the words ------------------------------------------------------------------------------

_GROUP = Group(7, "slack", "T1", "C1", "<!channel> *Spring* & co")


def _every_view() -> list[Reply]:
    member = Place(_GROUP, SharingLevel.NAMES, False)
    coach = Place(_GROUP, None, True)
    views: list[Reply] = [
        gv.welcome_post(_GROUP, CMD),
        gv.created_reply(_GROUP, CMD, new=True),
        gv.created_reply(_GROUP, CMD, new=False),
        gv.left_reply(_GROUP, CMD),
        gv.not_member_reply(_GROUP, CMD),
        gv.no_group_here_reply(CMD),
        gv.help_reply(CMD),
        gv.places_reply([], CMD),
        gv.places_reply([member, coach], CMD),
        gv.choose_group_reply([member], "leave"),
        gv.coach_added_reply(_GROUP, added=True),
        gv.coach_added_reply(_GROUP, added=False),
        message(gv.NEW_COACH.format(cmd=CMD)),
        message(gv.WHO_COACH.format(cmd=CMD)),
        message(gv.NOT_VALID.format(cmd=CMD)),
        message(gv.NOT_A_CHANNEL.format(cmd=CMD, verb="join")),
        gv.channel_reply(_GROUP, None, CMD),
        gv.channel_reply(_GROUP, member, CMD),
        gv.channel_reply(Group(7, "slack", "T1", "C1", "G", broken="is_archived"), coach, CMD),
    ]
    views.append(gv.channel_reply(_GROUP, None, CMD, public=True))
    views.append(gv.public_done_reply(_GROUP, joined=True))
    views.append(gv.public_done_reply(_GROUP, joined=False))
    for level in (None, *SharingLevel):
        views.append(gv.consent_reply(_GROUP, level, CMD))
    for level in SharingLevel:
        views.append(gv.joined_reply(_GROUP, level, CMD, new=True))
        views.append(gv.joined_reply(_GROUP, level, CMD, new=False))
    return views


@pytest.mark.parametrize("view", _every_view(), ids=lambda r: r.summary[:40])
def test_every_group_text_reads_well(view: Reply) -> None:
    shown = text(view)
    assert not re.search(r"\{|\}|\bNone\b|  |\.\.(?!\.)| ,| \.|\ba an\b", shown), shown
    for line in shown.splitlines():
        line = line.strip()
        if not line or line.startswith("`") or line in {b for b in buttons(view)}:
            continue
        assert line[0].isupper() or line[0].isdigit() or line[0] in "<`", line
    assert len(view.summary) <= 200
    for block in view.blocks:
        if isinstance(block, Actions):
            assert len(block.buttons) <= 6
            for b in block.buttons:
                assert len(b.value) < 2000


def test_every_level_is_explained_and_names_nothing_private() -> None:
    for level in SharingLevel:
        words = gv.COACH_SEES[level]
        assert "note" not in words and "contact" not in words, level
        if level is not SharingLevel.MEMBERSHIP:
            assert "weekly numbers" in words
        assert ("names" in words) == level.allows(SharingLevel.NAMES)
        assert ("outcomes" in words or "what came of it" in words) == level.allows(
            SharingLevel.OUTCOMES
        )


async def test_where_everyone_reads_along_no_answer_says_anyones_level(
    service: Reconnect, groups: SqlGroups
) -> None:
    """A Teams channel: every answer is seen by the whole channel."""
    await create(service)
    public = Caller(ADA, command="", channel=CHANNEL, public=True)
    answers = [
        await service.command(public, "group join"),
        await service.command(public, "group join 3"),
        await service.command(public, "group"),
        await service.command(public, "group privacy"),
        await service.command(public, "group privacy 4"),
    ]
    [place] = await groups.places(ADA)
    gid = place.group.id
    answers.append(await service.action(public, Act.GROUP_LEVEL, f"{gid}:membership"))
    answers.append(await service.action(public, Act.GROUP_PRIVACY, str(gid)))
    assert await level_of(groups, ADA) is SharingLevel.MEMBERSHIP
    for answer in answers:
        shown = text(answer)
        assert "your choice now" not in shown and "You share" not in shown, shown
    assert "You're in Spring cohort" in text(answers[1])
