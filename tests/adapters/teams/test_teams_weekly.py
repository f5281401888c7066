"""The weekly goal and recap on Teams, against the fake connector over HTTP (both databases):
``goal``, the ``recap`` card and its goal buttons, the settings card, and the proactive recap
sent by the recap pass from the stored conversation reference."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams.hosting import build_hosting
from bot.adapters.teams.messenger import TeamsMessenger
from bot.core.model import UserRef
from bot.settings import service_url_origins
from jobs.recap_runner import RecapRunner
from jobs.runner import NudgeConfig
from storage.recap_reads import RecapStore
from storage.repository import SqlStore
from tests.adapters.teams.conftest import ANONYMOUS, TENANT, TeamsClient
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.jobs.conftest import at
from tests.support import Clock

ADA = UserRef("teams", TENANT, "aad-ada")


@pytest.fixture
def recaps(engine: AsyncEngine, connector: FakeTeamsConnector) -> RecapRunner:
    allowed = service_url_origins(connector.base_url)
    messenger = TeamsMessenger(
        build_hosting(ANONYMOUS, allowed_service_urls=allowed), SqlStore(engine)
    )
    config = NudgeConfig(backoff_base=0.01, backoff_max=0.05, concurrency=20)
    return RecapRunner(RecapStore(engine), {"teams": messenger}, config=config)


def actions(card: dict[str, Any] | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


async def goals(engine: AsyncEngine) -> list[int]:
    async with SqlStore(engine).book(ADA, write=False) as book:
        return [c.goal for c in await book.goal_changes()]


async def test_goal_and_the_recap_card_and_its_buttons(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add Dana Whitfield")
    await teams.say("log Dana -- coffee")
    await teams.say("goal 2")
    replies = await connector.async_wait_for("reply", 3)
    assert "Goal set: 2 people a week" in card_text(replies[2].card)
    await teams.say("recap")
    card = (await connector.async_wait_for("reply", 4))[3].card
    text = card_text(card)
    assert "You reached **1 person**: Dana Whitfield." in text
    assert "1 of 2 this week." in text
    titles = [a["title"] for a in actions(card)]
    assert titles == ["Keep 2 next week", "Raise to 3", "Lower to 1"]
    lower = next(a for a in actions(card) if a["title"] == "Lower to 1")
    await teams.submit(lower["data"], reply_to="recap-1")
    [update] = await connector.async_wait_for("update")
    assert "Next week's goal: 1 person." in card_text(update.card)
    assert await goals(engine) == [2, 1]
    await teams.submit({**lower["data"], "value": "2001-01-01:5"}, reply_to="recap-1")
    updates = await connector.async_wait_for("update", 2)
    assert "left your goal as it is" in card_text(updates[1].card)
    assert await goals(engine) == [2, 1]


async def test_the_settings_card_has_the_recap_fields(
    teams: TeamsClient, connector: FakeTeamsConnector
) -> None:
    await teams.say("settings")
    [form] = await connector.async_wait_for("reply")
    ids = [b.get("id") for b in form.card["body"] if str(b.get("type")).startswith("Input.")]
    assert ids[-2:] == ["recap_day", "recap_time"]


async def test_the_recap_pass_sends_the_recap_card_on_friday_afternoon_in_berlin(
    teams: TeamsClient,
    connector: FakeTeamsConnector,
    recaps: RecapRunner,
    clock: Clock,
) -> None:
    clock.now = at(2026, 12, 2, 9, 0)  # Wednesday
    await teams.say("add Dana Whitfield")
    await teams.say("log Dana -- coffee")
    await connector.async_wait_for("reply", 2)
    connector.reset()
    assert (await recaps.run_once(at(2026, 12, 4, 14, 59))).due == 0  # 15:59 in Berlin
    summary = await recaps.run_once(at(2026, 12, 4, 15, 0))  # 16:00 in Berlin
    assert (summary.due, summary.sent) == (1, 1)
    assert (await recaps.run_once(at(2026, 12, 4, 15, 5))).already == 1
    [sent] = [c for c in connector.sent("a:personal-ada") if c.kind == "send"]
    text = card_text(sent.card)
    assert "Your week, 30 Nov – 4 Dec" in text
    assert "You reached **1 person**: Dana Whitfield." in text
    assert "Set a goal of 3 a week" in text
    # The evidence chart is an image inside the card, with its words as alt text.
    [image] = [b for b in sent.card["body"] if b.get("type") == "Image"]
    assert image["url"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert image["altText"].startswith("Chart. Left: your predicted versus actual responses.")
