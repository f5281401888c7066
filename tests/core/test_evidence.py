"""summarize(): the evidence arithmetic, period by period."""

from datetime import date, timedelta

from bot.core.evidence import (
    ConversationFacts,
    Expectation,
    Funnel,
    OutcomeTag,
    Outreach,
    join_outcomes,
    parse_expectation,
    parse_outcomes,
    periods,
    summarize,
    week_start,
    weekly_counts,
)

E = Expectation
T = OutcomeTag
END = date(2026, 11, 27)  # a Friday


def o(
    i: int,
    contact: int,
    days_ago: int,
    expected: E | None = None,
    actual: E | None = None,
    reply_after: int | None = None,
    previous: date | None = None,
) -> Outreach:
    on = END - timedelta(days_ago)
    replied = on + timedelta(reply_after) if reply_after is not None else None
    return Outreach(i, contact, on, expected, actual, replied, previous)


def talk(contact: int, days_ago: int, *tags: T, response: E | None = None) -> ConversationFacts:
    return ConversationFacts(contact, END - timedelta(days_ago), response, frozenset(tags))


OUTREACH = [
    o(1, 1, 1, E.NO_REPLY, E.GLAD, 1),
    o(2, 2, 2, E.BRUSH_OFF, E.GO_OUT_OF_WAY, 3),
    o(3, 3, 3, E.NO_REPLY, E.NO_REPLY),
    o(4, 4, 10, E.GLAD, E.BRUSH_OFF, 5),
    o(5, 5, 20, E.NO_REPLY, None, None, previous=date(2023, 1, 1)),
    o(6, 6, 100, None, E.GLAD, 2, previous=date(2020, 1, 1)),
    o(7, 1, 200, E.BRUSH_OFF, None),
]
TALKS = [
    talk(1, 0, T.REFERRAL, T.ADVICE, response=E.GLAD),
    talk(2, 1, T.INTERVIEW),
    talk(2, 5, T.ADVICE),
    talk(6, 90, T.OFFER, T.INTERVIEW),
    talk(9, 300, T.CAUGHT_UP),
]


def test_all_time() -> None:
    ev = summarize(OUTREACH, TALKS, start=None, end=END)
    assert (ev.reached_out, ev.replied) == (7, 4)
    assert ev.reply_rate == 4 / 7
    assert ev.median_days_to_reply == 2.5  # waits 1, 3, 5, 2
    assert ev.predictions[E.NO_REPLY] == {E.GLAD: 1, E.NO_REPLY: 1, None: 1}
    assert ev.predictions[E.BRUSH_OFF] == {E.GO_OUT_OF_WAY: 1, None: 1}
    assert ev.predicted == 6
    assert (ev.feared, ev.feared_resolved, ev.feared_but_warm, ev.feared_but_replied) == (
        5,
        3,
        2,
        2,
    )
    assert (ev.dormant_reached, ev.dormant_replied) == (2, 1)
    assert ev.dormant_responses == {E.GLAD: 1}
    assert ev.conversations == 5
    assert ev.outcomes[T.ADVICE] == 2 and ev.outcomes[T.INTERVIEW] == 2
    assert ev.funnel == Funnel(
        reached_out=6, replied=4, conversation=4, helped=2, interview=2, offer=1
    )


def test_a_period_only_counts_what_is_inside_it() -> None:
    ev = summarize(OUTREACH, TALKS, start=week_start(END), end=END)  # Mon 23 .. Fri 27
    assert (ev.reached_out, ev.replied, ev.conversations) == (3, 2, 2)  # not Sunday 22
    assert ev.median_days_to_reply == 2.0
    assert ev.dormant_reached == 0
    # Records after the end are ignored too.
    before = summarize(OUTREACH, TALKS, start=None, end=END - timedelta(4))
    assert before.reached_out == 4 and before.conversations == 3


def test_nothing_recorded() -> None:
    ev = summarize([], [], start=None, end=END)
    assert ev.empty and ev.reply_rate is None and ev.median_days_to_reply is None
    assert ev.feared == 0 and ev.funnel == Funnel()


def test_a_reply_dated_before_the_outreach_counts_as_reply_but_not_as_a_wait() -> None:
    ev = summarize([o(1, 1, 0, reply_after=-3)], [], start=None, end=END)
    assert ev.replied == 1 and ev.median_days_to_reply is None


def test_parsing_and_joining() -> None:
    assert parse_expectation("glad") is E.GLAD
    assert parse_expectation("nope") is None and parse_expectation(None) is None
    assert parse_outcomes("referral, advice,bogus") == {T.REFERRAL, T.ADVICE}
    assert join_outcomes([T.OFFER, T.ADVICE]) == "advice,offer"
    assert parse_outcomes(join_outcomes(list(T))) == set(T)


def test_weekly_counts_and_periods() -> None:
    counts = weekly_counts(OUTREACH, weeks=4, end=END)
    assert counts == [1, 0, 1, 3]  # 20 days ago, 10 days ago, this week
    assert [p[0] for p in periods(END)] == ["This week", "Last 4 weeks", "All time"]
    assert periods(END)[0][1] == date(2026, 11, 23)
    assert periods(END)[1][1] == date(2026, 10, 31)
