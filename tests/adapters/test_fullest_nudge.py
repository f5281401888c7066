"""The fullest morning nudge issue 10 can compose — five cards, each with fresh news to
congratulate and everything known filled in, the gentle path's visualisation and micro-step,
three follow-up questions — still fits Slack's 50 blocks (nothing cut) and a Teams card's
budget without dropping a card."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.adapters.slack import render as slack
from bot.adapters.teams import cards as teams
from bot.core.model import Contact
from bot.core.nudges import Card, FollowUp, NudgeContent, render
from bot.core.relationships import YEARS_AGO

DAY = date(2026, 12, 1)


def _contact(i: int) -> Contact:
    return Contact(
        i, f"Dana{i} Whitfield", company_role="CFO at Brightline " * 5,
        how_known="She was my boss at Brightline 2016–2020 " * 4,
        notes="Sails every summer; two kids in college; " * 30, last_note="coffee " * 100,
        next_due_on=DAY, created_on=DAY - timedelta(days=40), relationship="boss",
        last_in_touch=YEARS_AGO, win="got promoted to VP of Finance at Brightline",
        win_on=DAY - timedelta(days=1), reached_out_on=DAY - timedelta(days=3),
    )  # fmt: skip


def test_the_fullest_nudge_fits_slack_and_teams() -> None:
    contacts = {i: _contact(i) for i in range(1, 9)}
    content = NudgeContent(
        day=DAY.isoformat(), prompt_id="courage-03",
        cards=[Card(i, "Congratulate Dana on getting promoted to VP of Finance.") for i in range(1, 6)],
        followups=[FollowUp(i, (DAY - timedelta(days=3)).isoformat()) for i in range(6, 9)],
        gentle=True,
    )  # fmt: skip
    reply = render(content, contacts, nudge_id=7, cmd="/reconnect ")
    assert len(reply.blocks) <= slack.MAX_BLOCKS  # Slack would cut the rest
    assert sum("I just heard you got promoted" in str(b) for b in reply.blocks) == 5
    card = teams.card(reply)
    assert len(json.dumps(card).encode()) <= teams.CARD_BUDGET
    text = json.dumps(card)
    assert all(f"Dana{i} Whitfield" in text for i in range(1, 9))  # no card dropped
