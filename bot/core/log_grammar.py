"""The one-line log grammar: ``log Dana went well -- referral to Acme next: CV by friday``.

- After the name, an optional phrase says how it went (the prediction scale): *went well*,
  *was glad* (glad to hear from you); *went great*, *out of their way*, *above and beyond*
  (went out of their way to help); *brushed me off*, *brush-off*, *was cold* (a polite
  brush-off). A name that itself ends like a phrase still matches (the service checks).
- After ``--``, the note. Outcome tags are recognised from words in it: advice/tips, info/
  information, intro/introduction, referral/referred, interview, an/the/job offer or offer
  letter, caught up/catch-up.
- ``next:`` in the note starts a next step; it ends with ``by <when>`` (friday, tomorrow,
  in 3 days, 5 Dec, 2026-12-05).
"""

from __future__ import annotations

import re

from bot.core.evidence import Expectation, OutcomeTag
from bot.core.text import clean, fold

#: Phrases after the name, longest first so "went out of their way" beats "went …".
_PHRASES: tuple[tuple[str, Expectation], ...] = tuple(
    sorted(
        (
            ("went well", Expectation.GLAD),
            ("it went well", Expectation.GLAD),
            ("was glad", Expectation.GLAD),
            ("were glad", Expectation.GLAD),
            ("glad to hear from me", Expectation.GLAD),
            ("went great", Expectation.GO_OUT_OF_WAY),
            ("it went great", Expectation.GO_OUT_OF_WAY),
            ("went out of their way", Expectation.GO_OUT_OF_WAY),
            ("out of their way", Expectation.GO_OUT_OF_WAY),
            ("above and beyond", Expectation.GO_OUT_OF_WAY),
            ("brushed me off", Expectation.BRUSH_OFF),
            ("brushed off", Expectation.BRUSH_OFF),
            ("brush off", Expectation.BRUSH_OFF),
            ("brush-off", Expectation.BRUSH_OFF),
            ("polite brush-off", Expectation.BRUSH_OFF),
            ("was cold", Expectation.BRUSH_OFF),
            ("went badly", Expectation.BRUSH_OFF),
        ),
        key=lambda p: -len(p[0]),
    )
)

_TAGS: tuple[tuple[OutcomeTag, re.Pattern[str]], ...] = (
    (OutcomeTag.ADVICE, re.compile(r"\b(advice|advised|tips?)\b")),
    (OutcomeTag.INFO, re.compile(r"\b(info|information|insights?)\b")),
    (OutcomeTag.INTRODUCTION, re.compile(r"\b(intro|intros|introduction|introduced)\b")),
    (OutcomeTag.REFERRAL, re.compile(r"\b(referral|referrals|referred)\b")),
    (OutcomeTag.INTERVIEW, re.compile(r"\b(interview|interviews|interviewed)\b")),
    (OutcomeTag.OFFER, re.compile(r"\b((an|the|job) offer|offer letter)\b")),
    (OutcomeTag.CAUGHT_UP, re.compile(r"\b(caught up|catch[- ]up)\b")),
)

_NEXT = re.compile(r"(?:^|\s)next\s*:\s*", re.IGNORECASE)
_BY = re.compile(r"\s+by\s+(?P<when>[^,;]{1,40})$", re.IGNORECASE)


def split_response(head: str) -> tuple[str, Expectation | None]:
    """``"Dana went well"`` → ``("Dana", GLAD)``; no phrase → ``(head, None)``."""
    lowered = head.lower()
    for phrase, expectation in _PHRASES:
        if lowered == phrase:
            return "", expectation
        if lowered.endswith(" " + phrase):
            return head[: -len(phrase)].strip(), expectation
    return head, None


def split_next_step(note: str) -> tuple[str, str, str]:
    """``"referral next: CV by friday"`` → ``("referral", "CV", "friday")``; the date part is
    ``""`` when no ``by <when>`` ends the step."""
    parts = _NEXT.split(note, maxsplit=1)
    if len(parts) == 1:
        return note, "", ""
    before, step = clean(parts[0]).rstrip(" ;,"), clean(parts[1])
    found = _BY.search(step)
    if found is None:
        return before, step, ""
    return before, step[: found.start()].strip(), found.group("when").strip()


def outcomes_in(note: str) -> frozenset[OutcomeTag]:
    """The outcome tags the note's words name."""
    text = fold(note)
    return frozenset(tag for tag, pattern in _TAGS if pattern.search(text))
