"""Checking Slack credentials at start-up, so a wrong token is one clear line, not a log storm."""

from __future__ import annotations

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import build_web_client
from bot.settings import ConfigError, Settings

log = structlog.get_logger(__name__)

REJECTED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


async def check_credentials(settings: Settings) -> None:
    """Raise :class:`ConfigError` when Slack rejects a token (or, for Socket Mode, is unreachable).

    In HTTP mode an unreachable Slack only logs a warning: requests can still arrive, and the Web
    API may be back by the time they do.
    """
    await _check(
        build_web_client(settings),
        "SLACK_BOT_TOKEN",
        "copy the current Bot User OAuth Token (xoxb-…) from OAuth & Permissions",
        settings,
    )
    if settings.socket_mode:
        await _check(
            build_web_client(settings, token=settings.slack_app_token),
            "SLACK_APP_TOKEN",
            "create an app-level token with connections:write under Basic Information",
            settings,
        )


async def _check(client: AsyncWebClient, variable: str, fix: str, settings: Settings) -> None:
    try:
        if variable == "SLACK_APP_TOKEN":
            await client.apps_connections_open(app_token=client.token or "")
        else:
            await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in REJECTED:
            raise ConfigError(f"{variable} was rejected by Slack ({error}): {fix}.") from None
        log.warning("slack.preflight_failed", variable=variable, error=error)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        if settings.socket_mode:
            raise ConfigError(
                f"SLACK_API_URL: cannot reach Slack at {settings.slack_api_url} "
                f"({type(exc).__name__}); check the network or the URL."
            ) from None
        log.warning("slack.unreachable", url=settings.slack_api_url, error=type(exc).__name__)
