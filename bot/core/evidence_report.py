"""The ``evidence`` command and the Home section: read the user's record, summarise each
period, and draw the chart (in a thread: it is CPU work)."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, timedelta

from bot.core import chart
from bot.core.evidence import Evidence, periods, summarize, weekly_counts
from bot.core.evidence_views import chart_alt_text, evidence_reply, home_section
from bot.core.ports import ContactBook
from bot.core.replies import Block, FileOut, Reply

#: Weeks of outreach the chart shows.
WEEKS_CHARTED = 8
CHART_FILENAME = "reconnect-evidence.png"


async def report(book: ContactBook, today: date, cmd: str) -> Reply:
    """Fears vs facts for this week, the last 4 weeks and all time, with the chart."""
    outreach, talks = await book.history(None)
    summaries = [
        (label, summarize(outreach, talks, start=start, end=today))
        for label, start in periods(today)
    ]
    overall = summaries[-1][1]
    picture = None
    if not overall.empty:
        weekly = weekly_counts(outreach, weeks=WEEKS_CHARTED, end=today)
        png = await asyncio.to_thread(_png, _chart_key(overall), tuple(weekly), today, overall)
        picture = FileOut(
            CHART_FILENAME,
            "image/png",
            png,
            title="Fears vs facts",
            alt_text=chart_alt_text(overall, weekly, today),
        )
    return evidence_reply(summaries, picture, cmd)


async def home_blocks(book: ContactBook, today: date) -> list[Block]:
    """The Home tab's short section (the last 4 weeks, and all time)."""
    outreach, talks = await book.history(None)
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
