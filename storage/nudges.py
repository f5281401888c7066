"""Persistence for the nudge scheduler: who may get a nudge, claims, attempts and outcomes.

Everything here is written for thousands of users per pass: set-based queries in batches, and
writes that callers group into few transactions (see ``jobs.batching``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from bot.core.cadence import Span, Unit
from bot.core.model import Contact, UserRef
from bot.core.nudges import Activity
from storage.db import READ_ONLY
from storage.models import (
    ContactRow,
    ConversationRow,
    DeliveryAttempt,
    Nudge,
    PromptView,
    User,
    Worker,
)
from storage.repository import CONTACT_COLUMNS, prefs_of

MORNING = "morning"
_CHUNK = 2000
_CLAIM_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Recipient:
    """A user who may receive nudges."""

    id: int
    user: UserRef
    prefs: Any  # NudgePrefs (kept loose to avoid an import cycle in type checkers)
    dm_channel: str | None


@dataclass(frozen=True, slots=True)
class NudgeState:
    """An existing nudge row, as the planner sees it."""

    id: int
    user_id: int
    day: date
    status: str
    worker: str
    attempts: int
    content: str
    claimed_at: datetime
    open_attempt: bool = False  # an attempt started and never finished: the send is in doubt


@dataclass(slots=True)
class ComposeInputs:
    """What composing one user's nudge needs."""

    candidates: list[Contact] = field(default_factory=list)
    followups: list[Contact] = field(default_factory=list)
    activity: Activity = field(default_factory=lambda: Activity(0, 0, 0, None, None, 0))
    prompt_views: dict[str, int] = field(default_factory=dict)


class AttemptStart(NamedTuple):
    """A delivery attempt about to be made, for :meth:`NudgeStore.start_attempts`."""

    nudge_id: int
    number: int
    worker: str
    at: datetime
    content: str  # the nudge's content as stored (JSON)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The end of one delivery attempt, for :meth:`NudgeStore.record_outcomes`."""

    nudge_id: int
    user_id: int
    number: int
    outcome: str  # sent | found_existing | ratelimited | transient | permanent | error
    detail: str = ""
    status: str | None = None  # new nudge status, if it changes: sent | failed | undeliverable
    channel: str | None = None
    message_id: str | None = None
    prompt_id: str = ""
    at: datetime | None = None


class NudgeStore:
    """Set-based queries and writes for the scheduler."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads only. On SQLite it begins no transaction (each statement
        reads on its own), so the pass never holds SQLite's write lock while it reads and
        button clicks in the web process don't wait behind it."""
        async with self.engine.connect() as connection:
            if self.engine.dialect.name == "sqlite":
                await connection.execution_options(**{READ_ONLY: True})
            yield connection

    def _among(self, column: Any, ids: list[int]) -> Any:
        """``column IN ids``. On PostgreSQL as ``= ANY(array)``: one short statement text for
        any number of ids, which psycopg and the server can cache (a long ``IN`` list is
        re-parsed every time)."""
        if self.engine.dialect.name == "postgresql":
            return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(BigInteger)))
        return column.in_(ids)

    async def _read(self, connection: Any, query: Any) -> Sequence[Any]:
        """All rows of a read on the morning pass's hot path, as plain tuples.

        On SQLite the statement (compiled with its values inline) goes straight to the driver,
        in one hop to its thread, and dates come back as ISO strings (see :func:`_day`):
        SQLAlchemy's result rows cost as much again as SQLite's own work, and on SQLite all
        of it runs in this process. PostgreSQL rows go through SQLAlchemy as usual.
        """
        if self.engine.dialect.name != "sqlite":
            return (await connection.execute(query)).all()
        sql = str(
            query.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True})
        )
        raw = await connection.get_raw_connection()
        rows: Sequence[Any] = await raw.driver_connection.execute_fetchall(sql)
        return rows

    # --- workers --------------------------------------------------------------------------

    async def heartbeat(self, worker: str, host: str, pid: int, now: datetime) -> None:
        """Register or refresh a worker."""
        statement = self._insert(Worker).values(id=worker, host=host, pid=pid, heartbeat_at=now)
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
            return {r.id: (r.host, r.pid, _aware(r.heartbeat_at)) for r in rows}

    # --- planning -------------------------------------------------------------------------

    async def recipients(self, platforms: Iterable[str]) -> list[Recipient]:
        """Every user on these platforms whom we can still reach."""
        query = select(User).where(User.undeliverable.is_(None), User.platform.in_(list(platforms)))
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Recipient(
                r.id,
                UserRef(r.platform, r.workspace_id, r.external_id),
                prefs_of(r),  # type: ignore[arg-type]
                r.dm_channel,
            )
            for r in rows
        ]

    async def existing(self, days: Iterable[date]) -> dict[tuple[int, date], NudgeState]:
        """Morning nudges already claimed for these local dates, by (user id, date)."""
        days = sorted(set(days))
        if not days:
            return {}
        open_attempt = (
            select(DeliveryAttempt.nudge_id)
            .where(DeliveryAttempt.outcome.is_(None))
            .where(DeliveryAttempt.nudge_id == Nudge.id)
            .exists()
        )
        query = select(
            Nudge.id,
            Nudge.user_id,
            Nudge.local_date,
            Nudge.status,
            Nudge.worker,
            Nudge.attempts,
            Nudge.content,
            Nudge.claimed_at,
            open_attempt.label("open_attempt"),
        ).where(Nudge.kind == MORNING, Nudge.local_date.in_(days))
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
                _aware(r.claimed_at),
                bool(r.open_attempt),
            )
            for r in rows
        }

    async def claim(
        self, wanted: Sequence[tuple[int, date]], worker: str, now: datetime
    ) -> dict[int, int]:
        """Claim a nudge for each ``(user id, local date)``; returns ``{user id: nudge id}``
        for the claims this worker won (a concurrent worker wins the others)."""
        won: dict[int, int] = {}
        for start in range(0, len(wanted), _CLAIM_CHUNK):
            batch = wanted[start : start + _CLAIM_CHUNK]
            async with self.engine.begin() as connection:
                for row in await self._claim_batch(connection, batch, worker, now):
                    won[row.user_id] = row.id
        return won

    async def _claim_batch(
        self, connection: Any, batch: Sequence[tuple[int, date]], worker: str, now: datetime
    ) -> Any:
        conflict = {"index_elements": ["user_id", "kind", "local_date"]}
        if self.engine.dialect.name == "postgresql":
            # One INSERT … SELECT FROM unnest(ids, dates): two array parameters instead of
            # eight per row, so the statement is short, cached and cheap to send.
            rows = (
                func.unnest(
                    bindparam(None, [uid for uid, _ in batch], type_=postgresql.ARRAY(BigInteger)),
                    bindparam(None, [day for _, day in batch], type_=postgresql.ARRAY(Date)),
                )
                .table_valued("user_id", "local_date")
                .render_derived()
            )
            source = select(
                rows.c.user_id,
                literal(MORNING, String),
                rows.c.local_date,
                literal("claimed", String),
                literal(worker, String),
                literal(now, DateTime(timezone=True)),
                literal(0, Integer),
                literal("", Text),
            )
            statement = (
                postgresql.insert(Nudge)
                .from_select(
                    [
                        "user_id",
                        "kind",
                        "local_date",
                        "status",
                        "worker",
                        "claimed_at",
                        "attempts",
                        "content",
                    ],
                    source,
                )
                .on_conflict_do_nothing(**conflict)
                .returning(Nudge.id, Nudge.user_id)
            )
            return await connection.execute(statement)
        # SQLite: rows as executemany parameters, not one multi-VALUES statement — SQLAlchemy
        # still sends them as multi-row INSERT … RETURNING, but compiles the statement once
        # (a ``.values([...])`` statement cannot be cached and recompiles every time).
        statement = (
            sqlite.insert(Nudge)
            .on_conflict_do_nothing(**conflict)
            .returning(Nudge.id, Nudge.user_id)
        )
        params = [
            {
                "user_id": uid,
                "kind": MORNING,
                "local_date": day,
                "status": "claimed",
                "worker": worker,
                "claimed_at": now,
                "attempts": 0,
                "content": "",
            }
            for uid, day in batch
        ]
        return await connection.execute(statement, params)

    async def take_over(self, state: NudgeState, worker: str, now: datetime) -> bool:
        """Take a nudge from a dead worker (or retry a failed one); ``False`` if someone else
        got there first."""
        statement = (
            update(Nudge)
            .where(Nudge.id == state.id, Nudge.worker == state.worker, Nudge.status == state.status)
            .values(worker=worker, claimed_at=now, status="claimed")
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def compose_inputs(
        self, users: dict[int, date], *, candidates_per_user: int
    ) -> dict[int, ComposeInputs]:
        """Candidates, follow-ups, activity and prompt history for each user, in batches."""
        out: dict[int, ComposeInputs] = {uid: ComposeInputs() for uid in users}
        ids = list(users)
        async with self._reading() as connection:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                latest = max(users[uid] for uid in chunk)
                await self._candidates(connection, chunk, latest, candidates_per_user, users, out)
                await self._followups(connection, chunk, users, out)
                await self._activity(connection, chunk, users, out)
                views = await self._read(
                    connection,
                    select(PromptView.user_id, PromptView.prompt_id, PromptView.count).where(
                        self._among(PromptView.user_id, chunk)
                    ),
                )
                for user_id, prompt_id, count in views:
                    out[user_id].prompt_views[prompt_id] = count
        return out

    async def _candidates(
        self,
        connection: Any,
        chunk: list[int],
        latest: date,
        limit: int,
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        # The ``limit`` most overdue per user, read straight off the (owner_id, next_due_on)
        # index: a window over every due contact would sort a hundred times more rows.
        owner = User.__table__.alias("u")
        if self.engine.dialect.name == "postgresql":
            top = (
                select(*_CONTACT_COLUMNS)
                .where(
                    ContactRow.owner_id == owner.c.id,
                    ContactRow.next_due_on <= latest,
                    ContactRow.follow_up_on.is_(None),
                )
                .order_by(ContactRow.next_due_on, ContactRow.id)
                .limit(limit)
                .lateral("top")
            )
            query = (
                select(top)
                .select_from(owner.join(top, true()))
                .where(self._among(owner.c.id, chunk))
            )
        else:
            # SQLite has no LATERAL; a correlated ``IN (… LIMIT n)`` walks the same index.
            other = aliased(ContactRow)
            ids = (
                select(other.id)
                .where(
                    other.owner_id == owner.c.id,
                    other.next_due_on <= latest,
                    other.follow_up_on.is_(None),
                )
                .order_by(other.next_due_on, other.id)
                .limit(limit)
                .correlate(owner)
            )
            query = (
                select(*_CONTACT_COLUMNS)
                .select_from(owner.join(ContactRow, ContactRow.id.in_(ids)))
                .where(self._among(owner.c.id, chunk))
            )
        for row in await self._read(connection, query):
            contact = _contact_of(row)
            owner_id = row[_OWNER_AT]
            day = users[owner_id]
            if contact.next_due_on <= day and contact.skipped_on != day:
                out[owner_id].candidates.append(contact)

    async def _followups(
        self,
        connection: Any,
        chunk: list[int],
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        latest = max(users[uid] for uid in chunk)
        query = (
            select(*_CONTACT_COLUMNS)
            .where(
                self._among(ContactRow.owner_id, chunk),
                ContactRow.follow_up_on.is_not(None),  # the partial index's condition
                ContactRow.follow_up_on <= latest,
            )
            .order_by(ContactRow.follow_up_on)
        )
        for row in await self._read(connection, query):
            contact = _contact_of(row)
            owner_id = row[_OWNER_AT]
            if contact.follow_up_on is not None and contact.follow_up_on <= users[owner_id]:
                out[owner_id].followups.append(contact)

    async def _activity(
        self,
        connection: Any,
        chunk: list[int],
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        # Per-user counts as correlated subqueries over per-owner indexes: each reads a short
        # index range instead of aggregating every contact and conversation of the chunk.
        earliest = min(users[uid] for uid in chunk) - timedelta(days=7)
        owner = User.__table__.alias("u")

        def contacts(*where: Any) -> Any:
            return (
                select(func.count())
                .select_from(ContactRow)
                .where(ContactRow.owner_id == owner.c.id, *where)
                .scalar_subquery()
            )

        talks = (
            select(func.count())
            .select_from(ConversationRow)
            .where(ConversationRow.owner_id == owner.c.id)
            .scalar_subquery()
        )
        last = (
            select(ConversationRow.id)
            .where(ConversationRow.owner_id == owner.c.id)
            .order_by(ConversationRow.occurred_on.desc(), ConversationRow.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        counts = await self._read(
            connection,
            select(
                owner.c.id,
                contacts().label("contacts"),
                contacts(ContactRow.created_on >= earliest).label("recent"),
                contacts(ContactRow.follow_up_on.is_not(None)).label("pending"),
                talks.label("talks"),
                last.label("last_id"),
            ).where(self._among(owner.c.id, chunk)),
        )
        last_ids = [row[5] for row in counts if row[5] is not None]
        latest: dict[int, tuple[date, bool | None]] = {}
        if last_ids:
            rows = await self._read(
                connection,
                select(
                    ConversationRow.owner_id,
                    ConversationRow.occurred_on,
                    ConversationRow.learned,
                    ConversationRow.kind,
                ).where(self._among(ConversationRow.id, last_ids)),
            )
            latest = {
                owner: (_day(on), bool(learned) if kind == "conversation" else None)
                for owner, on, learned, kind in rows
            }
        for uid, contacts, recent, pending, talks, _ in counts:
            last_on, learned = latest.get(uid, (None, None))
            out[uid].activity = Activity(
                contacts=contacts,
                added_last_week=recent,
                conversations=talks,
                last_activity_on=last_on,
                last_conversation_learned=learned,
                followups_pending=pending,
            )

    async def contacts_for(self, user_id: int, contact_ids: list[int]) -> dict[int, Contact]:
        """A user's contacts by id (for re-rendering a nudge taken over from another worker)."""
        if not contact_ids:
            return {}
        async with self._reading() as connection:
            rows = await connection.execute(
                select(*_CONTACT_COLUMNS).where(
                    ContactRow.owner_id == user_id, ContactRow.id.in_(contact_ids)
                )
            )
            return {r.id: _contact_of(r) for r in rows}

    # --- delivery -------------------------------------------------------------------------

    async def start_attempts(self, attempts: Sequence[AttemptStart]) -> None:
        """Record attempts about to be made, with the content being sent. Written before the
        message goes out, so a crash leaves them open (the send is in doubt) and whoever
        takes the nudge over re-renders exactly what may have arrived."""
        if not attempts:
            return
        async with self.engine.begin() as connection:
            await connection.execute(
                self._insert(DeliveryAttempt).on_conflict_do_nothing(
                    index_elements=["nudge_id", "number"]
                ),
                [
                    {
                        "nudge_id": a.nudge_id,
                        "number": a.number,
                        "worker": a.worker,
                        "started_at": a.at,
                    }
                    for a in attempts
                ],
            )
            await connection.execute(
                update(Nudge)
                .where(Nudge.id == bindparam("nid"))
                .values(attempts=bindparam("number"), content=bindparam("body"))
                .execution_options(synchronize_session=False),
                [{"nid": a.nudge_id, "number": a.number, "body": a.content} for a in attempts],
            )

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Close attempts and update nudges, users and prompt history in one transaction."""
        if not outcomes:
            return
        async with self.engine.begin() as connection:
            closing = [o for o in outcomes if o.number > 0]
            if closing:
                await connection.execute(
                    update(DeliveryAttempt)
                    .where(
                        DeliveryAttempt.nudge_id == bindparam("nid"),
                        DeliveryAttempt.number == bindparam("num"),
                    )
                    .values(outcome=bindparam("outcome"), detail=bindparam("detail"))
                    .execution_options(synchronize_session=False),
                    [
                        {
                            "nid": o.nudge_id,
                            "num": o.number,
                            "outcome": o.outcome,
                            "detail": o.detail[:200] or None,
                        }
                        for o in outcomes
                        if o.number > 0
                    ],
                )
            finished = [o for o in outcomes if o.status is not None]
            if finished:
                await connection.execute(
                    update(Nudge)
                    .where(Nudge.id == bindparam("nid"))
                    .values(
                        status=bindparam("status"),
                        channel=bindparam("channel"),
                        message_id=bindparam("mid"),
                        sent_at=bindparam("sent_at"),
                        error=bindparam("error"),
                    )
                    .execution_options(synchronize_session=False),
                    [
                        {
                            "nid": o.nudge_id,
                            "status": o.status,
                            "channel": o.channel,
                            "mid": o.message_id,
                            "sent_at": o.at if o.status == "sent" else None,
                            "error": None if o.status == "sent" else o.detail[:200],
                        }
                        for o in finished
                    ],
                )
            dead = [o for o in finished if o.status == "undeliverable"]
            if dead:
                await connection.execute(
                    update(User)
                    .where(User.id == bindparam("uid"))
                    .values(undeliverable=bindparam("reason"))
                    .execution_options(synchronize_session=False),
                    [{"uid": o.user_id, "reason": o.detail[:64]} for o in dead],
                )
            shown = [o for o in finished if o.status == "sent" and o.prompt_id]
            if shown:
                statement = self._insert(PromptView)
                statement = statement.on_conflict_do_update(
                    index_elements=["user_id", "prompt_id"],
                    set_={
                        "count": PromptView.count + 1,
                        "last_shown": statement.excluded.last_shown,
                    },
                )
                await connection.execute(
                    statement,
                    [
                        {
                            "user_id": o.user_id,
                            "prompt_id": o.prompt_id,
                            "count": 1,
                            "last_shown": (o.at or datetime.now()).date(),
                        }
                        for o in shown
                    ],
                )

    async def set_dm_channels(self, channels: dict[int, str | None]) -> None:
        """Cache (or forget, with ``None``) users' DM channel ids."""
        if not channels:
            return
        async with self.engine.begin() as connection:
            await connection.execute(
                update(User)
                .where(User.id == bindparam("uid"))
                .values(dm_channel=bindparam("channel"))
                .execution_options(synchronize_session=False),
                [{"uid": uid, "channel": ch} for uid, ch in channels.items()],
            )

    async def counts_by_status(self, day: date | None = None) -> dict[str, int]:
        """``{status: count}`` of morning nudges (for summaries and tests)."""
        query = (
            select(Nudge.status, func.count()).where(Nudge.kind == MORNING).group_by(Nudge.status)
        )
        if day is not None:
            query = query.where(Nudge.local_date == day)
        async with self._reading() as connection:
            return {status: n for status, n in await connection.execute(query)}


#: What :func:`_contact_of` reads: a contact book's columns, then the owner's id.
_CONTACT_COLUMNS = (*CONTACT_COLUMNS, ContactRow.owner_id)
_OWNER_AT = len(CONTACT_COLUMNS)
_SPANS: dict[tuple[int, str], Span] = {}


def _contact_of(row: Any) -> Contact:
    """A :class:`Contact` from a row of :data:`_CONTACT_COLUMNS` — by position, without the
    ORM: the morning pass builds a hundred thousand of these."""
    (
        cid,
        name,
        count,
        unit,
        role,
        how,
        notes,
        last,
        due,
        note,
        created,
        skipped,
        reached,
        follow,
        _,
    ) = row
    span = _SPANS.get((count, unit))
    if span is None:
        span = _SPANS.setdefault((count, unit), Span(count, Unit(unit)))
    if due.__class__ is str:  # a raw SQLite row (see NudgeStore._read): dates are ISO text
        iso = date.fromisoformat
        return Contact(
            cid,
            name,
            span,
            role,
            how,
            notes,
            iso(last) if last else None,
            iso(due),
            note,
            iso(created),
            iso(skipped) if skipped else None,
            iso(reached) if reached else None,
            iso(follow) if follow else None,
        )
    return Contact(
        cid, name, span, role, how, notes, last, due, note, created, skipped, reached, follow
    )


def _day(value: Any) -> Any:
    """A date from a column: SQLite's raw rows (see :meth:`NudgeStore._read`) hold ISO text."""
    return date.fromisoformat(value) if value.__class__ is str else value


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "AttemptStart",
    "ComposeInputs",
    "NudgeState",
    "NudgeStore",
    "Outcome",
    "Recipient",
]
