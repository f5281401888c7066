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
from storage.direct import Direct
from storage.models import ContactRow, DeliveryAttempt, Nudge, PromptView, User
from storage.records import AttemptOutcome, AttemptStart, NudgeStatus


class DeliveryWrites(DialectStore):
    """Set-based writes of the delivery phase."""

    async def start_attempts(self, attempts: Sequence[AttemptStart]) -> None:
        """Record attempts about to be made, with the content being sent. Written before the
        message goes out, so a crash leaves them open (the send is in doubt) and whoever
        takes the nudge over re-renders exactly what may have arrived."""
        if not attempts:
            return
        async with self.engine.begin() as connection:
            await self._start(connection, attempts)

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
        async with self.engine.begin() as connection:
            if starts:
                await self._start(connection, starts)
            if outcomes:
                await self._record(connection, outcomes)
            if channels:
                await self._set_channels(connection, channels)

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
        if not outcomes:
            return
        async with self.engine.begin() as connection:
            await self._record(connection, outcomes)

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
        if not channels:
            return
        async with self.engine.begin() as connection:
            await self._set_channels(connection, channels)

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
