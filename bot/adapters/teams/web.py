"""``POST /api/messages`` on the shared aiohttp app, with JWT validation on that route only."""

from __future__ import annotations

from aiohttp import web
from microsoft_agents.hosting.aiohttp import jwt_authorization_decorator, start_agent_process
from microsoft_agents.hosting.core import AgentApplication, TurnState

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
    # The decorator reads this (plain string) key.
    app["agent_configuration"] = hosting.configuration()
    app.router.add_post("/api/messages", jwt_authorization_decorator(messages))


async def messages(request: web.Request) -> web.StreamResponse:
    """Bot Framework activities from Teams (or the Emulator, in anonymous mode)."""
    response = await start_agent_process(request, request.app[AGENT], request.app[HOSTING].adapter)
    return response if response is not None else web.Response(status=202)
