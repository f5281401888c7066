"""What the weekly practice-buddy pass reads and writes.

A group's week is claimed as a ``group_posts`` row (kind "buddies", key "") in the same
transaction that records the week's pairs (``buddy_matches``), so two clocks agree on who pairs
a group and both see the same pairs. Each intro sent is a ``group_posts`` row of its own
(kind "buddy-intro", key naming the pair and, on Teams, the person), written before the send
(status "claimed", attempts + 1) and closed after: a crash leaves it open — in doubt — and the
worker that takes the week over looks for it before sending again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.buddy_schedule import BuddyTiming
from bot.core.groups.pairing import Pair
from bot.core.model import UserRef
from storage.dialect import DialectStore
from storage.models import BuddyMatch, GroupMember, GroupPost, GroupRow, User
from storage.nudge_claims import ClaimStore, aware

__all__ = ["BUDDIES", "INTRO", "BuddyGroup", "BuddyRuns", "Claim", "Delivery"]

#: ``group_posts.kind`` of a group's weekly pairing, and of each intro sent for it.
BUDDIES = "buddies"
INTRO = "buddy-intro"


@dataclass(frozen=True, slots=True)
class BuddyGroup:
    """A working group, as the pass needs it."""

    id: int
    platform: str
    workspace_id: str
    name: str
    timing: BuddyTiming


@dataclass(frozen=True, slots=True)
class Claim:
    """A group's week of buddies, claimed."""

    id: int
    status: str
    worker: str
    claimed_at: datetime
    pairs: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One intro's record: ``attempts`` > 0 with status "claimed" is a send in doubt."""

    status: str
    attempts: int
    channel: str
    claimed_at: datetime


class BuddyRuns(DialectStore):
    """Reads and claims of the practice-buddy pass. Workers' heartbeats are the morning
    pass's (:class:`ClaimStore`), so every pass judges a worker alive or dead the same way."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._workers = ClaimStore(engine)

    # --- workers --------------------------------------------------------------------------

    async def heartbeat(self, worker: str, host: str, pid: int, now: datetime) -> None:
        """Register or refresh this worker."""
        await self._workers.heartbeat(worker, host, pid, now)

    async def remove_worker(self, worker: str) -> None:
        """Forget a worker that stopped cleanly."""
        await self._workers.remove_worker(worker)

    async def workers(self, now: datetime, stale_after: timedelta) -> dict[str, tuple[str, int]]:
        """Workers whose heartbeat is fresh: ``{id: (host, pid)}``."""
        return {
            worker: (host, pid)
            for worker, (host, pid, beat) in (await self._workers.workers()).items()
            if aware(beat) >= now - stale_after
        }

    # --- planning -------------------------------------------------------------------------

    async def groups(self, platforms: Iterable[str]) -> list[BuddyGroup]:
        """Every working group (not broken) on these platforms with an opted-in member."""
        opted = (
            select(GroupMember.group_id)
            .where(GroupMember.buddies.is_(True))
            .where(GroupMember.group_id == GroupRow.id)
            .exists()
        )
        query = select(
            GroupRow.id,
            GroupRow.platform,
            GroupRow.workspace_id,
            GroupRow.name,
            GroupRow.timezone,
            GroupRow.theme_day,
            GroupRow.theme_at,
            GroupRow.paused_until,
        ).where(GroupRow.broken.is_(None), GroupRow.platform.in_(list(platforms)), opted)
        async with self._reading() as connection:
            rows = (await connection.execute(query.order_by(GroupRow.id))).all()
        return [
            BuddyGroup(
                r.id,
                r.platform,
                r.workspace_id,
                r.name,
                BuddyTiming(r.timezone, r.theme_day, r.theme_at, r.paused_until),
            )
            for r in rows
        ]

    async def members(self, group_id: int) -> dict[int, UserRef]:
        """The group's members opted in to buddies right now, by user row id (a member who
        left or opted out is simply not here)."""
        query = (
            select(User.id, User.platform, User.workspace_id, User.external_id)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == group_id, GroupMember.buddies.is_(True))
            .where(User.undeliverable.is_(None))
        )
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        return {r.id: UserRef(r.platform, r.workspace_id, r.external_id) for r in rows}

    async def history(self, group_id: int, before: date) -> list[list[Pair]]:
        """The group's past weeks of buddies (before ``before``), each as its pairs."""
        query = select(BuddyMatch.week_start, BuddyMatch.pair_no, BuddyMatch.user_id).where(
            BuddyMatch.group_id == group_id, BuddyMatch.week_start < before
        )
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        weeks: dict[date, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for r in rows:
            weeks[r.week_start][r.pair_no].append(r.user_id)
        return [[tuple(sorted(m)) for m in week.values()] for _, week in sorted(weeks.items())]

    # --- claims ---------------------------------------------------------------------------

    async def claim(
        self, group_id: int, week: date, pairs: Sequence[Pair], worker: str, now: datetime
    ) -> bool:
        """Claim the group's week with these pairs, recording them; ``False`` if another
        worker claimed it first (then nothing is written)."""
        content = json.dumps({"pairs": [list(p) for p in pairs]})
        async with self.engine.begin() as connection:
            won = (
                await connection.execute(
                    self.dialect.insert(GroupPost)
                    .values(
                        group_id=group_id,
                        kind=BUDDIES,
                        week_start=week,
                        key="",
                        status="claimed",
                        worker=worker,
                        claimed_at=now,
                        content=content,
                    )
                    .on_conflict_do_nothing()
                    .returning(GroupPost.id)
                )
            ).first()
            if won is None:
                return False
            rows = [
                {"group_id": group_id, "week_start": week, "user_id": m, "pair_no": n}
                for n, pair in enumerate(pairs)
                for m in pair
            ]
            if rows:
                await connection.execute(self.dialect.insert(BuddyMatch).values(rows))
        return True

    async def claimed(self, group_id: int, week: date) -> Claim | None:
        """The group's claim for the week, if any."""
        query = select(
            GroupPost.id,
            GroupPost.status,
            GroupPost.worker,
            GroupPost.claimed_at,
            GroupPost.content,
        ).where(
            GroupPost.group_id == group_id,
            GroupPost.kind == BUDDIES,
            GroupPost.week_start == week,
            GroupPost.key == "",
        )
        async with self._reading() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        return Claim(row.id, row.status, row.worker, aware(row.claimed_at), _pairs(row.content))

    async def take_over(self, claim: Claim, worker: str, now: datetime) -> bool:
        """Take the week over from a dead worker, or retry a failed one (compare-and-set)."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(GroupPost)
                .where(
                    GroupPost.id == claim.id,
                    GroupPost.worker == claim.worker,
                    GroupPost.status == claim.status,
                )
                .values(worker=worker, claimed_at=now, status="claimed")
            )
        return bool(result.rowcount)

    async def finish(self, claim_id: int, status: str, now: datetime) -> None:
        """Close the week's claim: "sent", or "failed" (a later pass retries)."""
        async with self.engine.begin() as connection:
            await connection.execute(
                update(GroupPost)
                .where(GroupPost.id == claim_id)
                .values(status=status, sent_at=now if status == "sent" else None)
            )

    # --- intros ---------------------------------------------------------------------------

    async def deliveries(self, group_id: int, week: date) -> dict[str, Delivery]:
        """The week's intros recorded so far, by key."""
        query = select(
            GroupPost.key,
            GroupPost.status,
            GroupPost.attempts,
            GroupPost.content,
            GroupPost.claimed_at,
        ).where(
            GroupPost.group_id == group_id,
            GroupPost.kind == INTRO,
            GroupPost.week_start == week,
        )
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        return {r.key: Delivery(r.status, r.attempts, r.content, aware(r.claimed_at)) for r in rows}

    async def start_intro(
        self, group_id: int, week: date, key: str, channel: str, worker: str, now: datetime
    ) -> None:
        """Record an attempt before the intro goes out (a crash leaves it open: in doubt)."""
        values: dict[str, Any] = {"status": "claimed", "worker": worker, "content": channel}
        statement = (
            self.dialect.insert(GroupPost)
            .values(
                group_id=group_id,
                kind=INTRO,
                week_start=week,
                key=key,
                claimed_at=now,
                attempts=1,
                **values,
            )
            .on_conflict_do_update(
                index_elements=[
                    GroupPost.group_id,
                    GroupPost.kind,
                    GroupPost.week_start,
                    GroupPost.key,
                ],
                set_={**values, "attempts": GroupPost.attempts + 1},
            )
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement)

    async def end_intro(
        self,
        group_id: int,
        week: date,
        key: str,
        status: str,
        now: datetime,
        *,
        message_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Close an intro's attempt: "sent", "failed" or "undeliverable"."""
        async with self.engine.begin() as connection:
            await connection.execute(
                update(GroupPost)
                .where(
                    GroupPost.group_id == group_id,
                    GroupPost.kind == INTRO,
                    GroupPost.week_start == week,
                    GroupPost.key == key,
                )
                .values(
                    status=status,
                    message_id=message_id,
                    error=error[:200] if error else None,
                    sent_at=now if status == "sent" else None,
                )
            )


def _pairs(content: str) -> tuple[Pair, ...]:
    """The pairs stored with a claim (nothing readable: no pairs)."""
    try:
        stored = json.loads(content or "{}").get("pairs") or []
        return tuple(tuple(int(m) for m in pair) for pair in stored)
    except (ValueError, TypeError, AttributeError):
        return ()
