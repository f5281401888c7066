"""GET /healthz: 200 when the database answers, 503 when it does not."""

import aiohttp
from aiohttp import web

from bot.app import build_app
from storage import db
from tests.conftest import slack_settings
from tests.support import SlackClient


async def test_healthz_ok(slack: SlackClient) -> None:
    url = slack.url.replace("/slack/events", "/healthz")
    async with slack.http.get(url) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_503_when_database_is_down() -> None:
    url = db.normalise_url("postgresql://nobody@127.0.0.1:1/none")
    app = build_app(slack_settings(url, "http://127.0.0.1:1/api/"))
    runner = web.AppRunner(app.web)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 503
            assert (await response.json())["database"] == "unreachable"
    finally:
        await runner.cleanup()
        await app.close()
