"""The evidence chart: predicted vs actual responses, and outreach per week, as a PNG.

Drawn with Pillow (a few milliseconds, no plotting stack to import). It is CPU work, so the
service runs :func:`render_png` in a thread, off the event loop.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from bot.core.evidence import Evidence, Expectation, week_start

WIDTH, HEIGHT = 880, 360
_BG = (255, 255, 255)
_INK = (40, 40, 40)
_GRID = (225, 225, 225)
_PREDICTED = (160, 174, 192)
_ACTUAL = (46, 125, 50)
_WEEK = (33, 102, 172)
_LABELS = {
    Expectation.NO_REPLY: "No reply",
    Expectation.BRUSH_OFF: "Brush-off",
    Expectation.GLAD: "Glad",
    Expectation.GO_OUT_OF_WAY: "Went out\nof their way",
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=4)
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def predicted_vs_actual(ev: Evidence) -> tuple[Counter[Expectation], Counter[Expectation]]:
    """How often each response was predicted, and how often it happened (settled ones only)."""
    predicted: Counter[Expectation] = Counter()
    actual: Counter[Expectation] = Counter()
    for expected, outcomes in ev.predictions.items():
        for result, n in outcomes.items():
            if result is not None:
                predicted[expected] += n
                actual[result] += n
    return predicted, actual


def render_png(overall: Evidence, weekly: Sequence[int], end: date) -> bytes:
    """The chart as PNG bytes: left, settled predictions vs what happened; right, outreach in
    each of the ``len(weekly)`` weeks up to ``end``'s week."""
    image = Image.new("RGB", (WIDTH, HEIGHT), _BG)
    draw = ImageDraw.Draw(image)
    title, small = _font(16), _font(12)
    predicted, actual = predicted_vs_actual(overall)
    draw.text((20, 12), "What you predicted vs what happened", fill=_INK, font=title)
    draw.text((480, 12), "Outreach per week", fill=_INK, font=title)
    _legend(draw, small)
    groups = [(_LABELS[e], (predicted[e], actual[e])) for e in Expectation]
    _bars(draw, (20, 60, 420, 300), groups, (_PREDICTED, _ACTUAL), small)
    first = week_start(end) - timedelta(weeks=len(weekly) - 1)
    weeks = [
        ((first + timedelta(weeks=i)).strftime("%d %b"), (count,)) for i, count in enumerate(weekly)
    ]
    _bars(draw, (480, 60, 860, 300), weeks, (_WEEK,), small)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _legend(draw: ImageDraw.ImageDraw, font: Font) -> None:
    x = 20
    for colour, label in ((_PREDICTED, "Predicted"), (_ACTUAL, "Actual")):
        draw.rectangle((x, 40, x + 10, 50), fill=colour)
        draw.text((x + 14, 38), label, fill=_INK, font=font)
        x += 90


def _bars(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    groups: Sequence[tuple[str, tuple[int, ...]]],
    colours: Sequence[tuple[int, int, int]],
    font: Font,
) -> None:
    """Grouped bars in ``box`` (left, top, right, bottom of the plot area), labels below."""
    left, top, right, bottom = box
    peak = max((v for _, values in groups for v in values), default=0) or 1
    draw.line((left, bottom, right, bottom), fill=_GRID, width=1)
    slot = (right - left) / max(1, len(groups))
    bar = max(2.0, slot * 0.7 / len(colours))
    for i, (label, values) in enumerate(groups):
        x = left + i * slot + (slot - bar * len(colours)) / 2
        for j, value in enumerate(values):
            height = (bottom - top - 16) * value / peak
            x0 = x + j * bar
            if value:
                draw.rectangle((x0, bottom - height, x0 + bar - 2, bottom), fill=colours[j])
            draw.text((x0, bottom - height - 14), str(value), fill=_INK, font=font)
        draw.multiline_text((left + i * slot + 2, bottom + 6), label, fill=_INK, font=font)
