"""``respond()`` over one kept-alive HTTP session instead of a new one for every answer.

Bolt's ``respond()`` builds a new ``aiohttp`` session for each call, so each answer to a button
click (and each answer sent later through a response URL) opens a new connection to Slack's
hooks host — with its TLS handshake, the largest part of what such an answer costs this
process. :class:`SharedRespond` sends exactly what Bolt's would, through :data:`SESSIONS`:
one session per event loop, whose connections are kept alive and reused.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from ssl import SSLContext
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook.async_client import AsyncWebhookClient
from slack_sdk.webhook.webhook_response import WebhookResponse

#: Bolt's ``respond()`` waits this long (AsyncWebhookClient's default) for an answer.
TIMEOUT_SECONDS = 30


class ResponseSessions:
    """The session response URLs are posted through, one per running event loop."""

    def __init__(self) -> None:
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]
        self._sessions = weakref.WeakKeyDictionary()

    def session(self) -> aiohttp.ClientSession:
        """This loop's session (made on first use, and again if it was closed)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS), trust_env=False
            )
            self._sessions[loop] = session
        return session

    async def close(self) -> None:
        """Close this loop's session (at shutdown, after the listeners have finished)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()


#: The process's sessions for response URLs.
SESSIONS = ResponseSessions()


class SharedRespond(AsyncRespond):
    """Bolt's ``respond()`` for one request's response URL, posting through a shared session."""

    def __init__(
        self,
        *,
        response_url: str | None,
        proxy: str | None = None,
        ssl: SSLContext | None = None,
        sessions: ResponseSessions = SESSIONS,
    ) -> None:
        super().__init__(response_url=response_url, proxy=proxy, ssl=ssl)
        self._sessions = sessions

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        """What Bolt's ``respond()`` sends, the same way, on a kept-alive connection."""
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if isinstance(text, dict):
            message = _build_message(**text)
        elif isinstance(text, str):
            message = _build_message(
                text=text,
                blocks=blocks,
                attachments=attachments,
                response_type=response_type,
                replace_original=replace_original,
                delete_original=delete_original,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        else:
            raise ValueError(f"The arg is unexpected type ({type(text)})")
        client = AsyncWebhookClient(
            url=self.response_url,
            timeout=TIMEOUT_SECONDS,
            proxy=self.proxy,
            ssl=self.ssl,
            session=self._sessions.session(),
        )
        return await client.send_dict(message)
