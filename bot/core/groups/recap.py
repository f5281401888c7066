"""The Friday recap in a group's channel: what the group did together this week.

Only aggregates: every member's numbers are added into the group's totals, and only as far as
their sharing level allows (:mod:`bot.core.groups.levels`): a member at *membership only*
counts in no number, outcomes come only from members who share them. A member is named only
when their level allows names *and* the coach turned shout-outs on, and never next to a
number: there is no leaderboard. Contacts, notes and conversation notes never appear; shared
wins are the members' own words, which they chose to share.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date, timedelta

from bot.core.groups.levels import SharingLevel
from bot.core.replies import Block, Context, Header, Inline, Mention, Reply, context, section
from bot.core.text import one_line

__all__ = [
    "GroupRecapContent",
    "GroupRecapInputs",
    "Member",
    "MemberWeek",
    "SharedWin",
    "compose_group_recap",
    "render_group_recap",
]

#: Shared wins shown in one recap (the wins thread has them all).
WINS_SHOWN = 10
#: A shared win's text as shown (they are at most 500 characters as stored).
WIN_SHOWN_MAX = 300


@dataclass(frozen=True, slots=True)
class Member:
    """A member of the group as the recap needs them: the platform's user id (for a
    shout-out) and the level they chose."""

    user_id: int
    external_id: str
    level: SharingLevel


@dataclass(frozen=True, slots=True)
class MemberWeek:
    """One member's week, read in aggregate (counts only, no contact, no note)."""

    outreach: int = 0
    replied: int = 0
    conversations: int = 0
    outcomes: int = 0  # conversations that led to an introduction, referral, interview or offer
    reached: int = 0  # different people reached (towards the weekly goal)
    goal: int = 0  # the weekly goal in force that week (0: none)
    silence: int = 0  # outreach where silence was expected…
    silence_replied: int = 0  # …and a reply came
    brushoff: int = 0  # outreach where a brush-off was expected…
    brushoff_warm: int = 0  # …and they were glad, or went out of their way

    @property
    def goal_met(self) -> bool:
        """Whether the week's goal was met (never without one)."""
        return self.goal > 0 and self.reached >= self.goal


@dataclass(frozen=True, slots=True)
class SharedWin:
    """A win a member shared with the group this week."""

    user_id: int
    text: str


@dataclass(slots=True)
class GroupRecapInputs:
    """What composing one group's recap needs (read in bulk by ``storage.group_stats``)."""

    members: list[Member] = field(default_factory=list)
    weeks: dict[int, MemberWeek] = field(default_factory=dict)
    wins: list[SharedWin] = field(default_factory=list)


@dataclass(slots=True)
class GroupRecapContent:
    """Everything a group recap shows, as stored (a retry posts exactly this)."""

    start: str
    end: str
    platform: str = "slack"
    members: int = 0  # members of the group, whatever they share
    counted: int = 0  # members whose numbers are in the totals
    outreach: int = 0
    replied: int = 0
    conversations: int = 0
    outcomes: int = 0
    outcome_members: int = 0  # members who share outcomes
    goals_set: int = 0
    goals_met: int = 0
    silence: int = 0
    silence_replied: int = 0
    brushoff: int = 0
    brushoff_warm: int = 0
    #: ``[text, user id or ""]``: the member is named only where allowed.
    wins: list[list[str]] = field(default_factory=list)
    #: Members named for meeting their goal (allowed and shout-outs on), as platform user ids.
    shoutouts: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """For ``group_posts.content``."""
        values = {name: getattr(self, name) for name in _FIELDS}
        return json.dumps({"kind": "recap", **values}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GroupRecapContent:
        """Back from ``group_posts.content``; ``ValueError`` for anything else."""
        try:
            data = json.loads(text)
            if data.pop("kind", None) != "recap":
                raise ValueError("not a group recap")
            return cls(**data)
        except (TypeError, AttributeError) as exc:
            raise ValueError("not a group recap") from exc


_FIELDS = tuple(f.name for f in fields(GroupRecapContent))
#: The levels' order, looked up rather than computed (a pass ranks 30,000 members).
_RANK = {level: level.rank for level in SharingLevel}


def compose_group_recap(
    monday: date, inputs: GroupRecapInputs, *, shoutouts: bool, platform: str
) -> GroupRecapContent:
    """The recap of the group's week starting ``monday``."""
    content = GroupRecapContent(
        monday.isoformat(), (monday + timedelta(days=6)).isoformat(), platform=platform
    )
    named: list[str] = []
    by_id = {m.user_id: m for m in inputs.members}
    content.members = len(inputs.members)
    for member in inputs.members:
        rank = _RANK[member.level]
        if rank < _RANK[SharingLevel.NUMBERS]:
            continue  # membership only: in no number
        week = inputs.weeks.get(member.user_id, MemberWeek())
        content.counted += 1
        content.outreach += week.outreach
        content.replied += week.replied
        content.conversations += week.conversations
        content.silence += week.silence
        content.silence_replied += week.silence_replied
        content.brushoff += week.brushoff
        content.brushoff_warm += week.brushoff_warm
        if week.goal > 0:
            content.goals_set += 1
            content.goals_met += week.goal_met
        if rank >= _RANK[SharingLevel.OUTCOMES]:
            content.outcome_members += 1
            content.outcomes += week.outcomes
        if week.goal_met and _nameable(member, shoutouts, platform):
            named.append(member.external_id)
    content.shoutouts = sorted(named)
    for win in inputs.wins[:WINS_SHOWN]:
        author = by_id.get(win.user_id)
        if author is None:
            continue  # left the group: gone from every view
        text = one_line(win.text)[:WIN_SHOWN_MAX].strip()
        if text:
            who = author.external_id if _nameable(author, shoutouts, platform) else ""
            content.wins.append([text, who])
    return content


def _nameable(member: Member, shoutouts: bool, platform: str) -> bool:
    """Named only where the member's level allows it, the coach turned shout-outs on, and the
    platform can mention them (Slack; elsewhere the recap stays anonymous)."""
    return shoutouts and platform == "slack" and member.level.allows(SharingLevel.NAMES)


def render_group_recap(content: GroupRecapContent) -> Reply:
    """The recap post."""
    start, end = date.fromisoformat(content.start), date.fromisoformat(content.end)
    title = f"Our week together ({_span(start, end)})"
    blocks: list[Block] = [Header(title)]
    active = content.outreach or content.conversations or content.replied
    if not content.members:
        blocks.append(
            section(
                "Nobody has joined the group yet, so there are no totals this week. "
                "Members join with the Join button or `group join`."
            )
        )
    elif not content.counted:
        blocks.append(
            section(
                "Nobody here shares their weekly numbers, so there are no totals this week. "
                "Monday brings a new theme."
            )
        )
    elif not active:
        blocks.append(
            section(
                "A quiet week for the group. That happens — every week is a fresh start, "
                "and Monday brings a new theme."
            )
        )
    else:
        done = []
        if content.outreach:
            done.append(f"reached out {_times(content.outreach)}")
        if content.replied:
            done.append(f"heard back {_times(content.replied)}")
        if content.conversations:
            done.append(f"had {_count(content.conversations, 'conversation')}")
        blocks.append(section(f"Together we {_join(done)}."))
    if content.outcomes:
        blocks.append(
            section(
                f"{_count(content.outcomes, 'conversation')} led to an introduction, "
                "a referral, an interview or an offer."
            )
        )
    if content.goals_set:
        met, goals = content.goals_met, _count(content.goals_set, "member")
        blocks.append(
            section(
                f"{met} of {goals} with a weekly goal met it."
                if met
                else f"Nobody met their weekly goal this time, out of {goals} who set one. "
                "Next week is a new chance."
            )
        )
    blocks.extend(_fears(content))
    if content.shoutouts:
        parts: list[Inline] = ["Shout-out to "]
        for i, user_id in enumerate(content.shoutouts):
            parts.append(Mention(user_id, "a member"))
            parts.append(_joiner(i, len(content.shoutouts)))
        parts.append(" for meeting the weekly goal.")
        blocks.append(section(*parts))
    if content.wins:
        blocks.append(section("Wins shared this week:"))
        for text, who in content.wins:
            line: list[Inline] = [f"• “{text}”"]
            if who:
                line += [" — ", Mention(who, "a member")]
            blocks.append(section(*line))
    blocks.append(_footer(content))
    return Reply(summary=title, blocks=tuple(blocks))


def _fears(content: GroupRecapContent) -> list[Block]:
    """Fears vs facts in aggregate, once members make predictions."""
    lines = []
    if content.silence:
        replied = content.silence_replied
        if content.silence == 1:
            outcome = "they replied." if replied else "no reply yet."
        else:
            outcome = f"{replied} of those got a reply." if replied else "no replies yet."
        lines.append(f"We expected silence {_times(content.silence)}; {outcome}")
    if content.brushoff:
        warm = content.brushoff_warm
        if content.brushoff == 1:
            lines.append(
                "We expected a brush-off once; "
                + ("they were glad to hear from us." if warm else "no warm welcome this time.")
            )
        else:
            lines.append(
                f"We expected a brush-off {_times(content.brushoff)}; "
                + (
                    f"{warm} of those {'was' if warm == 1 else 'were'} glad to hear from us."
                    if warm
                    else "no warm welcome this time — the next one may be."
                )
            )
    return [section(line) for line in lines]


def _footer(content: GroupRecapContent) -> Context:
    counted = content.counted
    if counted:
        who = f"{_count(counted, 'member')} who {'shares' if counted == 1 else 'share'}"
        text = f"Totals count {who} weekly numbers. No rankings: every message counts the same."
    else:
        text = "Each member chooses what they share. No rankings: every message counts the same."
    return context(text)


def _join(items: list[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _joiner(i: int, n: int) -> str:
    if i == n - 1:
        return ""
    return " and " if i == n - 2 else ", "


def _times(n: int) -> str:
    return {0: "0 times", 1: "once", 2: "twice"}.get(n, f"{n:,} times")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _span(start: date, end: date) -> str:
    if start.month == end.month:
        return f"{start.day}–{end.day} {end:%b}"
    return f"{start.day} {start:%b} – {end.day} {end:%b}"
