"""The coach's rhythm commands in a group's channel — ``group settings [...]``,
``group pause [until <date> | for <N> weeks]``, ``group resume`` — and the Monday theme's
*This week I'll reach out to …* buttons.

Coaches only (rows in ``group_coaches``): anyone else is refused kindly and nothing changes.
The goal buttons set the clicking member's own weekly goal (:mod:`bot.core.goals`, the
``goal`` command's storage) and answer them privately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from bot.core import dates
from bot.core.goals import people, week_start
from bot.core.groups.rhythm import (
    GroupSchedule,
    SettingsError,
    describe,
    parse_group_pause,
    parse_settings,
)
from bot.core.groups.themes import GOAL_CHOICES
from bot.core.model import UserRef
from bot.core.replies import Reply, message

__all__ = [
    "GOAL_SET_PREFIX",
    "GroupRef",
    "RhythmGroups",
    "chosen_goal",
    "parse_rhythm",
    "run_rhythm",
]

_RHYTHM = re.compile(r"^\s*group\s+(settings|setting|pause|resume|unpause)\b(.*)$", re.I | re.S)

NOT_IN_CHANNEL = (
    "Group settings live in the group's channel: type this there (Slack: the slash command "
    "in the channel; Teams: @mention me in the channel)."
)
NO_GROUP = "This channel isn't a group yet. A coach can start one with `{cmd}group create`."
NOT_COACH = (
    "Only the group's coaches can change its rhythm — that keeps the weekly posts steady "
    "for everyone. Your own settings are in `{cmd}settings`."
)
STALE = (
    "That button is from an earlier week's theme (or no longer works). "
    "Type `{cmd}goal 3` to set this week's goal."
)
NOT_MEMBER = (
    "This button sets the weekly goal of the group's members. Join the group first "
    "(`{cmd}group join`), or set your own goal any time with `{cmd}goal 3`."
)


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A group as the rhythm commands need it."""

    id: int
    schedule: GroupSchedule


class RhythmGroups(Protocol):
    """What the rhythm commands read and write (``storage.group_rhythm`` implements it)."""

    async def group_in_channel(
        self, platform: str, workspace: str, channel: str
    ) -> GroupRef | None:
        """The group of a channel, if it is one."""
        ...

    async def group_by_id(self, group_id: int, platform: str, workspace: str) -> GroupRef | None:
        """A group of this platform and workspace (others' ids find nothing)."""
        ...

    async def is_coach(self, group_id: int, user: UserRef) -> bool:
        """Whether ``user`` coaches the group."""
        ...

    async def is_member(self, group_id: int, user: UserRef) -> bool:
        """Whether ``user`` is a member of the group."""
        ...

    async def save_schedule(self, group_id: int, schedule: GroupSchedule, *, mend: bool) -> None:
        """Store the rhythm settings; ``mend`` also clears a broken channel (``group resume``
        after the bot was added back)."""
        ...


def parse_rhythm(text: str) -> tuple[str, str] | None:
    """``("settings" | "pause" | "resume", rest)`` for a rhythm command, else ``None``."""
    found = _RHYTHM.match(text)
    if found is None:
        return None
    verb = found.group(1).lower()
    verb = {"setting": "settings", "unpause": "resume"}.get(verb, verb)
    return verb, " ".join(found.group(2).split())


async def run_rhythm(
    groups: RhythmGroups,
    user: UserRef,
    channel: str | None,
    verb: str,
    rest: str,
    now_utc: dates.Clock,
    cmd: str,
) -> Reply:
    """Run a rhythm command typed in ``channel``; a friendly refusal changes nothing."""
    if channel is None:
        return message(NOT_IN_CHANNEL)
    group = await groups.group_in_channel(user.platform, user.workspace_id, channel)
    if group is None:
        return message(NO_GROUP.format(cmd=cmd))
    if not await groups.is_coach(group.id, user):
        return message(NOT_COACH.format(cmd=cmd))
    schedule = group.schedule
    today = dates.local_today(now_utc(), schedule.timezone)
    try:
        match verb:
            case "settings" if not rest:
                return message(describe(schedule, today) + _hint(cmd))
            case "settings":
                updated = parse_settings(rest, schedule)
                await groups.save_schedule(group.id, updated, mend=False)
                today = dates.local_today(now_utc(), updated.timezone)
                return message("Saved. " + describe(updated, today))
            case "pause":
                until = parse_group_pause(rest, today)
                updated = replace(schedule, paused_until=until)
                await groups.save_schedule(group.id, updated, mend=False)
                return message("Paused. " + describe(updated, today))
            case _:
                updated = replace(schedule, paused_until=None)
                await groups.save_schedule(group.id, updated, mend=True)
                return message("The weekly rhythm is on. " + describe(updated, today))
    except SettingsError as exc:
        return message(str(exc))


def _hint(cmd: str) -> str:
    return (
        f" Change them with `{cmd}group settings timezone Europe/Paris`, "
        f"`theme monday 09:00`, `recap friday 15:00`, `shoutouts on` or `quiet 14`."
    )


def chosen_goal(value: str) -> tuple[int, date, int] | None:
    """``(group id, Monday, goal)`` from a goal button's value (untrusted), else ``None``."""
    parts = value.split(":")
    if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit():
        return None
    try:
        monday = date.fromisoformat(parts[1])
        goal = int(parts[2]) if parts[2].isascii() and parts[2].isdigit() else -1
    except ValueError:
        return None
    if monday.weekday() != 0 or goal not in GOAL_CHOICES or len(parts[0]) > 18:
        return None
    return int(parts[0]), monday, goal


def goal_week(monday: date, today: date) -> date | None:
    """The member's week a button of ``monday``'s theme sets: their own this week, or next
    week for a member whose time zone is still on the group's Sunday; ``None`` for an earlier
    week's button (it never sets a week it wasn't posted for)."""
    mine = week_start(today)
    if monday == mine or monday == mine + timedelta(days=7):
        return monday
    return None


#: How the private answer to a goal button begins (an adapter that can't answer privately
#: in a channel recognises it, and says less).
GOAL_SET_PREFIX = "Your goal this week:"


def goal_set_reply(goal: int, cmd: str) -> Reply:
    """The private answer to a goal button."""
    return message(
        f"{GOAL_SET_PREFIX} {people(goal)}. Only you see it; the Friday recap counts the "
        f"group together. Change it any time with `{cmd}goal`."
    )
