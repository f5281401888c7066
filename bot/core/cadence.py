"""How often to stay in touch with a contact, and when they are next due."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from dateutil.relativedelta import relativedelta


class Unit(StrEnum):
    """The unit of a cadence or a snooze."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class CadenceError(ValueError):
    """Raised with a friendly, user-facing message when a cadence cannot be read."""


# Longest cadence or snooze we accept: two years, in each unit.
_MAX = {Unit.DAYS: 730, Unit.WEEKS: 104, Unit.MONTHS: 24}

_WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "other": 2,
}

_UNIT_WORDS = {
    "d": Unit.DAYS,
    "day": Unit.DAYS,
    "days": Unit.DAYS,
    "w": Unit.WEEKS,
    "wk": Unit.WEEKS,
    "wks": Unit.WEEKS,
    "week": Unit.WEEKS,
    "weeks": Unit.WEEKS,
    "m": Unit.MONTHS,
    "mo": Unit.MONTHS,
    "mos": Unit.MONTHS,
    "month": Unit.MONTHS,
    "months": Unit.MONTHS,
    "fortnight": Unit.WEEKS,
    "quarter": Unit.MONTHS,
    "year": Unit.MONTHS,
    "years": Unit.MONTHS,
}

_SPECIAL_MULTIPLIER = {"fortnight": 2, "quarter": 3, "year": 12, "years": 12}

_AMOUNT = re.compile(r"^(?:(?P<count>\d{1,9})\s*|(?P<word>[a-z]+)\s+)?(?P<unit>[a-z]+)$")


@dataclass(frozen=True, slots=True)
class Span:
    """A count of days, weeks or months, e.g. ``Span(2, Unit.MONTHS)``."""

    count: int
    unit: Unit

    def after(self, day: date) -> date:
        """The date ``self`` after ``day`` (month arithmetic clamps to the month's last day).

        Never raises: past the last representable date it is :data:`datetime.date.max`.
        """
        try:
            if self.unit is Unit.DAYS:
                return day + timedelta(days=self.count)
            if self.unit is Unit.WEEKS:
                return day + timedelta(weeks=self.count)
            return day + relativedelta(months=self.count)
        except (OverflowError, ValueError):  # year 10000
            return date.max

    def describe(self) -> str:
        """``"2 months"``, ``"week"`` — the words after "every" or "for"."""
        if self.count == 1:
            return self.unit.value[:-1]
        return f"{self.count} {self.unit.value}"

    def duration(self) -> str:
        """``"a week"``, ``"2 weeks"`` — the words after "for"."""
        return f"a {self.describe()}" if self.count == 1 else self.describe()

    def every(self) -> str:
        """``"every 2 months"``."""
        return f"every {self.describe()}"

    def encode(self) -> str:
        """A compact, parseable form used in form option values: ``"2 months"``."""
        return f"{self.count} {self.unit.value}"


def later(day: date, delta: timedelta) -> date:
    """``day + delta``, or :data:`datetime.date.max` rather than an ``OverflowError``."""
    try:
        return day + delta
    except OverflowError:
        return date.max


#: The furthest ahead anything is scheduled — a due date, a snooze, a follow-up, a pause: two
#: years from today. Snoozes count from the due date when that is later, so without a cap they
#: stack (ten two-year snoozes put someone out of sight for twenty years).
MAX_AHEAD = Span(24, Unit.MONTHS)


def horizon(today: date) -> date:
    """The last day anything may be scheduled for, seen from ``today``."""
    return MAX_AHEAD.after(today)


DEFAULT_CADENCE = Span(6, Unit.WEEKS)
DEFAULT_SNOOZE = Span(1, Unit.WEEKS)

EXAMPLES = "“every 3 weeks”, “every 2 months” or “every 10 days”"


def parse_span(
    text: str, *, what: str = "snooze", max_unit: Unit = Unit.MONTHS, shown: str | None = None
) -> Span:
    """Read ``"2 months"``, ``"a week"``, ``"10d"`` or ``"fortnight"`` into a :class:`Span`.

    Raises :class:`CadenceError` with a message meant for the user; ``shown`` is the text to quote
    back to them (defaults to ``text``).
    """
    raw = " ".join(text.lower().split())
    match = _AMOUNT.match(raw)
    unit = _UNIT_WORDS.get(match.group("unit")) if match else None
    word = match.group("word") if match else None
    unreadable = CadenceError(
        f"I couldn't read “{(shown or text).strip()}” as a {what}. Try {_examples(what)}."
    )
    if match is None or unit is None or (word is not None and word not in _WORD_NUMBERS):
        raise unreadable
    if match.group("count") is not None:
        count = int(match.group("count"))
    elif word is not None:
        count = _WORD_NUMBERS[word]
    else:
        count = 1
    count *= _SPECIAL_MULTIPLIER.get(match.group("unit"), 1)
    if count < 1:
        raise CadenceError(f"A {what} needs at least 1 day. Try {_examples(what)}.")
    if list(Unit).index(unit) > list(Unit).index(max_unit):
        raise CadenceError(f"A {what} can be days or weeks. Try {_examples(what)}.")
    if count > _MAX[unit]:
        raise CadenceError(
            f"{count} {unit.value} is longer than I can plan for — the most is two years."
        )
    return Span(count, unit)


def parse_cadence(text: str) -> Span:
    """Read ``"every 2 months"`` (the word “every” optional) into a :class:`Span`."""
    body = text.strip()
    if body.lower().startswith("every"):
        body = body[5:]
    if not body.strip():
        raise CadenceError(f"Every how often? Try {EXAMPLES}.")
    return parse_span(body, what="cadence", shown=text)


def _examples(what: str) -> str:
    return EXAMPLES if what == "cadence" else "“3 days” or “2 weeks”"


#: The choices offered in forms, in order.
CADENCE_CHOICES: tuple[Span, ...] = (
    Span(2, Unit.WEEKS),
    Span(1, Unit.MONTHS),
    Span(6, Unit.WEEKS),
    Span(2, Unit.MONTHS),
    Span(3, Unit.MONTHS),
    Span(6, Unit.MONTHS),
    Span(12, Unit.MONTHS),
)
