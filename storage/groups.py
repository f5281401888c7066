"""SQL implementation of :class:`bot.core.groups.ports.GroupStore`.

Each method is one short transaction. A person is found (or created) by their platform
identity; a method only ever changes that person's own membership, and adding a coach checks
the caller's own coach row in the same transaction, so a forged group id changes nothing.
On SQLite, writers queue on the store's write turn like every other writer in the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.groups.levels import SharingLevel
from bot.core.groups.model import NAME_MAX, Group, Place
from bot.core.groups.ports import CoachAdded
from bot.core.model import UserRef
from bot.core.text import clean, one_line
from storage import pending_work, replays
from storage.dialect import dialect_of
from storage.models import (
    BuddyMatch,
    GroupCoach,
    GroupMember,
    GroupPost,
    GroupRow,
    GroupWin,
    User,
)

_GROUP_COLUMNS = (
    GroupRow.id,
    GroupRow.platform,
    GroupRow.workspace_id,
    GroupRow.channel_id,
    GroupRow.name,
    GroupRow.broken,
)


class SqlGroups:
    """Groups, coaches and members in the database."""

    def __init__(self, engine: AsyncEngine, *, write_turn: asyncio.Lock | None = None) -> None:
        self.engine = engine
        self._insert = dialect_of(engine).insert
        self._write_turn = write_turn

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; a signed Slack request being handled is recorded in it
        (replay protection, :mod:`storage.replays`), as every writer does."""
        async with self._turn(), self.engine.begin() as connection:
            await replays.claim(connection)
            yield connection
            await pending_work.settle(connection)  # a command acknowledged early (its record)
        replays.claimed()
        pending_work.settled()

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._write_turn is not None:
            async with self._write_turn:
                yield
        else:
            yield

    async def by_channel(self, platform: str, workspace_id: str, channel_id: str) -> Group | None:
        """The group of a channel, if it is one."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(*_GROUP_COLUMNS).where(
                        GroupRow.platform == platform,
                        GroupRow.workspace_id == workspace_id,
                        GroupRow.channel_id == channel_id,
                    )
                )
            ).first()
        return _group(row) if row is not None else None

    async def get(self, group_id: int) -> Group | None:
        """The group with this id."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(*_GROUP_COLUMNS).where(GroupRow.id == group_id))
            ).first()
        return _group(row) if row is not None else None

    async def create(self, channel_id: str, name: str, creator: UserRef) -> tuple[Group, bool]:
        """Make the channel a group coached by ``creator`` (see the port)."""
        try:
            async with self._writing() as connection:
                found = await self._in_channel(connection, creator, channel_id)
                if found is not None:
                    return found, False
                creator_id = await _user_id(connection, self._insert, creator)
                group_id = (
                    await connection.execute(
                        insert(GroupRow)
                        .values(
                            platform=creator.platform,
                            workspace_id=creator.workspace_id,
                            channel_id=channel_id,
                            name=name[:NAME_MAX],
                            created_by=creator_id,
                        )
                        .returning(GroupRow.id)
                    )
                ).scalar_one()
                await connection.execute(
                    insert(GroupCoach).values(group_id=group_id, user_id=creator_id)
                )
        except IntegrityError:
            # Another request made this channel a group first: one channel, one group.
            async with self.engine.connect() as connection:
                found = await self._in_channel(connection, creator, channel_id)
            if found is None:
                raise
            return found, False
        group = Group(group_id, creator.platform, creator.workspace_id, channel_id, name[:NAME_MAX])
        return group, True

    async def _in_channel(
        self, connection: AsyncConnection, user: UserRef, channel_id: str
    ) -> Group | None:
        row = (
            await connection.execute(
                select(*_GROUP_COLUMNS).where(
                    GroupRow.platform == user.platform,
                    GroupRow.workspace_id == user.workspace_id,
                    GroupRow.channel_id == channel_id,
                )
            )
        ).first()
        return _group(row) if row is not None else None

    async def place(self, group_id: int, user: UserRef) -> Place | None:
        """``user``'s place in the group, if any."""
        found = [p for p in await self._places(user, group_id) if p.group.id == group_id]
        return found[0] if found else None

    async def places(self, user: UserRef) -> list[Place]:
        """Every group ``user`` belongs to or coaches, by name."""
        return await self._places(user, None)

    async def _places(self, user: UserRef, group_id: int | None) -> list[Place]:
        """The person's groups, found from their own membership and coach rows (both indexed
        by user), never by scanning the groups."""
        async with self.engine.connect() as connection:
            user_id = await connection.scalar(select(User.id).where(*_identity(user)))
            if user_id is None:
                return []
            mine = union(
                select(GroupMember.group_id).where(GroupMember.user_id == user_id),
                select(GroupCoach.group_id).where(GroupCoach.user_id == user_id),
            ).subquery()
            query = (
                select(
                    *_GROUP_COLUMNS,
                    GroupMember.level,
                    GroupMember.buddies,
                    GroupCoach.user_id.label("coach"),
                )
                .join(mine, mine.c.group_id == GroupRow.id)
                .outerjoin(
                    GroupMember,
                    and_(GroupMember.group_id == GroupRow.id, GroupMember.user_id == user_id),
                )
                .outerjoin(
                    GroupCoach,
                    and_(GroupCoach.group_id == GroupRow.id, GroupCoach.user_id == user_id),
                )
                .order_by(GroupRow.name, GroupRow.id)
            )
            if group_id is not None:
                query = query.where(GroupRow.id == group_id)
            rows = (await connection.execute(query)).all()
        return [
            Place(_group(row), _level(row.level), row.coach is not None, bool(row.buddies))
            for row in rows
        ]

    async def join(
        self, group_id: int, user: UserRef, level: SharingLevel, display_name: str = ""
    ) -> bool:
        """Make ``user`` a member at ``level``, or change their level (and their display
        name, when one is given)."""
        name = _display_name(display_name)
        changes: dict[str, str] = {"level": level.value}
        if name:
            changes["display_name"] = name
        async with self._writing() as connection:
            user_id = await _user_id(connection, self._insert, user)
            changed = await connection.execute(
                update(GroupMember)
                .where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
                .values(**changes)
            )
            if changed.rowcount:
                return False
            inserted = await connection.execute(
                self._insert(GroupMember)
                .values(group_id=group_id, user_id=user_id, **changes)
                .on_conflict_do_nothing()
                .returning(GroupMember.user_id)
            )
            return inserted.first() is not None

    async def set_level(self, group_id: int, user: UserRef, level: SharingLevel) -> bool:
        """Change a member's level; ``False`` if they are not a member."""
        async with self._writing() as connection:
            changed = await connection.execute(
                update(GroupMember)
                .where(GroupMember.group_id == group_id, GroupMember.user_id == _user_ref(user))
                .values(level=level.value)
            )
            return bool(changed.rowcount)

    async def leave(self, group_id: int, user: UserRef) -> bool:
        """Remove ``user``'s membership."""
        async with self._writing() as connection:
            gone = await connection.execute(
                delete(GroupMember).where(
                    GroupMember.group_id == group_id, GroupMember.user_id == _user_ref(user)
                )
            )
            return bool(gone.rowcount)

    async def add_coach(self, group_id: int, by: UserRef, coach: UserRef) -> CoachAdded:
        """Make ``coach`` a coach if ``by`` is one (see the port)."""
        async with self._writing() as connection:
            allowed = await connection.scalar(
                select(GroupCoach.user_id).where(
                    GroupCoach.group_id == group_id, GroupCoach.user_id == _user_ref(by)
                )
            )
            if allowed is None:
                return CoachAdded.REFUSED
            coach_id = await connection.scalar(select(User.id).where(*_identity(coach)))
            if coach_id is None:
                return CoachAdded.UNKNOWN
            # RETURNING, not rowcount: drivers differ in what rowcount says after DO NOTHING.
            added = await connection.execute(
                self._insert(GroupCoach)
                .values(group_id=group_id, user_id=coach_id)
                .on_conflict_do_nothing()
                .returning(GroupCoach.user_id)
            )
            return CoachAdded.ADDED if added.first() is not None else CoachAdded.ALREADY

    async def set_buddies(self, group_id: int, user: UserRef, on: bool) -> bool:
        """Opt a member in to or out of practice buddies; ``False`` if not a member."""
        async with self._writing() as connection:
            changed = await connection.execute(
                update(GroupMember)
                .where(GroupMember.group_id == group_id, GroupMember.user_id == _user_ref(user))
                .values(buddies=on)
            )
            return bool(changed.rowcount)

    async def buddy_count(self, group_id: int) -> tuple[int, int]:
        """``(opted in, members)`` of the group (counts only: never who)."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        func.count().filter(GroupMember.buddies.is_(True)),
                        func.count(),
                    ).where(GroupMember.group_id == group_id)
                )
            ).one()
        return int(row[0] or 0), int(row[1] or 0)

    async def save_post_reference(self, group_id: int, reference: str) -> None:
        """Store the channel's conversation reference (Teams) for proactive posts."""
        async with self._writing() as connection:
            await connection.execute(
                update(GroupRow)
                .where(GroupRow.id == group_id, GroupRow.post_reference.is_distinct_from(reference))
                .values(post_reference=reference)
            )

    async def mark_broken(
        self, platform: str, workspace_id: str, channel_id: str, reason: str
    ) -> bool:
        """Mark the channel's group broken (once)."""
        async with self._writing() as connection:
            marked = await connection.execute(
                update(GroupRow)
                .where(
                    GroupRow.platform == platform,
                    GroupRow.workspace_id == workspace_id,
                    GroupRow.channel_id == channel_id,
                    GroupRow.broken.is_(None),
                )
                .values(broken=reason[:64])
            )
            return bool(marked.rowcount)


def _identity(user: UserRef) -> tuple[Any, ...]:
    return (
        User.platform == user.platform,
        User.workspace_id == user.workspace_id,
        User.external_id == user.user_id,
    )


def _user_ref(user: UserRef) -> Any:
    """The user's row id as a subquery (no row: matches nothing)."""
    return select(User.id).where(*_identity(user)).scalar_subquery()


async def _user_id(connection: AsyncConnection, insert: Any, user: UserRef) -> int:
    """The user's row id, the row created if this is the first we hear of them."""
    await connection.execute(
        insert(User)
        .values(
            platform=user.platform,
            workspace_id=user.workspace_id,
            external_id=user.user_id,
            timezone="UTC",
        )
        .on_conflict_do_nothing()
    )
    return int((await connection.execute(select(User.id).where(*_identity(user)))).scalar_one())


def _level(value: str | None) -> SharingLevel | None:
    """A stored level; one this code doesn't know counts as the most private."""
    if value is None:
        return None
    try:
        return SharingLevel(value)
    except ValueError:
        return SharingLevel.MEMBERSHIP


def _group(row: Any) -> Group:
    return Group(
        id=row.id,
        platform=row.platform,
        workspace_id=row.workspace_id,
        channel_id=row.channel_id,
        name=row.name,
        broken=row.broken,
    )


async def erase_workspace_groups(
    connection: AsyncConnection, platform: str, workspace_id: str
) -> int:
    """Delete every group of a workspace (the app was uninstalled there) with its coaches,
    members, posts and shared wins, children first (the same with SQLite's foreign keys off);
    how many groups there were. Runs in the caller's transaction."""
    ids = (
        select(GroupRow.id)
        .where(GroupRow.platform == platform, GroupRow.workspace_id == workspace_id)
        .scalar_subquery()
    )
    for table in (BuddyMatch, GroupWin, GroupPost, GroupMember, GroupCoach):
        await connection.execute(delete(table).where(table.group_id.in_(ids)))
    gone = await connection.execute(
        delete(GroupRow).where(GroupRow.platform == platform, GroupRow.workspace_id == workspace_id)
    )
    return gone.rowcount or 0


#: As long as ``group_members.display_name``.
DISPLAY_NAME_MAX = 80


def _display_name(name: str) -> str:
    """A platform's display name as stored: one clean line, cut to the column."""
    return one_line(clean(name))[:DISPLAY_NAME_MAX]
