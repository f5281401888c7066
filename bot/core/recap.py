"""The weekly recap: a look back at the user's week, and a choice of next week's goal.

It comes on the user's chosen day and local time (default Friday 16:00), and covers their local
week so far, Monday to the recap day. A recap set for a Monday looks back at the week that just
ended instead (a Monday has nothing to look back on yet).

Like the morning nudge, a recap's *content* is chosen once, stored with its row in ``nudges``
(kind ``"recap"``) as JSON, and rendered from it, so a re-send after a crash shows exactly what
may already have arrived. Users without a single contact get no recap (there is nothing to
look back on); a week without activity gets a short, kind one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.core import prompts
from bot.core.actions import Act
from bot.core.evidence import (
    OUTCOME_LABELS,
    ConversationFacts,
    Evidence,
    NextStep,
    OutcomeTag,
    Outreach,
    summarize,
)
from bot.core.goals import (
    MAX_GOAL,
    SUGGESTED_GOAL,
    GoalChange,
    Reach,
    WeekProgress,
    people,
    progress,
    week_start,
)
from bot.core.model import UserRef
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Em,
    Header,
    Reply,
    Strong,
    context,
    section,
)
from bot.core.schedule import DEFAULT_GRACE, NudgePrefs, due_day

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

FRIDAY = 4
DEFAULT_RECAP_TIME = time(16, 0)
#: Names listed in "You reached …" before "and N others".
_NAMES_SHOWN = 8
#: Lines per section (fears vs facts, outcomes, next steps, wins).
_LINES_SHOWN = 5
#: Open next steps a recap lists.
STEPS_SHOWN = 5
_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True, slots=True)
class RecapPrefs:
    """When the weekly recap comes: a weekday (0 = Monday), a local time, and an off switch."""

    day: int = FRIDAY
    time: time = DEFAULT_RECAP_TIME
    enabled: bool = True

    def describe(self) -> str:
        """``"Fridays at 16:00"``, or that recaps are off."""
        if not self.enabled:
            return "Weekly recaps are off."
        return f"Weekly recaps come {_DAYS[self.day]} at {self.time:%H:%M}."


#: The reflection questions, in rotation (the least often seen first). Each is answerable in a
#: sentence, and none assumes the week went well or badly.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("reflect-1", "Who surprised you this week, and what had you expected instead?"),
    ("reflect-2", "What did someone tell you this week that you didn't know before?"),
    ("reflect-3", "Whose good news could you celebrate with them next week?"),
    ("reflect-4", "Which message did you put off, and what made it feel hard?"),
    ("reflect-5", "If a friend had your week, what would you tell them they did well?"),
    ("reflect-6", "Who helped you this week, and have you thanked them yet?"),
    ("reflect-7", "What would make next week's first message easier to send?"),
    ("reflect-8", "Who came to mind this week that you haven't spoken to in a long time?"),
)
_QUESTION_TEXT = dict(QUESTIONS)


def due_recap_day(
    recap: RecapPrefs, nudge: NudgePrefs, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> date | None:
    """The local date whose recap is due at ``now``, or ``None``.

    The same rule as the morning nudge (:func:`bot.core.schedule.due_day`: local time, DST
    gaps and overlaps, a catch-up window of ``grace``), on one weekday, at the recap time. A
    pause of the nudges pauses the recap too: someone away doesn't want a week in review.
    """
    if not recap.enabled:
        return None
    as_nudge = NudgePrefs(
        timezone=nudge.timezone,
        time=recap.time,
        days=1 << recap.day,
        paused_until=nudge.paused_until,
    )
    return due_day(as_nudge, now, grace)


def recap_window(day: date) -> tuple[date, date]:
    """The local dates a recap sent on ``day`` covers, first and last (inclusive)."""
    start = week_start(day)
    if day == start:
        return start - timedelta(days=7), start - timedelta(days=1)
    return start, day


@dataclass(slots=True)
class RecapInputs:
    """What composing one user's recap needs (read in bulk by ``storage.recap_reads``)."""

    #: People reached (outreach or conversation) over the last ``goals.STREAK_WEEKS`` weeks.
    reached: list[Reach] = field(default_factory=list)
    #: Names of the people reached within the recap's week and of the next steps' contacts.
    names: dict[int, str] = field(default_factory=dict)
    goals: list[GoalChange] = field(default_factory=list)
    prompt_views: dict[str, int] = field(default_factory=dict)
    #: The week's "Reached out" events (with predictions) and logged conversations.
    outreach: list[Outreach] = field(default_factory=list)
    talks: list[ConversationFacts] = field(default_factory=list)
    #: Open next steps, earliest first (at most :data:`STEPS_SHOWN`).
    steps: list[NextStep] = field(default_factory=list)
    #: Good news the user heard about their contacts this week (hurdle 4). Filled by the hook
    #: ``storage.weekly_reads.wins_heard`` once contacts carry news and wins.
    wins: list[str] = field(default_factory=list)
    #: The goal's progress as of the recap's last day, when the reads already worked it out
    #: from exactly these ``goals`` and ``reached`` (else composing does).
    week: WeekProgress | None = None


@dataclass(slots=True)
class RecapContent:
    """Everything a recap shows, as stored."""

    start: str  # ISO dates of the week covered
    end: str
    goal: int = 0
    done: int = 0
    streak: int = 0
    broken: int = 0
    names: list[str] = field(default_factory=list)
    others: int = 0  # people reached beyond ``names``
    conversations: int = 0
    facts: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    wins: list[str] = field(default_factory=list)
    question_id: str = ""
    schedule: str = ""
    recaps_on: bool = True  # False: asked for with ``recap`` while they are switched off
    day: str = ""  # the local date it was composed for (ISO); after ``end`` on a Monday

    @property
    def looks_back(self) -> bool:
        """A Monday recap: about the week that just ended, not the week so far."""
        return bool(self.day) and self.day > self.end

    @property
    def quiet(self) -> bool:
        """A week with nothing done and nothing heard."""
        return not (self.done or self.conversations or self.facts or self.outcomes or self.wins)

    @property
    def next_week(self) -> date:
        """The Monday the recap's goal buttons apply from: the week after the one it covers."""
        return date.fromisoformat(self.start) + timedelta(days=7)

    def to_json(self) -> str:
        """Serialise for storage."""
        return _ENCODER.encode(
            {
                "start": self.start,
                "end": self.end,
                "goal": self.goal,
                "done": self.done,
                "streak": self.streak,
                "broken": self.broken,
                "names": self.names,
                "others": self.others,
                "conversations": self.conversations,
                "facts": self.facts,
                "outcomes": self.outcomes,
                "next_steps": self.next_steps,
                "wins": self.wins,
                "question_id": self.question_id,
                "schedule": self.schedule,
                "recaps_on": self.recaps_on,
                "day": self.day,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> RecapContent:
        """Read stored content; raises ``ValueError`` on anything malformed."""
        try:
            data = json.loads(raw)
            content = cls(
                start=date.fromisoformat(str(data["start"])).isoformat(),
                end=date.fromisoformat(str(data["end"])).isoformat(),
                goal=int(data.get("goal", 0)),
                done=int(data.get("done", 0)),
                streak=int(data.get("streak", 0)),
                broken=int(data.get("broken", 0)),
                names=[str(n) for n in data.get("names", [])],
                others=int(data.get("others", 0)),
                conversations=int(data.get("conversations", 0)),
                facts=[str(n) for n in data.get("facts", [])],
                outcomes=[str(n) for n in data.get("outcomes", [])],
                next_steps=[str(n) for n in data.get("next_steps", [])],
                wins=[str(n) for n in data.get("wins", [])],
                question_id=str(data.get("question_id", "")),
                schedule=str(data.get("schedule", "")),
                recaps_on=bool(data.get("recaps_on", True)),
                day=str(data.get("day", "")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError("malformed recap content") from exc
        return content

    @property
    def progress(self) -> WeekProgress:
        """The week's goal progress, as composed."""
        return WeekProgress(
            date.fromisoformat(self.start), self.goal, self.done, self.streak, self.broken
        )


def choose_question(views: Mapping[str, int], seed: int) -> str:
    """The id of the reflection question seen least often (ties broken by ``seed``)."""
    fewest = min(views.get(qid, 0) for qid, _ in QUESTIONS)
    least = [qid for qid, _ in QUESTIONS if views.get(qid, 0) == fewest]
    return least[seed % len(least)]


def compose_recap(
    user: UserRef, day: date, inputs: RecapInputs, recap: RecapPrefs | None = None
) -> RecapContent:
    """``user``'s recap for the local date ``day`` (their recap day)."""
    start, end = recap_window(day)
    week = inputs.week if inputs.week is not None else progress(inputs.goals, inputs.reached, end)
    in_week = {r.contact_id for r in inputs.reached if start <= r.day <= end}
    ordered = sorted(
        (inputs.names[cid] for cid in in_week if cid in inputs.names), key=str.casefold
    )
    evidence = summarize(inputs.outreach, inputs.talks, start=start, end=end)
    content = RecapContent(
        start=start.isoformat(),
        end=end.isoformat(),
        goal=week.goal,
        done=week.done,
        streak=week.streak,
        broken=week.broken,
        names=ordered[:_NAMES_SHOWN],
        others=max(0, len(in_week) - _NAMES_SHOWN),
        conversations=evidence.conversations,
        facts=fears_vs_facts(evidence)[:_LINES_SHOWN],
        outcomes=outcome_lines(evidence)[:_LINES_SHOWN],
        next_steps=[
            step_line(step, inputs.names.get(step.contact_id), end)
            for step in inputs.steps[:STEPS_SHOWN]
        ],
        wins=inputs.wins[:_LINES_SHOWN],
        schedule=(recap or RecapPrefs()).describe(),
        recaps_on=(recap or RecapPrefs()).enabled,
        day=day.isoformat(),
    )
    if not content.quiet:
        seed = prompts.stable_seed(user.platform, user.workspace_id, user.user_id, content.start)
        content.question_id = choose_question(inputs.prompt_views, seed)
    return content


def fears_vs_facts(evidence: Evidence) -> list[str]:
    """The week's predictions against what happened, in plain sentences (none without any)."""
    lines: list[str] = []
    if evidence.reached_out:
        times = _times(evidence.reached_out)
        lines.append(f"You reached out {times} and heard back {_times(evidence.replied)}.")
    feared = evidence.feared
    if feared:
        known = evidence.feared_resolved
        expected = f"You expected a cold reception {_times(feared)}"
        if not known:
            lines.append(f"{expected}; the answers aren't in yet.")
        else:
            warm = evidence.feared_but_warm
            replied = evidence.feared_but_replied
            if warm:
                who = "they were" if feared == 1 else f"{warm} of those {feared} {_was(warm)}"
                lines.append(f"{expected}; {who} glad to hear from you.")
            elif replied:
                who = "they" if feared == 1 else f"{replied} of those {feared}"
                lines.append(f"{expected}; {who} replied all the same.")
            else:
                lines.append(
                    f"{expected}, and this time it was quiet. Silence is usually busyness, "
                    "not a verdict."
                )
    hoped = sum(sum(c.values()) for e, c in evidence.predictions.items() if e.warm)
    if hoped and not feared:
        lines.append(f"You expected a warm welcome {_times(hoped)}. Nice to go in hopeful.")
    return lines


def outcome_lines(evidence: Evidence) -> list[str]:
    """What came of the week's conversations: one line per outcome, most valuable first."""
    order = (
        OutcomeTag.OFFER,
        OutcomeTag.INTERVIEW,
        OutcomeTag.REFERRAL,
        OutcomeTag.INTRODUCTION,
        OutcomeTag.ADVICE,
        OutcomeTag.INFO,
        OutcomeTag.CAUGHT_UP,
    )
    lines = []
    for tag in order:
        n = evidence.outcomes.get(tag, 0)
        if n:
            label = OUTCOME_LABELS[tag]
            lines.append(label[0].upper() + label[1:] + (f" (×{n})" if n > 1 else ""))
    return lines


def step_line(step: NextStep, name: str | None, today: date) -> str:
    """``"Dana Whitfield: introduce me to the CFO — by Fri 4 Dec"``."""
    who = f"{name}: " if name else ""
    when = "overdue since" if step.due_on < today else "by"
    return f"{who}{step.text} — {when} {_short_date(step.due_on)}"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _short_date(day: date) -> str:
    """``"Tue 8 Dec"`` — in English whatever the process locale (``strftime`` is not)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _was(n: int) -> str:
    return "was" if n == 1 else "were"


def render_recap(content: RecapContent, *, cmd: str) -> Reply:
    """The recap message."""
    start, end = date.fromisoformat(content.start), date.fromisoformat(content.end)
    blocks: list[Block] = [Header(f"Your week, {_span(start, end)}")]
    week = content.progress
    if content.quiet:
        blocks.append(
            section(
                "A quiet week — that happens. One message "
                + ("this" if content.looks_back else "next")
                + " week is enough to get going again."
            )
        )
        summary = "Your week in review: a quiet one"
    else:
        blocks.append(section(*_did(content)))
        summary = f"Your week in review: {people(week.done)} reached"
    goal_line = _goal_sentence(week, "last week" if content.looks_back else "this week")
    if goal_line:
        blocks.append(section(goal_line))
    for title, lines in (
        ("Fears vs facts", content.facts),
        ("What came of it", content.outcomes),
        ("Next steps", content.next_steps),
        ("Good news you heard", content.wins),
    ):
        if lines:
            blocks.append(section(Strong(title), "\n" + "\n".join(f"• {line}" for line in lines)))
    question = _QUESTION_TEXT.get(content.question_id)
    if question is not None:
        blocks.append(section(Strong("One question to sit with: "), Em(question)))
    which = "this week" if content.looks_back else "next week"
    blocks.append(Actions(goal_buttons(week.goal, content.next_week, which)))
    if not content.recaps_on:
        footer = f"Weekly recaps are off. Turn them on in `{cmd}settings`."
    else:
        footer = f"{content.schedule} Change the day or time, or turn them off: `{cmd}settings`"
    blocks.append(context(footer.strip()))
    return Reply(summary=summary, blocks=tuple(blocks))


def goal_buttons(goal: int, week: date, which: str = "next week") -> tuple[Button, ...]:
    """Keep, raise or lower the goal from ``week`` on (or set one, without a goal).

    Each value is ``"<Monday>:<goal>"``; the service checks both before changing anything.
    """

    def button(label: str, n: int, primary: bool = False) -> Button:
        return Button(
            label, Act.GOAL_SET, f"{week.isoformat()}:{n}", "primary" if primary else None
        )

    if goal <= 0:
        return (
            button(f"Set a goal of {SUGGESTED_GOAL} a week", SUGGESTED_GOAL, True),
            button("Start with 1 a week", 1),
        )
    buttons = [button(f"Keep {goal} {which}", goal, True)]
    if goal < MAX_GOAL:
        buttons.append(button(f"Raise to {goal + 1}", goal + 1))
    if goal > 1:
        buttons.append(button(f"Lower to {goal - 1}", goal - 1))
    return tuple(buttons)


def _did(content: RecapContent) -> tuple[str | Strong, ...]:
    parts: list[str | Strong] = []
    reached = content.done
    if reached:
        names = list(content.names)
        if content.others:
            names.append(f"{content.others} other{'s' if content.others != 1 else ''}")
        parts += ["You reached ", Strong(people(reached)), f": {_and(names)}."]
    talks = content.conversations
    if talks:
        lead = " You" if parts else "You"
        parts.append(f"{lead} logged {talks} conversation{'s' if talks != 1 else ''}.")
    if not parts:
        parts.append("No one reached, but there was news worth a look below.")
    return tuple(parts)


def _goal_sentence(week: WeekProgress, which: str) -> str:
    streak = week.streak_line()
    if week.goal <= 0:
        return (
            f"No weekly goal yet. People who pick a small one, like {SUGGESTED_GOAL} a week, "
            "find it easier to keep going."
        )
    if week.met:
        head = f"Goal met: {week.done} of {week.goal} {which}."
    else:
        head = f"{week.done} of {week.goal} {which}."
    return f"{head} {streak}".strip()


def _span(start: date, end: date) -> str:
    """``"23–27 Nov"``, ``"30 Nov – 4 Dec"``."""
    if start.month == end.month:
        return f"{start.day}–{end.day} {_MONTHS[end.month - 1]}"
    return f"{start.day} {_MONTHS[start.month - 1]} – {end.day} {_MONTHS[end.month - 1]}"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
