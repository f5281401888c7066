"""With an Entra app configured, /api/messages demands a valid token; other routes don't."""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams.hosting import build_hosting
from bot.app import build_app
from bot.settings import Settings, TeamsSettings
from tests.adapters.teams.conftest import ANONYMOUS, TeamsClient
from tests.fakes.teams_connector import FakeTeamsConnector

CREDENTIALS = {
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "00000000-0000-0000-0000-0000000000b0",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "not-a-real-secret",
    "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "00000000-0000-0000-0000-00000000000t",
}


async def test_unsigned_and_forged_requests_are_refused(
    engine: AsyncEngine, database_url: URL, connector: FakeTeamsConnector
) -> None:
    settings = Settings(
        database_url=database_url,
        teams=TeamsSettings(
            client_id=CREDENTIALS["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"],
            anonymous=False,
        ),
    )
    app = build_app(settings, engine=engine, env=CREDENTIALS)
    assert app.teams is not None and not app.teams.anonymous
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            client = TeamsClient(http, f"{base}/api/messages", connector.service_url)
            activity = client.activity(text="add Mallory")
            assert await client.post(activity) == 401
            forged = {"Authorization": "Bearer abc.def.ghi"}
            assert await client.post(activity, headers=forged) == 401
            async with http.get(f"{base}/healthz") as health:
                assert health.status == 200  # JWT validation is on /api/messages only
            async with http.post(f"{base}/api/messages", data=json.dumps({"type": "message"})) as r:
                assert r.status == 401
    finally:
        await runner.cleanup()
    assert connector.calls == []  # nothing was answered


async def test_malformed_activities_never_500(
    teams: TeamsClient, connector: FakeTeamsConnector
) -> None:
    for body in ("not json", "[]", "{}", json.dumps({"type": "message"})):
        async with teams.http.post(
            teams.url, data=body, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status < 500, body
    odd = teams.activity(text=None, value={"rc": "form", "form": "nonsense"})
    assert await teams.post(odd) < 500
    huge = teams.activity(text="add " + "x" * 4000)
    assert await teams.post(huge) < 500
    replies = await connector.async_wait_for("reply", 2)
    assert any("more than I can take" in str(r.card) for r in replies)


def test_proactive_identity_is_authenticated_with_an_entra_app_and_anonymous_without() -> None:
    """The SDK decides from this identity whether to fetch an outbound token (``allow_anonymous``).

    It used to be built with the old Bot Framework ``is_authenticated=True`` flag where the SDK
    expects an authentication type string, and ``allow_anonymous`` then raised on ``True.lower()``.
    """
    client_id = CREDENTIALS["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"]
    signed = build_hosting(CREDENTIALS).identity()
    assert signed.allow_anonymous is False
    assert signed.get_app_id() == signed.get_outgoing_app_id() == client_id

    anonymous = build_hosting(ANONYMOUS).identity()
    assert anonymous.allow_anonymous is True
    assert anonymous.claims == {}
