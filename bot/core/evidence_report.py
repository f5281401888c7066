"""The ``evidence`` command and the Home section: read the user's record, summarise each
period, and draw the chart (in a thread: it is CPU work)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import date, timedelta

from bot.core import chart
from bot.core.evidence import (
    ConversationFacts,
    Evidence,
    Outreach,
    periods,
    summarize,
    weekly_counts,
)
from bot.core.evidence_views import chart_alt_text, evidence_reply, home_section
from bot.core.ports import ContactBook
from bot.core.replies import Block, FileOut, Reply

#: Weeks of outreach the chart shows.
WEEKS_CHARTED = 8
CHART_FILENAME = "reconnect-evidence.png"


async def report(book: ContactBook, today: date, cmd: str) -> Reply:
    """Fears vs facts for this week, the last 4 weeks and all time, with the chart."""
    outreach, talks = await book.evidence_history(None)
    summaries = [
        (label, summarize(outreach, talks, start=start, end=today))
        for label, start in periods(today)
    ]
    picture = await chart_file(outreach, talks, today, summaries[-1][1])
    return evidence_reply(summaries, picture, cmd)


async def chart_file(
    outreach: Sequence[Outreach],
    talks: Sequence[ConversationFacts],
    end: date,
    overall: Evidence | None = None,
    *,
    filename: str = CHART_FILENAME,
) -> FileOut | None:
    """The evidence chart for everything up to ``end`` (all time, and :data:`WEEKS_CHARTED`
    weeks of outreach), with its words in ``alt_text``; ``None`` when nothing is recorded yet
    (nothing to draw). ``overall`` is the all-time summary when the caller has it already.

    Drawn in a worker thread (CPU work must not hold up the event loop) and cached by what it
    shows (counts only)."""
    if overall is None:
        overall = summarize(outreach, talks, start=None, end=end)
    if overall.empty:
        return None
    weekly = weekly_counts(outreach, weeks=WEEKS_CHARTED, end=end)
    png = await asyncio.to_thread(_png, _chart_key(overall), tuple(weekly), end, overall)
    return FileOut(
        filename,
        "image/png",
        png,
        title="Fears vs facts",
        alt_text=chart_alt_text(overall, weekly, end),
    )


def recap_chart_name(end: date) -> str:
    """The weekly recap chart's file name: ``reconnect-week-2026-12-04.png``."""
    return f"reconnect-week-{end.isoformat()}.png"


async def recap_chart(
    outreach: Sequence[Outreach], talks: Sequence[ConversationFacts], end: date
) -> FileOut | None:
    """The chart that goes with a weekly recap covering a week to ``end``: the evidence
    chart as of that day (as the ``evidence`` command draws it), or ``None`` without data."""
    return await chart_file(outreach, talks, end, filename=recap_chart_name(end))


async def home_blocks(book: ContactBook, today: date) -> list[Block]:
    """The Home tab's short section (the last 4 weeks, and all time)."""
    outreach, talks = await book.evidence_history(None)
    recent = summarize(outreach, talks, start=today - timedelta(days=27), end=today)
    return home_section(recent, summarize(outreach, talks, start=None, end=today))


def _chart_key(ev: Evidence) -> tuple[tuple[str, str, int], ...]:
    """What the chart depends on, hashable (settled predictions)."""
    return tuple(
        sorted(
            (e.value, a.value, n)
            for e, actuals in ev.predictions.items()
            for a, n in actuals.items()
            if a is not None
        )
    )


def _png(
    key: tuple[tuple[str, str, int], ...], weekly: tuple[int, ...], end: date, ev: Evidence
) -> bytes:
    """The chart, cached by what it shows: asking again draws nothing (the cache holds
    counts and PNGs only, never names)."""
    with _LOCK:
        cached = _CACHE.get((key, weekly, end))
    if cached is None:
        cached = chart.render_png(ev, weekly, end)
        with _LOCK:
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[(key, weekly, end)] = cached
    return cached


_CACHE_MAX = 256
_CACHE: dict[tuple[tuple[tuple[str, str, int], ...], tuple[int, ...], date], bytes] = {}
_LOCK = threading.Lock()
