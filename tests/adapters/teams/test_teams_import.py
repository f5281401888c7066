"""A contacts file attached in the Teams personal chat, over real HTTP: the activity in, the
download from a local file server (standing in for SharePoint), the report out through the
fake connector; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams.file_import import FILE_DOWNLOAD
from bot.app import build_app
from bot.core.imports.people import MAX_BYTES
from bot.core.model import UserRef
from bot.settings import service_url_origins
from storage.repository import SqlStore
from tests.adapters.teams.conftest import ANONYMOUS, TENANT, TeamsClient, teams_settings
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.support import Clock

DATA = Path(__file__).resolve().parents[2] / "data"
ROOT = Path(__file__).resolve().parents[3]
ADA = UserRef("teams", TENANT, "aad-ada")


class FileServer:
    """Serves files by name, as SharePoint serves a pre-authorised download URL."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []
        self.base_url = ""

    async def serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.downloads.append(name)
        if name == "redirect":
            raise web.HTTPFound("http://203.0.113.9/elsewhere")
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    server = FileServer()
    app = web.Application()
    app.router.add_get("/files/{name}", server.serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    await runner.cleanup()


@pytest.fixture
async def teams_files(
    engine: AsyncEngine,
    database_url: URL,
    connector: FakeTeamsConnector,
    clock: Clock,
    files: FileServer,
) -> AsyncIterator[TeamsClient]:
    """The app with Teams, allowed to fetch files from the local file server."""
    allowed = (*service_url_origins(connector.base_url), files.base_url)
    app = build_app(
        teams_settings(database_url, allowed), clock=clock, engine=engine, env=ANONYMOUS
    )
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with aiohttp.ClientSession() as http:
        port = runner.addresses[0][1]
        yield TeamsClient(http, f"http://127.0.0.1:{port}/api/messages", connector.service_url)
    await runner.cleanup()


def attached(url: str, name: str = "Connections.csv") -> dict[str, Any]:
    return {
        "attachments": [
            {
                "contentType": FILE_DOWNLOAD,
                "contentUrl": url,
                "name": name,
                "content": {"downloadUrl": url, "uniqueId": "u1", "fileType": "csv"},
            },
            {"contentType": "text/html", "content": "<div></div>"},
        ],
        "text": "",
    }


async def pool_names(engine: AsyncEngine) -> list[str]:
    async with SqlStore(engine).book(ADA, write=False) as book:
        return sorted(c.name for c in await book.pool())


async def test_an_attached_file_is_imported_and_reported(
    teams_files: TeamsClient, connector: FakeTeamsConnector, files: FileServer, engine: AsyncEngine
) -> None:
    files.files["vcf"] = (DATA / "contacts.vcf").read_bytes()
    status = await teams_files.post(teams_files.activity(**attached(f"{files.base_url}/files/vcf")))
    assert status in (200, 202)
    [reply] = await connector.async_wait_for("reply")
    said = card_text(reply.card)
    assert "Imported 2 people from your contact cards into your pool." in said
    assert "Skipped 2 lines: line 23 — no name; line 29 — I couldn't read this card." in said
    assert "Pick who matters" in said
    assert await pool_names(engine) == ["Haruki Nakamura", "Ngozi Adeyemi"]
    # The triage button opens the checkbox form, a card.
    await teams_files.say("triage")
    replies = await connector.async_wait_for("reply", 2)
    assert "Haruki Nakamura — Senior Director of Research" in card_text(replies[1].card)


async def test_files_not_imported(
    teams_files: TeamsClient, connector: FakeTeamsConnector, files: FileServer, engine: AsyncEngine
) -> None:
    files.files["big"] = b"x" * (MAX_BYTES + 10)
    files.files["bad"] = b"date,amount\n2024-01-01,1\n"
    for url in (
        "http://203.0.113.9/files/vcf",  # not SharePoint, not allowed
        f"{files.base_url}/files/big",
        f"{files.base_url}/files/bad",
        f"{files.base_url}/files/redirect",  # redirects are not followed
        f"{files.base_url}/files/missing",
    ):
        await teams_files.post(teams_files.activity(**attached(url)))
    replies = await connector.async_wait_for("reply", 5)
    said = [card_text(r.card) for r in replies]
    assert "couldn't download that file" in said[0]
    assert "more than the 5 MB I import at once" in said[1]
    assert "I don't recognise that file" in said[2]
    assert "couldn't download that file" in said[3] and "couldn't download" in said[4]
    assert "vcf" not in files.downloads
    assert await pool_names(engine) == []


async def test_files_in_a_group_chat_are_not_imported(
    teams_files: TeamsClient, connector: FakeTeamsConnector, files: FileServer, engine: AsyncEngine
) -> None:
    files.files["vcf"] = (DATA / "contacts.vcf").read_bytes()
    activity = teams_files.activity(**attached(f"{files.base_url}/files/vcf"))
    activity["conversation"] = {
        "conversationType": "groupChat",
        "tenantId": TENANT,
        "id": "19:group-chat",
    }
    await teams_files.post(activity)
    await connector.async_wait_for("reply")
    assert files.downloads == []
    assert await pool_names(engine) == []


def test_the_manifest_lets_users_attach_files() -> None:
    manifest = json.loads((ROOT / "teams" / "manifest.json").read_text())
    assert manifest["bots"][0]["supportsFiles"] is True
