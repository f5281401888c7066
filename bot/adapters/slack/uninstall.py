"""Slack's ``app_uninstalled`` and ``tokens_revoked`` events: the app was removed from a
workspace, or tokens were revoked. Both are acknowledged (200, so Slack does not retry), and
the data goes at once:

* ``app_uninstalled``: every user of that workspace, with all their data — so no nudge is
  planned for them again (the morning pass reads users afresh every minute);
* ``tokens_revoked``: if the bot's token is among them, the same as an uninstall; otherwise
  the users whose tokens were revoked.
"""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from bot.adapters.slack.inflight import tracked
from bot.core.ports import Uninstalls

log = structlog.get_logger(__name__)

PLATFORM = "slack"


def register_uninstall(app: AsyncApp, store: Uninstalls) -> None:
    """Listen for the two events on ``app``; ``store`` erases the data."""

    async def on_app_uninstalled(body: dict[str, Any]) -> None:
        team = _team(body)
        if team is None:
            return
        erased = await store.erase_workspace(PLATFORM, team)
        log.info("slack.app_uninstalled", team=team, users_erased=erased)

    async def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        team = _team(body)
        if team is None:
            return
        tokens = event.get("tokens") or {}
        bots = _ids(tokens.get("bot"))
        users = _ids(tokens.get("oauth"))
        if bots:
            erased = await store.erase_workspace(PLATFORM, team)
        else:
            erased = await store.erase_users(PLATFORM, team, users)
        log.info("slack.tokens_revoked", team=team, bot=bool(bots), users_erased=erased)

    app.event("app_uninstalled")(tracked(on_app_uninstalled))
    app.event("tokens_revoked")(tracked(on_tokens_revoked))


def _team(body: dict[str, Any]) -> str | None:
    team = body.get("team_id")
    if isinstance(team, str) and team:
        return team
    log.warning("slack.uninstall_without_team")
    return None


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str) and v][:1000]
