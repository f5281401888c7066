"""What the group features need from storage; ``storage.groups.SqlGroups`` implements it.

Unlike a :class:`~bot.core.ports.ContactBook`, a group spans several people, so each method
is its own short transaction, and every one names the person it acts for: a method changes
only that person's own membership or, for coaches, checks the caller's role in the same
statement that changes anything.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from bot.core.groups.levels import SharingLevel
from bot.core.groups.model import Group, Place
from bot.core.model import UserRef


class CoachAdded(StrEnum):
    """What :meth:`GroupStore.add_coach` did."""

    ADDED = "added"
    ALREADY = "already"
    #: The caller is not a coach of the group: nothing changed.
    REFUSED = "refused"
    #: The person named has never used Reconnect: nothing changed.
    UNKNOWN = "unknown"


class GroupStore(Protocol):
    """Groups, their coaches and their members."""

    async def by_channel(self, platform: str, workspace_id: str, channel_id: str) -> Group | None:
        """The group of a channel, if it is one."""
        ...

    async def get(self, group_id: int) -> Group | None:
        """The group with this id (any workspace: callers check it is theirs)."""
        ...

    async def create(self, channel_id: str, name: str, creator: UserRef) -> tuple[Group, bool]:
        """Make the channel a group with ``creator`` as its coach; ``(group, True)``. If the
        channel already is a group (one channel, one group), nothing changes:
        ``(that group, False)``."""
        ...

    async def place(self, group_id: int, user: UserRef) -> Place | None:
        """``user``'s place in the group, or ``None`` if they neither belong to nor coach it."""
        ...

    async def places(self, user: UserRef) -> list[Place]:
        """Every group ``user`` belongs to or coaches (by name)."""
        ...

    async def join(
        self, group_id: int, user: UserRef, level: SharingLevel, display_name: str = ""
    ) -> bool:
        """Make ``user`` a member at ``level`` (or change their level); ``True`` if they were
        not a member before. ``display_name`` (when known) names them in the coach's view."""
        ...

    async def set_level(self, group_id: int, user: UserRef, level: SharingLevel) -> bool:
        """Change a member's level; ``False`` (nothing changed) if they are not a member."""
        ...

    async def leave(self, group_id: int, user: UserRef) -> bool:
        """Remove ``user``'s membership (the row goes); ``False`` if there was none."""
        ...

    async def add_coach(self, group_id: int, by: UserRef, coach: UserRef) -> CoachAdded:
        """Make ``coach`` a coach of the group if ``by`` is one. Someone who has never used
        Reconnect is not added (a user record would start their morning messages unasked)."""
        ...

    async def set_buddies(self, group_id: int, user: UserRef, on: bool) -> bool:
        """Opt a member in to (or out of) weekly practice buddies; ``False`` (nothing
        changed) if they are not a member."""
        ...

    async def buddy_count(self, group_id: int) -> tuple[int, int]:
        """``(members opted in to practice buddies, members)`` of the group."""
        ...

    async def save_post_reference(self, group_id: int, reference: str) -> None:
        """Store where the group's channel is reached for proactive posts (Teams)."""
        ...

    async def mark_broken(
        self, platform: str, workspace_id: str, channel_id: str, reason: str
    ) -> bool:
        """The channel was archived or deleted, or the bot removed from it: mark its group
        (if any, and not already marked); ``True`` if one was marked now."""
        ...
