"""Corpus tests for the group posts' text: every theme of the library and recaps over many
combinations of numbers, levels and shout-outs read as correct English, carry no raw input
beyond a member's own shared win, and name nobody who may not be named."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest

from bot.adapters.console.render import render
from bot.core.groups.levels import SharingLevel
from bot.core.groups.recap import (
    GroupRecapInputs,
    Member,
    MemberWeek,
    SharedWin,
    compose_group_recap,
    render_group_recap,
)
from bot.core.groups.themes import HURDLES, LIBRARY, exercise_for, render_theme
from bot.core.replies import Mention, Reply

MONDAY = date(2026, 11, 23)
_BROKEN = (
    re.compile(r"\b1 (times|people|members|conversations)\b"),
    re.compile(r"\b(0|[2-9]\d*) (person|member|conversation)\b"),
    re.compile(r"\b(\w+) \1\b", re.I),
    re.compile(r"\s[,.;]"),
    re.compile(r"\.\."),
    re.compile(r"\{|\}|None|\[\]"),
    re.compile(r"\b1 of those were\b|\bonce times\b"),
)


def text_of(reply: Reply) -> str:
    return render(reply)[0]


def grammatical(text: str) -> None:
    for pattern in _BROKEN:
        assert not pattern.search(text), (pattern.pattern, text)


def mentions(reply: Reply) -> set[str]:
    found = set()
    for block in reply.blocks:
        for part in getattr(block, "parts", ()):
            if isinstance(part, Mention):
                found.add(part.user_id)
    return found


def test_the_library_has_three_exercises_per_hurdle_each_rendered_well() -> None:
    assert len({e.key for e in LIBRARY}) == len(LIBRARY) == 3 * len(HURDLES)
    for hurdle in range(len(HURDLES)):
        assert sum(e.hurdle == hurdle for e in LIBRARY) == 3
    for exercise in LIBRARY:
        text = text_of(render_theme(exercise, 7, MONDAY))
        grammatical(text)
        assert exercise.title in text and "This week I'll reach out to" in text
        for line in (exercise.prompt, *exercise.steps):
            assert line[0].isupper() and line.endswith((".", "?", ":")), line


def test_a_group_meets_every_exercise_before_any_repeats() -> None:
    for group_id in (1, 2, 17, 999):
        weeks = [exercise_for(group_id, MONDAY + timedelta(weeks=w)) for w in range(len(LIBRARY))]
        assert len({e.key for e in weeks}) == len(LIBRARY)
        hurdles = [e.hurdle for e in weeks]
        assert all(a != b for a, b in itertools.pairwise(hurdles))  # a new hurdle each week


LEVELS = list(SharingLevel)


@pytest.mark.parametrize("shoutouts", [True, False])
@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_recaps_read_well_and_name_only_whom_they_may(shoutouts: bool, platform: str) -> None:
    numbers = [0, 1, 2, 3, 31]
    for n, (a, b, c) in enumerate(itertools.product(numbers, repeat=3)):
        levels = [LEVELS[(n + k) % 4] for k in range(4)]
        members = [Member(k, f"U{k}", level) for k, level in enumerate(levels)]
        weeks = {
            k: MemberWeek(
                outreach=a,
                replied=min(a, b),
                conversations=c,
                outcomes=min(c, 1),
                reached=a,
                goal=(k % 3),
                silence=b,
                silence_replied=min(b, a),
                brushoff=c % 3,
                brushoff_warm=(c % 3) // 2,
            )
            for k in range(4)
        }
        wins = [SharedWin(1, "Got the <b>interview</b> — thanks all!"), SharedWin(99, "gone")]
        content = compose_group_recap(
            MONDAY,
            GroupRecapInputs(members, weeks, wins),
            shoutouts=shoutouts,
            platform=platform,
        )
        reply = render_group_recap(content)
        text = text_of(reply)
        grammatical(text)
        allowed = {
            m.external_id
            for m in members
            if shoutouts and platform == "slack" and m.level.allows(SharingLevel.NAMES)
        }
        assert mentions(reply) <= allowed
        assert "gone" not in text  # a member who left is in no view
        membership = [m for m in members if m.level is SharingLevel.MEMBERSHIP]
        assert content.counted == len(members) - len(membership)
        assert "1st" not in text and "rank" not in text.replace("No rankings", "")
