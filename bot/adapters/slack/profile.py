"""Keeping each Slack user's time zone current, from ``users.info``, off the request path."""

from __future__ import annotations

import asyncio
import time

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.service import Caller, Reconnect

log = structlog.get_logger(__name__)

#: How often to look a user's time zone up again (people travel; DST is in the zone itself).
REFRESH_SECONDS = 24 * 3600


class TimezoneRefresher:
    """Looks a user's ``tz`` up at most once per :data:`REFRESH_SECONDS` per process."""

    def __init__(self, service: Reconnect, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.service = service
        self.refresh_seconds = refresh_seconds
        self._checked: dict[tuple[str, str], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def touch(self, client: AsyncWebClient, caller: Caller) -> None:
        """Schedule a refresh for ``caller`` if it is due; returns at once."""
        key = (caller.user.workspace_id, caller.user.user_id)
        now = time.monotonic()
        last = self._checked.get(key)
        if last is not None and now - last < self.refresh_seconds:
            return
        self._checked[key] = now
        task = asyncio.create_task(self._refresh(client, caller))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait (up to 10 s) for refreshes in flight at shutdown, so none is cut off
        mid-transaction."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10.0)

    async def _refresh(self, client: AsyncWebClient, caller: Caller) -> None:
        try:
            info = await client.users_info(user=caller.user.user_id)
            tz = (info.get("user") or {}).get("tz")
            if isinstance(tz, str) and tz:
                await self.service.set_timezone(caller, tz)
        except SlackApiError as exc:
            log.warning("slack.users_info_failed", error=exc.response.get("error"))
        except Exception:
            log.exception("slack.timezone_refresh_failed")
