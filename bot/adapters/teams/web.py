"""``POST /api/messages`` on the shared aiohttp app, with JWT validation on that route only."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable

import jwt
import structlog
from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.aiohttp import start_agent_process
from microsoft_agents.hosting.core import AgentApplication, TurnState
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from pydantic import ValidationError

from bot.adapters.teams import inbound
from bot.adapters.teams.hosting import TeamsHosting

AGENT = web.AppKey("teams_agent", AgentApplication)
HOSTING = web.AppKey("teams_hosting", TeamsHosting)
UNAUTHORIZED = {"error": "Invalid token or authentication failed."}

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    app.router.add_post("/api/messages", _token_shape(_authorized(messages)))


def _authorized(handler: Handler) -> Handler:
    """The SDK's JWT check (its ``jwt_authorization_decorator``), with the signing keys taken
    from :attr:`TeamsHosting.signing_keys` instead of the SDK's process-wide key clients,
    which refetch Microsoft's keys for every unknown key id behind one lock."""

    async def check(request: web.Request) -> web.StreamResponse:
        config: AgentAuthConfiguration = request.app[HOSTING].configuration()
        header = request.headers.get("Authorization")
        if header is None:
            if config.ANONYMOUS_ALLOWED:
                request["claims_identity"] = JwtTokenValidator(config).get_anonymous_claims()
                return await handler(request)
            return _refused(401, "no_token")
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return _refused(401, "not_a_bearer_token")
        validator = JwtTokenValidator(config)
        # The validator's only key source; an instance attribute shadows the SDK's shared one.
        validator._jwk_client_manager = request.app[HOSTING].signing_keys  # type: ignore[assignment]
        try:
            request["claims_identity"] = await validator.validate_token(parts[1])
        except (jwt.PyJWTError, ValueError) as exc:
            return _refused(401, f"token_{type(exc).__name__}")
        return await handler(request)

    return check


def _token_shape(handler: Handler) -> Handler:
    """Refuse a bearer token the SDK's validator would crash on (no ``kid``: a KeyError, a 500)
    or fetch Microsoft's signing keys for in vain (not a JWT, not RS256): 401, one log line."""

    async def check(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        parts = header.split() if header is not None else []
        if len(parts) == 2 and parts[0].lower() == "bearer":
            try:
                token_header = jwt.get_unverified_header(parts[1])
            except jwt.PyJWTError:
                return _refused(401, "token_not_a_jwt")
            kid = token_header.get("kid")
            if not isinstance(kid, str) or not kid:
                return _refused(401, "token_without_kid")
            if token_header.get("alg") != "RS256":
                return _refused(401, "token_not_rs256")
        return await handler(request)

    return check


async def messages(request: web.Request) -> web.StreamResponse:
    """Bot Framework activities from Teams (or the Emulator, in anonymous mode)."""
    try:
        body = await request.json()
        activity = Activity.model_validate(body)
    except (ValueError, ValidationError):
        # The SDK answers some malformed bodies with a 500; say what it is: a bad request.
        return _refused(400, "not_an_activity")
    if inbound.unstorable(body):
        return _refused(400, "nul_or_lone_surrogate")
    hosting = request.app[HOSTING]
    refusal = inbound.refuse(activity, hosting.allowed_service_urls, anonymous=hosting.anonymous)
    if refusal is not None:
        return _refused(refusal.status, refusal.reason)
    response = await start_agent_process(request, request.app[AGENT], hosting.adapter)
    return response if response is not None else web.Response(status=202)


def _refused(status: int, reason: str) -> web.Response:
    log.warning("teams.refused", status=status, reason=reason)
    if status == 401:
        return web.json_response(UNAUTHORIZED, status=status)
    return web.json_response({"error": reason.replace("_", " ")}, status=status)
