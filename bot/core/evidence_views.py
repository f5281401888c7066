"""Fears vs facts, in words: the ``evidence`` command, the Home section and shared phrases.

Every sentence is built from counts, so each handles zero, one and many (tested on a corpus of
cases in ``tests/core/test_evidence_views.py``). No name or note appears here: only numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core.actions import Act
from bot.core.evidence import Evidence
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Context,
    Divider,
    FileOut,
    Header,
    Reply,
    Strong,
    context,
    section,
)

#: How each period is named inside a sentence ("Nothing recorded this week yet.").
_IN_PERIOD = {
    "This week": "this week",
    "Last 4 weeks": "in the last 4 weeks",
    "All time": "",
}


def plural(count: int, one: str, many: str | None = None) -> str:
    """``"1 time"``, ``"2 times"``; ``many`` for irregular plurals (person → people)."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def times(count: int) -> str:
    """``"once"``, ``"twice"``, ``"3 times"``."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def days(value: float) -> str:
    """A median wait: ``"the same day"``, ``"1 day"``, ``"2.5 days"``."""
    if value == 0:
        return "the same day"
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{shown} day" if shown == "1" else f"{shown} days"


def percent(part: int, whole: int) -> str:
    """``"60%"``."""
    return f"{round(100 * part / whole)}%"


def outreach_line(ev: Evidence) -> str:
    """ "You reached out 5 times and heard back 3 times (60%)."."""
    if not ev.reached_out:
        return "You haven't marked anyone as reached out."
    if not ev.replied:
        return f"You reached out {times(ev.reached_out)}; no replies yet."
    return (
        f"You reached out {times(ev.reached_out)} and heard back {times(ev.replied)} "
        f"({percent(ev.replied, ev.reached_out)})."
    )


def median_line(ev: Evidence) -> str | None:
    """ "Median time to a reply: 2 days." (``None`` without dated replies)."""
    if ev.median_days_to_reply is None:
        return None
    return f"Median time to a reply: {days(ev.median_days_to_reply)}."


def fears_line(ev: Evidence) -> str | None:
    """ "You expected a cold reception 9 times; 7 of those people replied warmly."."""
    feared = ev.feared
    if not feared:
        return None
    head = f"You expected a cold reception {times(feared)}"
    warm, replied, known = ev.feared_but_warm, ev.feared_but_replied, ev.feared_resolved
    if feared == 1:
        if not known:
            return f"{head}; you haven't heard how it turned out yet."
        if warm:
            return f"{head}; that person replied warmly."
        if replied:
            return f"{head}; that person replied."
        return f"{head}; no reply that time."
    if not known:
        return f"{head}; you haven't heard how those turned out yet."
    if warm:
        return f"{head}; {warm} of those people replied warmly."
    if replied:
        return f"{head}; {replied} of those people replied."
    return f"{head}; none of those people has replied yet."


def accuracy_line(ev: Evidence) -> str | None:
    """ "Of 6 predictions settled: 4 better than you expected, 1 as expected, 1 worse."."""
    better, same, worse = ev.better, ev.as_predicted, ev.worse
    settled = better + same + worse
    if not settled:
        return None
    parts = []
    if better:
        parts.append(f"{better} better than you expected")
    if same:
        parts.append(f"{same} as expected")
    if worse:
        parts.append(f"{worse} worse")
    if settled == 1:
        return f"Your one settled prediction turned out {parts[0].removeprefix('1 ')}."
    return f"Of {settled} settled predictions: {', '.join(parts)}."


def dormant_line(ev: Evidence) -> str | None:
    """ "You reached 2 dormant ties (no contact for 2+ years); 1 of them replied."."""
    n = ev.dormant_reached
    if not n:
        return None
    head = f"You reached {plural(n, 'dormant tie')} (no contact for 2+ years)"
    replied = ev.dormant_replied
    warm = sum(count for response, count in ev.dormant_responses.items() if response.warm)
    if n == 1:
        if not replied:
            return f"{head}, and no reply yet."
        return f"{head}, and they replied{' warmly' if warm else ''}."
    if not replied:
        return f"{head}; no replies yet."
    if warm == replied:
        return f"{head}; {replied} of them replied warmly."
    if warm:
        return f"{head}; {replied} of them replied ({warm} warmly)."
    return f"{head}; {replied} of them replied."


def funnel_line(ev: Evidence) -> str | None:
    """ "People: reached out 6 → replied 4 → talked 4 → advice, intro or referral 2 → …"."""
    f = ev.funnel
    if not (f.reached_out or f.conversation):
        return None
    return (
        f"People: reached out {f.reached_out} → replied {f.replied} → talked {f.conversation} → "
        f"advice, intro or referral {f.helped} → interview {f.interview} → offer {f.offer}"
    )


def period_lines(label: str, ev: Evidence) -> list[str]:
    """Every sentence for one period (at least one)."""
    if ev.empty:
        where = _IN_PERIOD.get(label, "")
        return [f"Nothing recorded {where} yet." if where else "Nothing recorded yet."]
    lines = [outreach_line(ev)]
    for line in (median_line(ev), fears_line(ev), accuracy_line(ev), dormant_line(ev)):
        if line:
            lines.append(line)
    if ev.conversations:
        lines.append(f"You logged {plural(ev.conversations, 'conversation')}.")
    if funnel := funnel_line(ev):
        lines.append(funnel)
    return lines


def evidence_reply(
    summaries: Sequence[tuple[str, Evidence]], chart: FileOut | None, cmd: str
) -> Reply:
    """The answer to ``evidence``: each period's facts, and the chart when there is one."""
    blocks: list[Block] = [Header("Fears vs facts")]
    if all(ev.empty for _, ev in summaries):
        text = (
            "No evidence yet. When you mark someone as reached out, guess how they'll respond — "
            f"then we'll compare. Try `{cmd}reached <name>`."
        )
        return Reply(summary="No evidence yet", blocks=(*blocks, section(text)))
    for label, ev in summaries:
        blocks.append(section(Strong(label), "\n" + "\n".join(period_lines(label, ev))))
    blocks.append(
        context("Only you can see this. Predictions are the one-tap guess after “Reached out”.")
    )
    _, overall = summaries[-1]
    summary = fears_line(overall) or outreach_line(overall)
    return Reply(summary=summary, blocks=tuple(blocks), files=(chart,) if chart else ())


def home_section(recent: Evidence, overall: Evidence) -> list[Block]:
    """A short "Fears vs facts" section for the Home tab (nothing before any outreach)."""
    if overall.empty:
        return []
    lines = [outreach_line(recent) if recent.reached_out else "No outreach in the last 4 weeks."]
    for line in (fears_line(overall), median_line(overall), dormant_line(overall)):
        if line:
            lines.append(line)
    return [
        Divider(),
        Header("Fears vs facts"),
        section("\n".join(lines)),
        Actions((Button("See all the evidence", Act.EVIDENCE),)),
    ]


def with_home_section(home: Reply, blocks: list[Block]) -> Reply:
    """``home`` with ``blocks`` inserted before its closing hint."""
    if not blocks:
        return home
    body = list(home.blocks)
    at = len(body) - 1 if body and isinstance(body[-1], Context) else len(body)
    return Reply(summary=home.summary, blocks=(*body[:at], *blocks, *body[at:]), files=home.files)


def chart_alt_text(overall: Evidence, weekly: Sequence[int], end: date) -> str:
    """What the chart shows, in words (screen readers; the reply's text says it too)."""
    feared = fears_line(overall) or "No predictions yet."
    total = sum(weekly)
    return (
        f"Chart. Left: your predicted versus actual responses. {feared} "
        f"Right: how often you reached out each week, for the {len(weekly)} weeks to "
        f"{end:%d %b %Y}: {f'{times(total)} in all' if total else 'none in that time'}."
    )
