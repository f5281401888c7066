"""Proactive morning nudges on Teams: from stored conversation references, rate-limited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from bot.core.service import Caller, Reconnect
from jobs.runner import NudgeRunner
from storage.models import User
from storage.repository import SqlStore
from tests.adapters.teams.conftest import ANONYMOUS, TENANT, TeamsClient
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.jobs.conftest import at

ROOT = Path(__file__).resolve().parents[3]
TUESDAY_BERLIN = at(2026, 12, 1, 7, 30)  # 08:30 in Berlin


def test_proactive_nudge_from_a_fresh_process(
    database_url: URL, connector: FakeTeamsConnector, tmp_path: Path, teams_user: None
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "CONNECTIONS__"))
    }
    env.update(
        ANONYMOUS,
        TEAMS_ALLOWED_SERVICE_URLS=connector.base_url,
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
        DATABASE_URL=database_url.render_as_string(hide_password=False),
    )
    result = subprocess.run(
        [sys.executable, "-m", "jobs", "run-once", "--at", TUESDAY_BERLIN.isoformat()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert "due 1 · sent 1" in result.stdout
    [nudge] = [c for c in connector.sent("a:personal-ada") if c.kind == "send"]
    assert nudge.authorization is None
    text = card_text(nudge.card)
    assert "Good morning — Tuesday" in text and "Dana Whitfield" in text
    assert "Reached out" in text and "Draft an opener" in text


@pytest.fixture
async def teams_user(teams: TeamsClient, connector: FakeTeamsConnector) -> None:
    """Ada installs the app in Berlin and adds a contact (the reference is stored)."""
    await teams.say("add Dana Whitfield -- loves sailing")
    await connector.async_wait_for("reply")
    connector.reset()


async def test_a_user_without_a_conversation_reference_is_reported(
    runner: NudgeRunner, engine: AsyncEngine, service: Reconnect, connector: FakeTeamsConnector
) -> None:
    await service.command(Caller(UserRef("teams", TENANT, "aad-nobody")), "add Dana")
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert (summary.due, summary.sent, summary.undeliverable) == (1, 0, 1)
    async with engine.connect() as connection:
        [user] = (await connection.execute(select(User))).all()
    assert user.undeliverable == "no_conversation_reference"


async def test_nudge_buttons_update_the_card_in_place(
    teams_user: None,
    runner: NudgeRunner,
    teams: TeamsClient,
    connector: FakeTeamsConnector,
    clock,
) -> None:
    clock.now = TUESDAY_BERLIN
    assert (await runner.run_once(TUESDAY_BERLIN)).sent == 1
    [nudge] = connector.sent("a:personal-ada")
    reached = _button(nudge.card, "Reached out")
    message_id = _sent_id(connector)
    await teams.submit(reached["data"], reply_to=message_id)
    await teams.submit(reached["data"], reply_to=message_id)  # a double click
    updates = await connector.async_wait_for("update", 2)
    assert all(u.activity_id == message_id for u in updates)
    assert "✓ You reached out to **Dana Whitfield**" in card_text(updates[-1].card)


async def test_rate_limited_connector_still_gets_every_nudge_once(
    runner: NudgeRunner, engine: AsyncEngine, connector: FakeTeamsConnector
) -> None:
    store = SqlStore(engine)
    service = Reconnect(store)
    for i in range(40):
        user = UserRef("teams", TENANT, f"aad-{i}")
        await service.command(Caller(user), "add Dana")
        reference = personal_reference(f"a:chat-{i}", connector.service_url, f"29:{i}")
        await store.save_reference(user, f"a:chat-{i}", reference)
    connector.rate_limit(per_second=20.0, burst=5)
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert summary.sent == 40
    for i in range(40):
        assert len([c for c in connector.sent(f"a:chat-{i}") if c.kind == "send"]) == 1


async def test_a_nudge_to_a_real_length_teams_conversation_id_is_recorded(
    runner: NudgeRunner, engine: AsyncEngine, connector: FakeTeamsConnector
) -> None:
    # Real personal conversation ids run past 100 characters; the nudge's channel column was
    # 64 wide, so PostgreSQL refused to record the send (sent 0, failed 1).
    store = SqlStore(engine)
    user = UserRef("teams", TENANT, "aad-long")
    await Reconnect(store).command(Caller(user), "add Dana")
    conversation = "a:1" + "Xk3_9vQ-" * 17 + "Z"  # 140 characters
    reference = personal_reference(conversation, connector.service_url, "29:long")
    await store.save_reference(user, conversation, reference)
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert (summary.sent, summary.failed) == (1, 0)
    assert len([c for c in connector.sent(conversation) if c.kind == "send"]) == 1
    async with engine.connect() as connection:
        [channel] = (await connection.execute(text("SELECT channel FROM nudges"))).scalars()
    assert channel == conversation


def personal_reference(conversation: str, service_url: str, user_id: str) -> str:
    """A stored conversation reference (JSON) for a personal chat in the test tenant."""
    return json.dumps(
        {
            "bot": {"id": "28:bot"},
            "channelId": "msteams",
            "conversation": {
                "id": conversation,
                "tenantId": TENANT,
                "conversationType": "personal",
            },
            "serviceUrl": service_url,
            "user": {"id": user_id},
        }
    )


def _button(card: dict | None, title: str) -> dict:
    def walk(node: object) -> dict | None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit" and node.get("title") == title:
                return node
            for value in node.values():
                found = walk(value)
                if found:
                    return found
        elif isinstance(node, list):
            for item in node:
                found = walk(item)
                if found:
                    return found
        return None

    found = walk(card)
    assert found is not None, title
    return found


def _sent_id(connector: FakeTeamsConnector) -> str:
    [call] = [c for c in connector.sent("a:personal-ada") if c.kind == "send"]
    return str(call.response_id)


async def test_a_stored_reference_outside_the_allowed_service_urls_is_never_sent_to(
    runner: NudgeRunner, engine: AsyncEngine, connector: FakeTeamsConnector
) -> None:
    """A reference stored before serviceUrls were checked: the nudge is permanently refused."""
    store = SqlStore(engine)
    user = UserRef("teams", TENANT, "aad-old")
    await Reconnect(store).command(Caller(user), "add Dana")
    reference = personal_reference("a:old", "https://attacker.example/", "29:old")
    await store.save_reference(user, "a:old", reference)
    summary = await runner.run_once(at(2026, 12, 1, 8, 30))
    assert (summary.sent, summary.undeliverable) == (0, 1)
    async with engine.connect() as connection:
        [row] = (await connection.execute(select(User))).all()
    assert row.undeliverable == "service_url_not_allowed"
