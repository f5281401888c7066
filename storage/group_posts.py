"""The weekly group posts' claims: which groups are due, who posts what, and what happened.

Like the morning nudges (``storage.nudge_claims``): a post is claimed in ``group_posts``
(unique per group, kind, week and key) before it is sent; each attempt is written before the
post goes out (``attempts`` and ``content``, with ``error = "in flight"``) and closed after, so
a crash leaves a post in doubt that whoever takes it over looks for before posting again.
A channel that is gone marks its group ``broken`` once; the coaches are told once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.rhythm import GroupSchedule
from bot.core.model import UserRef
from storage.dialect import DialectStore
from storage.models import GroupCoach, GroupPost, GroupRow, User
from storage.nudge_claims import ClaimStore, aware
from storage.records import NudgeStatus

__all__ = [
    "IN_FLIGHT",
    "AttemptOpen",
    "GroupPostStore",
    "GroupTarget",
    "PostKey",
    "PostOutcome",
    "PostState",
]

#: ``group_posts.error`` while an attempt is open (written before the post is sent).
IN_FLIGHT = "in flight"

#: ``(group id, kind, Monday of the group's week)``.
PostKey = tuple[int, str, date]


@dataclass(frozen=True, slots=True)
class GroupTarget:
    """A group whose channel the pass posts in."""

    id: int
    platform: str
    workspace_id: str
    channel_id: str
    schedule: GroupSchedule
    post_reference: str | None = None


@dataclass(frozen=True, slots=True)
class PostState:
    """A claimed post as stored."""

    id: int
    group_id: int
    kind: str
    week_start: date
    status: str
    worker: str
    attempts: int
    content: str
    claimed_at: datetime
    in_flight: bool  # an attempt was opened and never closed


#: The table itself: an executemany UPDATE binds by parameter names, not by ORM attributes.
_TABLE = cast(Table, GroupPost.__table__)


@dataclass(frozen=True, slots=True)
class AttemptOpen:
    """An attempt about to be made: its number, and the content it posts."""

    post_id: int
    number: int
    content: str


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """How an attempt ended (``status`` "claimed" after a failure that will be retried)."""

    post_id: int
    status: str
    error: str | None = None
    message_id: str | None = None
    at: datetime | None = None


class GroupPostStore(DialectStore):
    """Groups due a post, claims on their posts, and what delivering them wrote.
    Workers' heartbeats are the morning pass's (:class:`ClaimStore`), so a worker is judged
    alive or dead the same way by every pass."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._workers = ClaimStore(engine)

    async def heartbeat(self, worker: str, host: str, pid: int, now: datetime) -> None:
        """Register or refresh a worker."""
        await self._workers.heartbeat(worker, host, pid, now)

    async def remove_worker(self, worker: str) -> None:
        """Forget a worker that stopped cleanly."""
        await self._workers.remove_worker(worker)

    async def workers(self) -> dict[str, tuple[str, int, datetime]]:
        """``{worker id: (host, pid, last heartbeat)}``."""
        return await self._workers.workers()

    async def groups(self, platforms: Iterable[str]) -> list[GroupTarget]:
        """Every group on these platforms whose channel still works."""
        query = select(GroupRow).where(
            GroupRow.broken.is_(None), GroupRow.platform.in_(list(platforms))
        )
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        return [_target(r) for r in rows]

    async def existing(self, keys: Iterable[PostKey]) -> dict[PostKey, PostState]:
        """Posts already claimed among ``keys``."""
        wanted = set(keys)
        if not wanted:
            return {}
        weeks = sorted({week for _, _, week in wanted})
        kinds = sorted({kind for _, kind, _ in wanted})  # not other passes' (buddies) rows
        query = select(GroupPost).where(
            GroupPost.week_start.in_(weeks), GroupPost.kind.in_(kinds), GroupPost.key == ""
        )
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        found: dict[PostKey, PostState] = {}
        for r in rows:
            key = (r.group_id, r.kind, r.week_start)
            if key in wanted:
                found[key] = PostState(
                    r.id,
                    r.group_id,
                    r.kind,
                    r.week_start,
                    r.status,
                    r.worker,
                    r.attempts,
                    r.content,
                    aware(r.claimed_at),
                    r.error == IN_FLIGHT,
                )
        return found

    async def claim(
        self, wanted: Sequence[PostKey], worker: str, now: datetime
    ) -> dict[PostKey, int]:
        """Claim each post; ``{key: post id}`` of the claims this worker won."""
        if not wanted:
            return {}
        statement = (
            self.dialect.insert(GroupPost)
            .on_conflict_do_nothing(index_elements=["group_id", "kind", "week_start", "key"])
            .returning(GroupPost.id, GroupPost.group_id, GroupPost.kind, GroupPost.week_start)
        )
        params = [
            {
                "group_id": gid,
                "kind": kind,
                "week_start": week,
                "key": "",
                "status": NudgeStatus.CLAIMED,
                "worker": worker,
                "claimed_at": now,
                "attempts": 0,
                "content": "",
            }
            for gid, kind, week in wanted
        ]
        won: dict[PostKey, int] = {}
        async with self.engine.begin() as connection:
            for start in range(0, len(params), 1000):
                result = await connection.execute(statement, params[start : start + 1000])
                for r in result.all():
                    won[(r.group_id, r.kind, r.week_start)] = r.id
        return won

    async def take_over(self, state: PostState, worker: str, now: datetime) -> bool:
        """Compare-and-set: claim a dead worker's (or a failed) post; ``False`` if another
        worker got there first."""
        statement = (
            update(GroupPost)
            .where(
                GroupPost.id == state.id,
                GroupPost.worker == state.worker,
                GroupPost.status == state.status,
                GroupPost.attempts == state.attempts,
            )
            .values(worker=worker, claimed_at=now, status=NudgeStatus.CLAIMED)
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)

    async def start_attempts(self, starts: Sequence[AttemptOpen]) -> None:
        """Open attempts (committed before the posts are sent), several in one transaction."""
        table = _TABLE
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(attempts=bindparam("b_n"), content=bindparam("b_content"), error=IN_FLIGHT)
        )
        params = [{"b_id": s.post_id, "b_n": s.number, "b_content": s.content} for s in starts]
        async with self.engine.begin() as connection:
            await connection.execute(statement, params)

    async def finish(self, outcomes: Sequence[PostOutcome]) -> None:
        """Close open attempts: sent (with the message id), failed or undeliverable, or still
        claimed after a failure that will be retried."""
        table = _TABLE
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                error=bindparam("b_error"),
                message_id=bindparam("b_message"),
                sent_at=bindparam("b_at"),
            )
        )
        params = [
            {
                "b_id": o.post_id,
                "b_status": o.status,
                "b_error": o.error[:200] if o.error else None,
                "b_message": o.message_id,
                "b_at": o.at,
            }
            for o in outcomes
        ]
        async with self.engine.begin() as connection:
            await connection.execute(statement, params)

    async def mark_broken(self, group_id: int, reason: str) -> bool:
        """Stop posting in a group's channel; ``True`` only for the call that marked it."""
        statement = (
            update(GroupRow)
            .where(GroupRow.id == group_id, GroupRow.broken.is_(None))
            .values(broken=reason[:64])
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)

    async def untold(self, platforms: Iterable[str]) -> list[tuple[int, str]]:
        """Broken groups whose coaches were not told yet: ``(group id, reason)``."""
        query = select(GroupRow.id, GroupRow.broken).where(
            GroupRow.broken.is_not(None),
            GroupRow.broken_told_at.is_(None),
            GroupRow.platform.in_(list(platforms)),
        )
        async with self._reading() as connection:
            return [(r.id, r.broken) for r in await connection.execute(query)]

    async def claim_telling(self, group_id: int, now: datetime) -> bool:
        """Compare-and-set ``broken_told_at``: only one worker tells a group's coaches."""
        statement = (
            update(GroupRow)
            .where(GroupRow.id == group_id, GroupRow.broken_told_at.is_(None))
            .values(broken_told_at=now)
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)

    async def coaches(self, group_id: int) -> list[tuple[UserRef, str | None, str]]:
        """A group's coaches who can still be reached: ``(user, cached DM channel, group
        name)``."""
        query = (
            select(
                User.platform, User.workspace_id, User.external_id, User.dm_channel, GroupRow.name
            )
            .join(GroupCoach, GroupCoach.user_id == User.id)
            .join(GroupRow, GroupRow.id == GroupCoach.group_id)
            .where(GroupCoach.group_id == group_id, User.undeliverable.is_(None))
        )
        async with self._reading() as connection:
            return [
                (UserRef(r.platform, r.workspace_id, r.external_id), r.dm_channel, r.name)
                for r in await connection.execute(query)
            ]

    async def post_statuses(self, group_id: int | None = None) -> list[tuple[int, str, date, str]]:
        """``(group id, kind, week, status)`` of every post (for summaries and tests)."""
        query = select(GroupPost.group_id, GroupPost.kind, GroupPost.week_start, GroupPost.status)
        if group_id is not None:
            query = query.where(GroupPost.group_id == group_id)
        async with self._reading() as connection:
            return [tuple(r) for r in await connection.execute(query)]  # type: ignore[misc]


def _target(r: Any) -> GroupTarget:
    return GroupTarget(
        r.id,
        r.platform,
        r.workspace_id,
        r.channel_id,
        schedule_of(r),
        r.post_reference,
    )


def schedule_of(r: Any) -> GroupSchedule:
    """A group's rhythm settings from its row."""
    return GroupSchedule(
        timezone=r.timezone,
        theme_day=r.theme_day,
        theme_at=r.theme_at,
        recap_day=r.recap_day,
        recap_at=r.recap_at,
        paused_until=r.paused_until,
        shoutouts=bool(r.shoutouts),
        quiet_days=r.quiet_days,
    )
