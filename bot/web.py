"""The aiohttp web application: Slack's HTTP endpoint and the health check."""

from __future__ import annotations

import asyncio

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.core.service import Reconnect

SERVICE = web.AppKey("service", Reconnect)
SLACK = web.AppKey("slack", AsyncApp)
SIGNING_SECRET = web.AppKey("signing_secret", str)
HEALTH_TIMEOUT_SECONDS = 3.0


def build_web_app(
    service: Reconnect, slack: AsyncApp | None, signing_secret: str = ""
) -> web.Application:
    """Routes: ``GET /healthz`` always; ``POST /slack/events`` when Slack runs over HTTP."""
    app = web.Application(client_max_size=1024**2)
    app[SERVICE] = service
    app.router.add_get("/healthz", healthz)
    if slack is not None:
        app[SLACK] = slack
        app[SIGNING_SECRET] = signing_secret
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
    slack = request.app[SLACK]
    try:
        bolt_request = await to_bolt_request(request)
    except ValueError:
        # Bolt parses the body before it checks the signature; a body it cannot parse must
        # still get an answer that tells a forger nothing and never a 500.
        body = await request.text()
        verifier = SignatureVerifier(request.app[SIGNING_SECRET])
        signed = verifier.is_valid_request(body, dict(request.headers))
        return web.json_response(
            {"error": "malformed request" if signed else "invalid request"},
            status=400 if signed else 401,
        )
    return await to_aiohttp_response(await slack.async_dispatch(bolt_request))
