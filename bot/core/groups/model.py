"""What the group features know about a group and about one person's place in it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.groups.levels import SharingLevel

__all__ = ["NAME_MAX", "Group", "Place"]

#: The longest group name (``groups.name`` holds 80 characters).
NAME_MAX = 80


@dataclass(frozen=True, slots=True)
class Group:
    """A group: one channel (Slack) or channel / group chat (Teams) of one workspace."""

    id: int
    platform: str
    workspace_id: str
    channel_id: str
    name: str
    #: Why posting in the channel stopped for good ("is_archived", …), or ``None``.
    broken: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """One person's place in one group: their sharing level if they are a member, and
    whether they coach it (a coach need not be a member)."""

    group: Group
    level: SharingLevel | None
    coach: bool
    #: Opted in to weekly practice buddies (members only).
    buddies: bool = False
