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
#: A palette image (one byte a pixel) with these colours: encoding it is several times faster
#: than RGB, and the chart uses nothing else.
_PALETTE = [
    (255, 255, 255),  # background
    (40, 40, 40),  # ink
    (225, 225, 225),  # grid
    (160, 174, 192),  # predicted
    (46, 125, 50),  # actual
    (33, 102, 172),  # weeks
]
_BG, _INK, _GRID, _PREDICTED, _ACTUAL, _WEEK = range(len(_PALETTE))
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
    first = week_start(end) - timedelta(weeks=len(weekly) - 1)
    # Titles, legend and labels are the same for everyone in a week: drawn once, then copied.
    image = _frame(first, len(weekly)).copy()
    draw = ImageDraw.Draw(image)
    small = _font(12)
    predicted, actual = predicted_vs_actual(overall)
    groups = [(predicted[e], actual[e]) for e in Expectation]
    _bars(draw, _LEFT, groups, (_PREDICTED, _ACTUAL), small)
    _bars(draw, _RIGHT, [(count,) for count in weekly], (_WEEK,), small)
    out = io.BytesIO()
    # Fast compression: the picture is mostly flat colour, so level 1 is nearly as small.
    image.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()


_LEFT = (20, 60, 420, 300)
_RIGHT = (480, 60, 860, 300)


@lru_cache(maxsize=8)
def _frame(first: date, weeks: int) -> Image.Image:
    """Everything but the bars, for charts whose weeks start on ``first``."""
    image = Image.new("P", (WIDTH, HEIGHT), _BG)
    image.putpalette([channel for colour in _PALETTE for channel in colour])
    draw = ImageDraw.Draw(image)
    title, small = _font(16), _font(12)
    draw.text((20, 12), "What you predicted vs what happened", fill=_INK, font=title)
    draw.text((480, 12), "Outreach per week", fill=_INK, font=title)
    _legend(draw, small)
    _labels(draw, _LEFT, [_LABELS[e] for e in Expectation], small)
    days = [(first + timedelta(weeks=i)).strftime("%d %b") for i in range(weeks)]
    _labels(draw, _RIGHT, days, small)
    return image


def _labels(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], labels: Sequence[str], font: Font
) -> None:
    """The axis and a label under each group's slot."""
    left, _, right, bottom = box
    draw.line((left, bottom, right, bottom), fill=_GRID, width=1)
    slot = (right - left) / max(1, len(labels))
    for i, label in enumerate(labels):
        draw.multiline_text((left + i * slot + 2, bottom + 6), label, fill=_INK, font=font)


def _legend(draw: ImageDraw.ImageDraw, font: Font) -> None:
    x = 20
    for colour, label in ((_PREDICTED, "Predicted"), (_ACTUAL, "Actual")):
        draw.rectangle((x, 40, x + 10, 50), fill=colour)
        draw.text((x + 14, 38), label, fill=_INK, font=font)
        x += 90


def _bars(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    groups: Sequence[tuple[int, ...]],
    colours: Sequence[int],
    font: Font,
) -> None:
    """Grouped bars in ``box`` (left, top, right, bottom of the plot area), each with its
    value above it."""
    left, top, right, bottom = box
    peak = max((v for values in groups for v in values), default=0) or 1
    slot = (right - left) / max(1, len(groups))
    bar = max(2.0, slot * 0.7 / len(colours))
    for i, values in enumerate(groups):
        x = left + i * slot + (slot - bar * len(colours)) / 2
        for j, value in enumerate(values):
            height = (bottom - top - 16) * value / peak
            x0 = x + j * bar
            if value:
                draw.rectangle((x0, bottom - height, x0 + bar - 2, bottom), fill=colours[j])
            draw.text((x0, bottom - height - 14), str(value), fill=_INK, font=font)
