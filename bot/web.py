"""The aiohttp web application: Slack's HTTP endpoint and the health check."""

from __future__ import annotations

import asyncio

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.core.service import Reconnect

SERVICE = web.AppKey("service", Reconnect)
SLACK = web.AppKey("slack", AsyncApp)
HEALTH_TIMEOUT_SECONDS = 3.0


def build_web_app(service: Reconnect, slack: AsyncApp | None) -> web.Application:
    """Routes: ``GET /healthz`` always; ``POST /slack/events`` when Slack runs over HTTP."""
    app = web.Application(client_max_size=1024**2)
    app[SERVICE] = service
    app.router.add_get("/healthz", healthz)
    if slack is not None:
        app[SLACK] = slack
        app.router.add_post("/slack/events", slack_events)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise."""
    service = request.app[SERVICE]
    try:
        ok = await asyncio.wait_for(service.healthy(), HEALTH_TIMEOUT_SECONDS)
    except TimeoutError:
        ok = False
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    return web.json_response(body, status=200 if ok else 503)


async def slack_events(request: web.Request) -> web.Response:
    """Slash commands, interactivity and events, verified and dispatched by Bolt."""
    bolt_response = await request.app[SLACK].async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)
