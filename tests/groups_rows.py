"""Groups, coaches and members made by inserting rows (the create/join commands are built
elsewhere), for the coach features' tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from storage.models import GroupCoach, GroupMember, GroupRow, User


async def user_id(engine: AsyncEngine, user: UserRef) -> int:
    """The user's row id (created if new)."""
    async with engine.begin() as connection:
        found = await connection.scalar(
            select(User.id).where(
                User.platform == user.platform,
                User.workspace_id == user.workspace_id,
                User.external_id == user.user_id,
            )
        )
        if found is not None:
            return int(found)
        new = await connection.scalar(
            insert(User)
            .values(
                platform=user.platform, workspace_id=user.workspace_id, external_id=user.user_id
            )
            .returning(User.id)
        )
        assert new is not None
        return int(new)


async def make_group(
    engine: AsyncEngine,
    name: str,
    channel: str,
    coach: UserRef,
    members: list[tuple[UserRef, str, str]] = (),  # type: ignore[assignment]
    *,
    quiet_days: int = 14,
    joined: datetime | None = None,
    post_reference: str | None = None,
) -> int:
    """A group in ``channel`` coached by ``coach`` with ``(user, level, display name)`` members."""
    coach_id = await user_id(engine, coach)
    member_ids = [(await user_id(engine, u), level, shown) for u, level, shown in members]
    async with engine.begin() as connection:
        group_id = await connection.scalar(
            insert(GroupRow)
            .values(
                platform=coach.platform,
                workspace_id=coach.workspace_id,
                channel_id=channel,
                name=name,
                quiet_days=quiet_days,
                created_by=coach_id,
                post_reference=post_reference,
            )
            .returning(GroupRow.id)
        )
        assert group_id is not None
        await connection.execute(insert(GroupCoach).values(group_id=group_id, user_id=coach_id))
        for uid, level, shown in member_ids:
            await connection.execute(
                insert(GroupMember).values(
                    group_id=group_id,
                    user_id=uid,
                    level=level,
                    display_name=shown,
                    joined_at=joined or datetime(2026, 11, 2, tzinfo=UTC),
                )
            )
    return int(group_id)


async def add_member(
    engine: AsyncEngine, group_id: int, user: UserRef, level: str, shown: str
) -> int:
    """Add a member to a group; their row id."""
    uid = await user_id(engine, user)
    async with engine.begin() as connection:
        await connection.execute(
            insert(GroupMember).values(
                group_id=group_id,
                user_id=uid,
                level=level,
                display_name=shown,
                joined_at=datetime(2026, 11, 2, tzinfo=UTC),
            )
        )
    return uid
