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
from typing import Any

from sqlalchemy import (
    and_,
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
    return (
        select(*_GROUP_COLUMNS)
        .join(GroupCoach, GroupCoach.group_id == GroupRow.id)
        .join(User, User.id == GroupCoach.user_id)
        .where(_user(coach), _same_workspace(coach))
        .order_by(GroupRow.name, GroupRow.id)
    )


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
    return date.fromisoformat(str(value)[:10])


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
        if self._write_turn is not None:
            async with self._write_turn, self.engine.begin() as connection:
                yield connection
        else:
            async with self.engine.begin() as connection:
                yield connection

    # --- groups ----------------------------------------------------------------------------

    async def coached_groups(self, coach: UserRef) -> list[GroupInfo]:
        async with self._read() as connection:
            return [_info(r) for r in await connection.execute(_coached(coach))]

    async def coached_group(self, coach: UserRef, group_id: int) -> GroupInfo | None:
        async with self._read() as connection:
            row = (await connection.execute(_coached(coach).where(GroupRow.id == group_id))).first()
        return _info(row) if row is not None else None

    async def group_in_channel(self, coach: UserRef, channel_id: str) -> GroupInfo | None:
        query = _coached(coach).where(GroupRow.channel_id == channel_id)
        async with self._read() as connection:
            row = (await connection.execute(query)).first()
        return _info(row) if row is not None else None

    async def member_groups(self, member: UserRef) -> list[GroupInfo]:
        query = (
            select(*_GROUP_COLUMNS)
            .join(GroupMember, GroupMember.group_id == GroupRow.id)
            .join(User, User.id == GroupMember.user_id)
            .where(_user(member), _same_workspace(member))
            .order_by(GroupRow.name, GroupRow.id)
        )
        async with self._read() as connection:
            return [_info(r) for r in await connection.execute(query)]

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


class _Snapshot:
    """The reads behind one group's coach view (a handful of statements per group)."""

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
        rows = list(
            await self.connection.execute(
                select(
                    GroupMember.user_id,
                    GroupMember.level,
                    GroupMember.display_name,
                    GroupMember.joined_at,
                    User.external_id,
                )
                .join(User, User.id == GroupMember.user_id)
                .where(
                    GroupMember.group_id == group.id,
                    User.platform == group.platform,
                    User.workspace_id == group.workspace_id,
                )
            )
        )
        levels = {r.user_id: SharingLevel.parse(r.level) or SharingLevel.MEMBERSHIP for r in rows}
        numbers = [u for u, lv in levels.items() if lv.allows(SharingLevel.NUMBERS)]
        names = [u for u, lv in levels.items() if lv.allows(SharingLevel.NAMES)]
        outcomes = [u for u, lv in levels.items() if lv.allows(SharingLevel.OUTCOMES)]
        events = await self._events(numbers)
        goals = await self._goals(numbers)
        last = {u: max(e.day for e in evs) for u, evs in events.items() if evs}
        missing = [u for u in numbers if u not in last]
        last.update(await self._last_active(missing))
        reached = await self._reached_names(names, events)
        notes = await self._outcomes(outcomes)
        steps = await self._steps(outcomes)
        checked = await self._checked_in()
        members = []
        for r in rows:
            uid, level = r.user_id, levels[r.user_id]
            shares = level.allows(SharingLevel.NUMBERS)
            members.append(
                MemberView(
                    member_id=uid,
                    user=UserRef(group.platform, group.workspace_id, r.external_id),
                    level=level,
                    display_name=r.display_name or "",
                    joined_on=_day(r.joined_at) or self.week,
                    weeks=member_weeks(self.weeks, events.get(uid, []), goals.get(uid, []))
                    if shares
                    else (),
                    last_active=last.get(uid) if shares else None,
                    reached_names=reached.get(uid, ()),
                    outcomes=notes.get(uid, ()),
                    steps=steps.get(uid, ()),
                    checked_in=uid in checked,
                )
            )
        return GroupSnapshot(group, self.week, tuple(members))

    async def _events(self, ids: list[int]) -> dict[int, list[Event]]:
        if not ids:
            return {}
        query: Any = union_all(
            select(
                OutreachRow.owner_id,
                OutreachRow.reached_on,
                OutreachRow.contact_id,
                OutreachRow.replied_on,
                OutreachRow.actual,
                literal(1).label("o"),
            ).where(
                self.dialect.among(OutreachRow.owner_id, ids), OutreachRow.reached_on >= self.since
            ),
            select(
                ConversationRow.owner_id,
                ConversationRow.occurred_on,
                ConversationRow.contact_id,
                null(),
                null(),
                literal(0),
            ).where(
                self.dialect.among(ConversationRow.owner_id, ids),
                ConversationRow.kind == "conversation",
                ConversationRow.occurred_on >= self.since,
            ),
        )
        out: dict[int, list[Event]] = {}
        for owner, day, contact, replied, actual, is_outreach in await self.connection.execute(
            query
        ):
            on = _day(day)
            assert on is not None
            out.setdefault(owner, []).append(
                Event(on, contact, bool(is_outreach), _day(replied), actual)
            )
        return out

    async def _goals(self, ids: list[int]) -> dict[int, list[GoalChange]]:
        if not ids:
            return {}
        query = select(WeeklyGoal.owner_id, WeeklyGoal.week_start, WeeklyGoal.goal).where(
            self.dialect.among(WeeklyGoal.owner_id, ids), WeeklyGoal.week_start <= self.week
        )
        out: dict[int, list[GoalChange]] = {}
        for owner, start, goal in await self.connection.execute(query):
            out.setdefault(owner, []).append(GoalChange(_day(start) or self.week, goal))
        for changes in out.values():
            changes.sort(key=lambda c: c.week_start)
        return out

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

    async def _reached_names(
        self, ids: list[int], events: dict[int, list[Event]]
    ) -> dict[int, tuple[str, ...]]:
        """Whom each names-level member reached this week (names only: no other detail)."""
        wanted = {
            (u, e.contact_id)
            for u in ids
            for e in events.get(u, [])
            if week_start(e.day) == self.week
        }
        if not wanted:
            return {}
        contact_ids = sorted({c for _, c in wanted})
        query = select(ContactRow.owner_id, ContactRow.id, ContactRow.name).where(
            self.dialect.among(ContactRow.owner_id, ids),
            self.dialect.among(ContactRow.id, contact_ids),
        )
        out: dict[int, list[str]] = {}
        for owner, cid, name in await self.connection.execute(query):
            if (owner, cid) in wanted:
                out.setdefault(owner, []).append(name)
        return {u: tuple(sorted(n, key=str.casefold)) for u, n in out.items()}

    async def _outcomes(self, ids: list[int]) -> dict[int, tuple[OutcomeNote, ...]]:
        if not ids:
            return {}
        query = (
            select(ConversationRow.owner_id, ConversationRow.outcomes, ContactRow.name)
            .join(ContactRow, ContactRow.id == ConversationRow.contact_id)
            .where(
                self.dialect.among(ConversationRow.owner_id, ids),
                ContactRow.owner_id == ConversationRow.owner_id,
                ConversationRow.occurred_on >= self.week,
                ConversationRow.outcomes != "",
            )
            .order_by(ConversationRow.occurred_on, ConversationRow.id)
        )
        out: dict[int, list[OutcomeNote]] = {}
        for owner, tags, name in await self.connection.execute(query):
            words = outcome_words(parse_outcomes(tags))
            if words:
                out.setdefault(owner, []).append(OutcomeNote(name, words))
        return {u: tuple(n) for u, n in out.items()}

    async def _steps(self, ids: list[int]) -> dict[int, tuple[StepNote, ...]]:
        if not ids:
            return {}
        query = (
            select(NextStepRow.owner_id, NextStepRow.text, NextStepRow.due_on, ContactRow.name)
            .join(ContactRow, ContactRow.id == NextStepRow.contact_id)
            .where(
                self.dialect.among(NextStepRow.owner_id, ids),
                ContactRow.owner_id == NextStepRow.owner_id,
                NextStepRow.status == StepStatus.OPEN.value,
            )
            .order_by(NextStepRow.owner_id, NextStepRow.due_on, NextStepRow.id)
        )
        out: dict[int, list[StepNote]] = {}
        for owner, text, due, name in await self.connection.execute(query):
            notes = out.setdefault(owner, [])
            if len(notes) < STEPS_SHOWN:
                notes.append(StepNote(name, text, _day(due) or self.week))
        return {u: tuple(n) for u, n in out.items()}

    async def _checked_in(self) -> set[int]:
        query = select(GroupCheckin.member_id).where(
            GroupCheckin.group_id == self.group.id, GroupCheckin.week_start == self.week
        )
        return {m for (m,) in await self.connection.execute(query)}


__all__ = ["SqlCoachStore"]
