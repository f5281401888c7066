"""Delivery writes: attempts before a send, outcomes after, and users' cached DM channels.

Callers group them from many concurrent sends into few transactions (``jobs.batching``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    Text,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.dialect import DialectStore
from storage.direct import Direct, execute_sql
from storage.models import ContactRow, DeliveryAttempt, Nudge, PromptView, User
from storage.records import AttemptOutcome, AttemptStart, NudgeStatus


class DeliveryWrites(DialectStore):
    """Set-based writes of the delivery phase."""

    async def start_attempts(self, attempts: Sequence[AttemptStart]) -> None:
        """Record attempts about to be made, with the content being sent. Written before the
        message goes out, so a crash leaves them open (the send is in doubt) and whoever
        takes the nudge over re-renders exactly what may have arrived."""
        await self.record_delivery(attempts, (), {})

    async def record_delivery(
        self,
        starts: Sequence[AttemptStart],
        outcomes: Sequence[AttemptOutcome],
        channels: dict[int, str | None],
    ) -> None:
        """:meth:`start_attempts`, :meth:`record_outcomes` and :meth:`set_dm_channels` of many
        concurrent sends in one transaction: a transaction costs far more CPU here than a row
        (writing groups of 1 and of 100 on the benchmark machine: about 2.7 ms a transaction
        against 0.07 ms a row on SQLite), so the delivery phase writes everything its sends
        have to say at a time together. The three touch
        different rows of one nudge (the runner never has an attempt's start and its outcome,
        or two writes of one user's channel, waiting at once), so their order does not
        matter."""
        if not (starts or outcomes or channels):
            return
        if self.dialect.name == "postgresql":
            rows = _pg_rows(starts, outcomes, channels)
            if rows is not None:
                await self._record_pg(rows)
                return
        async with self.engine.begin() as connection:
            if starts:
                await self._start(connection, starts)
            if outcomes:
                await self._record(connection, outcomes)
            if channels:
                await self._set_channels(connection, channels)

    async def _record_pg(self, rows: dict[str, str]) -> None:
        """A group's delivery writes on PostgreSQL as one statement (:data:`_PG_DELIVERY`),
        in autocommit: one round trip, atomic as a statement is, run on the driver connection.

        The writes went as six to nine SQLAlchemy statements between BEGIN and COMMIT (each
        a greenlet switch, a statement built and its cache key walked, an execution context,
        a wait on the socket): about a fifth of a send's CPU in the morning pass."""
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await execute_sql(connection, _PG_DELIVERY, rows)

    async def _many(
        self,
        connection: AsyncConnection,
        name: str,
        statement: Callable[[], Any],
        rows: list[dict[str, Any]],
    ) -> None:
        """``statement()`` (called ``name``) executed once per row of ``rows``.

        On SQLite it is built and compiled once per process, and the driver executes it for
        every row in one hop to its thread (as :meth:`SqliteDialect._fetch` reads), without
        SQLAlchemy's statement building, compilation lookup and per-row parameter handling:
        about 0.15–0.25 M fewer instructions a send in ``bench/pass_cpu.py`` (of ~0.8 M for
        the writes). INSERTs then go row by row where SQLAlchemy would batch them into one
        multi-row VALUES; it still came out ahead. The values are converted as SQLAlchemy
        would store them (its bind processors: dates and times as text)."""
        if self.dialect.name != "sqlite":
            await connection.execute(statement(), rows)
            return
        direct = _SQLITE_STATEMENTS.get(name)
        if direct is None:
            direct = _SQLITE_STATEMENTS[name] = Direct(statement())
        await direct.many(connection, rows)

    async def _start(self, connection: AsyncConnection, attempts: Sequence[AttemptStart]) -> None:
        if self.dialect.name == "postgresql":
            await self._start_attempts_pg(connection, attempts)
            return
        await self._many(
            connection,
            "open attempts",
            lambda: (
                sqlite.insert(DeliveryAttempt)
                .values(
                    nudge_id=bindparam("nid"),
                    number=bindparam("num"),
                    worker=bindparam("who"),
                    started_at=bindparam("at", type_=DateTime(timezone=True)),
                )
                .on_conflict_do_nothing(index_elements=["nudge_id", "number"])
            ),
            [{"nid": a.nudge_id, "num": a.number, "who": a.worker, "at": a.at} for a in attempts],
        )
        await self._many(
            connection,
            "attempts and content",
            lambda: (
                update(Nudge)
                .where(Nudge.id == bindparam("nid"))
                .values(attempts=bindparam("number"), content=bindparam("body"))
            ),
            [{"nid": a.nudge_id, "number": a.number, "body": a.content} for a in attempts],
        )

    async def _start_attempts_pg(
        self, connection: AsyncConnection, attempts: Sequence[AttemptStart]
    ) -> None:
        """:meth:`start_attempts` on PostgreSQL: two statements over arrays for the whole
        group (``INSERT … SELECT FROM unnest`` and ``UPDATE … FROM unnest``) instead of two
        per attempt: less to adapt and send per row here, less to plan on the server."""
        nids, numbers = [a.nudge_id for a in attempts], [a.number for a in attempts]
        given = _unnest(
            nid=(nids, BigInteger),
            number=(numbers, Integer),
            worker=([a.worker for a in attempts], Text),
            at=([a.at for a in attempts], DateTime(timezone=True)),
        )
        await connection.execute(
            postgresql.insert(DeliveryAttempt)
            .from_select(
                ["nudge_id", "number", "worker", "started_at"],
                select(given.c.nid, given.c.number, given.c.worker, given.c.at),
            )
            .on_conflict_do_nothing(index_elements=["nudge_id", "number"])
        )
        # The contents (kilobytes each) only in the statement that stores them.
        given = _unnest(
            nid=(nids, BigInteger),
            number=(numbers, Integer),
            body=([a.content for a in attempts], Text),
        )
        await connection.execute(
            update(Nudge)
            .where(Nudge.id == given.c.nid)
            .values(attempts=given.c.number, content=given.c.body)
            .execution_options(synchronize_session=False)
        )

    async def record_outcomes(self, outcomes: Sequence[AttemptOutcome]) -> None:
        """Close attempts and update nudges, users (undeliverable marks, cached DM channels)
        and prompt history in one transaction."""
        await self.record_delivery((), outcomes, {})

    async def _record(
        self, connection: AsyncConnection, outcomes: Sequence[AttemptOutcome]
    ) -> None:
        if self.dialect.name == "postgresql":
            await self._close_pg(connection, outcomes)
        closing = [o for o in outcomes if o.number > 0]
        if closing and self.dialect.name != "postgresql":
            await self._many(
                connection,
                "close attempts",
                lambda: (
                    update(DeliveryAttempt)
                    .where(
                        DeliveryAttempt.nudge_id == bindparam("nid"),
                        DeliveryAttempt.number == bindparam("num"),
                    )
                    .values(outcome=bindparam("outcome"), detail=bindparam("detail"))
                ),
                [
                    {
                        "nid": o.nudge_id,
                        "num": o.number,
                        "outcome": o.outcome,
                        "detail": o.detail[:200] or None,
                    }
                    for o in closing
                ],
            )
        finished = [o for o in outcomes if o.status is not None]
        if finished and self.dialect.name != "postgresql":
            await self._many(
                connection,
                "finish nudges",
                lambda: (
                    update(Nudge)
                    .where(Nudge.id == bindparam("nid"))
                    .values(
                        status=bindparam("status"),
                        channel=bindparam("channel"),
                        message_id=bindparam("mid"),
                        sent_at=bindparam("sent_at", type_=DateTime(timezone=True)),
                        error=bindparam("error"),
                    )
                ),
                [
                    {
                        "nid": o.nudge_id,
                        "status": o.status,
                        "channel": o.channel,
                        "mid": o.message_id,
                        "sent_at": o.at if o.status == NudgeStatus.SENT else None,
                        "error": None if o.status == NudgeStatus.SENT else o.detail[:200],
                    }
                    for o in finished
                ],
            )
        cached = [o for o in outcomes if o.cache_channel]
        if cached:
            await self._many(
                connection,
                "cache channels",
                _cache_channels,
                [{"uid": o.user_id, "channel": o.channel} for o in cached],
            )
        dead = [o for o in finished if o.status == NudgeStatus.UNDELIVERABLE]
        if dead:
            await connection.execute(
                update(User)
                .where(User.id == bindparam("uid"))
                .values(undeliverable=bindparam("reason"))
                .execution_options(synchronize_session=False),
                [{"uid": o.user_id, "reason": o.detail[:64]} for o in dead],
            )
        await self._mark_suggested(connection, finished)
        shown = [o for o in finished if o.status == NudgeStatus.SENT and o.prompt_id]
        if shown:

            def count_views() -> Any:
                statement = self.dialect.insert(PromptView).values(
                    user_id=bindparam("uid"),
                    prompt_id=bindparam("pid"),
                    count=literal_column("1"),
                    last_shown=bindparam("shown", type_=Date),
                )
                return statement.on_conflict_do_update(
                    index_elements=["user_id", "prompt_id"],
                    set_={
                        "count": PromptView.count + 1,
                        "last_shown": statement.excluded.last_shown,
                    },
                )

            await self._many(
                connection,
                "count prompt views",
                count_views,
                [
                    {
                        "uid": o.user_id,
                        "pid": o.prompt_id,
                        "shown": (o.at or datetime.now()).date(),
                    }
                    for o in shown
                ],
            )

    async def _close_pg(
        self, connection: AsyncConnection, outcomes: Sequence[AttemptOutcome]
    ) -> None:
        """The attempts and nudges of :meth:`record_outcomes` on PostgreSQL, one ``UPDATE …
        FROM unnest`` each for the whole group."""
        closing = [o for o in outcomes if o.number > 0]
        if closing:
            given = _unnest(
                nid=([o.nudge_id for o in closing], BigInteger),
                num=([o.number for o in closing], Integer),
                outcome=([str(o.outcome) for o in closing], Text),
                detail=([o.detail[:200] or None for o in closing], Text),
            )
            await connection.execute(
                update(DeliveryAttempt)
                .where(
                    DeliveryAttempt.nudge_id == given.c.nid,
                    DeliveryAttempt.number == given.c.num,
                )
                .values(outcome=given.c.outcome, detail=given.c.detail)
                .execution_options(synchronize_session=False)
            )
        finished = [o for o in outcomes if o.status is not None]
        if finished:
            sent = [o.status == NudgeStatus.SENT for o in finished]
            given = _unnest(
                nid=([o.nudge_id for o in finished], BigInteger),
                status=([str(o.status) for o in finished], Text),
                channel=([o.channel for o in finished], Text),
                mid=([o.message_id for o in finished], Text),
                sent_at=(
                    [o.at if ok else None for o, ok in zip(finished, sent, strict=True)],
                    DateTime(timezone=True),
                ),
                error=(
                    [None if ok else o.detail[:200] for o, ok in zip(finished, sent, strict=True)],
                    Text,
                ),
            )
            await connection.execute(
                update(Nudge)
                .where(Nudge.id == given.c.nid)
                .values(
                    status=given.c.status,
                    channel=given.c.channel,
                    message_id=given.c.mid,
                    sent_at=given.c.sent_at,
                    error=given.c.error,
                )
                .execution_options(synchronize_session=False)
            )

    async def _mark_suggested(
        self, connection: AsyncConnection, finished: Sequence[AttemptOutcome]
    ) -> None:
        """Note that a sent nudge suggested its cards' contacts on its day: the last two such
        days keep anyone from more than two suggestions a week, and ``rotation_key`` moves
        them to the back of the rotation (``bot.core.model.Contact.mark_suggested`` and
        ``bot.core.ranking.rotation_key``, in SQL). Sending the same day's nudge again (a
        retry) changes nothing."""
        rows = [
            {"uid": o.user_id, "cid": cid, "day": o.day, "turn": o.day.toordinal()}
            for o in finished
            if o.status == NudgeStatus.SENT and o.day is not None
            for cid in o.suggested
        ]
        if not rows:
            return
        c = ContactRow
        if self.dialect.name == "postgresql":
            # One UPDATE … FROM unnest(arrays): a statement for the whole group instead of one
            # per contact (three per nudge), on a server sharing the machine with the sender.
            given = _unnest(
                uid=([r["uid"] for r in rows], BigInteger),
                cid=([r["cid"] for r in rows], BigInteger),
                day=([r["day"] for r in rows], Date),
                turn=([r["turn"] for r in rows], Integer),
            )
            await connection.execute(
                update(ContactRow)
                .where(
                    c.owner_id == given.c.uid,
                    c.id == given.c.cid,
                    or_(c.suggested_on.is_(None), c.suggested_on != given.c.day),
                )
                .values(
                    suggested_before_on=c.suggested_on,
                    suggested_on=given.c.day,
                    rotation_key=given.c.turn - c.value_points,
                )
                .execution_options(synchronize_session=False)
            )
            return
        await self._many(
            connection,
            "mark suggested",
            lambda: (
                update(ContactRow)
                .where(
                    c.owner_id == bindparam("uid"),
                    c.id == bindparam("cid"),
                    or_(c.suggested_on.is_(None), c.suggested_on != bindparam("day", type_=Date)),
                )
                .values(
                    # SET expressions read the row as it was, on SQLite and PostgreSQL alike.
                    suggested_before_on=c.suggested_on,
                    suggested_on=bindparam("day", type_=Date),
                    rotation_key=bindparam("turn", type_=Integer) - c.value_points,
                )
            ),
            rows,
        )

    async def set_dm_channels(self, channels: dict[int, str | None]) -> None:
        """Cache (or forget, with ``None``) users' DM channel ids."""
        await self.record_delivery((), (), channels)

    async def _set_channels(
        self, connection: AsyncConnection, channels: dict[int, str | None]
    ) -> None:
        await self._many(
            connection,
            "cache channels",
            _cache_channels,
            [{"uid": uid, "channel": ch} for uid, ch in channels.items()],
        )


def _cache_channels() -> Any:
    """Cache (or forget) one user's DM channel: the outcomes' and :meth:`set_dm_channels`'."""
    return (
        update(User)
        .where(User.id == bindparam("uid"))
        .values(dm_channel=bindparam("channel"))
        .execution_options(synchronize_session=False)
    )


def _unnest(**columns: tuple[list[Any], Any]) -> Any:
    """``json_to_recordset(rows) AS given(name type, …)`` (PostgreSQL): the rows of a group of
    writes as one parameter, for one ``UPDATE … FROM`` or ``INSERT … SELECT`` instead of a
    statement per row. ``columns``: name → (values, SQL type).

    The rows go as one JSON document, serialised by orjson in C. They went as one array per
    column (``unnest``) first: psycopg writes an array's text element by element in Python,
    with a regular expression over each (and an escaping pass over every nudge's JSON
    content), which made the writes more than a third of the instructions of a send."""
    names = tuple(columns)
    lists = [values for values, _ in columns.values()]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
    document = bindparam(None, orjson.dumps(rows).decode(), type_=Text)
    return (
        func.json_to_recordset(cast(document, postgresql.JSON))
        .table_valued(*(column(name, kind) for name, (_, kind) in columns.items()))
        .render_derived(name="given", with_types=True)
    )


#: The SQLite statements of :meth:`DeliveryWrites._many`, by name (compiled on first use).
_SQLITE_STATEMENTS: dict[str, Direct] = {}


#: Every delivery write of a group in one PostgreSQL statement (``DeliveryWrites._record_pg``):
#: each kind of row arrives as one JSON document (``json_to_recordset``, serialised by orjson)
#: and is written by a data-modifying CTE; all of them run, in one snapshot, whatever the
#: final SELECT reads. Within one statement a row must not be changed twice, nor an attempt
#: closed that the same statement opens (the CTEs do not see each other's changes):
#: :func:`_pg_rows` sends a group where that could happen the statement-by-statement way.
_PG_DELIVERY = """\
WITH s AS (
    SELECT * FROM json_to_recordset(%(starts)s::json)
        AS s(nid bigint, num integer, who text, at timestamptz, body text)
), opened AS (
    INSERT INTO delivery_attempts (nudge_id, number, worker, started_at)
    SELECT s.nid, s.num, s.who, s.at FROM s
    ON CONFLICT (nudge_id, number) DO NOTHING
), started AS (
    UPDATE nudges SET attempts = s.num, content = s.body FROM s WHERE nudges.id = s.nid
), closed AS (
    UPDATE delivery_attempts SET outcome = g.outcome, detail = g.detail
    FROM json_to_recordset(%(closing)s::json) AS g(nid bigint, num integer, outcome text,
                                                  detail text)
    WHERE delivery_attempts.nudge_id = g.nid AND delivery_attempts.number = g.num
), finished AS (
    UPDATE nudges SET status = g.status, channel = g.channel, message_id = g.mid,
                      sent_at = g.sent_at, error = g.error
    FROM json_to_recordset(%(finished)s::json) AS g(nid bigint, status text, channel text,
                                                   mid text, sent_at timestamptz, error text)
    WHERE nudges.id = g.nid
), channels AS (
    UPDATE users SET dm_channel = g.channel
    FROM json_to_recordset(%(channels)s::json) AS g(uid bigint, channel text)
    WHERE users.id = g.uid
), dead AS (
    UPDATE users SET undeliverable = g.reason
    FROM json_to_recordset(%(dead)s::json) AS g(uid bigint, reason text)
    WHERE users.id = g.uid
), suggested AS (
    UPDATE contacts SET suggested_before_on = contacts.suggested_on, suggested_on = g.day,
                        rotation_key = g.turn - contacts.value_points
    FROM json_to_recordset(%(suggested)s::json) AS g(uid bigint, cid bigint, day date,
                                                    turn integer)
    WHERE contacts.owner_id = g.uid AND contacts.id = g.cid
      AND (contacts.suggested_on IS NULL OR contacts.suggested_on != g.day)
), viewed AS (
    INSERT INTO prompt_views (user_id, prompt_id, count, last_shown)
    SELECT g.uid, g.pid, 1, g.shown
    FROM json_to_recordset(%(views)s::json) AS g(uid bigint, pid text, shown date)
    ON CONFLICT (user_id, prompt_id)
    DO UPDATE SET count = prompt_views.count + 1, last_shown = excluded.last_shown
)
SELECT 1"""


def _pg_rows(
    starts: Sequence[AttemptStart],
    outcomes: Sequence[AttemptOutcome],
    channels: dict[int, str | None],
) -> dict[str, str] | None:
    """The parameters of :data:`_PG_DELIVERY` for a group, with what the statement-by-statement
    writes would store; ``None`` when one statement could not write the group as they would
    (a row written twice, or an attempt closed in the group that opens it)."""
    finished = [o for o in outcomes if o.status is not None]
    closing = {(o.nudge_id, o.number): o for o in outcomes if o.number > 0}
    opening = {(a.nudge_id, a.number) for a in starts}
    nudges = {a.nudge_id for a in starts} | {o.nudge_id for o in finished}
    if (
        len(closing) != sum(1 for o in outcomes if o.number > 0)
        or len(opening) != len(starts)
        or len(nudges) != len(starts) + len(finished)
        or not opening.isdisjoint(closing)
    ):
        return None
    # The outcomes' DM channels first, then the group's own (written after them, so they win).
    dm = {o.user_id: o.channel for o in outcomes if o.cache_channel}
    dm.update(channels)
    dead = {o.user_id: o.detail[:64] for o in finished if o.status == NudgeStatus.UNDELIVERABLE}
    if len(dead) != sum(1 for o in finished if o.status == NudgeStatus.UNDELIVERABLE) or not (
        dead.keys().isdisjoint(dm)
    ):
        return None
    sent = [o for o in finished if o.status == NudgeStatus.SENT]
    suggested = [
        {"uid": o.user_id, "cid": cid, "day": o.day, "turn": o.day.toordinal()}
        for o in sent
        if o.day is not None
        for cid in o.suggested
    ]
    views = [
        {"uid": o.user_id, "pid": o.prompt_id, "shown": (o.at or datetime.now()).date()}
        for o in sent
        if o.prompt_id
    ]
    if len({(r["uid"], r["cid"]) for r in suggested}) != len(suggested) or len(
        {(r["uid"], r["pid"]) for r in views}
    ) != len(views):
        return None
    dumps = orjson.dumps
    return {
        "starts": dumps(
            [
                {"nid": a.nudge_id, "num": a.number, "who": a.worker, "at": a.at, "body": a.content}
                for a in starts
            ]
        ).decode(),
        "closing": dumps(
            [
                {
                    "nid": o.nudge_id,
                    "num": o.number,
                    "outcome": str(o.outcome),
                    "detail": o.detail[:200] or None,
                }
                for o in closing.values()
            ]
        ).decode(),
        "finished": dumps(
            [
                {
                    "nid": o.nudge_id,
                    "status": str(o.status),
                    "channel": o.channel,
                    "mid": o.message_id,
                    "sent_at": o.at if o.status == NudgeStatus.SENT else None,
                    "error": None if o.status == NudgeStatus.SENT else o.detail[:200],
                }
                for o in finished
            ]
        ).decode(),
        "channels": dumps([{"uid": u, "channel": c} for u, c in dm.items()]).decode(),
        "dead": dumps([{"uid": u, "reason": r} for u, r in dead.items()]).decode(),
        "suggested": dumps(suggested).decode(),
        "views": dumps(views).decode(),
    }
