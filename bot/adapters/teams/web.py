"""``POST /api/messages`` on the shared aiohttp app, with JWT validation on that route only."""

from __future__ import annotations

import warnings

from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator, start_agent_process
from microsoft_agents.hosting.core import AgentApplication, TurnState
from pydantic import ValidationError

from bot.adapters.teams.hosting import TeamsHosting

AGENT = web.AppKey("teams_agent", AgentApplication)
HOSTING = web.AppKey("teams_hosting", TeamsHosting)


def add_teams_route(
    app: web.Application, hosting: TeamsHosting, agent: AgentApplication[TurnState]
) -> None:
    """Serve Teams. The SDK's global middleware would demand a token on /healthz and
    /slack/events too, so the decorator guards this one route."""
    app[AGENT] = agent
    app[HOSTING] = hosting
    # The SDK's decorator reads this plain-string key (aiohttp would prefer an AppKey).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["agent_configuration"] = hosting.configuration()
    # The SDK's decorator has no annotations; it wraps ``messages`` in an aiohttp handler.
    guarded = jwt_authorization_decorator(messages)  # type: ignore[no-untyped-call]
    app.router.add_post("/api/messages", guarded)


async def messages(request: web.Request) -> web.StreamResponse:
    """Bot Framework activities from Teams (or the Emulator, in anonymous mode)."""
    try:
        Activity.model_validate(await request.json())
    except (ValueError, ValidationError):
        # The SDK answers some malformed bodies with a 500; say what it is: a bad request.
        return web.json_response({"error": "not a Bot Framework activity"}, status=400)
    response = await start_agent_process(request, request.app[AGENT], request.app[HOSTING].adapter)
    return response if response is not None else web.Response(status=202)
