"""The evidence chart: a real PNG of the promised size, drawn from the counts it is given."""

import io
from datetime import date

from PIL import Image

from bot.core.chart import HEIGHT, WIDTH, predicted_vs_actual, render_png
from bot.core.evidence import Expectation, Outreach, summarize

E = Expectation
END = date(2026, 11, 27)


def evidence(*pairs: tuple[E, E | None]):
    events = [Outreach(i, i, END, e, a) for i, (e, a) in enumerate(pairs, 1)]
    return summarize(events, [], start=None, end=END)


def test_a_png_that_changes_with_the_counts() -> None:
    one = render_png(evidence((E.NO_REPLY, E.GLAD)), [0, 1, 2], END)
    image = Image.open(io.BytesIO(one))
    assert (image.format, image.size) == ("PNG", (WIDTH, HEIGHT))
    assert render_png(evidence((E.NO_REPLY, E.GLAD)), [0, 1, 2], END) == one  # deterministic
    assert render_png(evidence((E.NO_REPLY, E.NO_REPLY)), [0, 1, 2], END) != one
    assert render_png(evidence((E.NO_REPLY, E.GLAD)), [0, 1, 3], END) != one
    empty = Image.open(io.BytesIO(render_png(evidence(), [0] * 8, END)))
    assert empty.size == (WIDTH, HEIGHT)


def test_only_settled_predictions_are_charted() -> None:
    predicted, actual = predicted_vs_actual(
        evidence((E.NO_REPLY, E.GLAD), (E.NO_REPLY, None), (E.GLAD, E.GLAD))
    )
    assert predicted == {E.NO_REPLY: 1, E.GLAD: 1}
    assert actual == {E.GLAD: 2}
