"""The weekly outreach goal and its streak (hurdle 8, commitment).

A *week* is the user's local Monday to Sunday. What counts towards the goal is the number of
different people the user reached in that week: a "Reached out" or a logged conversation, each
person once however many times (reaching Dana on Monday and talking to her on Thursday is one
person reached, not two).

A goal is set *from* a week on: ``goal 3`` applies to this week and every week after, and the
recap's "raise to 4 next week" applies from next Monday. Each week is judged by the goal that
was in force that week, so raising the bar never rewrites past weeks. The streak counts the
consecutive weeks that met their goal, ending with last week (and this week too once it is
met); a missed week, or a week without a goal, simply starts a new one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from bot.core.text import one_line

#: The highest weekly goal: more than this is a campaign, not a habit.
MAX_GOAL = 50
#: What the welcome and the help suggest.
SUGGESTED_GOAL = 3
#: How many past weeks a streak looks back (the reads fetch that much history, no more).
STREAK_WEEKS = 53

_WEEK = timedelta(days=7)
_OFF_WORDS = frozenset({"off", "none", "no", "stop", "clear", "0", "zero"})


class GoalError(ValueError):
    """A goal that can't be understood or is out of range; the message is for the user."""


@dataclass(frozen=True, slots=True)
class GoalChange:
    """The goal in force from ``week_start`` (a Monday) on; ``goal == 0`` means none."""

    week_start: date
    goal: int


@dataclass(frozen=True, slots=True)
class Reach:
    """One person reached on one local day (an outreach or a logged conversation)."""

    day: date
    contact_id: int


@dataclass(frozen=True, slots=True)
class WeekProgress:
    """This week's goal, how far along it is, and the streak."""

    week_start: date
    goal: int  # 0: no goal this week
    done: int  # people reached this week so far
    streak: int  # consecutive weeks met, this one included once it is met
    #: The streak that ended last week with a missed week (for a kind "fresh start"), else 0.
    broken: int = 0

    @property
    def met(self) -> bool:
        """Whether this week's goal is met (never, without a goal)."""
        return self.goal > 0 and self.done >= self.goal

    def line(self) -> str:
        """``"2 of 3 this week"`` (empty without a goal)."""
        if self.goal <= 0:
            return ""
        return f"{self.done} of {self.goal} this week"

    def streak_line(self) -> str:
        """The streak as a sentence, never scolding: empty when there is nothing to say."""
        if self.streak >= 2:
            return f"Streak: {self.streak} weeks in a row."
        if self.streak == 1:
            return "Streak: 1 week — keep it going."
        if self.broken:
            return "Every week is a fresh start."
        return ""


@lru_cache(maxsize=4096)
def week_start(day: date) -> date:
    """The Monday of ``day``'s week. (Cached: a recap pass asks this for every day of every
    user's year, and there are only so many days.)"""
    return day - timedelta(days=day.weekday())


def goal_for(changes: Sequence[GoalChange], week: date) -> int:
    """The goal in force in the week starting ``week`` (0: none)."""
    goal = 0
    for change in sorted(changes, key=lambda c: c.week_start):
        if change.week_start <= week:
            goal = change.goal
        else:
            break
    return goal


def weekly_counts(reached: Iterable[Reach]) -> dict[date, int]:
    """``{Monday: different people reached that week}``."""
    seen: dict[date, set[int]] = {}
    for item in reached:
        seen.setdefault(week_start(item.day), set()).add(item.contact_id)
    return {week: len(people) for week, people in seen.items()}


def progress(changes: Sequence[GoalChange], reached: Iterable[Reach], today: date) -> WeekProgress:
    """This week's progress and the streak, as of the local date ``today``.

    ``reached`` needs the last :data:`STREAK_WEEKS` weeks (older entries are ignored).
    """
    this_week = week_start(today)
    counts = weekly_counts(r for r in reached if r.day <= today)
    ordered = sorted(changes, key=lambda c: c.week_start)
    starts = [c.week_start for c in ordered]

    def wanted(week: date) -> int:
        # The latest change on or before ``week`` (composing runs this for every recap).
        at = bisect_right(starts, week)
        return ordered[at - 1].goal if at else 0

    def run_from(week: date) -> int:
        """Weeks met in a row, going back from ``week``."""
        n = 0
        for _ in range(STREAK_WEEKS):
            goal = wanted(week)
            if goal <= 0 or counts.get(week, 0) < goal:
                break
            n += 1
            week -= _WEEK
        return n

    goal = wanted(this_week)
    done = counts.get(this_week, 0)
    streak = run_from(this_week - _WEEK)
    # Last week was missed: was there a streak before it? (Only to say "fresh start".)
    broken = run_from(this_week - 2 * _WEEK) if streak == 0 else 0
    if goal > 0 and done >= goal:
        streak += 1
    return WeekProgress(this_week, goal, done, streak, broken)


def parse_goal(text: str) -> int | None:
    """``""`` → ``None`` (show the goal); ``"3"`` → 3; ``"off"``/``"0"`` → 0 (no goal).

    Raises :class:`GoalError` with a friendly message for anything else.
    """
    words = " ".join(text.split()).lower()
    for filler in ("a week", "per week", "each week", "every week", "/week", "people"):
        words = words.replace(filler, " ")
    words = words.strip()
    if not words:
        return None
    if words in _OFF_WORDS:
        return 0
    digits = words.removeprefix("-")
    if digits.isascii() and digits.isdigit():
        value = int(digits[:6]) * (-1 if words.startswith("-") else 1)
        if 1 <= value <= MAX_GOAL:
            return value
        raise GoalError(
            f"A weekly goal can be 1 to {MAX_GOAL} people — a few a week is plenty to keep "
            f"your network warm. Try `goal {SUGGESTED_GOAL}`."
        )
    shown = one_line(text)[:40]
    raise GoalError(
        f"I couldn't read “{shown}” as a number of people. Try `goal {SUGGESTED_GOAL}`, "
        "or `goal off` to have no goal."
    )


def people(n: int) -> str:
    """``"1 person"``, ``"3 people"``."""
    return f"{n} {'person' if n == 1 else 'people'}"
