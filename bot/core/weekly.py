"""The weekly goal and recap, as the service offers them: ``goal``, ``recap``, the recap's goal
buttons, the goal line on Home, and the recap's part of the settings form.

Pure of any platform; everything goes through the caller's :class:`~bot.core.ports.ContactBook`,
so it only ever sees and changes the caller's own data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

from bot.core import preferences
from bot.core.evidence_report import recap_chart
from bot.core.forms import FieldErrors
from bot.core.goals import (
    MAX_GOAL,
    STREAK_WEEKS,
    SUGGESTED_GOAL,
    GoalError,
    WeekProgress,
    goal_for,
    parse_goal,
    people,
    progress,
    week_start,
)
from bot.core.model import UserRef
from bot.core.ports import ContactBook
from bot.core.recap import FRIDAY, RecapPrefs, compose_recap, render_recap
from bot.core.replies import (
    Block,
    Choice,
    Form,
    Header,
    Reply,
    SelectField,
    TimeField,
    context,
    message,
)
from bot.core.schedule import NudgePrefs, parse_time
from bot.core.text import parse_count

RECAP_DAY, RECAP_TIME = "recap_day", "recap_time"
_OFF = "off"
_DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: A goal button whose week has passed (or was never offered): nothing changes.
STALE_GOAL_BUTTON = (
    "That recap's week is over, so I left your goal as it is. "
    f"Type `goal <number>` to set this week's, like `goal {SUGGESTED_GOAL}`."
)


async def week_progress(book: ContactBook, today: date) -> WeekProgress:
    """The owner's goal progress this week and their streak, as of their local ``today``."""
    since = week_start(today) - timedelta(weeks=STREAK_WEEKS)
    goals, reached = await book.week_record(since)
    return progress(goals, reached, today)


async def goal_command(book: ContactBook, text: str, today: date, cmd: str) -> Reply:
    """``goal`` (show), ``goal 3`` (set from this week on), ``goal off``."""
    try:
        wanted = parse_goal(text)
    except GoalError as exc:
        return message(str(exc))
    current = await week_progress(book, today)
    if wanted is None:
        next_week = current.week_start + timedelta(days=7)
        ahead = goal_for(await book.goal_changes(), next_week)
        return message(_describe(current, cmd, ahead))
    if wanted == 0:
        if current.goal == 0 and not await _any_goal_ahead(book, today):
            return message(
                "You don't have a weekly goal, so there's nothing to turn off. "
                f"`{cmd}goal {SUGGESTED_GOAL}` sets one."
            )
        await book.set_goal(current.week_start, 0)
        return message(
            f"Weekly goal off. Whenever you want one again: `{cmd}goal {SUGGESTED_GOAL}`."
        )
    await book.set_goal(current.week_start, wanted)
    now = replace(current, goal=wanted)
    head = f"Goal set: {people(wanted)} a week, starting this week."
    if now.met:
        return message(f"{head} You've already reached {now.done} — that's this week done.")
    return message(f"{head} So far: {now.line()}. I'll show how it's going each morning.")


async def goal_button(book: ContactBook, value: str, today: date) -> Reply:
    """A recap's keep / raise / lower button (value ``"<Monday>:<goal>"``, untrusted)."""
    week_text, _, goal_text = value.partition(":")
    try:
        week = date.fromisoformat(week_text)
    except ValueError:
        return message(STALE_GOAL_BUTTON)
    goal = parse_count(goal_text, below=MAX_GOAL + 1) if goal_text != "0" else 0
    this_week = week_start(today)
    if goal is None or week.weekday() != 0 or week > this_week + timedelta(days=7):
        return message(STALE_GOAL_BUTTON)  # forged, or not a week any recap offers
    if week < this_week:
        return message(STALE_GOAL_BUTTON)
    await book.set_goal(week, goal)
    when = "This week's" if week == this_week else "Next week's"
    if goal == 0:
        return message(f"{when} goal is off. No pressure — `goal {SUGGESTED_GOAL}` brings it back.")
    return message(f"{when} goal: {people(goal)}. One message at a time — you've got this.")


async def recap_command(book: ContactBook, user: UserRef, today: date, cmd: str) -> Reply:
    """The recap of the week so far (of last week, on a Monday), as it would come: with the
    evidence chart when there is anything to draw."""
    recap = await book.recap_prefs()
    content = compose_recap(user, today, await book.recap_inputs(today), recap)
    reply = render_recap(content, cmd=cmd)
    outreach, talks = await book.evidence_history(None)
    picture = await recap_chart(outreach, talks, date.fromisoformat(content.end))
    return reply if picture is None else replace(reply, files=(picture,))


def with_goal(reply: Reply, week: WeekProgress, cmd: str) -> Reply:
    """The Home view with the week's goal line under its counts (or a hint to set one)."""
    if week.goal > 0:
        line = f"🎯 {week.line()}" + (" — goal met!" if week.met else "")
        streak = week.streak_line()
        if streak:
            line += f" · {streak}"
    else:
        line = f"🎯 No weekly goal yet — `{cmd}goal {SUGGESTED_GOAL}` is a good start."
    blocks: list[Block] = list(reply.blocks)
    # Under the counts: after the header and the section that follows it.
    headers = [(i, b.text) for i, b in enumerate(blocks) if isinstance(b, Header)]
    home = [i for i, text in headers if text == "Reconnect"]
    at = (home or [i for i, _ in headers] or [len(blocks)])[0] + 2
    blocks.insert(min(at, len(blocks)), context(line))
    return replace(reply, blocks=tuple(blocks))


# --- the settings form ------------------------------------------------------------------------


async def settings_form(book: ContactBook) -> Form:
    """The settings form: the morning nudge's fields, then the weekly recap's."""
    form = preferences.settings_form(await book.prefs())
    recap = await book.recap_prefs()
    return replace(
        form,
        fields=form.fields + recap_fields(recap),
        intro=f"{form.intro} {recap.describe()}".strip(),
    )


def recap_fields(recap: RecapPrefs) -> tuple[SelectField, TimeField]:
    """The recap's day (or off) and local time."""
    choices = tuple(Choice(str(i), label) for i, label in enumerate(_DAY_LABELS))
    return (
        SelectField(
            RECAP_DAY,
            "Weekly recap on",
            (*choices, Choice(_OFF, "Off — no weekly recap")),
            initial=str(recap.day) if recap.enabled else _OFF,
        ),
        TimeField(RECAP_TIME, "Weekly recap at (your local time)", initial=recap.time),
    )


def read_recap_settings(values: Mapping[str, str | None], current: RecapPrefs) -> RecapPrefs:
    """The recap's settings from a submission; fields left out keep their values. Raises
    :class:`FieldErrors`."""
    errors: dict[str, str] = {}
    day, enabled = current.day, current.enabled
    raw_day = (values.get(RECAP_DAY) or "").strip()
    if raw_day == _OFF:
        enabled = False
    elif raw_day:
        if raw_day in {str(i) for i in range(7)}:
            day, enabled = int(raw_day), True
        else:
            errors[RECAP_DAY] = "Choose a day, or Off."
    at = current.time
    raw_time = (values.get(RECAP_TIME) or "").strip()
    if raw_time:
        parsed = parse_time(raw_time)
        if parsed is None:
            errors[RECAP_TIME] = "Please pick a time, like 16:00."
        else:
            at = parsed
    if errors:
        raise FieldErrors(errors)
    return RecapPrefs(day, at, enabled)


async def save_settings(
    book: ContactBook, values: Mapping[str, str | None], today: date
) -> NudgePrefs:
    """Validate and store a settings submission, nudge and recap parts together (nothing is
    stored when either has an error: :class:`FieldErrors` for all of them at once)."""
    current = await book.prefs()
    recap_errors: dict[str, str] = {}
    recap = await book.recap_prefs()
    try:
        recap = read_recap_settings(values, recap)
    except FieldErrors as exc:
        recap_errors = exc.errors
    try:
        prefs = preferences.read_settings(values, current, today)
    except FieldErrors as exc:
        raise FieldErrors(exc.errors | recap_errors) from None
    if recap_errors:
        raise FieldErrors(recap_errors)
    await book.save_prefs(prefs, timezone_from_user=prefs.timezone_locked)
    await book.save_recap_prefs(recap)
    return prefs


async def saved_reply(book: ContactBook, reply: Reply) -> Reply:
    """The "settings saved" reply, with when the recap comes."""
    recap = await book.recap_prefs()
    return replace(
        reply,
        summary=f"{reply.summary} {recap.describe()}",
        blocks=(*reply.blocks, context(recap.describe())),
    )


def _describe(week: WeekProgress, cmd: str, ahead: int | None = None) -> str:
    if week.goal <= 0:
        return (
            "You don't have a weekly goal yet. A small one helps: "
            f"`{cmd}goal {SUGGESTED_GOAL}` means {SUGGESTED_GOAL} people a week — reached out "
            "to or talked with, each person counted once."
        )
    text = f"Your goal: {people(week.goal)} a week. So far this week: {week.done} of {week.goal}."
    if week.met:
        text += " Goal met!"
    if ahead is not None and ahead != week.goal:
        text += f" From next week: {people(ahead)}." if ahead else " From next week: no goal."
    streak = week.streak_line()
    return f"{text} {streak}".strip() + f" Change it with `{cmd}goal <number>`, or `{cmd}goal off`."


async def _any_goal_ahead(book: ContactBook, today: date) -> bool:
    """Whether a goal is set for a later week (a recap's "next week" button)."""
    this_week = week_start(today)
    return any(c.week_start > this_week and c.goal for c in await book.goal_changes())


__all__ = [
    "FRIDAY",
    "RECAP_DAY",
    "RECAP_TIME",
    "STALE_GOAL_BUTTON",
    "goal_button",
    "goal_command",
    "read_recap_settings",
    "recap_command",
    "recap_fields",
    "save_settings",
    "saved_reply",
    "settings_form",
    "week_progress",
    "with_goal",
]
