"""The aiohttp web application: Slack's HTTP endpoint and the health check."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.adapters.slack.inbound import Rejected, parse, unusable, verify
from bot.adapters.slack.replay_scope import may_write
from bot.core.service import Reconnect
from storage.replays import PENDING, SeenRequests
from storage.repository import SqlStore

SERVICE = web.AppKey("service", Reconnect)
SLACK = web.AppKey("slack", AsyncApp)
SIGNING_SECRET = web.AppKey("signing_secret", str)
REPLAYS = web.AppKey("replays", SeenRequests)
HEALTH_TIMEOUT_SECONDS = 3.0

log = structlog.get_logger(__name__)


def build_web_app(
    service: Reconnect,
    slack: AsyncApp | None,
    signing_secret: str = "",
    replays: SeenRequests | None = None,
) -> web.Application:
    """Routes: ``GET /healthz`` always; ``POST /slack/events`` when Slack runs over HTTP.

    ``replays`` remembers signed requests already taken in (default: in the SQL store's
    database, shared by every web process), so a replay or a retry has no second effect.
    """
    app = web.Application(client_max_size=1024**2)
    app[SERVICE] = service
    app.router.add_get("/healthz", healthz)
    if slack is not None:
        app[SLACK] = slack
        app[SIGNING_SECRET] = signing_secret
        if replays is None and isinstance(service.store, SqlStore):
            replays = SeenRequests(service.store.engine, write_turn=service.store.write_turn)
        if replays is not None:
            app[REPLAYS] = replays
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
    """Slash commands, interactivity and events: checked here (signature over the raw bytes,
    UTF-8, the payload's shape), then verified again and dispatched by Bolt.

    A request that fails a check gets 401 (not signed by Slack) or 400 (signed but malformed)
    and one log line saying why; never its body.
    """
    slack = request.app[SLACK]
    raw = await request.read()
    try:
        timestamp, signature = verify(raw, request.headers, request.app[SIGNING_SECRET])
        content_type = request.headers.get("Content-Type", "")
        body, payload = parse(raw, content_type)
    except Rejected as rejected:
        return _reject(rejected.status, rejected.reason, len(raw))
    problem = unusable(payload)
    if problem is not None:
        log.info("slack.request_ignored", reason=problem, type=str(payload.get("type"))[:40])
        return web.Response(status=200)
    replays = request.app.get(REPLAYS)
    pending = None
    if replays is not None and may_write(payload):
        # Recorded by the request's first write transaction, with its writes (replays.py).
        pending = PENDING.set(((timestamp, signature),))
        await _prune(replays)
    try:
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        bolt_request = bolt_request_of(body, payload, request.query_string, headers, content_type)
        response = await slack.async_dispatch(bolt_request)
    except Exception as exc:
        # A shape Bolt trips over that parse() does not know yet: still no 500.
        return _reject(400, f"bolt_{type(exc).__name__}", len(raw))
    finally:
        if pending is not None:
            PENDING.reset(pending)
    return await to_aiohttp_response(response)


def bolt_request_of(
    body: str,
    payload: dict[str, Any],
    query: str,
    headers: dict[str, str | Sequence[str]],
    content_type: str,
) -> AsyncBoltRequest:
    """Bolt's request for ``body``, over the ``payload`` :func:`parse` read from it already
    (with ``content_type``, the request's Content-Type as :func:`parse` was given it).

    Bolt would decode the form and the JSON a second time (a third of a millisecond a
    request). Its constructor takes a parsed body only in Socket Mode, so the request is built
    that way and then made what an HTTP request is (the raw body, the mode). Where Bolt would
    read the body otherwise than :func:`parse` did (a JSON content type spelt differently, or
    another Content-Type header), it reads it itself.
    """
    # Bolt's content type: the last Content-Type header, any case, up to a ";" (its internals).
    named = [v for k, v in headers.items() if k.lower() == "content-type"]
    last = named[-1] if named else ""
    bolt_type = last if isinstance(last, str) else (last[0] if last else "")
    ours_json = content_type.split(";")[0].strip().lower() == "application/json"
    if (bolt_type.split(";")[0] == "application/json") != ours_json:
        return AsyncBoltRequest(body=body, query=query, headers=headers)
    request = AsyncBoltRequest(body=payload, query=query, headers=headers, mode="socket_mode")
    request.raw_body = body
    request.mode = "http"
    return request


async def _prune(replays: SeenRequests) -> None:
    try:
        await replays.prune_if_due()
    except Exception as exc:
        log.warning("slack.replay_prune_failed", error=type(exc).__name__)


def _reject(status: int, reason: str, length: int) -> web.Response:
    log.warning("slack.request_rejected", status=status, reason=reason, bytes=length)
    error = "invalid request" if status == 401 else "malformed request"
    return web.json_response({"error": error}, status=status)
