"""What composing weekly recaps needs, read for many users at once (or for one, by the
``recap`` command): everyone reached over the streak's history, their names, goals set, and
which reflection questions were seen. Every read is one statement per batch, scoped by owner.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.goals import STREAK_WEEKS, GoalChange, Reach, week_start
from bot.core.recap import RecapInputs, recap_window
from storage.dialect import Dialect
from storage.models import ContactRow, ConversationRow, PromptView, WeeklyGoal


class _Talk(NamedTuple):
    owner_id: int
    contact_id: int
    occurred_on: date
    kind: str


class _Name(NamedTuple):
    owner_id: int
    id: int
    name: str


class _Goal(NamedTuple):
    owner_id: int
    week_start: date
    goal: int


class _View(NamedTuple):
    user_id: int
    prompt_id: str
    shown: int


def history_start(day: date) -> date:
    """The first local date a recap (or a streak) on ``day`` looks at."""
    return week_start(day) - timedelta(weeks=STREAK_WEEKS)


async def read_recap_inputs(
    dialect: Dialect, connection: AsyncConnection, users: dict[int, date]
) -> dict[int, RecapInputs]:
    """What composing each user's recap on their local date needs (``users``: ``{user id:
    recap day}``). A handful of statements for the whole batch, each filtered on its owners."""
    out = {uid: RecapInputs() for uid in users}
    if not users:
        return out
    ids = list(users)
    earliest = min(history_start(day) for day in users.values())
    latest = max(users.values())
    windows = {uid: recap_window(day) for uid, day in users.items()}
    # Everyone reached over the streak's history: outreach and logged conversations alike.
    talks = await dialect.rows(
        connection,
        select(
            ConversationRow.owner_id,
            ConversationRow.contact_id,
            ConversationRow.occurred_on,
            ConversationRow.kind,
        ).where(
            dialect.among(ConversationRow.owner_id, ids),
            ConversationRow.occurred_on >= earliest,
            ConversationRow.occurred_on <= latest,
        ),
        _Talk._make,
        dates=(2,),
    )
    in_week: set[int] = set()
    for owner_id, contact_id, on, kind in talks:
        inputs = out[owner_id]
        if on < history_start(users[owner_id]) or on > users[owner_id]:
            continue
        inputs.reached.append(Reach(on, contact_id))
        start, end = windows[owner_id]
        if start <= on <= end:
            in_week.add(contact_id)
            if kind == "conversation":
                inputs.conversations += 1
    if in_week:
        names = await dialect.rows(
            connection,
            select(ContactRow.owner_id, ContactRow.id, ContactRow.name).where(
                dialect.among(ContactRow.id, sorted(in_week)),
                dialect.among(ContactRow.owner_id, ids),
            ),
            _Name._make,
        )
        for owner_id, contact_id, name in names:
            out[owner_id].names[contact_id] = name
    goals = await dialect.rows(
        connection,
        select(WeeklyGoal.owner_id, WeeklyGoal.week_start, WeeklyGoal.goal)
        .where(dialect.among(WeeklyGoal.owner_id, ids))
        .order_by(WeeklyGoal.owner_id, WeeklyGoal.week_start),
        _Goal._make,
        dates=(1,),
    )
    for owner_id, start, goal in goals:
        out[owner_id].goals.append(GoalChange(start, goal))
    views = await dialect.rows(
        connection,
        select(PromptView.user_id, PromptView.prompt_id, PromptView.count).where(
            dialect.among(PromptView.user_id, ids), PromptView.prompt_id.like("reflect-%")
        ),
        _View._make,
    )
    for user_id, prompt_id, count in views:
        out[user_id].prompt_views[prompt_id] = count
    await wins_heard(dialect, connection, users, out)
    return out


async def wins_heard(
    dialect: Dialect,
    connection: AsyncConnection,
    users: dict[int, date],
    out: dict[int, RecapInputs],
) -> None:
    """HOOK for contacts' news and wins (hurdle 4: the other person's successes).

    Fill ``out[user id].wins`` with one short sentence per piece of good news the user noted
    about a contact within their recap's week (``recap_window(users[user id])``), e.g.
    "Dana Whitfield started as CFO at Acme." — one statement for the batch, scoped by owner.
    Nothing records news yet, so there is nothing to add.
    """
    return None


__all__ = ["history_start", "read_recap_inputs", "wins_heard"]
