"""A user's data as a whole: exporting it, erasing it, and what uninstalling does to it.

**Export.** :data:`SECTIONS` names one function per table of per-user data; each reads the
owner's rows and returns JSON-ready records. A new table (predictions, outcomes, …) joins the
export with one function and one line in :data:`SECTIONS` — or, if it holds only bookkeeping,
one line in :data:`NOT_EXPORTED` saying why (a test fails until a new table is in one of them).

**Erase.** :func:`erase_owner` deletes every row that belongs to a user, found from the schema
itself: every table with a foreign key to ``users.id``, and every table with a foreign key to
one of those (``delivery_attempts`` → ``nudges``), children first, then the user row — so a
table added later is erased without anyone remembering to. Deletes are explicit, not left to
``ON DELETE CASCADE``, so they are the same on SQLite with foreign keys off.

Everything here runs on the caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.data_export import (
    contact_record,
    conversation_record,
    nudge_record,
    profile_record,
)
from bot.core.model import Conversation
from bot.core.nudge_scrub import KEY, without_contact
from bot.core.ports import Erased, UserData
from storage.groups import erase_workspace_groups
from storage.models import (
    Base,
    BuddyMatch,
    ContactRow,
    ConversationRef,
    ConversationRow,
    GroupCoach,
    GroupMember,
    GroupRow,
    GroupWin,
    NextStepRow,
    Nudge,
    OutreachRow,
    PromptView,
    RecapSetting,
    User,
    WeeklyGoal,
)

#: How long a Teams user's data is kept after they removed the app (unless they reinstall).
UNINSTALLED_KEEP = timedelta(days=30)
#: ``users.undeliverable`` while the app is uninstalled: the morning pass skips the user.
UNINSTALLED = "app_uninstalled"

_users = cast(Table, User.__table__)

Section = Callable[[AsyncConnection, int], Awaitable[list[dict[str, Any]]]]


async def _contacts(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    from storage.repository import BOOK_COLUMNS, _contact  # the book's own row mapping

    rows = await connection.execute(
        select(*BOOK_COLUMNS)
        .where(ContactRow.owner_id == owner_id)
        .order_by(ContactRow.name_key, ContactRow.id)
    )
    return [contact_record(_contact(row)) for row in rows]


async def _conversations(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    rows = await connection.execute(
        select(
            ConversationRow.contact_id,
            ConversationRow.occurred_on,
            ConversationRow.note,
            ConversationRow.learned,
            ConversationRow.kind,
            ContactRow.name,
        )
        .join(ContactRow, ContactRow.id == ConversationRow.contact_id)
        .where(ConversationRow.owner_id == owner_id, ContactRow.owner_id == owner_id)
        .order_by(ConversationRow.occurred_on, ConversationRow.id)
    )
    return [
        conversation_record(
            Conversation(row.contact_id, row.occurred_on, row.note, row.learned, row.kind),
            row.name,
        )
        for row in rows
    ]


async def _outreach(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    """Every "Reached out", with what the user expected and what happened (issue: fears vs
    facts)."""
    rows = await connection.execute(
        select(
            OutreachRow.reached_on,
            OutreachRow.expected,
            OutreachRow.actual,
            OutreachRow.replied_on,
            ContactRow.name,
        )
        .join(ContactRow, ContactRow.id == OutreachRow.contact_id)
        .where(OutreachRow.owner_id == owner_id, ContactRow.owner_id == owner_id)
        .order_by(OutreachRow.reached_on, OutreachRow.id)
    )
    return [
        {
            "contact": row.name,
            "reached_on": row.reached_on.isoformat(),
            "expected": row.expected,
            "actual": row.actual,
            "replied_on": row.replied_on.isoformat() if row.replied_on else None,
        }
        for row in rows
    ]


async def _next_steps(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    rows = await connection.execute(
        select(NextStepRow.text, NextStepRow.due_on, NextStepRow.status, ContactRow.name)
        .join(ContactRow, ContactRow.id == NextStepRow.contact_id)
        .where(NextStepRow.owner_id == owner_id, ContactRow.owner_id == owner_id)
        .order_by(NextStepRow.due_on, NextStepRow.id)
    )
    return [
        {
            "contact": row.name,
            "text": row.text,
            "due_on": row.due_on.isoformat(),
            "status": row.status,
        }
        for row in rows
    ]


async def _weekly_goals(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    rows = await connection.execute(
        select(WeeklyGoal.week_start, WeeklyGoal.goal)
        .where(WeeklyGoal.owner_id == owner_id)
        .order_by(WeeklyGoal.week_start)
    )
    return [{"from_week": row.week_start.isoformat(), "goal": row.goal} for row in rows]


async def _recap_settings(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    rows = await connection.execute(
        select(RecapSetting.day, RecapSetting.at, RecapSetting.enabled).where(
            RecapSetting.user_id == owner_id
        )
    )
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return [
        {"day": days[row.day % 7], "at": row.at.strftime("%H:%M"), "on": bool(row.enabled)}
        for row in rows
    ]


async def _nudges(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    rows = await connection.execute(
        select(Nudge.local_date, Nudge.kind, Nudge.status, Nudge.sent_at, Nudge.content)
        .where(Nudge.user_id == owner_id)
        .order_by(Nudge.local_date, Nudge.id)
    )
    return [
        nudge_record(row.local_date, row.kind, row.status, row.sent_at, row.content or "")
        for row in rows
    ]


async def _prompts_seen(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    rows = await connection.execute(
        select(PromptView.prompt_id, PromptView.count, PromptView.last_shown)
        .where(PromptView.user_id == owner_id)
        .order_by(PromptView.prompt_id)
    )
    return [
        {"prompt": row.prompt_id, "times": row.count, "last_shown": row.last_shown.isoformat()}
        for row in rows
    ]


async def _teams_chat(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    rows = await connection.execute(
        select(ConversationRef.conversation_id, ConversationRef.updated_at).where(
            ConversationRef.user_id == owner_id
        )
    )
    return [
        {"conversation_id": row.conversation_id, "updated_at": row.updated_at.isoformat()}
        for row in rows
    ]


async def _group_memberships(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    """The groups the user is a member of, with the sharing level they chose."""
    rows = await connection.execute(
        select(
            GroupRow.name,
            GroupRow.channel_id,
            GroupMember.level,
            GroupMember.buddies,
            GroupMember.joined_at,
        )
        .join(GroupRow, GroupRow.id == GroupMember.group_id)
        .where(GroupMember.user_id == owner_id)
        .order_by(GroupRow.name, GroupRow.id)
    )
    return [
        {
            "group": row.name,
            "channel": row.channel_id,
            "sharing_level": row.level,
            "practice_buddies": bool(row.buddies),
            "joined_at": row.joined_at.isoformat() if row.joined_at else None,
        }
        for row in rows
    ]


async def _groups_coached(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    """The groups the user coaches (not their members' data: that is theirs)."""
    rows = await connection.execute(
        select(GroupRow.name, GroupRow.channel_id, GroupCoach.added_at)
        .join(GroupRow, GroupRow.id == GroupCoach.group_id)
        .where(GroupCoach.user_id == owner_id)
        .order_by(GroupRow.name, GroupRow.id)
    )
    return [
        {
            "group": row.name,
            "channel": row.channel_id,
            "coach_since": row.added_at.isoformat() if row.added_at else None,
        }
        for row in rows
    ]


async def _group_wins(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    """The wins the user shared with a group, in their words."""
    rows = await connection.execute(
        select(GroupRow.name, GroupWin.week_start, GroupWin.text, GroupWin.kind)
        .join(GroupRow, GroupRow.id == GroupWin.group_id)
        .where(GroupWin.user_id == owner_id)
        .order_by(GroupWin.week_start, GroupWin.id)
    )
    return [
        {"group": row.name, "week": row.week_start.isoformat(), "text": row.text, "kind": row.kind}
        for row in rows
    ]


async def _buddy_weeks(connection: AsyncConnection, owner_id: int) -> list[dict[str, Any]]:
    """The weeks the user was paired with practice buddies (the group and the week; whom
    with is the other members' data, not exported)."""
    rows = await connection.execute(
        select(GroupRow.name, BuddyMatch.week_start)
        .join(GroupRow, GroupRow.id == BuddyMatch.group_id)
        .where(BuddyMatch.user_id == owner_id)
        .order_by(BuddyMatch.week_start, GroupRow.name)
    )
    return [{"group": row.name, "week": row.week_start.isoformat()} for row in rows]


@dataclass(frozen=True, slots=True)
class _Section:
    table: str
    read: Section


#: The export's sections, in order: name → the table it comes from and how it is read.
SECTIONS: dict[str, _Section] = {
    "contacts": _Section("contacts", _contacts),
    "conversations": _Section("conversations", _conversations),
    "outreach": _Section("outreach", _outreach),
    "next_steps": _Section("next_steps", _next_steps),
    "weekly_goals": _Section("weekly_goals", _weekly_goals),
    "recap_settings": _Section("recap_settings", _recap_settings),
    "nudges": _Section("nudges", _nudges),
    "prompts_seen": _Section("prompt_views", _prompts_seen),
    "teams_chat": _Section("conversation_refs", _teams_chat),
    "group_memberships": _Section("group_members", _group_memberships),
    "groups_coached": _Section("group_coaches", _groups_coached),
    "group_wins": _Section("group_wins", _group_wins),
    "practice_buddy_weeks": _Section("buddy_matches", _buddy_weeks),
}

#: Per-user tables left out of the export on purpose, and why.
NOT_EXPORTED: Mapping[str, str] = {
    "delivery_attempts": "delivery bookkeeping of the nudges (worker names, retry outcomes)",
    "held_files": "copies of files offered on Teams, kept for a day until you accept them",
    # Only that a check-in was sent (to hold it to one a week): the message is in your chat.
    "group_checkins": "when a coach sent you a kind check-in (the message is in your chat)",
    # Transient: a command of yours acknowledged with "One moment…" whose work is still running
    # (its text, channel and where to answer), kept seconds normally and an hour at most. It is
    # erased with your data (it references users.id, so erase_owner finds it) but not exported:
    # once the work is done its effect is in the sections above.
    "pending_work": "a command of yours still being worked on, kept an hour at most",
}


async def export_owner(connection: AsyncConnection, owner_id: int) -> UserData:
    """Everything stored about the user ``owner_id``."""
    user = (await connection.execute(select(User).where(User.id == owner_id))).one()
    from storage.repository import prefs_of

    profile = profile_record(
        prefs_of(cast(User, user)),
        platform=user.platform,
        workspace_id=user.workspace_id,
        user_id=user.external_id,
        first_seen=user.created_at.isoformat() if user.created_at else None,
        app_removed_at=user.uninstalled_at.isoformat() if user.uninstalled_at else None,
    )
    sections = {name: await s.read(connection, owner_id) for name, s in SECTIONS.items()}
    return UserData(profile=profile, sections=sections)


# --- erasing -----------------------------------------------------------------------------------


def owned_tables() -> list[tuple[Table, Any]]:
    """Every table holding per-user rows, children first, with a WHERE clause builder:
    ``(table, lambda owner_id: condition)``. Found from the foreign keys to ``users.id``.

    A foreign key declared ``ON DELETE SET NULL`` (``groups.created_by``) does not make the
    row the user's: a group outlives its creator, who is only forgotten there
    (:func:`unlinked_columns`)."""
    found: dict[str, tuple[Table, Any]] = {}
    tables = [t for t in Base.metadata.sorted_tables if t.name != "users"]

    def owner_column(table: Table) -> Column[Any] | None:
        for column in table.columns:
            if any(_owns(fk) for fk in column.foreign_keys):
                return column
        return None

    for table in tables:
        column = owner_column(table)
        if column is not None:
            found[table.name] = (table, _direct(column))
    for table in tables:
        if table.name in found:
            continue
        for column in table.columns:
            for fk in column.foreign_keys:
                parent = fk.column.table
                parent_owner = owner_column(parent)
                if parent_owner is not None:
                    found[table.name] = (table, _through(column, fk.column, parent_owner))
    order = [t.name for t in reversed(Base.metadata.sorted_tables)]
    return [found[name] for name in order if name in found]


def _owns(fk: Any) -> bool:
    return fk.column is _users.c.id and (fk.ondelete or "").upper() != "SET NULL"


def unlinked_columns() -> list[Column[Any]]:
    """Columns that name a user without the row being theirs (``ON DELETE SET NULL``): set to
    NULL when the user is erased."""
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(
            fk.column is _users.c.id and (fk.ondelete or "").upper() == "SET NULL"
            for fk in column.foreign_keys
        )
    ]


def _direct(column: Column[Any]) -> Any:
    return lambda owner_id: column == owner_id


def _through(column: Column[Any], parent_id: Any, parent_owner: Column[Any]) -> Any:
    return lambda owner_id: column.in_(select(parent_id).where(parent_owner == owner_id))


async def erase_owner(connection: AsyncConnection, owner_id: int) -> Erased:
    """Delete every row of the user ``owner_id``, the user row last. Counts what went."""
    counts: dict[str, int] = {}
    for column in unlinked_columns():
        await connection.execute(
            update(column.table).where(column == owner_id).values({column.name: None})
        )
    for table, where in owned_tables():
        result = await connection.execute(delete(table).where(where(owner_id)))
        counts[table.name] = result.rowcount or 0
    await connection.execute(delete(_users).where(_users.c.id == owner_id))
    return Erased(
        contacts=counts.get("contacts", 0),
        conversations=counts.get("conversations", 0),
        nudges=counts.get("nudges", 0),
    )


async def erase_where(
    engine: AsyncEngine,
    *where: Any,
    lock: Any = None,
    workspace: tuple[str, str] | None = None,
) -> int:
    """Erase every user matching ``where`` (one transaction); how many there were. With
    ``workspace`` (``(platform, workspace id)``: the app was uninstalled there), its
    outplacement groups go too, in the same transaction."""
    async with _maybe(lock), engine.begin() as connection:
        ids = list((await connection.scalars(select(User.id).where(*where))).all())
        for owner_id in ids:
            await erase_owner(connection, owner_id)
        if workspace is not None:
            await erase_workspace_groups(connection, *workspace)
    return len(ids)


async def scrub_nudges(connection: AsyncConnection, owner_id: int, contact_id: int) -> int:
    """Take the contact ``contact_id`` out of the owner's stored nudges; how many changed."""
    pattern = f'%"{KEY}":{contact_id}%'
    rows = await connection.execute(
        select(Nudge.id, Nudge.content).where(
            Nudge.user_id == owner_id, Nudge.content.like(pattern)
        )
    )
    changed = 0
    for row in rows.all():
        cleaned = without_contact(row.content, contact_id)
        if cleaned is None:
            continue
        await connection.execute(
            update(Nudge)
            .where(Nudge.user_id == owner_id, Nudge.id == row.id)
            .values(content=cleaned)
        )
        changed += 1
    return changed


# --- uninstalled (Teams) -----------------------------------------------------------------------


async def purge_uninstalled(engine: AsyncEngine, now: datetime, *, lock: Any = None) -> int:
    """Erase the users who removed the app more than :data:`UNINSTALLED_KEEP` ago."""
    cutoff = now.astimezone(UTC) - UNINSTALLED_KEEP
    return await erase_where(
        engine, User.uninstalled_at.is_not(None), User.uninstalled_at <= cutoff, lock=lock
    )


def uninstalled_values(now: datetime) -> dict[str, Any]:
    """The user row's columns while the app is uninstalled."""
    return {"uninstalled_at": now, "undeliverable": UNINSTALLED, "dm_channel": None}


async def count_users(engine: AsyncEngine) -> int:
    """How many users there are (for tests and operators)."""
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(_users)) or 0)


class _maybe:
    """``async with lock`` when there is a lock (SQLite's writer queue), else nothing."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    async def __aenter__(self) -> None:
        if self._lock is not None:
            await self._lock.acquire()

    async def __aexit__(self, *_: object) -> None:
        if self._lock is not None:
            self._lock.release()
