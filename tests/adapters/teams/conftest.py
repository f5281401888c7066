"""Fixtures: the whole app with Teams (anonymous local mode) against a fake Teams connector."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams import cards
from bot.adapters.teams.hosting import build_hosting
from bot.adapters.teams.messenger import TeamsMessenger
from bot.app import build_app
from bot.settings import Settings, TeamsSettings, service_url_origins
from jobs.runner import NudgeConfig, NudgeRunner
from storage.nudges import NudgeStore
from storage.repository import SqlStore
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.support import Clock

ANONYMOUS = {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true"}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:00000000-0000-0000-0000-00000000b07", "name": "Reconnect"}
_ids = itertools.count(1000)


@pytest.fixture
def connector() -> Iterator[FakeTeamsConnector]:
    """The fake connector; every card the app sent through it is checked against Teams' limits."""
    with FakeTeamsConnector() as fake:
        yield fake
    dump = os.environ.get("RECONNECT_CARD_DUMP")  # for teams/check_cards.mjs (the real renderer)
    for n, call in enumerate(fake.calls):
        for k, card in enumerate(call.cards):
            all_cards_within_teams_limits(card)
            if dump:
                sent = int(call.headers.get("Content-Length") or 0)
                record = {"card": card, "message_bytes": sent}
                name = f"{uuid.uuid4().hex[:12]}-{n}-{k}.json"
                (Path(dump) / name).write_text(json.dumps(record), encoding="utf-8")


def all_cards_within_teams_limits(card: dict[str, Any]) -> None:
    """At most 6 actions in any actions list, an errorMessage on every required input, and
    under the size budget as sent (ASCII-escaped)."""

    def walk(node: object) -> None:
        if isinstance(node, dict):
            actions = node.get("actions")
            if isinstance(actions, list):
                assert len(actions) <= cards.MAX_ACTIONS, node
            if str(node.get("type", "")).startswith("Input.") and node.get("isRequired"):
                assert node.get("errorMessage"), node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    assert cards.size(card) <= cards.CARD_BUDGET


@dataclass
class TeamsClient:
    """Posts Bot Framework activities to the running app, as Teams does."""

    http: aiohttp.ClientSession
    url: str
    service_url: str

    def activity(self, user: str = "ada", **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "type": "message",
            "id": str(next(_ids)),
            "timestamp": "2026-12-01T08:00:00.000Z",
            "localTimezone": "Europe/Berlin",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": f"29:{user}", "name": user.title(), "aadObjectId": f"aad-{user}"},
            "conversation": {
                "conversationType": "personal",
                "tenantId": TENANT,
                "id": f"a:personal-{user}",
            },
            "recipient": BOT,
            "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "Europe/Berlin"}],
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "en-US",
        }
        base.update(fields)
        return base

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        async with self.http.post(
            self.url,
            data=json.dumps(activity),
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as response:
            return response.status

    async def say(self, text: str, user: str = "ada") -> int:
        return await self.post(self.activity(user, text=text))

    async def submit(
        self, value: dict[str, Any], *, reply_to: str | None, user: str = "ada"
    ) -> int:
        fields: dict[str, Any] = {"value": value}
        if reply_to:
            fields["replyToId"] = reply_to
        return await self.post(self.activity(user, **fields))


def teams_settings(database_url: URL, allowed_service_urls: tuple[str, ...] = ()) -> Settings:
    teams = TeamsSettings(client_id=None, anonymous=True, allowed_service_urls=allowed_service_urls)
    return Settings(database_url=database_url, teams=teams)


@pytest.fixture
async def teams(
    engine: AsyncEngine, database_url: URL, connector: FakeTeamsConnector, clock: Clock
) -> AsyncIterator[TeamsClient]:
    settings = teams_settings(database_url, service_url_origins(connector.base_url))
    app = build_app(settings, clock=clock, engine=engine, env=ANONYMOUS)
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        yield TeamsClient(http, f"http://127.0.0.1:{port}/api/messages", connector.service_url)
    await runner.cleanup()


@pytest.fixture
def runner(engine: AsyncEngine, connector: FakeTeamsConnector) -> NudgeRunner:
    allowed = service_url_origins(connector.base_url)
    messenger = TeamsMessenger(
        build_hosting(ANONYMOUS, allowed_service_urls=allowed), SqlStore(engine)
    )
    config = NudgeConfig(backoff_base=0.01, backoff_max=0.05, concurrency=20)
    return NudgeRunner(NudgeStore(engine), {"teams": messenger}, config=config)
