"""The rhythm commands' reads and writes on ``groups`` (``bot.core.groups.rhythm_commands``):
every query is scoped to the platform and workspace of the person asking."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.core.groups.rhythm import GroupSchedule
from bot.core.groups.rhythm_commands import GroupRef
from bot.core.model import UserRef
from storage.dialect import DialectStore
from storage.group_posts import schedule_of
from storage.models import GroupCoach, GroupMember, GroupRow, User

__all__ = ["SqlRhythmGroups"]


class SqlRhythmGroups(DialectStore):
    """:class:`bot.core.groups.rhythm_commands.RhythmGroups` on SQLite and PostgreSQL."""

    async def group_in_channel(
        self, platform: str, workspace: str, channel: str
    ) -> GroupRef | None:
        """The group of a channel, if it is one."""
        return await self._one(
            select(GroupRow).where(
                GroupRow.platform == platform,
                GroupRow.workspace_id == workspace,
                GroupRow.channel_id == channel,
            )
        )

    async def group_by_id(self, group_id: int, platform: str, workspace: str) -> GroupRef | None:
        """A group of this platform and workspace."""
        return await self._one(
            select(GroupRow).where(
                GroupRow.id == group_id,
                GroupRow.platform == platform,
                GroupRow.workspace_id == workspace,
            )
        )

    async def is_coach(self, group_id: int, user: UserRef) -> bool:
        """Whether ``user`` coaches the group."""
        return await self._in(GroupCoach, group_id, user)

    async def is_member(self, group_id: int, user: UserRef) -> bool:
        """Whether ``user`` is a member of the group."""
        return await self._in(GroupMember, group_id, user)

    async def save_schedule(self, group_id: int, schedule: GroupSchedule, *, mend: bool) -> None:
        """Store the rhythm settings (and, with ``mend``, clear a broken channel)."""
        values: dict[str, object] = {
            "timezone": schedule.timezone,
            "theme_day": schedule.theme_day,
            "theme_at": schedule.theme_at,
            "recap_day": schedule.recap_day,
            "recap_at": schedule.recap_at,
            "paused_until": schedule.paused_until,
            "shoutouts": schedule.shoutouts,
            "quiet_days": schedule.quiet_days,
        }
        if mend:
            values |= {"broken": None, "broken_told_at": None}
        async with self.engine.begin() as connection:
            await connection.execute(
                update(GroupRow).where(GroupRow.id == group_id).values(**values)
            )

    async def _one(self, query: object) -> GroupRef | None:
        async with self._reading() as connection:
            row = (await connection.execute(query)).first()  # type: ignore[call-overload]
        return None if row is None else GroupRef(row.id, schedule_of(row))

    async def _in(
        self, table: type[GroupCoach] | type[GroupMember], group_id: int, user: UserRef
    ) -> bool:
        query = (
            select(table.group_id)
            .join(User, User.id == table.user_id)
            .join(GroupRow, GroupRow.id == table.group_id)
            .where(
                table.group_id == group_id,
                User.platform == user.platform,
                User.workspace_id == user.workspace_id,
                User.external_id == user.user_id,
                GroupRow.workspace_id == user.workspace_id,
            )
        )
        async with self._reading() as connection:
            return (await connection.execute(query)).first() is not None
