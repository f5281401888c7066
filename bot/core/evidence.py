"""Predict, then find out: the records behind "fears vs facts", and the pure arithmetic on them.

When a user marks someone *Reached out* an :class:`Outreach` event is recorded; they may say how
they expect the person to respond (an :class:`Expectation`), and later what actually happened
(the same scale). Logged conversations carry the response too, and what came of them
(:class:`OutcomeTag`). Promised follow-ups are :class:`NextStep` records.

:func:`summarize` turns one user's records into :class:`Evidence` for a period. It is pure (no
storage, no clock), so the same numbers come out in the ``evidence`` command, on the Home tab,
in the weekly recap and in tests.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

#: A tie is dormant when the last contact before reaching out was this long ago (two years).
DORMANT_AFTER = timedelta(days=730)
#: Longest next-step text (fits a card line on every platform).
NEXT_STEP_MAX = 200
#: How far ahead a next step may be dated (further than this is almost surely a typo).
NEXT_STEP_HORIZON = timedelta(days=366)


class Expectation(StrEnum):
    """How someone responds to being contacted: predicted beforehand, recorded afterwards."""

    NO_REPLY = "no_reply"
    BRUSH_OFF = "brush_off"
    GLAD = "glad"
    GO_OUT_OF_WAY = "go_out_of_way"

    @property
    def cold(self) -> bool:
        """Silence or a brush-off: the responses people fear."""
        return self in (Expectation.NO_REPLY, Expectation.BRUSH_OFF)

    @property
    def warm(self) -> bool:
        """Glad to hear from them, or more."""
        return self in (Expectation.GLAD, Expectation.GO_OUT_OF_WAY)

    @property
    def replied(self) -> bool:
        """Any answer at all (a brush-off is a reply too)."""
        return self is not Expectation.NO_REPLY


#: How each point of the scale reads in a button or a sentence.
EXPECTATION_LABELS: dict[Expectation, str] = {
    Expectation.NO_REPLY: "no reply",
    Expectation.BRUSH_OFF: "a polite brush-off",
    Expectation.GLAD: "glad to hear from me",
    Expectation.GO_OUT_OF_WAY: "will go out of their way to help",
}


class OutcomeTag(StrEnum):
    """What came of a conversation (several may apply)."""

    ADVICE = "advice"
    INFO = "info"  # information about a company or role
    INTRODUCTION = "introduction"
    REFERRAL = "referral"
    INTERVIEW = "interview"
    OFFER = "offer"
    CAUGHT_UP = "caught_up"


OUTCOME_LABELS: dict[OutcomeTag, str] = {
    OutcomeTag.ADVICE: "advice",
    OutcomeTag.INFO: "information about a company or role",
    OutcomeTag.INTRODUCTION: "an introduction",
    OutcomeTag.REFERRAL: "a referral",
    OutcomeTag.INTERVIEW: "an interview",
    OutcomeTag.OFFER: "an offer",
    OutcomeTag.CAUGHT_UP: "just caught up",
}

_EXPECTATIONS: dict[str, Expectation] = {e.value: e for e in Expectation}
_OUTCOMES: dict[str, OutcomeTag] = {t.value: t for t in OutcomeTag}

#: Outcomes that count as "help" in the funnel (advice, an introduction or a referral).
HELP_TAGS = frozenset({OutcomeTag.ADVICE, OutcomeTag.INTRODUCTION, OutcomeTag.REFERRAL})


def parse_expectation(value: str | None) -> Expectation | None:
    """The scale point ``value`` names, or ``None`` (unknown, empty or forged)."""
    # A dictionary lookup: the evidence reads this for every stored outreach and conversation.
    return _EXPECTATIONS.get(value) if value else None


def parse_outcomes(value: str | Iterable[str] | None) -> frozenset[OutcomeTag]:
    """Outcome tags from a comma-joined string (as stored) or an iterable; unknown ones are
    dropped (the caller validates user input separately and says what it did not understand)."""
    if not value:
        return frozenset()
    parts = value.split(",") if isinstance(value, str) else value
    return frozenset(tag for part in parts if (tag := _OUTCOMES.get(part.strip())) is not None)


def join_outcomes(tags: Iterable[OutcomeTag]) -> str:
    """Tags as stored: comma-joined in the scale's order, so equal sets store equally."""
    chosen = set(tags)
    return ",".join(tag.value for tag in OutcomeTag if tag in chosen)


def step_due_problem(due: date, today: date) -> str | None:
    """Why ``due`` can't date a next step (in the past, or more than a year out), or ``None``."""
    if due < today:
        return "That date has already passed — pick today or a day ahead."
    if due - today > NEXT_STEP_HORIZON:
        return "That's more than a year away — pick a date within the next year."
    return None


class StepStatus(StrEnum):
    """Where a next step stands."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class Outreach:
    """One "Reached out": when, what the user expected, and what happened."""

    id: int
    contact_id: int
    reached_on: date
    expected: Expectation | None = None
    actual: Expectation | None = None
    replied_on: date | None = None
    #: The last contact before this one (``None``: none recorded), to tell dormant ties.
    previous_contact_on: date | None = None

    @property
    def dormant(self) -> bool:
        """Whether this reached a tie not in touch for two years or more."""
        prev = self.previous_contact_on
        return prev is not None and self.reached_on - prev >= DORMANT_AFTER

    @property
    def replied(self) -> bool:
        """Whether they answered (a reply date, or a recorded response other than silence)."""
        return self.replied_on is not None or (self.actual is not None and self.actual.replied)


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    """What evidence needs of a logged conversation."""

    contact_id: int
    occurred_on: date
    response: Expectation | None = None
    outcomes: frozenset[OutcomeTag] = frozenset()


@dataclass(frozen=True, slots=True)
class NextStep:
    """Something promised in a conversation, to check on by ``due_on``."""

    id: int
    contact_id: int
    text: str
    due_on: date
    status: StepStatus = StepStatus.OPEN


@dataclass(frozen=True, slots=True)
class Funnel:
    """Distinct people at each stage within the period (each stage counted on its own)."""

    reached_out: int = 0
    replied: int = 0
    conversation: int = 0
    helped: int = 0  # advice, an introduction or a referral
    interview: int = 0
    offer: int = 0


@dataclass(frozen=True, slots=True)
class Evidence:
    """One user's record for a period (``start`` ``None``: all time)."""

    start: date | None
    end: date
    reached_out: int = 0
    replied: int = 0
    #: Days from reaching out to the reply, median over the replies with a date.
    median_days_to_reply: float | None = None
    #: ``predictions[expected][actual]``: how each prediction turned out (``None``: not known).
    predictions: dict[Expectation, Counter[Expectation | None]] = field(default_factory=dict)
    dormant_reached: int = 0
    dormant_replied: int = 0
    #: How the dormant ties reached responded (known responses only).
    dormant_responses: Counter[Expectation] = field(default_factory=Counter)
    conversations: int = 0
    outcomes: Counter[OutcomeTag] = field(default_factory=Counter)
    funnel: Funnel = field(default_factory=Funnel)

    @property
    def reply_rate(self) -> float | None:
        """Replied / reached out, or ``None`` with no outreach."""
        return self.replied / self.reached_out if self.reached_out else None

    @property
    def predicted(self) -> int:
        """How many outreaches had a prediction."""
        return sum(sum(c.values()) for c in self.predictions.values())

    @property
    def feared(self) -> int:
        """Predictions of a cold reception (silence or a brush-off)."""
        return sum(sum(c.values()) for e, c in self.predictions.items() if e.cold)

    @property
    def feared_resolved(self) -> int:
        """Feared outreaches whose actual response is known."""
        return sum(
            n for e, c in self.predictions.items() if e.cold for a, n in c.items() if a is not None
        )

    @property
    def feared_but_warm(self) -> int:
        """Feared a cold reception; they were glad, or went out of their way."""
        return sum(
            n
            for e, c in self.predictions.items()
            if e.cold
            for a, n in c.items()
            if a is not None and a.warm
        )

    @property
    def feared_but_replied(self) -> int:
        """Feared silence or a brush-off; they replied (any reply)."""
        return sum(
            n
            for e, c in self.predictions.items()
            if e.cold
            for a, n in c.items()
            if a is not None and a.replied
        )

    def _compared(self) -> Counter[int]:
        """Settled predictions by sign of (actual − expected) on the scale's order."""
        order = list(Expectation)
        signs: Counter[int] = Counter()
        for expected, actuals in self.predictions.items():
            for actual, n in actuals.items():
                if actual is not None:
                    diff = order.index(actual) - order.index(expected)
                    signs[(diff > 0) - (diff < 0)] += n
        return signs

    @property
    def better(self) -> int:
        """Settled predictions that turned out warmer than expected."""
        return self._compared()[1]

    @property
    def as_predicted(self) -> int:
        """Settled predictions that came true."""
        return self._compared()[0]

    @property
    def worse(self) -> int:
        """Settled predictions that turned out colder than expected."""
        return self._compared()[-1]

    @property
    def empty(self) -> bool:
        """Nothing recorded in the period."""
        return not self.reached_out and not self.conversations


def summarize(
    outreach: Sequence[Outreach],
    conversations: Sequence[ConversationFacts],
    *,
    start: date | None,
    end: date,
) -> Evidence:
    """The evidence for outreach and conversations dated from ``start`` (all time when
    ``None``) to ``end``, both inclusive. Records outside the period are ignored, so callers
    may pass a user's whole history."""

    def within(day: date) -> bool:
        return (start is None or day >= start) and day <= end

    events = [o for o in outreach if within(o.reached_on)]
    talks = [c for c in conversations if within(c.occurred_on)]

    replied = [o for o in events if o.replied]
    waits = [
        (o.replied_on - o.reached_on).days
        for o in replied
        if o.replied_on is not None and o.replied_on >= o.reached_on
    ]
    predictions: dict[Expectation, Counter[Expectation | None]] = {}
    for o in events:
        if o.expected is not None:
            predictions.setdefault(o.expected, Counter())[o.actual] += 1
    dormant = [o for o in events if o.dormant]
    outcomes: Counter[OutcomeTag] = Counter()
    for talk in talks:
        outcomes.update(talk.outcomes)

    def people(tags: frozenset[OutcomeTag]) -> int:
        return len({t.contact_id for t in talks if t.outcomes & tags})

    funnel = Funnel(
        reached_out=len({o.contact_id for o in events}),
        replied=len({o.contact_id for o in replied}),
        conversation=len({t.contact_id for t in talks}),
        helped=people(HELP_TAGS),
        interview=people(frozenset({OutcomeTag.INTERVIEW})),
        offer=people(frozenset({OutcomeTag.OFFER})),
    )
    return Evidence(
        start=start,
        end=end,
        reached_out=len(events),
        replied=len(replied),
        median_days_to_reply=float(statistics.median(waits)) if waits else None,
        predictions=predictions,
        dormant_reached=len(dormant),
        dormant_replied=sum(1 for o in dormant if o.replied),
        dormant_responses=Counter(o.actual for o in dormant if o.actual is not None),
        conversations=len(talks),
        outcomes=outcomes,
        funnel=funnel,
    )


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def periods(today: date) -> list[tuple[str, date | None]]:
    """The standard periods, ``(label, start)``: this week, the last 4 weeks, all time."""
    return [
        ("This week", week_start(today)),
        ("Last 4 weeks", today - timedelta(days=27)),
        ("All time", None),
    ]


def weekly_counts(outreach: Sequence[Outreach], *, weeks: int, end: date) -> list[int]:
    """Outreach per week (Monday to Sunday) for the ``weeks`` weeks ending with ``end``'s week,
    oldest first."""
    last = week_start(end)
    first = last - timedelta(weeks=weeks - 1)
    counts = [0] * weeks
    for o in outreach:
        if first <= o.reached_on <= end:
            counts[(week_start(o.reached_on) - first).days // 7] += 1
    return counts
