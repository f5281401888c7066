"""Courage from the user's own record: "Last month you were sure Ahmed wouldn't answer. Ahmed
replied the next day, glad to hear from you."

The morning pass reads an :class:`EvidenceHint` per user (``storage.compose_reads``); the
nudge shows :func:`story_text` under a courage or mind-reading prompt when there is a story to
tell, and the mind-reading prompts that ask "did people react as you predicted?" only come up
once the user has made a prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.evidence import Expectation

#: Prompts that ask the user to compare with their predictions: only once one exists.
NEEDS_PREDICTION = frozenset({"mind-reading-07"})


@dataclass(frozen=True, slots=True)
class Story:
    """One feared outreach that turned out better (the contact's first name only)."""

    first_name: str
    expected: Expectation
    actual: Expectation
    reached_on: date
    replied_on: date | None


@dataclass(frozen=True, slots=True)
class EvidenceHint:
    """What a nudge needs of the user's evidence."""

    #: Whether the user has ever made a prediction.
    predicted: bool = False
    #: The most recent fear that turned out better, if any.
    story: Story | None = None


_FEARED = {
    Expectation.NO_REPLY: "you were sure {name} wouldn't answer",
    Expectation.BRUSH_OFF: "you expected {name} to brush you off",
}
_HAPPENED = {
    Expectation.BRUSH_OFF: "",
    Expectation.GLAD: ", glad to hear from you",
    Expectation.GO_OUT_OF_WAY: " and went out of their way to help",
}


def better(expected: Expectation, actual: Expectation) -> bool:
    """Whether ``actual`` is warmer than the feared ``expected``."""
    order = list(Expectation)
    return expected.cold and order.index(actual) > order.index(expected)


def when(day: date, today: date) -> str:
    """``"This week"``, ``"Last week"``, ``"Last month"``, ``"In September"``,
    ``"In September 2025"``."""
    age = (today - day).days
    if age < 7 and day.isocalendar()[:2] == today.isocalendar()[:2]:
        return "This week"
    if age < 14:
        return "Last week"
    months = (today.year - day.year) * 12 + today.month - day.month
    if months <= 1:
        return "Last month" if months == 1 else "Earlier this month"
    return f"In {day:%B}" if day.year == today.year else f"In {day:%B %Y}"


def _wait(story: Story) -> str:
    if story.replied_on is None or story.replied_on < story.reached_on:
        return ""
    days = (story.replied_on - story.reached_on).days
    return {0: " the same day", 1: " the next day"}.get(days, f" {days} days later")


def story_text(story: Story, today: date) -> str:
    """The story as one or two sentences (the name inserted literally)."""
    name = " ".join(story.first_name.split())
    feared = _FEARED[story.expected].replace("{name}", name or "they")
    happened = _HAPPENED[story.actual]
    subject = name or "They"
    return f"{when(story.reached_on, today)} {feared}. {subject} replied{_wait(story)}{happened}."
