"""The coach's view: per group, each member at the level they chose, the weekly trend, and
who has gone quiet — composed from a :class:`~bot.core.groups.coach_ports.GroupSnapshot`.

What a level does not allow is not in the snapshot at all (the store never reads it); the
view still checks each member's level before it shows anything, so a mistake in one place
cannot show a member's names or outcomes to their coach.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core import dates
from bot.core.evidence import Expectation
from bot.core.goals import GoalChange, goal_for, week_start
from bot.core.groups.coach_ports import GroupSnapshot, MemberView, WeekNumbers
from bot.core.groups.levels import SharingLevel
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Divider,
    Header,
    Inline,
    Reply,
    Strong,
    context,
    section,
)
from bot.core.text import shorten

#: Weeks of trend shown (this week included): a month, enough to see a direction. Each week
#: more is a week more of every member's activity to read on each view.
TREND_WEEKS = 4
#: The coach view shows this many groups at once; ``coach <name>`` shows any one of them.
GROUPS_SHOWN = 3
#: A section's text stays well under Slack's 3,000 characters.
_SECTION_CHARS = 2400
#: Teams allows 6 actions per action set; Slack 25 per actions block.
_BUTTONS_PER_ROW = 5
CHECKIN_ACTION = "coach.checkin"  # value: "<group id>:<member id>"
VIEW_ACTION = "coach.view"  # value: a group id, or empty for all
_WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Event:
    """One outreach (``replied``/``actual`` set) or logged conversation of a member."""

    day: date
    contact_id: int
    outreach: bool
    replied_on: date | None = None
    actual: str | None = None


def trend_weeks(this_week: date, count: int = TREND_WEEKS) -> tuple[date, ...]:
    """The Mondays of the last ``count`` weeks, oldest first, ending with ``this_week``."""
    return tuple(this_week - _WEEK * (count - 1 - i) for i in range(count))


def member_weeks(
    weeks: Sequence[date], events: Iterable[Event], goals: Sequence[GoalChange]
) -> tuple[WeekNumbers, ...]:
    """A member's numbers for each of ``weeks``: outreach, replies (by the day they came),
    conversations logged, and different people reached (what the goal counts)."""
    first = weeks[0]
    outreach = dict.fromkeys(weeks, 0)
    replies = dict.fromkeys(weeks, 0)
    talks = dict.fromkeys(weeks, 0)
    people: dict[date, set[int]] = {w: set() for w in weeks}
    for event in events:
        week = week_start(event.day)
        if event.outreach:
            replied = event.replied_on
            if replied is None and event.actual not in (None, Expectation.NO_REPLY.value):
                replied = event.day  # a reply recorded without its day: count it then
            if replied is not None and week_start(replied) in replies:
                replies[week_start(replied)] += 1
        if week < first or week not in outreach:
            continue
        if event.outreach:
            outreach[week] += 1
        else:
            talks[week] += 1
        people[week].add(event.contact_id)
    return tuple(
        WeekNumbers(
            week_start=w,
            outreach=outreach[w],
            replies=replies[w],
            conversations=talks[w],
            reached=len(people[w]),
            goal=goal_for(goals, w),
        )
        for w in weeks
    )


def quiet_days(member: MemberView, today: date, after: int) -> int | None:
    """How many days ``member`` has been quiet when that is ``after`` days or more, else
    ``None``. Only for members who share their numbers: for a member at *membership only*,
    even "quiet" would say something about their activity."""
    if not member.level.allows(SharingLevel.NUMBERS):
        return None
    since = member.last_active or member.joined_on
    days = (today - since).days
    return days if days >= after else None


def label(member: MemberView, today: date) -> str:
    """How the coach view names a member."""
    if member.display_name:
        return member.display_name
    return f"A member who joined {dates.show(member.joined_on, today)}"


def coach_reply(
    snapshots: Sequence[GroupSnapshot], today: date, *, more: Sequence[str] = (), cmd: str = ""
) -> Reply:
    """The whole coach view for the groups given (``more``: names of groups not shown)."""
    blocks: list[Block] = [Header("Your groups")]
    for snapshot in snapshots:
        blocks.extend(_group_blocks(snapshot, today))
    if more:
        listed = ", ".join(f"“{shorten(n, 40)}”" for n in more[:10])
        blocks.append(
            context(f"You also coach {listed}. Type `{cmd}coach <group name>` to see one of them.")
        )
    blocks.append(
        context(
            "Each member shows only what they chose to share. Their contacts' details and "
            "conversation notes are never shared."
        )
    )
    names = ", ".join(s.group.name for s in snapshots)
    return Reply(summary=f"Your groups: {shorten(names, 150)}", blocks=tuple(blocks))


def _group_blocks(snapshot: GroupSnapshot, today: date) -> list[Block]:
    group = snapshot.group
    members = sorted(snapshot.members, key=lambda m: (label(m, today).casefold(), m.member_id))
    blocks: list[Block] = [Divider(), Header(shorten(group.name, 140))]
    count = len(members)
    blocks.append(
        context(
            f"{count} member{'s' if count != 1 else ''} · quiet after {group.quiet_days} days "
            f"without activity · week of {dates.show(snapshot.week_start, today)}"
        )
    )
    if group.broken:
        blocks.append(
            section(
                "⚠️ Posting in the channel has stopped (",
                _broken_reason(group.broken),
                "). Add Reconnect to the channel again to restart it.",
            )
        )
    blocks.append(section(Strong("Weekly trend"), "\n", _trend(snapshot, today)))
    if not members:
        blocks.append(section("Nobody has joined yet."))
        return blocks
    lines = [_member_line(m, snapshot, today) for m in members]
    blocks.extend(_chunked(Strong("Members"), lines))
    quiet = [
        (m, days) for m in members if (days := quiet_days(m, today, group.quiet_days)) is not None
    ]
    if quiet:
        who = "; ".join(f"{label(m, today)} ({_quiet_phrase(m, days)})" for m, days in quiet)
        blocks.append(section(Strong("Gone quiet: "), shorten(who, _SECTION_CHARS)))
        buttons = [
            Button(
                f"Send a kind check-in to {shorten(label(m, today), 30)}",
                CHECKIN_ACTION,
                f"{group.id}:{m.member_id}",
            )
            for m, _ in quiet
            if not m.checked_in
        ]
        for start in range(0, len(buttons), _BUTTONS_PER_ROW):
            blocks.append(Actions(tuple(buttons[start : start + _BUTTONS_PER_ROW])))
        sent = [label(m, today) for m, _ in quiet if m.checked_in]
        if sent:
            blocks.append(context(f"Check-in sent this week: {', '.join(sent)}."))
    return blocks


def _trend(snapshot: GroupSnapshot, today: date) -> str:
    """The group's totals per week, from members who share their numbers."""
    sharing = [m for m in snapshot.members if m.level.allows(SharingLevel.NUMBERS)]
    if not sharing:
        return "No member shares their numbers yet."
    by_week: dict[date, list[WeekNumbers]] = {}
    for m in sharing:
        for w in m.weeks:
            by_week.setdefault(w.week_start, []).append(w)
    rows = []
    for week in trend_weeks(snapshot.week_start):
        weeks = by_week.get(week, [])
        outreach = sum(w.outreach for w in weeks)
        replies = sum(w.replies for w in weeks)
        talks = sum(w.conversations for w in weeks)
        met = sum(1 for w in weeks if w.met)
        when = "This week" if week == snapshot.week_start else f"Week of {dates.show(week, today)}"
        rows.append(
            f"{when}: {_n(outreach, 'outreach', 'outreach')}, {_n(replies, 'reply', 'replies')}, "
            f"{_n(talks, 'conversation', 'conversations')}, {_n(met, 'goal met', 'goals met')}"
        )
    shared = len(sharing)
    rows.append(
        f"(from the {_n(shared, 'member', 'members')} who share{'s' if shared == 1 else ''} their numbers)"
    )
    return "\n".join(rows)


def _member_line(member: MemberView, snapshot: GroupSnapshot, today: date) -> str:
    name = label(member, today)
    if not member.level.allows(SharingLevel.NUMBERS) or not member.weeks:
        return f"• {name} — in the group (shares membership only)."
    week = member.weeks[-1]
    parts = [
        f"this week: {_n(week.outreach, 'outreach', 'outreach')}",
        _n(week.replies, "reply", "replies"),
        _n(week.conversations, "conversation", "conversations"),
    ]
    if week.goal > 0:
        parts.append(
            f"goal met ({week.reached} of {week.goal})"
            if week.met
            else f"goal {week.reached} of {week.goal}"
        )
    else:
        parts.append("no goal set")
    line = f"• {name} — {', '.join(parts)}."
    if member.level.allows(SharingLevel.NAMES):
        reached = ", ".join(member.reached_names) if member.reached_names else "nobody yet"
        line += f" Reached this week: {reached}."
    if member.level.allows(SharingLevel.OUTCOMES):
        if member.outcomes:
            line += (
                " Outcomes: " + "; ".join(f"{o.words} ({o.contact})" for o in member.outcomes) + "."
            )
        if member.steps:
            line += (
                " Next steps: "
                + "; ".join(
                    f"“{s.text}” with {s.contact} by {dates.show(s.due_on, today)}"
                    for s in member.steps
                )
                + "."
            )
    return line


def _chunked(title: Inline, lines: Sequence[str]) -> list[Block]:
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = shorten(line, _SECTION_CHARS)
        if current and size + len(line) + 1 > _SECTION_CHARS:
            blocks.append(_lines_section(title if not blocks else "", current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        blocks.append(_lines_section(title if not blocks else "", current))
    return blocks


def _lines_section(title: Inline, lines: list[str]) -> Block:
    if title == "":
        return section("\n".join(lines))
    return section(title, "\n", "\n".join(lines))


def _quiet_phrase(member: MemberView, days: int) -> str:
    if member.last_active is None:
        return (
            f"nothing logged in the {days} days since joining"
            if days < 60
            else "nothing logged lately"
        )
    return f"no activity for {days} days"


def _broken_reason(code: str) -> str:
    return {
        "is_archived": "the channel was archived",
        "not_in_channel": "Reconnect was removed from the channel",
        "channel_not_found": "the channel can't be found",
    }.get(code, "the channel can't be reached")


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def home_blocks(snapshots: Sequence[GroupSnapshot], today: date) -> tuple[Block, ...]:
    """The coach's section of the Slack Home tab: one line per group, who is quiet (with a
    check-in button), and a button to the full view."""
    if not snapshots:
        return ()
    blocks: list[Block] = [Divider(), Header("Your groups (coach)")]
    for snapshot in snapshots[:GROUPS_SHOWN]:
        group = snapshot.group
        sharing = [m for m in snapshot.members if m.level.allows(SharingLevel.NUMBERS)]
        week = [m.weeks[-1] for m in sharing if m.weeks]
        quiet = [m for m in snapshot.members if quiet_days(m, today, group.quiet_days) is not None]
        count = len(snapshot.members)
        text = (
            f"{_n(count, 'member', 'members')}, {len(quiet)} quiet. This week: "
            f"{_n(sum(w.outreach for w in week), 'outreach', 'outreach')}, "
            f"{_n(sum(w.replies for w in week), 'reply', 'replies')}, "
            f"{_n(sum(w.conversations for w in week), 'conversation', 'conversations')}."
        )
        blocks.append(
            section(
                Strong(shorten(group.name, 80)),
                " — ",
                text,
                button=Button("Open coach view", VIEW_ACTION, str(group.id)),
            )
        )
    if len(snapshots) > GROUPS_SHOWN:
        blocks.append(
            context(f"And {len(snapshots) - GROUPS_SHOWN} more: type `coach` to see them.")
        )
    return tuple(blocks)
