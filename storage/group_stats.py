"""What the Friday recap pass reads: a batch of groups' members and, in aggregate, each
counted member's week (counts only — never a contact, a name or a note) and the wins members
shared. One statement per query per week and batch of groups, on the owners' indexes."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select, union

from bot.core.evidence import Expectation, OutcomeTag
from bot.core.groups.levels import SharingLevel
from bot.core.groups.recap import GroupRecapInputs, Member, MemberWeek, SharedWin
from storage.dialect import DialectStore
from storage.models import (
    ConversationRow,
    GroupMember,
    GroupWin,
    OutreachRow,
    User,
    WeeklyGoal,
)

__all__ = ["GroupStatsStore", "read_group_inputs"]

#: Groups per batch of statements.
_GROUP_CHUNK = 1000
#: Outcomes a recap counts (the ones that move a search forward).
_COUNTED_OUTCOMES = (
    OutcomeTag.INTRODUCTION,
    OutcomeTag.REFERRAL,
    OutcomeTag.INTERVIEW,
    OutcomeTag.OFFER,
)
_WARM = (Expectation.GLAD.value, Expectation.GO_OUT_OF_WAY.value)
_LEVELS = {level.value: level for level in SharingLevel}


class GroupStatsStore(DialectStore):
    """Bulk reads for composing group recaps."""

    async def group_inputs(self, groups: dict[int, date]) -> dict[int, GroupRecapInputs]:
        """What composing each group's recap for its week (Monday) needs."""
        out: dict[int, GroupRecapInputs] = {}
        ids = sorted(groups)
        for start in range(0, len(ids), _GROUP_CHUNK):
            chunk = {gid: groups[gid] for gid in ids[start : start + _GROUP_CHUNK]}
            out |= await read_group_inputs(self._rows, chunk, parallel=self._parallel)
        return out

    @property
    def _parallel(self) -> bool:
        """PostgreSQL runs independent statements on several cores; SQLite's reads share
        this process (and its GIL) and only get in each other's way."""
        return self.engine.dialect.name == "postgresql"

    async def _rows(self, query: Any) -> list[Any]:
        """One statement's rows, on a connection of its own: the recap's independent counts
        run side by side (PostgreSQL works on them in parallel)."""
        async with self._reading() as connection:
            return list(await connection.execute(query))


Rows = Callable[[Any], Awaitable[list[Any]]]


async def read_group_inputs(
    rows: Rows, groups: dict[int, date], *, parallel: bool = False
) -> dict[int, GroupRecapInputs]:
    """One batch of :meth:`GroupStatsStore.group_inputs`; ``rows`` runs a statement (the
    independent counts side by side when ``parallel``)."""
    inputs = {gid: GroupRecapInputs() for gid in groups}
    members = await rows(
        select(GroupMember.group_id, GroupMember.user_id, User.external_id, GroupMember.level)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id.in_(list(groups)))
        .order_by(GroupMember.group_id, GroupMember.user_id)
    )
    for gid, uid, external, level in members:
        # A value we don't know shares nothing. (A dict look-up: 30,000 members a pass.)
        parsed = _LEVELS.get(level, SharingLevel.MEMBERSHIP)
        inputs[gid].members.append(Member(uid, external, parsed))
    by_week: dict[date, list[int]] = defaultdict(list)
    for gid, monday in groups.items():
        by_week[monday].append(gid)
    for monday, gids in by_week.items():
        weeks = await _member_weeks(rows, gids, monday, parallel=parallel)
        for gid in gids:
            inputs[gid].weeks = {
                m.user_id: weeks[m.user_id] for m in inputs[gid].members if m.user_id in weeks
            }
    wins = await rows(
        select(GroupWin.group_id, GroupWin.user_id, GroupWin.text, GroupWin.week_start)
        .where(GroupWin.group_id.in_(list(groups)))
        .where(GroupWin.week_start.in_(sorted(set(groups.values()))))
        .order_by(GroupWin.id)
    )
    for gid, uid, text, week in wins:
        if groups[gid] == week:
            inputs[gid].wins.append(SharedWin(uid, text))
    return inputs


async def _member_weeks(
    rows: Rows, gids: list[int], monday: date, *, parallel: bool
) -> dict[int, MemberWeek]:
    """Each counted member's week (members at *membership only* are not read at all): four
    independent aggregate statements."""
    sunday = monday + timedelta(days=6)
    counted = (
        select(GroupMember.user_id)
        .where(GroupMember.group_id.in_(gids))
        .where(GroupMember.level != SharingLevel.MEMBERSHIP.value)
    )
    o = OutreachRow
    in_week = and_(o.owner_id.in_(counted), o.reached_on >= monday, o.reached_on <= sunday)
    replied = or_(o.replied_on.is_not(None), and_(o.actual.is_not(None), o.actual != "no_reply"))
    silence = o.expected == Expectation.NO_REPLY.value
    brushoff = o.expected == Expectation.BRUSH_OFF.value
    outreach_q = (
        select(
            o.owner_id,
            func.count(),
            _sum(replied),
            _sum(silence),
            _sum(and_(silence, replied)),
            _sum(brushoff),
            _sum(and_(brushoff, o.actual.in_(_WARM))),
        )
        .where(in_week)
        .group_by(o.owner_id)
    )
    c = ConversationRow
    c_week = and_(c.owner_id.in_(counted), c.occurred_on >= monday, c.occurred_on <= sunday)
    led = or_(*(c.outcomes.like(f"%{tag.value}%") for tag in _COUNTED_OUTCOMES))
    talks_q = (
        select(c.owner_id, func.count(), _sum(led))
        .where(c_week, c.kind == "conversation")
        .group_by(c.owner_id)
    )
    people = union(
        select(o.owner_id.label("owner"), o.contact_id.label("contact")).where(in_week),
        # An outreach is also kept as a conversation of kind "outreach": counted by its row.
        select(c.owner_id.label("owner"), c.contact_id.label("contact")).where(
            c_week, c.kind == "conversation"
        ),
    ).subquery()
    reached_q = select(people.c.owner, func.count()).group_by(people.c.owner)
    w = WeeklyGoal
    latest = (
        select(w.owner_id, func.max(w.week_start).label("since"))
        .where(w.owner_id.in_(counted), w.week_start <= monday)
        .group_by(w.owner_id)
        .subquery()
    )
    goals_q = select(w.owner_id, w.goal).join(
        latest, and_(w.owner_id == latest.c.owner_id, w.week_start == latest.c.since)
    )
    queries = (outreach_q, talks_q, reached_q, goals_q)
    if parallel:
        outreach, talks, reached, goals = await asyncio.gather(*(rows(q) for q in queries))
    else:
        outreach, talks, reached, goals = [await rows(q) for q in queries]
    # [outreach, replied, conversations, outcomes, reached, goal, silence, silence_replied,
    #  brushoff, brushoff_warm]: MemberWeek's fields in order, filled query by query.
    weeks: dict[int, list[int]] = defaultdict(lambda: [0] * 10)
    for uid, n, rep, sil, sil_rep, brush, brush_warm in outreach:
        row = weeks[uid]
        row[0], row[1], row[6], row[7], row[8], row[9] = (
            n, rep or 0, sil or 0, sil_rep or 0, brush or 0, brush_warm or 0,
        )  # fmt: skip
    for uid, n, outcomes in talks:
        row = weeks[uid]
        row[2], row[3] = n, outcomes or 0
    for uid, n in reached:
        weeks[uid][4] = n
    for uid, goal in goals:
        if goal > 0:
            weeks[uid][5] = goal
    return {uid: MemberWeek(*(int(v) for v in row)) for uid, row in weeks.items()}


def _sum(condition: Any) -> Any:
    """``SUM(CASE WHEN condition THEN 1 ELSE 0 END)``."""
    return func.sum(case((condition, 1), else_=literal_column("0")))
