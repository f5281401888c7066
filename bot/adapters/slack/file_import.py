"""Contacts files uploaded in the bot's DM: downloaded, imported, answered with the report.

Slack tells us twice about one upload (a ``message`` event with subtype ``file_share`` for
``message.im``, and ``file_shared``); each file id is imported once per process. The event is
acknowledged at once and the import runs in the background (a 20,000-row file takes a few
seconds; Slack wants its answer within three), then the report is posted to the DM.

The download is ``url_private_download`` with the bot token (scope ``files:read``), from Slack's
file host only (or the configured API's origin, for the test fake), and stops at 5 MB.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import render
from bot.core.imports.parse import too_big
from bot.core.imports.people import MAX_BYTES
from bot.core.model import UserRef
from bot.core.replies import Reply, message
from bot.core.service import Caller, Reconnect

log = structlog.get_logger(__name__)

#: Where Slack serves file contents.
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
#: Remembered file ids (one upload arrives as two events).
_SEEN_MAX = 2048
#: Imports under way in this process (see :func:`drain`).
_RUNNING: set[asyncio.Task[None]] = set()

DOWNLOAD_FAILED = message(
    "Sorry — I couldn't download that file from Slack, so I imported nothing. Please upload "
    "it again in a minute."
)
#: The answer to text typed in the DM (the Messages tab takes uploads since imports came).
TYPED_IN_DM = message(
    "I read the contacts files you upload here (LinkedIn, Google or vCard) to import them. "
    "For everything else, use `/reconnect` — try `/reconnect help`."
)
NOT_IN_DM = message(
    "I only import files you upload in our direct message, where nobody else sees them."
)


class FileImports:
    """The listeners for uploads, and the background imports they start."""

    def __init__(self, service: Reconnect, *, api_url: str | None = None) -> None:
        self.service = service
        self._origins = {_origin(api_url)} if api_url else set()
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def on_message(self, body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        """``message.im``: a person's own upload in the DM; text they type there gets a hint
        (the bot's own messages and edits, joins and the like are ignored)."""
        if event.get("bot_id") or event.get("channel_type") != "im":
            return
        if event.get("subtype") is None and event.get("user") and event.get("channel"):
            if not _is_bot(body, str(event["user"])):
                await _say(client, str(event["channel"]), TYPED_IN_DM)
            return
        if event.get("subtype") != "file_share":
            return
        user = str(event.get("user") or "")
        for item in event.get("files") or []:
            if isinstance(item, dict) and item.get("id"):
                self._start(client, body, user, str(item["id"]), str(event.get("channel") or ""))

    async def on_file_shared(
        self, body: dict[str, Any], event: dict[str, Any], client: Any
    ) -> None:
        """``file_shared``: the same upload, as Slack's other event."""
        user = str(event.get("user_id") or "")
        channel = str(event.get("channel_id") or "")
        if not channel.startswith("D"):
            return  # shared in a channel: not ours to read
        self._start(client, body, user, str(event.get("file_id") or ""), channel)

    def _start(
        self, client: AsyncWebClient, body: dict[str, Any], user: str, file_id: str, channel: str
    ) -> None:
        if not user or not file_id or _is_bot(body, user):
            return  # the bot's own uploads (exports) are not imports
        if file_id in self._seen:
            return
        self._seen[file_id] = None
        while len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)
        team = str(body.get("team_id") or (body.get("team") or {}).get("id") or "unknown")
        caller = Caller(UserRef("slack", team, user), command="/reconnect ")
        task = asyncio.create_task(self._import(client, caller, file_id, channel or user))
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)

    async def _import(
        self, client: AsyncWebClient, caller: Caller, file_id: str, channel: str
    ) -> None:
        try:
            reply = await self._reply(client, caller, file_id)
        except Exception as exc:
            log.warning("slack.import_failed", error=type(exc).__name__)
            reply = DOWNLOAD_FAILED
        try:
            await client.chat_postMessage(channel=channel, **render.message(reply))
        except SlackApiError as exc:
            log.warning("slack.import_report_failed", error=exc.response.get("error"))
        log.info("slack.import", user=caller.user.user_id, team=caller.user.workspace_id)

    async def _reply(self, client: AsyncWebClient, caller: Caller, file_id: str) -> Reply:
        info = (await client.files_info(file=file_id)).get("file") or {}
        if info.get("user") and info.get("user") != caller.user.user_id:
            return NOT_IN_DM  # someone else's file: never read it for this user
        size = info.get("size")
        if isinstance(size, int) and size > MAX_BYTES:
            return message(too_big(size))
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        if not self._allowed(url):
            log.warning("slack.import_refused", reason="download_host")
            return DOWNLOAD_FAILED
        data = await self._download(url, str(client.token or ""))
        if data is None:
            return message(too_big(MAX_BYTES + 1))
        return await self.service.import_file(caller, data)

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname in SLACK_FILE_HOSTS:
            return True
        return bool(url) and _origin(url) in self._origins

    async def _download(self, url: str, token: str) -> bytes | None:
        """The file's bytes; ``None`` past :data:`MAX_BYTES` (read no further)."""
        timeout = aiohttp.ClientTimeout(total=30)
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            # No redirects: without a valid token Slack redirects to a login page.
            http.get(url, headers=headers, allow_redirects=False) as response,
        ):
            response.raise_for_status()
            if response.status != 200 or "text/html" in response.content_type:
                raise aiohttp.ClientError(f"download answered {response.status}")
            data = await response.content.read(MAX_BYTES + 1)
        return None if len(data) > MAX_BYTES else data


async def _say(client: AsyncWebClient, channel: str, reply: Reply) -> None:
    try:
        await client.chat_postMessage(channel=channel, **render.message(reply))
    except SlackApiError as exc:
        log.warning("slack.dm_hint_failed", error=exc.response.get("error"))


async def drain() -> None:
    """Wait for the imports under way (at shutdown, before the database closes): a file
    acknowledged to Slack is imported and reported, not dropped halfway."""
    while _RUNNING:
        await asyncio.gather(*list(_RUNNING), return_exceptions=True)


def _is_bot(body: dict[str, Any], user: str) -> bool:
    """Whether ``user`` is the app's own bot user (its uploads, e.g. exports)."""
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict) and authorization.get("user_id") == user:
            return bool(authorization.get("is_bot", True))
    return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
