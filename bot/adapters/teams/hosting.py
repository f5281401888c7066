"""Building the Agents SDK objects (connection manager, adapter, application) from the env."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from bot.adapters.teams.signing_keys import SigningKeys
from bot.core.views import SORRY

log = structlog.get_logger(__name__)


@dataclass
class TeamsHosting:
    """The SDK's connection manager and adapter, and how proactive sends identify the bot."""

    connections: MsalConnectionManager
    adapter: CloudAdapter
    client_id: str | None
    #: ``TEAMS_ALLOWED_SERVICE_URLS``: origins besides Microsoft's an activity's serviceUrl may name.
    allowed_service_urls: tuple[str, ...] = ()
    #: Microsoft's token signing keys, cached (see :mod:`bot.adapters.teams.signing_keys`).
    signing_keys: SigningKeys = field(default_factory=SigningKeys)

    @property
    def anonymous(self) -> bool:
        """Local mode: no Entra app; nothing is signed in either direction."""
        return not self.client_id

    def identity(self) -> ClaimsIdentity:
        """The identity for proactive sends: the bot's app id as audience and app id claims
        (the connector then gets a token for it), or, in anonymous mode, no claims at all
        (no outbound token).

        The SDK's second argument is an authentication *type* (a string, or ``None``), not the
        old Bot Framework ``is_authenticated`` flag: a ``True`` there made the SDK's
        ``allow_anonymous`` check call ``True.lower()`` and fail every authenticated send.
        Like the SDK's own ``create_claims_identity``, we leave it unset: the claims decide.
        """
        if self.client_id:
            return ClaimsIdentity({"aud": self.client_id, "appid": self.client_id})
        return ClaimsIdentity({})

    def configuration(self) -> Any:
        """What the SDK's JWT decorator reads from the aiohttp app."""
        return self.connections.get_default_connection_configuration()


def build_hosting(
    env: Mapping[str, str] | None = None, *, allowed_service_urls: tuple[str, ...] = ()
) -> TeamsHosting:
    """Connection manager and adapter from the ``CONNECTIONS__…`` variables;
    ``allowed_service_urls`` is :attr:`bot.settings.TeamsSettings.allowed_service_urls`."""
    env = env if env is not None else os.environ
    config = load_configuration_from_env(dict(env))
    connections = MsalConnectionManager(**config)
    adapter = CloudAdapter(connection_manager=connections)
    adapter.on_turn_error = _on_turn_error
    settings = connections.get_default_connection_configuration()
    # Every anonymous turn logs that no App ID is set; we say so once, loudly, at start-up.
    logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client").setLevel(
        logging.ERROR
    )
    client_id = getattr(settings, "CLIENT_ID", None) or None
    return TeamsHosting(connections, adapter, client_id, allowed_service_urls)


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    """One log line, and a friendly answer to a person's message or card click.

    The SDK's default posts the exception text into the user's chat; never do that. Saying
    nothing is no better: Teams shows the message as delivered and nothing ever comes.
    """
    activity = context.activity
    log.error("teams.turn_error", error=type(error).__name__, activity=activity.type)
    if activity.type != "message":
        return  # installs, members added, typing: nobody is waiting for an answer
    try:
        await context.send_activity(SORRY)
    except Exception as exc:  # e.g. the connector itself is what failed
        log.warning("teams.turn_error_reply_failed", error=type(exc).__name__)
