"""The coach's view and Home section at every sharing level: each member shows exactly what
their level allows, even when a snapshot (wrongly) carries more — the view checks the level
itself, so one mistake cannot show a member's names or outcomes."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.goals import GoalChange
from bot.core.groups.coach import Event, coach_reply, home_blocks, member_weeks, quiet_days
from bot.core.groups.coach_ports import (
    GroupInfo,
    GroupSnapshot,
    MemberView,
    OutcomeNote,
    StepNote,
    WeekNumbers,
)
from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef
from bot.core.replies import Actions, Context, Header, Section, plain

TODAY = date(2026, 11, 25)
WEEK = date(2026, 11, 23)
GROUP = GroupInfo(7, "Spring cohort", "slack", "T1", "C1", quiet_days=14)
WEEKS = (
    *(
        WeekNumbers(
            date(2026, 10, 19) + (WEEK - date(2026, 11, 16)) * 0 + i * (WEEK - date(2026, 11, 16))
        )
        for i in range(5)
    ),
    WeekNumbers(WEEK, outreach=3, replies=2, conversations=1, reached=3, goal=2),
)


def member(level: SharingLevel, *, active: date | None = TODAY) -> MemberView:
    """A member whose snapshot carries everything, whatever their level."""
    return MemberView(
        member_id=1,
        user=UserRef("slack", "T1", "U1"),
        level=level,
        display_name="Ada One",
        joined_on=date(2026, 11, 2),
        weeks=WEEKS,
        last_active=active,
        reached_names=("Dana Whitfield",),
        outcomes=(OutcomeNote("Dana Whitfield", "an interview"),),
        steps=(StepNote("Dana Whitfield", "send CV", date(2026, 11, 27)),),
    )


def text_of(blocks: tuple[object, ...]) -> str:
    out = []
    for block in blocks:
        if isinstance(block, Section | Context):
            out.append(plain(block.parts))
        elif isinstance(block, Header):
            out.append(block.text)
        elif isinstance(block, Actions):
            out.extend(b.label for b in block.buttons)
    return "\n".join(out)


EXPECTED = {
    SharingLevel.MEMBERSHIP: ("in the group (shares membership only)", ()),
    SharingLevel.NUMBERS: (
        "this week: 3 outreach, 2 replies, 1 conversation, goal met (3 of 2)",
        (),
    ),
    SharingLevel.NAMES: ("Reached this week: Dana Whitfield.", ("Dana Whitfield",)),
    SharingLevel.OUTCOMES: (
        "Outcomes: an interview (Dana Whitfield). Next steps: “send CV” with Dana Whitfield by 27 Nov.",
        ("Dana Whitfield", "an interview", "send CV"),
    ),
}


@pytest.mark.parametrize("level", list(SharingLevel))
def test_every_level_against_the_coach_view(level: SharingLevel) -> None:
    reply = coach_reply([GroupSnapshot(GROUP, WEEK, (member(level),))], TODAY)
    text = text_of(reply.blocks)
    shown, allowed = EXPECTED[level]
    assert shown in text
    for secret in ("Dana Whitfield", "an interview", "send CV"):
        assert (secret in text) == (secret in allowed), (level, secret)
    if level is SharingLevel.MEMBERSHIP:
        assert "3 outreach" not in text and "No member shares their numbers yet." in text
    else:
        assert "This week: 3 outreach, 2 replies, 1 conversation, 1 goal met" in text


@pytest.mark.parametrize("level", list(SharingLevel))
def test_every_level_against_the_home_section(level: SharingLevel) -> None:
    text = text_of(home_blocks([GroupSnapshot(GROUP, WEEK, (member(level),))], TODAY))
    assert "Spring cohort" in text and "1 member" in text
    for secret in ("Ada One", "Dana Whitfield", "an interview", "send CV"):
        assert secret not in text
    numbers = "3 outreach, 2 replies, 1 conversation" in text
    assert numbers == level.allows(SharingLevel.NUMBERS)


@pytest.mark.parametrize("level", list(SharingLevel))
def test_quiet_is_shown_only_for_members_who_share_numbers(level: SharingLevel) -> None:
    quiet = member(level, active=date(2026, 11, 1))
    reply = coach_reply([GroupSnapshot(GROUP, WEEK, (quiet,))], TODAY)
    text = text_of(reply.blocks)
    shares = level.allows(SharingLevel.NUMBERS)
    assert ("Gone quiet: Ada One (no activity for 24 days)" in text) == shares
    assert ("Send a kind check-in to Ada One" in text) == shares
    assert (quiet_days(quiet, TODAY, 14) is not None) == shares


def test_a_member_is_quiet_from_the_quiet_days_on() -> None:
    m = member(SharingLevel.NUMBERS, active=date(2026, 11, 12))
    assert quiet_days(m, TODAY, 14) is None
    assert quiet_days(m, TODAY, 13) == 13
    never = member(SharingLevel.NUMBERS, active=None)
    assert quiet_days(never, TODAY, 14) == 23  # since joining


def test_week_numbers_count_outreach_replies_conversations_and_people() -> None:
    weeks = (date(2026, 11, 16), WEEK)
    events = [
        Event(date(2026, 11, 17), 1, True, replied_on=date(2026, 11, 24)),  # reply this week
        Event(date(2026, 11, 23), 2, True, actual="glad"),  # replied, day unknown
        Event(date(2026, 11, 23), 3, True, actual="no_reply"),
        Event(date(2026, 11, 24), 2, False),  # same person as the outreach: one reached
        Event(date(2026, 11, 1), 4, False),  # before the window
    ]
    last, this = member_weeks(weeks, events, [GoalChange(date(2026, 11, 16), 2)])
    assert (last.outreach, last.replies, last.conversations, last.reached) == (1, 0, 0, 1)
    assert (this.outreach, this.replies, this.conversations, this.reached) == (2, 2, 1, 2)
    assert this.goal == 2 and this.met and not last.met


def test_many_members_stay_within_platform_limits() -> None:
    members = tuple(
        MemberView(
            member_id=i,
            user=UserRef("slack", "T1", f"U{i}"),
            level=SharingLevel.OUTCOMES,
            display_name=f"Member number {i} with a rather long display name",
            joined_on=date(2026, 1, 1),
            weeks=WEEKS,
            last_active=date(2026, 1, 1),
            reached_names=tuple(f"Contact {n} of {i}" for n in range(8)),
            outcomes=(OutcomeNote("Someone", "an interview and a referral"),) * 3,
            steps=(StepNote("Someone", "x" * 200, TODAY),) * 3,
        )
        for i in range(40)
    )
    reply = coach_reply([GroupSnapshot(GROUP, WEEK, members)], TODAY)
    assert len(reply.blocks) <= 50
    for block in reply.blocks:
        if isinstance(block, Section):
            assert len(plain(block.parts)) <= 3000
        if isinstance(block, Actions):
            assert len(block.buttons) <= 5
