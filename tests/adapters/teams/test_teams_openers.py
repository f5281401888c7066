"""``opener`` and ``prep`` on Teams over real HTTP (SQLite and PostgreSQL): cards within Teams'
limits (the ``connector`` fixture checks every card: ≤ 6 actions per set, the size budget)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ContactRow
from tests.adapters.teams.conftest import TeamsClient
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector


async def test_opener_and_prep_cards(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add WANG Li -- two kids in college; laid off in January; loves jazz")
    await teams.say("opener wang")
    await teams.say("due")
    replies = await connector.async_wait_for("reply", 3)
    opener = card_text(replies[1].card)
    assert "Hi Li, " in opener and "laid off" not in opener and "WANG," not in opener
    due = replies[2].card
    assert due is not None
    sets = [e["actions"] for e in due["body"] if e["type"] == "ActionSet"]
    # Six buttons, one row (Teams shows at most six); openers are on Prepare.
    assert any({"Reached out", "Prepare"} <= {a["title"] for a in s} for s in sets)
    assert all(len(s) <= 6 for s in sets)
    async with engine.connect() as connection:
        li = (await connection.execute(select(ContactRow))).one()
    await teams.submit({"rc": "action", "action": "prep", "value": str(li.id)}, reply_to="card-1")
    [update] = await connector.async_wait_for("update")
    prep = card_text(update.card)
    assert "Three curious questions" in prep and "👂" in prep


async def test_log_learned_on_teams(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add Dana Whitfield called Dee")
    await teams.say("log dana -- lunch")
    await teams.say("log dana -- learned: her son started at Yale")
    replies = await connector.async_wait_for("reply", 3)
    assert "What did they mention twice?" in card_text(replies[1].card)
    assert "Added what you learned" in card_text(replies[2].card)
    await teams.say("opener dana")
    replies = await connector.async_wait_for("reply", 4)
    assert "Hi Dee, " in card_text(replies[3].card)
