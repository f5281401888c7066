"""A group's weekly rhythm: when its Monday theme and Friday recap are due, in the group's own
time zone (DST-correct), its pause, and the coach's settings as typed (``group settings …``).

Platform-neutral and free of storage: the clock (:mod:`jobs.group_runner`) asks
:func:`due_posts`; the commands (:mod:`bot.core.groups.rhythm_commands`) parse with
:func:`parse_settings` and :func:`parse_group_pause`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from bot.core.dates import canonical_zone, unknown_zone_message, zone
from bot.core.preferences import PauseError, parse_pause
from bot.core.schedule import DAY_NAMES, INDEFINITELY, parse_time

__all__ = [
    "DEFAULT_GRACE",
    "RECAP",
    "THEME",
    "GroupSchedule",
    "SettingsError",
    "describe",
    "due_posts",
    "local_monday",
    "parse_group_pause",
    "parse_settings",
    "post_instant",
]

THEME = "theme"
RECAP = "recap"
#: A post is due from its time until this much later (a clock that was down catches up the
#: same day, never a day late).
DEFAULT_GRACE = timedelta(hours=3)
#: Quiet after this many days without activity: the coach's view's bounds.
QUIET_MIN, QUIET_MAX = 3, 90

_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class GroupSchedule:
    """A group's rhythm settings (the columns of ``groups`` they come from)."""

    timezone: str = "UTC"
    theme_day: int = 0
    theme_at: time = time(9, 0)
    recap_day: int = 4
    recap_at: time = time(15, 0)
    paused_until: date | None = None  # paused up to and including this local date
    shoutouts: bool = False
    quiet_days: int = 14

    def paused_on(self, day: date) -> bool:
        """Whether nothing is posted on the local date ``day``."""
        return self.paused_until is not None and day <= self.paused_until

    def slot(self, kind: str) -> tuple[int, time]:
        """``(weekday, local time)`` of a kind of post."""
        return (self.theme_day, self.theme_at) if kind == THEME else (self.recap_day, self.recap_at)


def local_monday(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def post_instant(schedule: GroupSchedule, kind: str, monday: date) -> datetime:
    """The UTC instant of a kind of post in the week starting ``monday``, at the group's local
    time. In a spring-forward gap it is the instant the clock jumps; in a fall-back overlap,
    the first of the two."""
    weekday, at = schedule.slot(kind)
    day = monday + timedelta(days=weekday)
    local = datetime.combine(day, at).replace(tzinfo=zone(schedule.timezone), fold=0)
    return local.astimezone(UTC)


def due_posts(
    schedule: GroupSchedule, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> list[tuple[str, date]]:
    """The posts due at ``now``: ``(kind, Monday of the group's week)``.

    A post is due from its local time until ``grace`` later, unless the group is paused on its
    local day. Last week is looked at too, for a Sunday post whose grace runs into Monday.
    """
    today = now.astimezone(zone(schedule.timezone)).date()
    this_week = local_monday(today)
    due: list[tuple[str, date]] = []
    for monday in (this_week - timedelta(days=7), this_week):
        for kind in (THEME, RECAP):
            start = post_instant(schedule, kind, monday)
            weekday, _ = schedule.slot(kind)
            if start <= now <= start + grace and not schedule.paused_on(
                monday + timedelta(days=weekday)
            ):
                due.append((kind, monday))
    return due


class SettingsError(ValueError):
    """Settings that can't be understood; the message is for the coach (nothing changed)."""


_KEYS = {
    "timezone": "timezone",
    "tz": "timezone",
    "zone": "timezone",
    "time zone": "timezone",
    "theme": "theme",
    "monday": "theme",
    "recap": "recap",
    "quiet": "quiet",
    "quiet_days": "quiet",
}
_KEY_RE = re.compile(
    r"\b(time zone|timezone|tz|zone|theme|recap|shout-?outs?|quiet(?:_days)?)\b", re.IGNORECASE
)
_ON = frozenset({"on", "yes", "true", "1"})
_OFF = frozenset({"off", "no", "false", "0"})


def parse_settings(text: str, current: GroupSchedule) -> GroupSchedule:
    """``"timezone Europe/Paris"``, ``"theme monday 9:00"``, ``"recap fri 3pm"``,
    ``"shoutouts on"``, ``"quiet 10"`` — several may follow each other. Raises
    :class:`SettingsError` (friendly, nothing changed) for anything unreadable."""
    words = " ".join(text.split())
    marks = list(_KEY_RE.finditer(words))
    if not marks or words[: marks[0].start()].strip():
        raise SettingsError(
            "I couldn't read that. Try `group settings timezone Europe/Paris`, "
            "`group settings theme monday 09:00`, `group settings recap friday 15:00`, "
            "`group settings shoutouts on` or `group settings quiet 14`."
        )
    updated = current
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(words)
        word = mark.group(1).lower()
        key = "shoutouts" if word.startswith("shout") else _KEYS[word]
        updated = _apply(updated, key, words[mark.end() : end].strip())
    return updated


def _apply(schedule: GroupSchedule, key: str, value: str) -> GroupSchedule:
    shown = value[:40]
    match key:
        case "timezone":
            known = canonical_zone(value) if value else None
            if known is None:
                raise SettingsError(unknown_zone_message(value or "(none)"))
            return replace(schedule, timezone=known)
        case "theme" | "recap":
            day, at = _day_and_time(value, key)
            if key == "theme":
                return replace(
                    schedule,
                    theme_day=schedule.theme_day if day is None else day,
                    theme_at=schedule.theme_at if at is None else at,
                )
            return replace(
                schedule,
                recap_day=schedule.recap_day if day is None else day,
                recap_at=schedule.recap_at if at is None else at,
            )
        case "shoutouts":
            if value.lower() in _ON:
                return replace(schedule, shoutouts=True)
            if value.lower() in _OFF:
                return replace(schedule, shoutouts=False)
            raise SettingsError(f"Shout-outs are `on` or `off` — I couldn't read “{shown}”.")
        case _:
            digits = value.lower().removesuffix("days").removesuffix("day").strip()
            if digits.isascii() and digits.isdigit() and QUIET_MIN <= int(digits) <= QUIET_MAX:
                return replace(schedule, quiet_days=int(digits))
            raise SettingsError(
                f"Quiet days are a number from {QUIET_MIN} to {QUIET_MAX}, like `quiet 14`."
            )


def _day_and_time(value: str, key: str) -> tuple[int | None, time | None]:
    """``"friday 15:00"``, ``"fri"``, ``"3pm"`` → weekday and/or time."""
    example = "monday 09:00" if key == "theme" else "friday 15:00"
    parts = value.lower().split()
    day: int | None = None
    if parts and parts[0][:3] in {d.lower() for d in DAY_NAMES}:
        word = parts.pop(0).rstrip(",")
        candidates = [i for i, name in enumerate(_FULL_DAYS) if name.startswith(word)]
        if len(word) < 3 or not candidates:
            raise SettingsError(f"I couldn't read the day — try `{key} {example}`.")
        day = candidates[0]
    at: time | None = None
    if parts:
        at = parse_time(" ".join(parts).removeprefix("at ").strip())
        if at is None:
            raise SettingsError(f"I couldn't read the time — try `{key} {example}`.")
    if day is None and at is None:
        raise SettingsError(f"Say a day and a time, like `{key} {example}`.")
    return day, at


def parse_group_pause(text: str, today: date) -> date:
    """``"until 5 Jan"`` / ``"for 2 weeks"`` / ``""`` → the last local date the rhythm is
    paused (the day before it comes back; far in the future for "until resumed").
    Raises :class:`SettingsError` for anything unreadable or past."""
    try:
        back = parse_pause(text, today)
    except PauseError as exc:
        raise SettingsError(str(exc).replace("`pause", "`group pause")) from None
    return INDEFINITELY if back == INDEFINITELY else back - timedelta(days=1)


def describe(schedule: GroupSchedule, today: date) -> str:
    """The settings in one paragraph, for the coach."""
    theme_day = _FULL_DAYS[schedule.theme_day].capitalize()
    recap_day = _FULL_DAYS[schedule.recap_day].capitalize()
    parts = [
        f"Time zone {schedule.timezone}.",
        f"Theme on {theme_day}s at {schedule.theme_at:%H:%M},"
        f" recap on {recap_day}s at {schedule.recap_at:%H:%M}.",
        f"Shout-outs {'on' if schedule.shoutouts else 'off'}.",
        f"Members show as quiet after {schedule.quiet_days} days.",
    ]
    if schedule.paused_until is not None and schedule.paused_until >= today:
        if schedule.paused_until == INDEFINITELY:
            parts.append("The rhythm is paused until you resume it.")
        else:
            back = schedule.paused_until + timedelta(days=1)
            parts.append(f"The rhythm is paused; it comes back on {back:%A, %d %B}.")
    return " ".join(parts)
