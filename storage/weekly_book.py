"""One owner's weekly goal, recap settings and recap inputs, inside their book's transaction.

Mixed into ``storage.repository.SqlContactBook``; every statement filters on the book's owner.
"""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import delete, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.goals import GoalChange, Reach
from bot.core.recap import RecapInputs, RecapPrefs
from storage.dialect import Dialect
from storage.models import ConversationRow, OutreachRow, RecapSetting, WeeklyGoal
from storage.weekly_reads import read_recap_inputs


class WeeklyBook:
    """The weekly goal and recap methods of :class:`bot.core.ports.ContactBook`."""

    _connection: AsyncConnection
    _owner_id: int

    @property
    def _dialect(self) -> Dialect:
        raise NotImplementedError  # provided by the book

    async def goal_changes(self) -> list[GoalChange]:
        rows = await self._connection.execute(
            select(WeeklyGoal.week_start, WeeklyGoal.goal)
            .where(WeeklyGoal.owner_id == self._owner_id)
            .order_by(WeeklyGoal.week_start)
        )
        return [GoalChange(_day(r.week_start), r.goal) for r in rows]

    async def set_goal(self, week: date, goal: int) -> None:
        await self._connection.execute(
            delete(WeeklyGoal).where(
                WeeklyGoal.owner_id == self._owner_id, WeeklyGoal.week_start >= week
            )
        )
        await self._connection.execute(
            self._dialect.insert(WeeklyGoal).values(
                owner_id=self._owner_id, week_start=week, goal=goal
            )
        )

    async def week_record(self, since: date) -> tuple[list[GoalChange], list[Reach]]:
        # One statement (Home reads it on every visit): the goals set, "Reached out" events,
        # and logged conversations (an outreach is also kept as a conversation of kind
        # "outreach": counted once, by its outreach row).
        owner = self._owner_id
        query = union_all(
            select(literal("g").label("k"), WeeklyGoal.week_start, WeeklyGoal.goal).where(
                WeeklyGoal.owner_id == owner
            ),
            select(literal("o"), OutreachRow.reached_on, OutreachRow.contact_id).where(
                OutreachRow.owner_id == owner, OutreachRow.reached_on >= since
            ),
            select(literal("c"), ConversationRow.occurred_on, ConversationRow.contact_id).where(
                ConversationRow.owner_id == owner,
                ConversationRow.kind == "conversation",
                ConversationRow.occurred_on >= since,
            ),
        )
        goals: list[GoalChange] = []
        reached: list[Reach] = []
        for kind, on, number in await self._connection.execute(query):
            if kind == "g":
                goals.append(GoalChange(_day(on), number))
            else:
                reached.append(Reach(_day(on), number))
        goals.sort(key=lambda g: g.week_start)
        return goals, reached

    async def recap_prefs(self) -> RecapPrefs:
        row = (
            await self._connection.execute(
                select(RecapSetting.day, RecapSetting.at, RecapSetting.enabled).where(
                    RecapSetting.user_id == self._owner_id
                )
            )
        ).first()
        if row is None:
            return RecapPrefs()
        return RecapPrefs(row.day, _time(row.at), bool(row.enabled))

    async def save_recap_prefs(self, prefs: RecapPrefs) -> None:
        values = {"day": prefs.day, "at": prefs.time, "enabled": prefs.enabled}
        statement = self._dialect.insert(RecapSetting).values(user_id=self._owner_id, **values)
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=[RecapSetting.user_id], set_=values)
        )

    async def recap_inputs(self, day: date) -> RecapInputs:
        found = await read_recap_inputs(self._dialect, self._connection, {self._owner_id: day})
        return found[self._owner_id]


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)
