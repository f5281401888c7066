"""Predict, then find out on Teams (the fake connector, both databases): the card's one-tap
prediction, the one-line log with a response and an outcome, and the evidence card."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs.runner import NudgeRunner
from storage.models import NextStepRow, OutreachRow
from tests.adapters.teams.conftest import TeamsClient
from tests.adapters.teams.test_teams_http import card_text
from tests.adapters.teams.test_teams_nudges import (  # noqa: F401 (fixture)
    TUESDAY_BERLIN,
    _button,
    _sent_id,
    teams_user,
)
from tests.fakes.teams_connector import FakeTeamsConnector


async def test_predict_log_and_evidence_on_teams(
    teams_user: None,  # noqa: F811
    runner: NudgeRunner,
    teams: TeamsClient,
    connector: FakeTeamsConnector,
    engine: AsyncEngine,
    clock,
) -> None:
    clock.now = TUESDAY_BERLIN
    assert (await runner.run_once(TUESDAY_BERLIN)).sent == 1
    [nudge] = connector.sent("a:personal-ada")
    message_id = _sent_id(connector)
    await teams.submit(_button(nudge.card, "Reached out")["data"], reply_to=message_id)
    [update] = await connector.async_wait_for("update")
    assert "how do you expect Dana to respond?" in card_text(update.card)
    actions = [a for a in _walk(update.card) if a.get("type") == "ActionSet"]
    assert all(len(a["actions"]) <= 6 for a in actions)
    await teams.submit(_button(update.card, "No reply")["data"], reply_to=message_id)
    updates = await connector.async_wait_for("update", 2)
    assert "how do you expect" not in card_text(updates[-1].card)

    await teams.say("log Dana went well -- referral to Acme next: intro to the CFO by friday")
    [logged] = await connector.async_wait_for("reply")
    text = card_text(logged.card)
    assert "Logged your conversation with **Dana Whitfield**" in text
    assert "Response: glad to hear from me" in text and "a referral" in text
    assert "I'll remind you on" in text

    connector.reset()
    await teams.say("evidence")
    [answer] = await connector.async_wait_for("reply")
    facts = card_text(answer.card)
    assert "You reached out once and heard back once (100%)." in facts
    assert "Median time to a reply: the same day." in facts
    assert "You expected a cold reception once; that person replied warmly." in facts
    assert "Your one settled prediction turned out better than you expected." in facts

    async with engine.connect() as connection:
        row = (await connection.execute(select(OutreachRow))).one()
        step = (await connection.execute(select(NextStepRow))).one()
    assert (row.expected, row.actual) == ("no_reply", "glad")
    assert (step.text, step.due_on.isoformat()) == ("intro to the CFO", "2026-12-04")


def _walk(node: object) -> list[dict]:
    found: list[dict] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_walk(item))
    return found
