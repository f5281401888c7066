"""The weekly recap's rules and words: when it is due, which week it covers, what it says
(a corpus of weeks rendered and checked for grammar and leaks), its buttons and storage."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core.actions import Act
from bot.core.evidence import ConversationFacts, Expectation, NextStep, OutcomeTag, Outreach
from bot.core.goals import GoalChange, Reach
from bot.core.model import UserRef
from bot.core.recap import (
    QUESTIONS,
    RecapContent,
    RecapInputs,
    RecapPrefs,
    choose_question,
    compose_recap,
    due_recap_day,
    goal_buttons,
    recap_window,
    render_recap,
)
from bot.core.replies import Actions, Reply, plain
from bot.core.replies import Context as ContextBlock
from bot.core.replies import Header as HeaderBlock
from bot.core.replies import Section as SectionBlock
from bot.core.schedule import NudgePrefs

ADA = UserRef("slack", "T1", "U1")
FRI = date(2026, 12, 4)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- when ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "friday", "utc_16"),
    [
        ("Europe/London", date(2026, 10, 23), utc(2026, 10, 23, 15, 0)),  # BST
        ("Europe/London", date(2026, 10, 30), utc(2026, 10, 30, 16, 0)),  # GMT
        ("America/New_York", date(2026, 10, 30), utc(2026, 10, 30, 20, 0)),  # EDT
        ("America/New_York", date(2026, 11, 6), utc(2026, 11, 6, 21, 0)),  # EST
        ("Australia/Sydney", date(2026, 10, 2), utc(2026, 10, 2, 6, 0)),  # AEST
        ("Australia/Sydney", date(2026, 10, 9), utc(2026, 10, 9, 5, 0)),  # AEDT
        ("Asia/Kolkata", date(2026, 12, 4), utc(2026, 12, 4, 10, 30)),
        ("Pacific/Kiritimati", date(2026, 12, 4), utc(2026, 12, 4, 2, 0)),  # UTC+14
    ],
)
def test_due_at_16_local_on_friday_across_zones_and_dst(
    tz: str, friday: date, utc_16: datetime
) -> None:
    prefs, recap = NudgePrefs(timezone=tz), RecapPrefs()
    assert due_recap_day(recap, prefs, utc_16 - timedelta(minutes=1)) is None
    assert due_recap_day(recap, prefs, utc_16) == friday
    assert due_recap_day(recap, prefs, utc_16 + timedelta(hours=3)) == friday  # the grace
    assert due_recap_day(recap, prefs, utc_16 + timedelta(hours=3, minutes=1)) is None
    for days in range(1, 7):
        assert due_recap_day(recap, prefs, utc_16 + timedelta(days=days)) is None


def test_off_and_paused_recaps_are_never_due() -> None:
    at = utc(2026, 12, 4, 16, 0)
    assert due_recap_day(RecapPrefs(enabled=False), NudgePrefs(), at) is None
    paused = NudgePrefs(paused_until=date(2026, 12, 5))
    assert due_recap_day(RecapPrefs(), paused, at) is None
    back = NudgePrefs(paused_until=FRI)  # "pause until Friday": back that day
    assert due_recap_day(RecapPrefs(), back, at) == FRI
    # Nudge days do not matter: a user nudged only Mon–Wed still gets Friday's recap.
    assert due_recap_day(RecapPrefs(), NudgePrefs(days=0b0000111), at) == FRI
    sunday = RecapPrefs(day=6, time=time(19, 0))
    assert due_recap_day(sunday, NudgePrefs(), utc(2026, 12, 6, 19, 0)) == date(2026, 12, 6)


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 12, 4), date(2026, 11, 30), date(2026, 12, 4)),  # Friday: Mon–Fri
        (date(2026, 12, 6), date(2026, 11, 30), date(2026, 12, 6)),  # Sunday: the whole week
        (date(2026, 12, 7), date(2026, 11, 30), date(2026, 12, 6)),  # Monday: last week
        (date(2026, 12, 1), date(2026, 11, 30), date(2026, 12, 1)),
    ],
)
def test_the_week_a_recap_covers(day: date, start: date, end: date) -> None:
    assert recap_window(day) == (start, end)


# --- what it says -------------------------------------------------------------------------------

NAMES = {
    1: "Dana Whitfield",
    2: "*bold* <!channel> & Co",
    3: "Zoë Ó Briain",
    4: "李小龍",
    5: "Ahmed",
    6: "Bo",
    7: "Cy",
    8: "Di",
    9: "Ed",
    10: "Flo",
}


def inputs_for(
    goal: int, people: int, feared: int, warm: int, tags: tuple[OutcomeTag, ...], steps: int
) -> RecapInputs:
    mon = date(2026, 11, 30)
    reached = [Reach(mon + timedelta(days=i % 5), i + 1) for i in range(people)]
    outreach = [
        Outreach(
            100 + i,
            i + 1,
            mon,
            expected=Expectation.NO_REPLY if i < feared else Expectation.GLAD,
            actual=(Expectation.GLAD if i < warm else Expectation.NO_REPLY) if i < feared else None,
            replied_on=mon + timedelta(days=1) if i < warm else None,
        )
        for i in range(people)
    ]
    talks = [ConversationFacts(1, mon + timedelta(days=2), Expectation.GLAD, frozenset(tags))]
    return RecapInputs(
        reached=reached,
        names=dict(NAMES),
        goals=[GoalChange(mon - timedelta(days=14), goal)] if goal else [],
        outreach=outreach,
        talks=talks if tags else [],
        steps=[
            NextStep(200 + i, 2, "send my CV to Acme", FRI + timedelta(i - 1)) for i in range(steps)
        ],
    )


def words(reply: Reply) -> list[str]:
    out = [reply.summary]
    for block in reply.blocks:
        if isinstance(block, HeaderBlock):
            out.append(block.text)
        elif isinstance(block, (SectionBlock, ContextBlock)):
            out.append(plain(block.parts))
    return out


CORPUS = list(
    itertools.product(
        (0, 1, 3),  # goal
        (0, 1, 2, 10),  # people reached
        (0, 1, 2),  # feared a cold reception
        (0, 1),  # of those, warm
        ((), (OutcomeTag.REFERRAL,), (OutcomeTag.ADVICE, OutcomeTag.OFFER)),
        (0, 1, 6),  # open next steps
    )
)

BAD = [
    re.compile(r"\b1 people\b"),
    re.compile(r"\b1 times\b"),
    re.compile(r"\b[02-9] person\b"),
    re.compile(r"\b1 conversations\b"),
    re.compile(r"  "),
    re.compile(r" [.,;:]"),
    re.compile(r"\.\."),
    re.compile(r"[{}]"),
    re.compile(r"\bNone\b"),
    re.compile(r"\bthose person\b"),
    re.compile(r"\bthey was\b"),
]


@pytest.mark.parametrize(("goal", "people", "feared", "warm", "tags", "steps"), CORPUS)
def test_every_recap_reads_well(
    goal: int, people: int, feared: int, warm: int, tags: tuple[OutcomeTag, ...], steps: int
) -> None:
    feared = min(feared, people)
    warm = min(warm, feared)
    content = compose_recap(ADA, FRI, inputs_for(goal, people, feared, warm, tags, steps))
    reply = render_recap(RecapContent.from_json(content.to_json()), cmd="/reconnect ")
    text = words(reply)
    for line in text:
        for bad in BAD:
            assert not bad.search(line), (bad.pattern, line)
        assert line == line.strip()
    body = "\n".join(text)
    for word in ("fail", "missed", "should have", "lazy", "disappoint"):
        assert word not in body.lower()
    if people:
        shown = sorted((NAMES[i + 1] for i in range(people)), key=str.casefold)[:8]
        assert all(name in body for name in shown)
        if people > 8:
            assert "and 2 others" in body
    if goal and not content.quiet:
        assert f"{min(people, 10)} of {goal} this week" in body
    if steps:
        assert "send my CV to Acme" in body
        assert "overdue since Thu 3 Dec" in body
    if content.quiet:
        assert len(reply.blocks) <= 5 + bool(content.next_steps)  # plus a reminder
        assert content.question_id == ""
    else:
        assert content.question_id in dict(QUESTIONS)
    actions = [b for b in reply.blocks if isinstance(b, Actions)]
    assert len(actions) == 1 and 1 <= len(actions[0].buttons) <= 3
    assert all(b.action == Act.GOAL_SET for b in actions[0].buttons)
    assert reply.summary and len(reply.summary) < 120


def test_fears_vs_facts_in_words() -> None:
    content = compose_recap(ADA, FRI, inputs_for(2, 3, 3, 2, (), 0))
    assert content.facts == [
        "You reached out 3 times and heard back twice.",
        "You expected a cold reception 3 times; 2 of those 3 were glad to hear from you.",
    ]
    one = compose_recap(ADA, FRI, inputs_for(2, 1, 1, 1, (), 0))
    assert one.facts[1] == "You expected a cold reception once; they were glad to hear from you."
    quiet = compose_recap(ADA, FRI, inputs_for(2, 2, 2, 0, (), 0))
    assert "Silence is usually busyness, not a verdict." in quiet.facts[1]


def test_notes_never_appear_in_a_recap() -> None:
    """A recap names people and the next steps the user typed — never their private notes."""
    inputs = inputs_for(1, 2, 0, 0, (OutcomeTag.ADVICE,), 1)
    reply = render_recap(compose_recap(ADA, FRI, inputs), cmd="/reconnect ")
    body = "\n".join(words(reply))
    assert "Dana Whitfield" in body and "loves sailing" not in body


def test_questions_rotate_least_seen_first_and_read_as_questions() -> None:
    ids = [qid for qid, _ in QUESTIONS]
    assert len(set(ids)) == len(ids) == 8
    for _, text in QUESTIONS:
        assert text.endswith("?") and text[0].isupper() and "  " not in text
    seen: Counter[str] = Counter()
    for seed in range(16):
        qid = choose_question(seen, seed)
        assert seen[qid] == min(seen.get(q, 0) for q in ids)
        seen[qid] += 1
    assert set(seen.values()) == {2}


def test_goal_buttons_stay_within_bounds() -> None:
    monday = date(2026, 12, 7)
    assert [b.label for b in goal_buttons(1, monday)] == ["Keep 1 next week", "Raise to 2"]
    assert [b.label for b in goal_buttons(50, monday)] == ["Keep 50 next week", "Lower to 49"]
    assert [b.value for b in goal_buttons(3, monday)] == [
        "2026-12-07:3",
        "2026-12-07:4",
        "2026-12-07:2",
    ]
    assert [b.value for b in goal_buttons(0, monday)] == ["2026-12-07:3", "2026-12-07:1"]


def test_content_round_trips_and_malformed_content_is_refused() -> None:
    content = compose_recap(ADA, FRI, inputs_for(3, 2, 1, 1, (OutcomeTag.REFERRAL,), 2))
    assert RecapContent.from_json(content.to_json()) == content
    for bad in ("{}", "[]", '{"start": "x", "end": "2026-12-04"}', '{"start": 5}', "null"):
        with pytest.raises(ValueError):
            RecapContent.from_json(bad)


def test_a_monday_recap_speaks_of_last_week_and_sets_this_weeks_goal() -> None:
    monday = date(2026, 12, 7)
    inputs = RecapInputs(
        reached=[Reach(date(2026, 12, 2), 1), Reach(date(2026, 12, 7), 2)],  # Wed, and today
        names=dict(NAMES),
        goals=[GoalChange(date(2026, 11, 23), 2)],
    )
    content = compose_recap(ADA, monday, inputs, RecapPrefs(day=0))
    assert (content.start, content.end, content.done) == ("2026-11-30", "2026-12-06", 1)
    body = "\n".join(words(render_recap(content, cmd="/reconnect ")))
    assert "Your week, 30 Nov – 6 Dec" in body
    assert "1 of 2 last week." in body and "this week" not in body.split("One question")[0]
    [actions] = [b for b in render_recap(content, cmd="").blocks if isinstance(b, Actions)]
    assert [b.label for b in actions.buttons] == ["Keep 2 this week", "Raise to 3", "Lower to 1"]
    assert {b.value for b in actions.buttons} == {"2026-12-07:2", "2026-12-07:3", "2026-12-07:1"}
    quiet = render_recap(compose_recap(ADA, monday, RecapInputs()), cmd="")
    assert "One message this week is enough" in "\n".join(words(quiet))


def test_wins_from_the_hook_show_as_good_news() -> None:
    """``storage.weekly_reads.wins_heard`` (the hook for contacts' news) fills ``wins``."""
    inputs = RecapInputs(wins=["Dana Whitfield started as CFO at Acme."])
    content = compose_recap(ADA, FRI, inputs)
    assert not content.quiet and content.question_id
    body = "\n".join(words(render_recap(content, cmd="")))
    assert "Good news you heard\n• Dana Whitfield started as CFO at Acme." in body
    assert "No one reached, but there was news worth a look below." in body


# --- good news heard: one sentence per win (bot.core.wins.heard_line) ---------------------------

WIN_LINES = [
    ("Dana Whitfield", "", "started as CFO at Acme", "Dana Whitfield started as CFO at Acme."),
    ("Dana Whitfield", "", "she got promoted to VP!", "Dana Whitfield got promoted to VP."),
    ("Dana Whitfield", "", "Dana launched her book.", "Dana Whitfield launched her book."),
    ("Dana Whitfield", "", "they won the hackathon", "Dana Whitfield won the hackathon."),
    ("Dana Whitfield", "", "was promoted to partner", "Dana Whitfield was promoted to partner."),
    ("Dana Whitfield", "", "is moving to Berlin", "Dana Whitfield is moving to Berlin."),
    ("Dana Whitfield", "", "has a new job at Initech", "Dana Whitfield has a new job at Initech."),
    ("Dana Whitfield", "", "GOT PROMOTED", "Dana Whitfield got promoted."),
    ("Robert Okafor", "Bob", "Bob ran his first marathon", "Robert Okafor ran his first marathon."),
    ("WANG Li", "", "Li joined Stripe;", "WANG Li joined Stripe."),
    ("Dana Whitfield", "", "New job at Initech", "Dana Whitfield shared some good news."),
    ("Dana Whitfield", "", "promotion!!", "Dana Whitfield shared some good news."),
    ("Dana Whitfield", "", "got me a referral", "Dana Whitfield shared some good news."),
    ("Dana Whitfield", "", "launched https://x.io", "Dana Whitfield shared some good news."),
    ("Dana Whitfield", "", "her father passed away", None),
    ("Dana Whitfield", "", "was laid off last week", None),
    ("Dana Whitfield", "", "Got divorced", None),
    ("Dana Whitfield", "", "in hospital after surgery", None),
    ("Dana Whitfield", "", "   ", None),
    ("Dana Whitfield", "", "launched her book. It's great", "Dana Whitfield launched her book."),
    ("Dana Whitfield", "", "got promoted\nand moved", "Dana Whitfield got promoted."),
    ("Dana Whitfield", "", "joined J.P. Morgan", "Dana Whitfield joined J.P. Morgan."),
    ("Dana Whitfield", "", "shipped v2.0...", "Dana Whitfield shipped v2.0."),
    ("Dana Whitfield", "", "won " + "a" * 120, "Dana Whitfield shared some good news."),
]


@pytest.mark.parametrize(("name", "preferred", "note", "expected"), WIN_LINES)
def test_wins_heard_read_as_one_short_sentence(
    name: str, preferred: str, note: str, expected: str | None
) -> None:
    from bot.core.wins import heard_line

    assert heard_line(name, note, preferred) == expected


WIN_NOTES = [
    "got promoted to VP", "she got promoted", "Started at Acme as head of design",
    "launched her podcast!", "they raised a Series A.", "won Best Paper at ICML",
    "was named CTO", "had a baby", "married Sam", "retired from the navy", "became a partner —",
    "passed the bar exam", "graduated from Stanford", "new role at Acme", "Promotion",
    "https://linkedin.com/in/dana", "got laid off", "passed away", "is sick", "fired",
    "got me an intro to Acme", "my referral came through", "RAN A MARATHON", "  ",
    "got promoted to VP. Also {weird} text", "shipped v2.0...",
]  # fmt: skip
SENSITIVE_WORDS = ("laid off", "passed away", "sick", "fired", "divorc", "hospital")


@pytest.mark.parametrize("note", WIN_NOTES)
def test_every_win_heard_reads_well_in_a_recap(note: str) -> None:
    """Each note as a recap's only good news: a sentence that starts with the name, ends with
    one full stop, speaks of them (not "you" or "I"), quotes nothing sensitive, and sits in the
    recap without breaking its grammar."""
    from bot.core.wins import heard_line

    line = heard_line("Dana Whitfield", note)
    if any(word in note.lower() for word in SENSITIVE_WORDS) or not note.strip():
        assert line is None
        return
    assert line is not None
    assert line.startswith("Dana Whitfield ") and line.endswith(".") and not line.endswith("..")
    assert line == line.strip() and "  " not in line and " ." not in line
    tail = line.removeprefix("Dana Whitfield ").lower().split()
    assert not {"i", "me", "my", "you", "your", "she", "they"} & {tail[0]}
    assert "http" not in line and "linkedin" not in line
    assert line == line[0] + line[1:] and not line.removeprefix("Dana Whitfield ").isupper()
    content = compose_recap(ADA, FRI, RecapInputs(wins=[line]))
    body = "\n".join(words(render_recap(RecapContent.from_json(content.to_json()), cmd="")))
    assert f"Good news you heard\n• {line}" in body
    for text in body.split("\n"):
        if text != line.removeprefix("• ") and not text.startswith("• "):
            for bad in BAD:
                assert not bad.search(text), (bad.pattern, text)


def test_a_recap_lists_at_most_five_wins() -> None:
    wins = [f"Person {i} got promoted." for i in range(8)]
    content = compose_recap(ADA, FRI, RecapInputs(wins=wins))
    assert content.wins == wins[:5]
