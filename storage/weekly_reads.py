"""What composing weekly recaps needs, read for many users at once (or for one, by the
``recap`` command): everyone reached over the streak's history, the week's predictions and
conversations, open next steps, names, goals, and which reflection questions were seen.

Every read is one statement for the whole batch, filtered on its owners.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.evidence import (
    ConversationFacts,
    NextStep,
    Outreach,
    parse_expectation,
    parse_outcomes,
)
from bot.core.goals import STREAK_WEEKS, GoalChange, Reach, goal_for, progress, week_start
from bot.core.recap import STEPS_SHOWN, RecapInputs, recap_window
from bot.core.wins import heard_line
from storage.dialect import Dialect
from storage.models import (
    ContactRow,
    ConversationRow,
    OutreachRow,
    PromptView,
    WeeklyGoal,
)
from storage.step_reads import open_steps


class _Outreach(NamedTuple):
    owner_id: int
    id: int
    contact_id: int
    reached_on: date
    expected: str | None
    actual: str | None
    replied_on: date | str | None  # SQLite: ISO text (converted only when needed)
    previous_contact_on: date | str | None


class _Talk(NamedTuple):
    owner_id: int
    contact_id: int
    occurred_on: date
    response: str | None
    outcomes: str


class _Name(NamedTuple):
    owner_id: int
    id: int
    name: str


class _Win(NamedTuple):
    owner_id: int
    name: str
    preferred_name: str
    win: str
    win_on: date


class _Goal(NamedTuple):
    owner_id: int
    week_start: date
    goal: int


class _View(NamedTuple):
    user_id: int
    prompt_id: str
    shown: int


#: Weeks of history read for everyone; a streak longer than this reads the rest of the year.
RECENT_WEEKS = 5


def history_start(day: date) -> date:
    """The first local date a recap (or a streak) on ``day`` looks at."""
    return week_start(day) - timedelta(weeks=STREAK_WEEKS)


async def read_recap_inputs(
    dialect: Dialect, connection: AsyncConnection, users: dict[int, date]
) -> dict[int, RecapInputs]:
    """What composing each user's recap on their local date needs (``users``: ``{user id:
    recap day}``). A handful of statements for the whole batch, each filtered on its owners.

    The streak's history is read in two steps: the last :data:`RECENT_WEEKS` weeks for
    everyone, and the year before only for the few users whose streak reaches back that far
    (most streaks are short, and a year of history is most of what a recap pass would read).
    """
    out = {uid: RecapInputs() for uid in users}
    if not users:
        return out
    ids = list(users)
    recent = {uid: week_start(day) - timedelta(weeks=RECENT_WEEKS) for uid, day in users.items()}
    windows = {uid: recap_window(day) for uid, day in users.items()}
    named: set[int] = set()

    # "Reached out" events and logged conversations (an outreach is also kept as a
    # conversation of kind "outreach"; those are left out here, as the outreach row counts).
    outreach = await dialect.rows(
        connection,
        select(
            OutreachRow.owner_id,
            OutreachRow.id,
            OutreachRow.contact_id,
            OutreachRow.reached_on,
            OutreachRow.expected,
            OutreachRow.actual,
            OutreachRow.replied_on,
            OutreachRow.previous_contact_on,
        ).where(
            dialect.among(OutreachRow.owner_id, ids),
            OutreachRow.reached_on >= min(recent.values()),
            OutreachRow.reached_on <= max(users.values()),
        ),
        _Outreach._make,
        dates=(3,),  # the other two only for the week's rows, below
    )
    for row in outreach:
        uid, on = row.owner_id, row.reached_on
        if not recent[uid] <= on <= users[uid]:
            continue
        inputs = out[uid]
        inputs.reached.append(Reach(on, row.contact_id))
        start, end = windows[uid]
        if start <= on <= end:
            named.add(row.contact_id)
            inputs.outreach.append(
                Outreach(
                    row.id,
                    row.contact_id,
                    on,
                    parse_expectation(row.expected),
                    parse_expectation(row.actual),
                    _date(row.replied_on),
                    _date(row.previous_contact_on),
                )
            )
    talks = await dialect.rows(
        connection,
        select(
            ConversationRow.owner_id,
            ConversationRow.contact_id,
            ConversationRow.occurred_on,
            ConversationRow.response,
            ConversationRow.outcomes,
        ).where(
            dialect.among(ConversationRow.owner_id, ids),
            ConversationRow.kind == "conversation",
            ConversationRow.occurred_on >= min(recent.values()),
            ConversationRow.occurred_on <= max(users.values()),
        ),
        _Talk._make,
        dates=(2,),
    )
    for uid, contact_id, on, response, tags in talks:
        if not recent[uid] <= on <= users[uid]:
            continue
        inputs = out[uid]
        inputs.reached.append(Reach(on, contact_id))
        start, end = windows[uid]
        if start <= on <= end:
            named.add(contact_id)
            inputs.talks.append(
                ConversationFacts(contact_id, on, parse_expectation(response), parse_outcomes(tags))
            )
    goals = await dialect.rows(
        connection,
        select(WeeklyGoal.owner_id, WeeklyGoal.week_start, WeeklyGoal.goal)
        .where(dialect.among(WeeklyGoal.owner_id, ids))
        .order_by(WeeklyGoal.owner_id, WeeklyGoal.week_start),
        _Goal._make,
        dates=(1,),
    )
    for uid, start, goal in goals:
        out[uid].goals.append(GoalChange(start, goal))
    await _older_history(dialect, connection, users, recent, out)
    steps = await open_steps(dialect, connection, ids)
    for uid, step_id, contact_id, text, due_on in steps:
        mine = out[uid].steps
        if len(mine) < STEPS_SHOWN:
            mine.append(NextStep(step_id, contact_id, text, due_on))
            named.add(contact_id)
    if named:
        names = await dialect.rows(
            connection,
            # By primary key only (an owner filter too tempts SQLite into scanning every
            # contact of the batch's owners); each name goes to the owner its row names.
            select(ContactRow.owner_id, ContactRow.id, ContactRow.name).where(
                dialect.among(ContactRow.id, sorted(named))
            ),
            _Name._make,
        )
        for uid, contact_id, name in names:
            if uid in out:
                out[uid].names[contact_id] = name
    views = await dialect.rows(
        connection,
        select(PromptView.user_id, PromptView.prompt_id, PromptView.count).where(
            dialect.among(PromptView.user_id, ids), PromptView.prompt_id.like("reflect-%")
        ),
        _View._make,
    )
    for uid, prompt_id, shown in views:
        out[uid].prompt_views[prompt_id] = shown
    await wins_heard(dialect, connection, users, out)
    return out


async def _older_history(
    dialect: Dialect,
    connection: AsyncConnection,
    users: dict[int, date],
    recent: dict[int, date],
    out: dict[int, RecapInputs],
) -> None:
    """The rest of the streak's year for users whose streak reaches back to ``recent``."""
    long = [uid for uid, inputs in out.items() if _prior_streak(inputs, users[uid]) >= RECENT_WEEKS]
    if not long:
        return
    first = min(history_start(users[uid]) for uid in long)
    last = max(recent[uid] for uid in long)
    for table, on in (
        (OutreachRow, OutreachRow.reached_on),
        (ConversationRow, ConversationRow.occurred_on),
    ):
        query = select(table.owner_id, table.contact_id, on).where(
            dialect.among(table.owner_id, long), on >= first, on < last
        )
        if table is ConversationRow:
            query = query.where(ConversationRow.kind == "conversation")
        for uid, contact_id, day in await dialect.rows(connection, query, tuple, dates=(2,)):
            if history_start(users[uid]) <= day < recent[uid]:
                out[uid].reached.append(Reach(day, contact_id))
                out[uid].week = None  # the progress read so far is out of date


def _prior_streak(inputs: RecapInputs, day: date) -> int:
    """Weeks met in a row before the recap's week, as far as the history read so far shows.
    The progress is kept for composing (it changes only if older history is added)."""
    _, end = recap_window(day)
    week = progress(inputs.goals, inputs.reached, end)
    inputs.week = week
    return week.streak - (1 if week.met else 0)


def _date(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


async def wins_heard(
    dialect: Dialect,
    connection: AsyncConnection,
    users: dict[int, date],
    out: dict[int, RecapInputs],
) -> None:
    """Contacts' news and wins (hurdle 4: the other person's successes) that each user noted
    within their recap's week (``recap_window(users[user id])``), as short sentences in
    ``out[user id].wins`` ("Dana Whitfield started as CFO at Acme."), in the order they were
    noted. News that is not a win (``bot.core.wins``: an illness, a lay-off) is left out.

    One statement for the batch, scoped by owner; it uses the partial index on
    ``(owner_id, win_on)`` (a contact keeps only its latest news, so a week has few rows).
    """
    if not users:
        return
    windows = {uid: recap_window(day) for uid, day in users.items()}
    rows = await dialect.rows(
        connection,
        select(
            ContactRow.owner_id,
            ContactRow.name,
            ContactRow.preferred_name,
            ContactRow.win,
            ContactRow.win_on,
        )
        .where(
            dialect.among(ContactRow.owner_id, list(users)),
            ContactRow.win_on >= min(start for start, _ in windows.values()),
            ContactRow.win_on <= max(end for _, end in windows.values()),
        )
        .order_by(ContactRow.owner_id, ContactRow.win_on, ContactRow.id),
        _Win._make,
        dates=(4,),
    )
    for uid, name, preferred, win, on in rows:
        start, end = windows[uid]
        if start <= on <= end and (line := heard_line(name, win, preferred)) is not None:
            out[uid].wins.append(line)


async def read_goal_lines(
    dialect: Dialect, connection: AsyncConnection, users: dict[int, date]
) -> dict[int, str]:
    """``{user id: "2 of 3 this week"}`` for the users of a morning batch who have a goal this
    week (``users``: ``{user id: local date}``). Three statements for the batch: the goals,
    and this week's outreach and logged conversations."""
    ids = list(users)
    if not ids:
        return {}
    changes: dict[int, list[GoalChange]] = {}
    goals = await dialect.rows(
        connection,
        select(WeeklyGoal.owner_id, WeeklyGoal.week_start, WeeklyGoal.goal).where(
            dialect.among(WeeklyGoal.owner_id, ids)
        ),
        _Goal._make,
        dates=(1,),
    )
    for uid, start, goal in goals:
        changes.setdefault(uid, []).append(GoalChange(start, goal))
    wanted = {
        uid: goal
        for uid, mine in changes.items()
        if (goal := goal_for(mine, week_start(users[uid]))) > 0
    }
    if not wanted:
        return {}
    earliest = min(week_start(users[uid]) for uid in wanted)
    latest = max(users[uid] for uid in wanted)
    owners = list(wanted)
    seen: dict[int, set[int]] = {uid: set() for uid in wanted}
    for table, on in (
        (OutreachRow, OutreachRow.reached_on),
        (ConversationRow, ConversationRow.occurred_on),
    ):
        query = select(table.owner_id, table.contact_id, on).where(
            dialect.among(table.owner_id, owners), on >= earliest, on <= latest
        )
        if table is ConversationRow:
            query = query.where(ConversationRow.kind == "conversation")
        for uid, contact_id, day in await dialect.rows(connection, query, tuple, dates=(2,)):
            if week_start(users[uid]) <= day <= users[uid]:
                seen[uid].add(contact_id)
    return {uid: f"{len(seen[uid])} of {goal} this week" for uid, goal in wanted.items()}


__all__ = ["history_start", "read_goal_lines", "read_recap_inputs", "wins_heard"]
