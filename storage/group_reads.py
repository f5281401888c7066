"""SQL for the coach features (:class:`bot.core.groups.coach_ports.CoachStore`).

Every statement is scoped: groups by the asking user's platform and workspace and their
coach (or member) row; members' activity by the member ids of one group, and only the columns
each member's sharing level allows (numbers, then contact names, then outcomes and next
steps). Conversation notes, contact notes and contact details are never selected.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.evidence import StepStatus, parse_outcomes
from bot.core.goals import GoalChange, week_start
from bot.core.groups.coach import Event, member_weeks, trend_weeks
from bot.core.groups.coach_ports import (
    GroupInfo,
    GroupSnapshot,
    MemberView,
    OutcomeNote,
    SharedLog,
    StepNote,
    WinClaim,
)
from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef
from bot.core.predict import outcome_words
from storage import pending_work
from storage.dialect import dialect_of
from storage.models import (
    ContactRow,
    ConversationRow,
    GroupCheckin,
    GroupCoach,
    GroupMember,
    GroupPost,
    GroupRow,
    GroupWin,
    NextStepRow,
    OutreachRow,
    User,
    WeeklyGoal,
)

#: A wins-thread parent claimed but not posted after this long was abandoned (a crash):
#: the next share takes it over.
PARENT_STALE = timedelta(minutes=2)
#: Open next steps shown per member (outcomes level).
STEPS_SHOWN = 3

_GROUP_COLUMNS = (
    GroupRow.id,
    GroupRow.name,
    GroupRow.platform,
    GroupRow.workspace_id,
    GroupRow.channel_id,
    GroupRow.timezone,
    GroupRow.quiet_days,
    GroupRow.post_reference,
    GroupRow.broken,
)


def _user(user: UserRef) -> Any:
    return and_(
        User.platform == user.platform,
        User.workspace_id == user.workspace_id,
        User.external_id == user.user_id,
    )


def _same_workspace(user: UserRef) -> Any:
    return and_(GroupRow.platform == user.platform, GroupRow.workspace_id == user.workspace_id)


def _coached(coach: UserRef) -> Any:
    # From the coach's user row to their few groups. The groups' own platform and workspace
    # are checked in Python (:func:`_infos`): as a condition here, SQLite would walk every
    # group of the workspace instead.
    return (
        select(*_GROUP_COLUMNS)
        .select_from(User)
        .join(GroupCoach, GroupCoach.user_id == User.id)
        .join(GroupRow, GroupRow.id == GroupCoach.group_id)
        .where(_user(coach))
        .order_by(GroupRow.name, GroupRow.id)
    )


def _infos(rows: Any, user: UserRef) -> list[GroupInfo]:
    """The groups among ``rows`` in ``user``'s platform and workspace."""
    return [
        _info(r) for r in rows if (r.platform, r.workspace_id) == (user.platform, user.workspace_id)
    ]


def _info(row: Any) -> GroupInfo:
    return GroupInfo(
        id=row.id,
        name=row.name,
        platform=row.platform,
        workspace_id=row.workspace_id,
        channel_id=row.channel_id,
        timezone=row.timezone,
        quiet_days=row.quiet_days,
        post_reference=row.post_reference,
        broken=row.broken,
    )


def _day(value: date | datetime | str | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _iso_day(value[:10])


@lru_cache(maxsize=8192)
def _iso_day(text: str) -> date:
    """A date from ISO text (cached: a view reads hundreds of rows over a few weeks' days)."""
    return date.fromisoformat(text)


class SqlCoachStore:
    """The coach features' storage on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine, write_turn: asyncio.Lock | None = None) -> None:
        self.engine = engine
        self._dialect = dialect_of(engine)
        # SQLite has one writer at a time: queue on the store's lock (SqlStore.write_turn).
        self._write_turn = write_turn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A connection that reads statement by statement, never waiting for writers."""
        async with self.engine.connect() as connection:
            await connection.execution_options(**self._dialect.read_options)
            yield connection

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        # A coach's command acknowledged early ("One moment…"): its record goes with its work.
        if self._write_turn is not None:
            async with self._write_turn, self.engine.begin() as connection:
                yield connection
                await pending_work.settle(connection)
        else:
            async with self.engine.begin() as connection:
                yield connection
                await pending_work.settle(connection)
        pending_work.settled()

    # --- groups ----------------------------------------------------------------------------

    async def coached_groups(self, coach: UserRef) -> list[GroupInfo]:
        async with self._read() as connection:
            return _infos(await connection.execute(_coached(coach)), coach)

    async def coached_group(self, coach: UserRef, group_id: int) -> GroupInfo | None:
        async with self._read() as connection:
            rows = await connection.execute(_coached(coach).where(GroupRow.id == group_id))
            found = _infos(rows, coach)
        return found[0] if found else None

    async def group_in_channel(self, coach: UserRef, channel_id: str) -> GroupInfo | None:
        query = _coached(coach).where(GroupRow.channel_id == channel_id)
        async with self._read() as connection:
            found = _infos(await connection.execute(query), coach)
        return found[0] if found else None

    async def member_groups(self, member: UserRef) -> list[GroupInfo]:
        query = (
            select(*_GROUP_COLUMNS)
            .join(GroupMember, GroupMember.group_id == GroupRow.id)
            .join(User, User.id == GroupMember.user_id)
            .where(_user(member))
            .order_by(GroupRow.name, GroupRow.id)
        )
        async with self._read() as connection:
            return _infos(await connection.execute(query), member)

    # --- the coach's view ------------------------------------------------------------------

    async def snapshot(self, group: GroupInfo, week: date, weeks: int) -> GroupSnapshot:
        async with self._read() as connection:
            return await _Snapshot(connection, self._dialect, group, week, weeks).read()

    # --- check-ins -------------------------------------------------------------------------

    async def checked_in(self, group_id: int, member_id: int, week: date) -> bool:
        query = select(GroupCheckin.id).where(
            GroupCheckin.group_id == group_id,
            GroupCheckin.member_id == member_id,
            GroupCheckin.week_start == week,
        )
        async with self._read() as connection:
            return (await connection.scalar(query)) is not None

    async def claim_checkin(
        self, group_id: int, member_id: int, coach: UserRef, week: date
    ) -> int | None:
        async with self._write() as connection:
            coach_id = await connection.scalar(select(User.id).where(_user(coach)))
            if coach_id is None:
                return None
            statement = (
                self._dialect.insert(GroupCheckin)
                .values(group_id=group_id, member_id=member_id, coach_id=coach_id, week_start=week)
                .on_conflict_do_nothing(index_elements=["group_id", "member_id", "week_start"])
                .returning(GroupCheckin.id)
            )
            claimed = await connection.scalar(statement)
            return int(claimed) if claimed is not None else None

    async def checkin_done(self, checkin_id: int, ok: bool) -> None:
        async with self._write() as connection:
            if ok:
                await connection.execute(
                    update(GroupCheckin)
                    .where(GroupCheckin.id == checkin_id)
                    .values(sent_at=datetime.now(UTC))
                )
            else:  # not delivered: the coach may try again this week
                await connection.execute(delete(GroupCheckin).where(GroupCheckin.id == checkin_id))

    # --- shared wins -----------------------------------------------------------------------

    async def shared_log(self, member: UserRef, contact_id: int, on: date) -> SharedLog | None:
        query = (
            select(
                ContactRow.name,
                ContactRow.preferred_name,
                ConversationRow.outcomes,
                ConversationRow.response,
                ConversationRow.learned,
            )
            .join(ContactRow, ContactRow.id == ConversationRow.contact_id)
            .join(User, User.id == ConversationRow.owner_id)
            .where(
                _user(member),
                ContactRow.owner_id == ConversationRow.owner_id,
                ConversationRow.contact_id == contact_id,
                ConversationRow.occurred_on == on,
                ConversationRow.kind == "conversation",
            )
            .order_by(ConversationRow.id.desc())
            .limit(1)
        )
        async with self._read() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        return SharedLog(row.name, row.preferred_name, row.outcomes, row.response, row.learned)

    async def share_win(
        self, member: UserRef, group_id: int, week: date, text: str, kind: str, worker: str
    ) -> WinClaim | None:
        now = datetime.now(UTC)
        async with self._write() as connection:
            found = (
                await connection.execute(
                    select(GroupMember.user_id, GroupMember.display_name)
                    .join(User, User.id == GroupMember.user_id)
                    .join(GroupRow, GroupRow.id == GroupMember.group_id)
                    .where(_user(member), _same_workspace(member), GroupMember.group_id == group_id)
                )
            ).first()
            if found is None:
                return None
            user_id, display_name = found
            same = await connection.scalar(
                select(GroupWin.id).where(
                    GroupWin.group_id == group_id,
                    GroupWin.user_id == user_id,
                    GroupWin.week_start == week,
                    GroupWin.text == text,
                )
            )
            if same is not None:
                return WinClaim(same, 0, None, False, display_name, duplicate=True)
            win_id = await connection.scalar(
                self._dialect.insert(GroupWin)
                .values(
                    group_id=group_id, user_id=user_id, week_start=week, text=text, kind=kind[:32]
                )
                .returning(GroupWin.id)
            )
            claimed = await connection.scalar(
                self._dialect.insert(GroupPost)
                .values(
                    group_id=group_id,
                    kind="wins",
                    week_start=week,
                    key="",
                    status="claimed",
                    worker=worker,
                    claimed_at=now,
                    attempts=0,
                    content="",
                )
                .on_conflict_do_nothing(index_elements=["group_id", "kind", "week_start", "key"])
                .returning(GroupPost.id)
            )
            if claimed is not None:
                return WinClaim(win_id, claimed, None, True, display_name)
            post = (
                await connection.execute(
                    select(GroupPost.id, GroupPost.message_id, GroupPost.status).where(
                        GroupPost.group_id == group_id,
                        GroupPost.kind == "wins",
                        GroupPost.week_start == week,
                        GroupPost.key == "",
                    )
                )
            ).one()
            if post.message_id is not None:
                return WinClaim(win_id, post.id, post.message_id, False, display_name)
            # Unposted: take it over if it failed or its claimer has been gone a while.
            taken = await connection.execute(
                update(GroupPost)
                .where(
                    GroupPost.id == post.id,
                    GroupPost.message_id.is_(None),
                    (GroupPost.status == "failed") | (GroupPost.claimed_at < now - PARENT_STALE),
                )
                .values(worker=worker, claimed_at=now, status="claimed")
            )
            return WinClaim(win_id, post.id, None, taken.rowcount == 1, display_name)

    # --- coach prompts ---------------------------------------------------------------------

    async def add_prompt(
        self, group_id: int, week: date, key: str, content: str, worker: str
    ) -> int:
        async with self._write() as connection:
            post_id = await connection.scalar(
                self._dialect.insert(GroupPost)
                .values(
                    group_id=group_id,
                    kind="prompt",
                    week_start=week,
                    key=key[:64],
                    status="claimed",
                    worker=worker,
                    claimed_at=datetime.now(UTC),
                    attempts=0,
                    content=json.dumps({"text": content}, ensure_ascii=False),
                )
                .returning(GroupPost.id)
            )
        assert post_id is not None
        return int(post_id)

    async def posted(self, kind: str, row_id: int, message_id: str) -> None:
        async with self._write() as connection:
            if kind == "win":
                await connection.execute(
                    update(GroupWin)
                    .where(GroupWin.id == row_id)
                    .values(message_id=message_id[:255])
                )
            elif kind in ("parent", "prompt"):
                await connection.execute(
                    update(GroupPost)
                    .where(GroupPost.id == row_id)
                    .values(
                        status="sent",
                        message_id=message_id[:255],
                        sent_at=datetime.now(UTC),
                        attempts=GroupPost.attempts + 1,
                    )
                )

    async def post_failed(self, kind: str, row_id: int, error: str) -> None:
        if kind not in ("parent", "prompt"):
            return  # a win stays stored without a message id
        async with self._write() as connection:
            await connection.execute(
                update(GroupPost)
                .where(GroupPost.id == row_id, GroupPost.message_id.is_(None))
                .values(status="failed", error=error[:200], attempts=GroupPost.attempts + 1)
            )


def _level_ids(level: SharingLevel) -> Any:
    """The group's members at ``level`` or above (a subquery on the ``group_id`` parameter)."""
    wanted = [lv.value for lv in SharingLevel if lv.allows(level)]
    return select(GroupMember.user_id).where(
        GroupMember.group_id == bindparam("group_id"), GroupMember.level.in_(wanted)
    )


def _text(column: Any) -> Any:
    """A column as text: the one statement below mixes dates, times and numbers per slot."""
    return cast(column, String)


def _snapshot_statement() -> Any:
    """Everything one group's coach view needs, in one statement (built once): the members,
    then — only for members whose level allows it — their activity in the window, goals,
    contact names, outcomes and open next steps, and this week's check-ins. Columns:
    ``(kind, user id, day, number, a, b, c)``."""
    numbers, names, outcomes = (
        _level_ids(SharingLevel.NUMBERS),
        _level_ids(SharingLevel.NAMES),
        _level_ids(SharingLevel.OUTCOMES),
    )
    since = bindparam("since", type_=Date)
    name_if_allowed = case((ContactRow.owner_id.in_(names), ContactRow.name), else_=null())
    return union_all(
        # The user's platform and workspace come back in one slot, checked against the
        # group's in Python: a join condition on them makes SQLite walk every user of the
        # workspace instead of the group's few members.
        select(
            literal("m"),
            GroupMember.user_id,
            _text(GroupMember.joined_at),
            literal(0),
            GroupMember.level,
            GroupMember.display_name,
            User.platform
            + literal("\x1f")
            + User.workspace_id
            + literal("\x1f")
            + User.external_id,
        )
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id == bindparam("group_id")),
        select(
            literal("o"),
            OutreachRow.owner_id,
            _text(OutreachRow.reached_on),
            OutreachRow.contact_id,
            _text(OutreachRow.replied_on),
            OutreachRow.actual,
            name_if_allowed,
        )
        .join(ContactRow, ContactRow.id == OutreachRow.contact_id)
        .where(OutreachRow.owner_id.in_(numbers), OutreachRow.reached_on >= since),
        select(
            literal("c"),
            ConversationRow.owner_id,
            _text(ConversationRow.occurred_on),
            ConversationRow.contact_id,
            case((ConversationRow.owner_id.in_(outcomes), ConversationRow.outcomes), else_=""),
            null(),
            name_if_allowed,
        )
        .join(ContactRow, ContactRow.id == ConversationRow.contact_id)
        .where(
            ConversationRow.owner_id.in_(numbers),
            ConversationRow.kind == "conversation",
            ConversationRow.occurred_on >= since,
        ),
        select(
            literal("g"),
            WeeklyGoal.owner_id,
            _text(WeeklyGoal.week_start),
            WeeklyGoal.goal,
            null(),
            null(),
            null(),
        ).where(WeeklyGoal.owner_id.in_(numbers), WeeklyGoal.week_start <= bindparam("week")),
        select(
            literal("s"),
            NextStepRow.owner_id,
            _text(NextStepRow.due_on),
            NextStepRow.id,
            NextStepRow.text,
            null(),
            ContactRow.name,
        )
        .join(ContactRow, ContactRow.id == NextStepRow.contact_id)
        .where(
            NextStepRow.owner_id.in_(outcomes),
            ContactRow.owner_id == NextStepRow.owner_id,
            NextStepRow.status == StepStatus.OPEN.value,
        ),
        select(
            literal("k"), GroupCheckin.member_id, null(), literal(0), null(), null(), null()
        ).where(
            GroupCheckin.group_id == bindparam("group_id"),
            GroupCheckin.week_start == bindparam("week", type_=Date),
        ),
    )


_SNAPSHOT = _snapshot_statement()


class _Snapshot:
    """One group's coach view read: one statement, plus one for members quiet all window."""

    def __init__(
        self, connection: AsyncConnection, dialect: Any, group: GroupInfo, week: date, weeks: int
    ) -> None:
        self.connection = connection
        self.dialect = dialect
        self.group = group
        self.week = week
        self.weeks = trend_weeks(week, weeks)
        # Activity far enough back for the trend and for "quiet".
        self.since = min(self.weeks[0], week - timedelta(days=max(group.quiet_days, 1)))

    async def read(self) -> GroupSnapshot:
        group = self.group
        params = {"group_id": group.id, "since": self.since, "week": self.week}
        rows = list(await self.connection.execute(_SNAPSHOT, params))
        members: dict[int, Any] = {}
        events: dict[int, list[Event]] = {}
        goals: dict[int, list[GoalChange]] = {}
        reached: dict[int, set[str]] = {}
        notes: dict[int, list[tuple[date, OutcomeNote]]] = {}
        steps: dict[int, list[tuple[date, int, StepNote]]] = {}
        checked: set[int] = set()
        for kind, uid, day, number, a, b, c in rows:
            if kind == "m":
                platform, workspace, external = str(c).split("\x1f", 2)
                if (platform, workspace) == (group.platform, group.workspace_id):
                    members[uid] = (day, a, b, external)
            elif kind in ("o", "c"):
                on = _day(day)
                assert on is not None
                outreach = kind == "o"
                events.setdefault(uid, []).append(
                    Event(on, number, outreach, _day(a) if outreach else None, b)
                )
                if c is not None and week_start(on) == self.week:
                    reached.setdefault(uid, set()).add(c)
                if not outreach and a and on >= self.week and c is not None:
                    words = outcome_words(parse_outcomes(a))
                    if words:
                        notes.setdefault(uid, []).append((on, OutcomeNote(c, words)))
            elif kind == "g":
                goals.setdefault(uid, []).append(GoalChange(_day(day) or self.week, number))
            elif kind == "s":
                due = _day(day) or self.week
                steps.setdefault(uid, []).append((due, number, StepNote(c, a, due)))
            elif kind == "k":
                checked.add(uid)
        levels = {
            uid: SharingLevel.parse(level) or SharingLevel.MEMBERSHIP
            for uid, (_, level, _, _) in members.items()
        }
        last = {u: max(e.day for e in evs) for u, evs in events.items() if evs}
        missing = [
            u for u, lv in levels.items() if lv.allows(SharingLevel.NUMBERS) and u not in last
        ]
        last.update(await self._last_active(missing))
        views = []
        for uid, (joined, _, shown, external) in members.items():
            level = levels[uid]
            shares = level.allows(SharingLevel.NUMBERS)
            changes = sorted(goals.get(uid, []), key=lambda g: g.week_start)
            views.append(
                MemberView(
                    member_id=uid,
                    user=UserRef(group.platform, group.workspace_id, external),
                    level=level,
                    display_name=shown or "",
                    joined_on=_day(joined) or self.week,
                    weeks=member_weeks(self.weeks, events.get(uid, []), changes) if shares else (),
                    last_active=last.get(uid) if shares else None,
                    reached_names=tuple(sorted(reached.get(uid, ()), key=str.casefold))
                    if level.allows(SharingLevel.NAMES)
                    else (),
                    outcomes=tuple(n for _, n in sorted(notes.get(uid, []), key=lambda x: x[0]))
                    if level.allows(SharingLevel.OUTCOMES)
                    else (),
                    steps=tuple(s for *_, s in sorted(steps.get(uid, []))[:STEPS_SHOWN])
                    if level.allows(SharingLevel.OUTCOMES)
                    else (),
                    checked_in=uid in checked,
                )
            )
        return GroupSnapshot(group, self.week, tuple(views))

    async def _last_active(self, ids: list[int]) -> dict[int, date]:
        """The latest activity of members with none in the window (a grouped index scan)."""
        if not ids:
            return {}
        query: Any = union_all(
            select(OutreachRow.owner_id, func.max(OutreachRow.reached_on))
            .where(self.dialect.among(OutreachRow.owner_id, ids))
            .group_by(OutreachRow.owner_id),
            select(ConversationRow.owner_id, func.max(ConversationRow.occurred_on))
            .where(
                self.dialect.among(ConversationRow.owner_id, ids),
                ConversationRow.kind == "conversation",
            )
            .group_by(ConversationRow.owner_id),
        )
        out: dict[int, date] = {}
        for owner, day in await self.connection.execute(query):
            on = _day(day)
            if on is not None and (owner not in out or on > out[owner]):
                out[owner] = on
        return out


__all__ = ["SqlCoachStore"]
