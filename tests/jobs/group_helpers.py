"""Seeding groups for the group pass tests: rows written directly (the `groups` helper's
commands create them in the product), members' activity through the real service."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from storage.models import GroupCoach, GroupMember, GroupRow, GroupWin, User


async def user_id(engine: AsyncEngine, platform: str, workspace: str, external: str) -> int:
    """The users row of a platform user, created if needed."""
    async with engine.begin() as connection:
        found = (
            await connection.execute(
                select(User.id).where(
                    User.platform == platform,
                    User.workspace_id == workspace,
                    User.external_id == external,
                )
            )
        ).scalar()
        if found is not None:
            return int(found)
        result = await connection.execute(
            insert(User)
            .values(platform=platform, workspace_id=workspace, external_id=external)
            .returning(User.id)
        )
        return int(result.scalar_one())


async def make_group(
    engine: AsyncEngine,
    channel: str,
    *,
    coach: UserRef,
    members: dict[UserRef, str] | None = None,
    timezone: str = "UTC",
    shoutouts: bool = False,
    platform: str = "slack",
    reference: str | None = None,
    recap_at: time = time(15, 0),
    paused_until: date | None = None,
) -> int:
    """A group in ``channel`` with its coach and members (``{user: level}``)."""
    coach_id = await user_id(engine, coach.platform, coach.workspace_id, coach.user_id)
    async with engine.begin() as connection:
        gid = (
            await connection.execute(
                insert(GroupRow)
                .values(
                    platform=platform,
                    workspace_id=coach.workspace_id,
                    channel_id=channel,
                    name=f"Cohort {channel}",
                    timezone=timezone,
                    shoutouts=shoutouts,
                    post_reference=reference,
                    recap_at=recap_at,
                    paused_until=paused_until,
                    created_by=coach_id,
                )
                .returning(GroupRow.id)
            )
        ).scalar_one()
        await connection.execute(insert(GroupCoach).values(group_id=gid, user_id=coach_id))
    for member, level in (members or {}).items():
        uid = await user_id(engine, member.platform, member.workspace_id, member.user_id)
        async with engine.begin() as connection:
            await connection.execute(
                insert(GroupMember).values(group_id=gid, user_id=uid, level=level)
            )
    return int(gid)


async def share_win(engine: AsyncEngine, gid: int, member: UserRef, week: date, text: str) -> None:
    """A win a member shared with the group (as the `coach` helper's Share button does)."""
    uid = await user_id(engine, member.platform, member.workspace_id, member.user_id)
    async with engine.begin() as connection:
        await connection.execute(
            insert(GroupWin).values(group_id=gid, user_id=uid, week_start=week, text=text)
        )
