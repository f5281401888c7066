"""``group buddies on|off`` and the practice-buddy buttons, on SQLite and PostgreSQL: members
opt in and out (typed, or from the button where their membership is shown); coaches see how
many opted in, never who; forged, foreign and non-member requests change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.actions import Act
from bot.core.groups.commands import GroupCommandError, parse_group
from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef
from bot.core.service import Caller, Reconnect, action_may_write, command_may_write
from storage.groups import SqlGroups
from storage.models import GroupMember, User
from storage.repository import SqlStore
from tests.core.test_groups import buttons, text
from tests.support import Clock

COACH = UserRef("slack", "T1", "UCOACH")
ADA = UserRef("slack", "T1", "UADA")
BOB = UserRef("slack", "T1", "UBOB")
STRANGER = UserRef("slack", "T2", "UADA")
CMD = "/reconnect "


def at(user: UserRef, channel: str | None = "C1") -> Caller:
    return Caller(user, command=CMD, channel=channel)


@pytest.fixture
def groups(engine: AsyncEngine) -> SqlGroups:
    return SqlGroups(engine)


@pytest.fixture
def service(engine: AsyncEngine, groups: SqlGroups) -> Reconnect:
    return Reconnect(SqlStore(engine), clock=Clock(), groups=groups)


async def opted(engine: AsyncEngine) -> dict[str, bool]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.external_id, GroupMember.buddies).join(
                GroupMember, GroupMember.user_id == User.id
            )
        )
        return {r.external_id: bool(r.buddies) for r in rows}


async def cohort(service: Reconnect, groups: SqlGroups) -> int:
    await service.command(at(COACH), "group create Spring cohort")
    await service.command(at(ADA), "group join 3")
    await service.command(at(BOB), "group join 1")
    [place] = await groups.places(COACH)
    return place.group.id


def test_the_words() -> None:
    assert parse_group("buddies").on is None
    assert parse_group("buddies on").on is True
    assert parse_group("buddy OFF").on is False
    assert parse_group("buddies on").writes and not parse_group("buddies").writes
    with pytest.raises(GroupCommandError, match="on or off"):
        parse_group("buddies maybe")
    assert command_may_write("group buddies on")
    assert action_may_write(Act.GROUP_BUDDIES)


async def test_members_opt_in_and_out_typed_in_the_channel_and_in_their_dm(
    service: Reconnect, groups: SqlGroups, engine: AsyncEngine
) -> None:
    await cohort(service, groups)
    assert await opted(engine) == {"UADA": False, "UBOB": False}
    said = text(await service.command(at(ADA), "group buddies on"))
    assert "You're in for practice buddies in Spring cohort" in said
    assert "never your contacts, notes or numbers" in said
    assert await opted(engine) == {"UADA": True, "UBOB": False}
    # In the DM the only group is meant.
    said = text(await service.command(at(ADA, channel=None), "group buddies off"))
    assert "Practice buddies are off for you in Spring cohort" in said
    assert await opted(engine) == {"UADA": False, "UBOB": False}
    shown = await service.command(at(ADA, channel=None), "group buddies")
    assert "you're not in" in text(shown)
    assert "Pair me with a practice buddy" in buttons(shown)


async def test_the_button_where_membership_is_shown(
    service: Reconnect, groups: SqlGroups, engine: AsyncEngine
) -> None:
    await cohort(service, groups)
    listed = await service.command(at(ADA, channel=None), "group")  # Home and personal chat
    button = buttons(listed)["Pair me with a practice buddy"]
    assert button.action == Act.GROUP_BUDDIES
    # "Leave the group" is still the second button (the console numbers them).
    assert list(buttons(listed))[:2] == ["Change what I share", "Leave the group"]
    done = await service.action(at(ADA, channel=None), button.action, button.value)
    assert await opted(engine) == {"UADA": True, "UBOB": False}
    assert "Stop practice buddies" in buttons(done)
    home = await service.command(at(ADA, channel=None), "group")
    assert "Practice buddies: on." in text(home)
    stop = buttons(home)["Stop practice buddies"]
    await service.action(at(ADA, channel=None), stop.action, stop.value)
    assert await opted(engine) == {"UADA": False, "UBOB": False}


async def test_coaches_see_how_many_opted_in_never_who(
    service: Reconnect, groups: SqlGroups
) -> None:
    await cohort(service, groups)
    said = text(await service.command(at(COACH), "group buddies"))
    assert "None of the 2 members of Spring cohort has opted in" in said
    await service.command(at(ADA), "group buddies on")
    said = text(await service.command(at(COACH, channel=None), "group buddies"))
    assert "1 of the 2 members of Spring cohort has opted in" in said
    assert "UADA" not in said and "Ada" not in said
    # A coach is not a member: they can't opt in, and say so plainly.
    said = text(await service.command(at(COACH), "group buddies on"))
    assert "You're not a member of Spring cohort" in said


async def test_forged_foreign_and_non_member_requests_change_nothing(
    service: Reconnect, groups: SqlGroups, engine: AsyncEngine
) -> None:
    group_id = await cohort(service, groups)
    outsider = UserRef("slack", "T1", "UCARL")
    cases: list[tuple[Caller, str]] = [
        (at(STRANGER, channel=None), f"{group_id}:on"),  # another workspace
        (at(outsider, channel=None), f"{group_id}:on"),  # not a member
        (at(ADA, channel=None), f"{group_id}:maybe"),  # forged choice
        (at(ADA, channel=None), f"{group_id + 99}:on"),  # no such group
        (at(ADA, channel=None), "x:on"),
    ]
    for caller, value in cases:
        answer: Any = await service.action(caller, Act.GROUP_BUDDIES, value)
        assert "isn't valid" in text(answer) or "not a member" in text(answer)
    said = text(await service.command(at(outsider), "group buddies on"))
    assert "You're not a member" in said
    assert await opted(engine) == {"UADA": False, "UBOB": False}


async def test_leaving_and_rejoining_starts_with_buddies_off(
    service: Reconnect, groups: SqlGroups, engine: AsyncEngine
) -> None:
    await cohort(service, groups)
    await service.command(at(ADA), "group buddies on")
    await service.command(at(ADA), "group leave")
    await service.command(at(ADA), "group join 2")
    assert (await opted(engine))["UADA"] is False
    [place] = await groups.places(ADA)
    assert place.level is SharingLevel.NUMBERS and not place.buddies


async def test_in_a_public_channel_nothing_of_the_choice_is_shown(
    service: Reconnect, groups: SqlGroups, engine: AsyncEngine
) -> None:
    await cohort(service, groups)
    public = Caller(UserRef("teams", "T1", "x"), channel="C9", public=True)
    await service.command(Caller(UserRef("teams", "T1", "c"), channel="C9"), "group create T")
    await service.command(public, "group join 2")
    said = text(await service.command(public, "group buddies on"))
    assert "saved" in said and "personal chat" in said
    said = text(await service.command(public, "group buddies"))
    assert "personal chat" in said and "you're in" not in said.lower()
