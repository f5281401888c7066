"""How the prediction question and its answers look (shared by nudge cards and replies).

Kept apart from :mod:`bot.core.predict` so :mod:`bot.core.nudges` can render the question on
a card without importing the service-side flow.
"""

from __future__ import annotations

from bot.core.actions import Act
from bot.core.evidence import EXPECTATION_LABELS, Expectation
from bot.core.replies import Actions, Button

#: The "skip" answer: no prediction, and the question goes away.
SKIP = "skip"

#: Button labels, short enough for a Teams ActionSet row (five buttons).
_SHORT_LABELS: dict[Expectation, str] = {
    Expectation.NO_REPLY: "No reply",
    Expectation.BRUSH_OFF: "Polite brush-off",
    Expectation.GLAD: "Glad to hear from me",
    Expectation.GO_OUT_OF_WAY: "Out of their way to help",
}


def question(first_name: str) -> str:
    """The one-tap question after "Reached out"."""
    return f"Quick guess before you find out: how do you expect {first_name} to respond?"


def prediction_actions(act: Act, prefix: str) -> Actions:
    """The four answers and "Skip"; each value is ``"<prefix>:<answer>"``."""
    buttons = [Button(_SHORT_LABELS[e], act, f"{prefix}:{e.value}") for e in Expectation]
    buttons.append(Button("Skip", act, f"{prefix}:{SKIP}"))
    return Actions(tuple(buttons))


def response_actions(act: Act, prefix: str) -> Actions:
    """How they responded, once they did (silence is "Not yet" or "Let it go")."""
    replied = [e for e in Expectation if e.replied]
    return Actions(tuple(Button(_SHORT_LABELS[e], act, f"{prefix}:{e.value}") for e in replied))


def expectation_phrase(expectation: Expectation) -> str:
    """``"no reply"``, ``"a polite brush-off"``… for sentences."""
    return EXPECTATION_LABELS[expectation]
