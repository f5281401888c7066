"""Workers and claims: who runs passes, who is due a nudge, and which worker sends it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog
from sqlalchemy import Text, case, delete, func, literal, select, update
from sqlalchemy.exc import DBAPIError

from bot.core.model import UserRef
from bot.core.schedule import NudgePrefs
from storage.dialect import AnySelect, DialectStore, Remembered
from storage.models import DeliveryAttempt, Nudge, User, Worker
from storage.records import FINISHED, MORNING, NudgeState, NudgeStatus, Recipient

log = structlog.get_logger(__name__)

#: Claims per INSERT (and per transaction).
_CLAIM_CHUNK = 5000


class ClaimStore(DialectStore):
    """Worker heartbeats, the users due a nudge, and claims on their nudges."""

    #: The kind of nudge this store claims (``nudges.kind``); the recap store claims "recap".
    kind: str = MORNING

    # --- workers --------------------------------------------------------------------------

    async def heartbeat(self, worker: str, host: str, pid: int, now: datetime) -> None:
        """Register or refresh a worker."""
        statement = self.dialect.insert(Worker).values(
            id=worker, host=host, pid=pid, heartbeat_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[Worker.id], set_={"heartbeat_at": now}
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement)
            # Forget workers silent for a day (killed ones never deregister).
            await connection.execute(
                delete(Worker).where(Worker.heartbeat_at < now - timedelta(days=1))
            )

    async def remove_worker(self, worker: str) -> None:
        """Forget a worker that stopped cleanly."""
        async with self.engine.begin() as connection:
            await connection.execute(delete(Worker).where(Worker.id == worker))

    async def workers(self) -> dict[str, tuple[str, int, datetime]]:
        """``{worker id: (host, pid, last heartbeat)}``."""
        async with self._reading() as connection:
            rows = await connection.execute(
                select(Worker.id, Worker.host, Worker.pid, Worker.heartbeat_at)
            )
            return {r.id: (r.host, r.pid, aware(r.heartbeat_at)) for r in rows}

    # --- planning -------------------------------------------------------------------------

    async def recipients(
        self, platforms: Iterable[str], *, after: int = 0, limit: int | None = None
    ) -> list[Recipient]:
        """Every user on these platforms whom we can still reach; with ``limit``, one page of
        them: the first ``limit`` by id above ``after`` (the pass reads them page by page, so
        its memory does not grow with the number of users)."""
        query = select(*_RECIPIENT_COLUMNS).where(
            User.undeliverable.is_(None), User.platform.in_(list(platforms))
        )
        query = page_of(query, User.id, after, limit)
        async with self._reading() as connection:
            # The dialect's fast read (positional rows, no per-column processing): a page of
            # 2,000 whole user rows through SQLAlchemy cost ~30 µs a user, most of it parsing
            # timestamps the plan never looks at.
            rows = await self.dialect.rows(connection, query, tuple, dates=(8,))
        # Users share a few dozen settings: one (immutable) NudgePrefs for each, built once —
        # a frozen dataclass costs ~2 µs to build, a look-up a tenth of that.
        prefs = _PREFS
        return [
            Recipient(
                uid,
                UserRef(platform, workspace, external),
                prefs[(timezone, at, days, paused, cards, source)],
                channel,
            )
            for (uid, platform, workspace, external, channel, timezone, at, days, paused, cards,
                 source) in rows
        ]  # fmt: skip

    async def existing(
        self,
        days: Iterable[date],
        users: Sequence[int] | None = None,
        *,
        finished_content: bool = True,
    ) -> dict[tuple[int, date], NudgeState]:
        """Nudges of this store's kind already claimed for these local dates, by (user id,
        date); with ``users``, only theirs (one page of the pass). ``finished_content=False``:
        sent and undeliverable nudges without their content — a pass run again in the grace
        window reads every user's, a few kilobytes each, and only reuses unfinished ones'."""
        days = sorted(set(days))
        if not days or (users is not None and not users):
            return {}
        open_attempt = (
            select(DeliveryAttempt.nudge_id)
            .where(DeliveryAttempt.outcome.is_(None))
            .where(DeliveryAttempt.nudge_id == Nudge.id)
            .exists()
        )
        content: Any = Nudge.content
        if not finished_content:
            finished = Nudge.status.in_([status.value for status in FINISHED])
            content = case((finished, literal("", Text)), else_=Nudge.content).label("content")
        query = select(
            Nudge.id,
            Nudge.user_id,
            Nudge.local_date,
            Nudge.status,
            Nudge.worker,
            Nudge.attempts,
            content,
            Nudge.claimed_at,
            open_attempt.label("open_attempt"),
        ).where(Nudge.kind == self.kind, Nudge.local_date.in_(days))
        if users is not None:
            query = query.where(self.dialect.among(Nudge.user_id, list(users)))
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        return {
            (r.user_id, r.local_date): NudgeState(
                r.id,
                r.user_id,
                r.local_date,
                r.status,
                r.worker,
                r.attempts,
                r.content,
                aware(r.claimed_at),
                bool(r.open_attempt),
            )
            for r in rows
        }

    async def claim(
        self,
        wanted: Sequence[tuple[int, date]],
        worker: str,
        now: datetime,
        *,
        page: int | None = None,
    ) -> dict[int, int]:
        """Claim a nudge for each ``(user id, local date)``; returns ``{user id: nudge id}``
        for the claims this worker won (a concurrent worker wins the others).

        ``page`` (the first user id of a page of the pass, at most ``_CLAIM_CHUNK`` users)
        first takes that page's claim lock without waiting: when another worker holds it,
        nothing is claimed (``{}``) and the caller moves on to the next page."""
        won: dict[int, int] = {}
        for start in range(0, len(wanted), _CLAIM_CHUNK):
            batch = wanted[start : start + _CLAIM_CHUNK]
            async with self.engine.begin() as connection:
                if page is not None and not await self.dialect.try_lock_page(
                    connection, self.kind, page
                ):
                    return won
                for claimed in await self.dialect.claim_batch(
                    connection, batch, worker, now, self.kind
                ):
                    won[claimed.user_id] = claimed.id
        return won

    async def refresh_statistics(self) -> None:
        """``ANALYZE nudges`` on PostgreSQL (SQLite plans these reads by its indexes alone).
        A pass claiming 100,000 nudges into a table last analyzed empty left the next pass's
        claims read checking every nudge of the day for every page: 8 s instead of 3 s a minute
        through the grace hours (docs/benchmarks.md, "A pass run again in the grace window")."""
        try:
            await self.dialect.analyze(Nudge.__tablename__)
        except DBAPIError as exc:  # e.g. not the table's owner: autovacuum will do it
            log.warning("nudges.analyze_failed", error=type(exc).__name__)

    async def take_over(self, state: NudgeState, worker: str, now: datetime) -> bool:
        """Take a nudge from a dead worker (or retry a failed one); ``False`` if someone else
        got there first."""
        statement = (
            update(Nudge)
            .where(Nudge.id == state.id, Nudge.worker == state.worker, Nudge.status == state.status)
            .values(worker=worker, claimed_at=now, status=NudgeStatus.CLAIMED)
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)

    async def counts_by_status(self, day: date | None = None) -> dict[str, int]:
        """``{status: count}`` of morning nudges (for summaries and tests)."""
        query = (
            select(Nudge.status, func.count()).where(Nudge.kind == self.kind).group_by(Nudge.status)
        )
        if day is not None:
            query = query.where(Nudge.local_date == day)
        async with self._reading() as connection:
            return {status: n for status, n in await connection.execute(query)}


#: What planning reads of a user: who they are, their cached DM channel and nudge settings.
_RECIPIENT_COLUMNS = (
    User.id,
    User.platform,
    User.workspace_id,
    User.external_id,
    User.dm_channel,
    User.timezone,
    User.nudge_time,
    User.nudge_days,
    User.paused_until,
    User.cards_per_nudge,
    User.timezone_source,
)


#: A nudge time as read (SQLite's text, or PostgreSQL's ``time``) → ``time``.
_TIMES = Remembered(
    lambda value: value if isinstance(value, time) else time.fromisoformat(value), kept=10_000
)


def _prefs(row: tuple[Any, ...]) -> NudgePrefs:
    timezone, at, days, paused, cards, source = row
    return NudgePrefs(
        timezone=timezone,
        time=_TIMES[at],
        days=days,
        paused_until=paused,
        cards=cards,
        timezone_locked=source == "user",
    )


#: A user's nudge columns as read (time zone, time, days, paused until, cards, time zone
#: source) → their :class:`NudgePrefs`.
_PREFS = Remembered(_prefs, kept=10_000)


def page_of[S: AnySelect](query: S, key: Any, after: int, limit: int | None) -> S:
    """``query`` restricted to one keyset page: rows with ``key`` above ``after``, in ``key``
    order, at most ``limit`` (all of them, unordered, without a limit)."""
    if limit is None:
        return query
    return query.where(key > after).order_by(key).limit(limit)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
