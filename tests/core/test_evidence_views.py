"""The evidence in words: a corpus of every small case (zero, one, many; settled or not),
checked for grammar, and exact sentences for the common ones."""

import itertools
import re
from datetime import date, timedelta

import pytest

from bot.core.evidence import ConversationFacts, Expectation, OutcomeTag, Outreach, summarize
from bot.core.evidence_views import (
    accuracy_line,
    chart_alt_text,
    days,
    dormant_line,
    evidence_reply,
    fears_line,
    funnel_line,
    median_line,
    outreach_line,
    period_lines,
    times,
)
from bot.core.replies import plain

E = Expectation
END = date(2026, 11, 27)
ACTUALS: list[E | None] = [None, *E]

#: Phrases that would be ungrammatical or leak a placeholder.
BAD = [
    r"\b1 times\b", r"\b1 days\b", r"\b1 people\b", r"\b1 ties\b", r"\b1 conversations\b",
    r"\b0 of\b", r"\bonce times\b", r"\btwice times\b", r"\b[02-9] time\b",
    r"\b[02-9] dormant tie\b", r"  ", r"\{", r"\}", r"None", r"\.\.", r" \.", r";\s*;",
]  # fmt: skip


def grammatical(line: str) -> None:
    for pattern in BAD:
        assert not re.search(pattern, line), (pattern, line)
    assert line[0].isupper(), line


def events(pairs: list[tuple[E | None, E | None]], dormant: int = 0) -> list[Outreach]:
    out = []
    for i, (expected, actual) in enumerate(pairs):
        replied = END if actual is not None and actual.replied else None
        previous = END - timedelta(days=800) if i < dormant else None
        out.append(
            Outreach(i + 1, i + 1, END - timedelta(days=2), expected, actual, replied, previous)
        )
    return out


def corpus() -> list[list[Outreach]]:
    """Every record of up to three outreaches over a few expectation/actual pairs."""
    pairs = [(e, a) for e in (None, E.NO_REPLY, E.BRUSH_OFF, E.GLAD) for a in ACTUALS]
    out = [[]]
    for n in (1, 2, 3):
        for combo in itertools.combinations_with_replacement(pairs, n):
            out.append(events(list(combo), dormant=n % 3))
    return out


def test_every_case_reads_well() -> None:
    seen = 0
    talks_options = [[], [ConversationFacts(1, END, E.GLAD, frozenset({OutcomeTag.REFERRAL}))]]
    for record in corpus():
        for talks in talks_options:
            ev = summarize(record, talks, start=None, end=END)
            for label in ("This week", "Last 4 weeks", "All time"):
                for line in period_lines(label, ev):
                    grammatical(line)
                    assert line.endswith(".") or line.startswith("People:"), line
                    seen += 1
    assert seen > 1000


@pytest.mark.parametrize(
    "pairs, expected",
    [
        ([(E.NO_REPLY, None)], "You expected a cold reception once; you haven't heard how it turned out yet."),
        ([(E.NO_REPLY, E.GLAD)], "You expected a cold reception once; that person replied warmly."),
        ([(E.BRUSH_OFF, E.BRUSH_OFF)], "You expected a cold reception once; that person replied."),
        ([(E.NO_REPLY, E.NO_REPLY)], "You expected a cold reception once; no reply that time."),
        ([(E.NO_REPLY, None)] * 2, "You expected a cold reception twice; you haven't heard how those turned out yet."),
        ([(E.NO_REPLY, E.GLAD)] * 7 + [(E.BRUSH_OFF, E.NO_REPLY)] * 2, "You expected a cold reception 9 times; 7 of those people replied warmly."),
        ([(E.NO_REPLY, E.BRUSH_OFF)] * 3, "You expected a cold reception 3 times; 3 of those people replied."),
        ([(E.NO_REPLY, E.NO_REPLY)] * 3, "You expected a cold reception 3 times; none of those people has replied yet."),
        ([(E.GLAD, E.GLAD)], None),
    ],
)  # fmt: skip
def test_fears_vs_facts(pairs: list[tuple[E, E | None]], expected: str | None) -> None:
    assert fears_line(summarize(events(pairs), [], start=None, end=END)) == expected


def test_the_other_sentences() -> None:
    none = summarize([], [], start=None, end=END)
    assert outreach_line(none) == "You haven't marked anyone as reached out."
    assert median_line(none) is None and dormant_line(none) is None and funnel_line(none) is None
    one = summarize(events([(None, None)], dormant=1), [], start=None, end=END)
    assert outreach_line(one) == "You reached out once; no replies yet."
    assert (
        dormant_line(one)
        == "You reached 1 dormant tie (no contact for 2+ years), and no reply yet."
    )
    two = summarize(
        events([(E.GLAD, E.GLAD), (E.NO_REPLY, E.NO_REPLY)], dormant=2), [], start=None, end=END
    )
    assert outreach_line(two) == "You reached out twice and heard back once (50%)."
    assert dormant_line(two) == (
        "You reached 2 dormant ties (no contact for 2+ years); 1 of them replied warmly."
    )
    mixed = summarize(
        events([(None, E.GLAD), (None, E.BRUSH_OFF), (None, None)], dormant=3),
        [],
        start=None,
        end=END,
    )
    assert dormant_line(mixed) == (
        "You reached 3 dormant ties (no contact for 2+ years); 2 of them replied (1 warmly)."
    )
    cool = summarize(events([(None, E.BRUSH_OFF)], dormant=1), [], start=None, end=END)
    assert dormant_line(cool) == (
        "You reached 1 dormant tie (no contact for 2+ years), and they replied."
    )
    assert accuracy_line(two) == "Of 2 settled predictions: 2 as expected."
    worse = summarize(events([(E.GLAD, E.BRUSH_OFF)]), [], start=None, end=END)
    assert accuracy_line(worse) == "Your one settled prediction turned out worse."
    assert period_lines("This week", summarize([], [], start=END, end=END)) == [
        "Nothing recorded this week yet."
    ]
    assert period_lines("All time", none) == ["Nothing recorded yet."]
    assert (days(0), days(1), days(2.5), days(3)) == ("the same day", "1 day", "2.5 days", "3 days")
    assert (times(1), times(2), times(12)) == ("once", "twice", "12 times")


def test_no_names_or_notes_in_the_reply() -> None:
    """The evidence is counts only: nothing typed by the user can appear."""
    record = events([(E.NO_REPLY, E.GLAD)])
    talks = [ConversationFacts(1, END, E.GLAD, frozenset(OutcomeTag))]
    ev = summarize(record, talks, start=None, end=END)
    reply = evidence_reply([("All time", ev)], None, "/reconnect ")
    words = " ".join(plain(b.parts) for b in reply.blocks if hasattr(b, "parts"))
    assert "<" not in words and "Dana" not in words
    alt = chart_alt_text(ev, [0, 1, 0], END)
    assert "3 weeks to 27 Nov 2026: once in all" in alt
    assert chart_alt_text(ev, [0, 0], END).endswith("2 weeks to 27 Nov 2026: none in that time.")
