"""Courage from the user's own record: the story's wording, when it is told, and prompts that
ask about predictions only once one exists."""

from datetime import date, timedelta

import pytest

from bot.core.courage import NEEDS_PREDICTION, EvidenceHint, Story, better, story_text, when
from bot.core.evidence import Expectation
from bot.core.model import ContactDraft
from bot.core.nudges import Activity, NudgeContent, compose, render
from bot.core.prompts import Hurdle, choose_prompt, prompts_for
from bot.core.replies import plain

E = Expectation
TODAY = date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize(
    "story, text",
    [
        (Story("Ahmed", E.NO_REPLY, E.GLAD, date(2026, 11, 2), date(2026, 11, 3)),
         "Last month you were sure Ahmed wouldn't answer. Ahmed replied the next day, glad to "
         "hear from you."),
        (Story("Dana", E.BRUSH_OFF, E.GO_OUT_OF_WAY, date(2026, 11, 30), date(2026, 11, 30)),
         "This week you expected Dana to brush you off. Dana replied the same day and went out "
         "of their way to help."),
        (Story("Bo", E.NO_REPLY, E.BRUSH_OFF, date(2026, 11, 20), date(2026, 11, 24)),
         "Last week you were sure Bo wouldn't answer. Bo replied 4 days later."),
        (Story("Cy", E.NO_REPLY, E.GLAD, date(2026, 9, 9), None),
         "In September you were sure Cy wouldn't answer. Cy replied, glad to hear from you."),
        (Story("Eve", E.NO_REPLY, E.GLAD, date(2025, 12, 20), date(2025, 12, 22)),
         "In December 2025 you were sure Eve wouldn't answer. Eve replied 2 days later, glad to "
         "hear from you."),
        (Story("{name}", E.NO_REPLY, E.GLAD, date(2026, 11, 2), None),
         "Last month you were sure {name} wouldn't answer. {name} replied, glad to hear from "
         "you."),
    ],
)  # fmt: skip
def test_story_wording(story: Story, text: str) -> None:
    assert story_text(story, TODAY) == text


def test_when_and_better() -> None:
    assert when(TODAY - timedelta(1), TODAY) == "This week"
    assert when(date(2026, 11, 29), TODAY) == "Last week"  # Sunday before
    assert when(date(2026, 12, 1), date(2026, 12, 20)) == "Earlier this month"
    assert better(E.NO_REPLY, E.BRUSH_OFF) and not better(E.GLAD, E.GO_OUT_OF_WAY)
    assert not better(E.BRUSH_OFF, E.NO_REPLY) and not better(E.NO_REPLY, E.NO_REPLY)


def test_prediction_prompts_wait_for_a_prediction() -> None:
    mind = prompts_for(Hurdle.MIND_READING)
    shown = {p.id: 1 for p in mind if p.id not in NEEDS_PREDICTION}  # all seen but one
    for seed in range(50):
        assert choose_prompt(Hurdle.MIND_READING, shown, seed, NEEDS_PREDICTION).id not in (
            NEEDS_PREDICTION
        )
    assert choose_prompt(Hurdle.MIND_READING, shown, 0).id in NEEDS_PREDICTION


def compose_with(hint: EvidenceHint | None, pending: int, seed: int) -> NudgeContent:
    """A nudge of an active user; ``pending`` follow-ups are asked about today."""
    activity = Activity(3, 4, TODAY - timedelta(1), True)
    asked = [
        ContactDraft(name=f"Person {n}").new_contact(n + 1, due_on=TODAY, today=TODAY)
        for n in range(pending)
    ]
    return compose(
        activity=activity, picks=[], followups=asked, prompt_views={}, today=TODAY, seed=seed,
        evidence=hint,
    )  # fmt: skip


def test_the_story_comes_with_a_mind_reading_or_courage_prompt_only() -> None:
    story = Story("Ahmed", E.NO_REPLY, E.GLAD, date(2026, 11, 2), date(2026, 11, 3))
    hint = EvidenceHint(True, story)
    # A reply asked about today: mind-reading on even seeds (not every morning).
    mind = compose_with(hint, pending=1, seed=2)
    assert mind.prompt_id.startswith("mind-reading") and "Ahmed replied" in mind.evidence
    commit = compose_with(hint, pending=0, seed=3)  # active, nothing pending: commitment
    assert commit.evidence == ""
    assert compose_with(None, pending=1, seed=3).evidence == ""
    reply = render(mind, {}, nudge_id=1, cmd="/reconnect ")
    text = " ".join(plain(b.parts) for b in reply.blocks if hasattr(b, "parts"))
    assert "📈 From your own record: Last month you were sure Ahmed wouldn't answer." in text
    # Without any prediction, the mind-reading prompts never ask about predictions.
    for seed in range(60):
        assert compose_with(EvidenceHint(), 1, seed).prompt_id not in NEEDS_PREDICTION
    assert any(
        compose_with(EvidenceHint(predicted=True), 1, seed).prompt_id in NEEDS_PREDICTION
        for seed in range(60)
    )
