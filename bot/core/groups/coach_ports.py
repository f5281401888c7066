"""What the coach's view, check-ins, shared wins and coach prompts read and write.

The store behind :class:`CoachStore` reads only what each member's sharing level allows:
numbers only for members at ``numbers`` or above, names only at ``names`` or above, outcomes
and next steps only at ``outcomes``. Members' contacts' notes and conversation notes are never
read at all. Every method that names a group checks it belongs to the platform and workspace
of the person asking, and that they coach it (or are a member of it, for sharing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group as the coach features need it."""

    id: int
    name: str
    platform: str
    workspace_id: str
    channel_id: str
    timezone: str = "UTC"
    quiet_days: int = 14
    #: Teams: the channel's conversation reference (JSON) for proactive posts.
    post_reference: str | None = None
    #: Why posting stopped for good (archived, bot removed); ``None`` while it works.
    broken: str | None = None


@dataclass(frozen=True, slots=True)
class WeekNumbers:
    """One member's (or the group's) numbers for one week (Monday to Sunday)."""

    week_start: date
    outreach: int = 0
    replies: int = 0
    conversations: int = 0
    #: Different people reached (outreach or conversation), what the weekly goal counts.
    reached: int = 0
    #: The goal in force that week (0: none).
    goal: int = 0

    @property
    def met(self) -> bool:
        """Whether the week's goal was met (never without a goal)."""
        return self.goal > 0 and self.reached >= self.goal


@dataclass(frozen=True, slots=True)
class OutcomeNote:
    """Something that came of a conversation this week (outcomes level only)."""

    contact: str
    words: str  # "an interview and a referral"


@dataclass(frozen=True, slots=True)
class StepNote:
    """An open next step (outcomes level only)."""

    contact: str
    text: str
    due_on: date


@dataclass(frozen=True, slots=True)
class MemberView:
    """One member as their level lets the coach see them. Fields above the level are empty."""

    member_id: int  # users.id
    user: UserRef
    level: SharingLevel
    display_name: str
    joined_on: date
    #: Oldest first, the last weeks up to this one (numbers level and above).
    weeks: tuple[WeekNumbers, ...] = ()
    #: The latest day with an outreach or a conversation within the window read (numbers+).
    last_active: date | None = None
    reached_names: tuple[str, ...] = ()  # names level and above
    outcomes: tuple[OutcomeNote, ...] = ()  # outcomes level
    steps: tuple[StepNote, ...] = ()  # outcomes level
    #: A kind check-in was sent to them this group week already.
    checked_in: bool = False


@dataclass(frozen=True, slots=True)
class GroupSnapshot:
    """A coached group with its members, as read for the coach's view."""

    group: GroupInfo
    week_start: date
    members: tuple[MemberView, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class SharedLog:
    """What a member logged with a contact on one day, read back (theirs only) to share it."""

    contact_name: str
    preferred_name: str
    outcomes: str  # comma-joined OutcomeTag values
    response: str | None
    learned: str


@dataclass(frozen=True, slots=True)
class WinClaim:
    """A stored shared win and the week's wins thread it goes in."""

    win_id: int
    post_id: int
    #: The thread's parent message, once posted; ``None`` and ``mine``: post it now.
    parent_message_id: str | None
    mine: bool
    #: The member's name as the group knows it ("" unknown).
    display_name: str = ""
    #: The same win was shared with this group this week already (nothing stored).
    duplicate: bool = False


class CoachStore(Protocol):
    """Storage for the coach features (``storage.group_reads.SqlCoachStore``)."""

    async def coached_groups(self, coach: UserRef) -> list[GroupInfo]:
        """The groups ``coach`` coaches, in their workspace, by name."""
        ...

    async def coached_group(self, coach: UserRef, group_id: int) -> GroupInfo | None:
        """Group ``group_id`` if ``coach`` coaches it (same platform and workspace)."""
        ...

    async def group_in_channel(self, coach: UserRef, channel_id: str) -> GroupInfo | None:
        """The group of ``channel_id`` in ``coach``'s workspace if they coach it."""
        ...

    async def snapshot(self, group: GroupInfo, week: date, weeks: int) -> GroupSnapshot:
        """The group's members and their numbers for ``weeks`` weeks ending with ``week``
        (a Monday), each at their level; activity reaches back ``group.quiet_days`` too."""
        ...

    async def member_groups(self, member: UserRef) -> list[GroupInfo]:
        """The groups ``member`` is a member of."""
        ...

    async def shared_log(self, member: UserRef, contact_id: int, on: date) -> SharedLog | None:
        """What ``member`` logged with their contact on ``on`` (their own data only)."""
        ...

    async def claim_checkin(
        self, group_id: int, member_id: int, coach: UserRef, week: date
    ) -> int | None:
        """Record a check-in for the member this week; ``None`` if one was already sent."""
        ...

    async def checkin_done(self, checkin_id: int, ok: bool) -> None:
        """The check-in DM went out (``ok``), or it failed and is forgotten again."""
        ...

    async def checked_in(self, group_id: int, member_id: int, week: date) -> bool:
        """Whether the member had a check-in from this group this week."""
        ...

    async def share_win(
        self, member: UserRef, group_id: int, week: date, text: str, kind: str, worker: str
    ) -> WinClaim | None:
        """Store a shared win and claim (or find) the week's wins thread; ``None`` if
        ``member`` is not a member of the group (any more)."""
        ...

    async def add_prompt(
        self, group_id: int, week: date, key: str, content: str, worker: str
    ) -> int:
        """A coach's prompt post, claimed; its id."""
        ...

    async def posted(self, kind: str, row_id: int, message_id: str) -> None:
        """A win, a thread parent or a prompt was posted with ``message_id``."""
        ...

    async def post_failed(self, kind: str, row_id: int, error: str) -> None:
        """Posting it failed for good: a parent or a prompt is released (the next share tries
        again), a win keeps no message id."""
        ...
