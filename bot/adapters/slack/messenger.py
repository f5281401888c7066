"""The Slack side of proactive messages: DM channels, posting nudges, finding them again,
and mapping Slack's errors onto retry, wait or give up."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
import orjson
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import files, render
from bot.core.model import UserRef
from bot.core.ports import DeliveryError, DeliveryKind, Sent
from bot.core.replies import Reply

log = structlog.get_logger(__name__)

EVENT_TYPE = "reconnect_nudge"

#: Errors that retrying cannot fix: the person or the installation is gone.
PERMANENT = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "cannot_dm_bot",
        "user_disabled",
        "is_archived",
        "channel_not_found",
        "not_in_channel",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "team_access_not_granted",
        "team_not_found",
        "app_uninstalled",
        "ekm_access_denied",
        "restricted_action",
        "user_is_restricted",
        "messages_tab_disabled",
    }
)


def web_client(token: str, base_url: str, *, timeout: int = 15) -> AsyncWebClient:
    """The Web API client the proactive messages go through: no retry handlers (the runner
    retries, waits and records every attempt itself), and a logger with a level of its own.

    ``slack_sdk`` builds the text of its DEBUG lines (every request's parameters, blocks
    included, and every answer) whenever ``logger.level <= DEBUG``: the logger's *own* level,
    which is 0 (NOTSET) for a logger nobody set, whatever level the logs are configured at. It
    then threw the text away, at about a fifth of a nudge's CPU. This logger's level is the
    effective level of ``slack_sdk`` when the client is built (after ``configure_logging``),
    so at DEBUG the lines are still written (reduced by :mod:`bot.logs`), and otherwise never
    built. Its name starts with ``slack_sdk`` so that :mod:`bot.logs` treats its lines as the
    library's."""
    logger = sdk_logger("slack_sdk.web.reconnect_messenger")
    return AsyncWebClient(
        token=token, base_url=base_url, timeout=timeout, retry_handlers=[], logger=logger
    )


def sdk_logger(name: str) -> logging.Logger:
    """A logger for a ``slack_sdk`` client whose own level is the library's effective level
    (see :func:`web_client`: with no level of its own, the client builds DEBUG text for every
    call and throws it away). ``name`` starts with ``slack_sdk`` so :mod:`bot.logs` treats its
    lines as the library's."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.getLogger("slack_sdk").getEffectiveLevel())
    return logger


class SlackMessenger:
    """:class:`bot.core.ports.Messenger` for Slack. The client must not retry by itself: the
    runner decides, and records every attempt."""

    platform = "slack"
    command_prefix = "/reconnect "

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        # Without a session slack_sdk opens (and closes) a new connection for every call —
        # a TCP handshake and a new connector per message. When the caller gave none, keep
        # one for the messenger's life: made in the running loop on first use, closed by
        # :meth:`close`.
        self._owns_session = client.session is None

    def _ensure_session(self) -> None:
        if self._owns_session and (self.client.session is None or self.client.session.closed):
            self.client.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),  # the runner bounds concurrency
                timeout=aiohttp.ClientTimeout(total=self.client.timeout),
                # The Web API authenticates by token: cookies an answer sets are never needed,
                # and a jar would parse, store and match them on every call.
                cookie_jar=aiohttp.DummyCookieJar(),
                response_class=_Response,
            )

    async def close(self) -> None:
        """Close the connections this messenger opened."""
        session = self.client.session
        if self._owns_session and session is not None:
            self.client.session = None
            await session.close()

    async def open_channel(self, user: UserRef) -> str:
        """``conversations.open`` with the user; returns the DM channel id."""
        response = await self._call(self.client.conversations_open, users=user.user_id)
        channel = (response.get("channel") or {}).get("id")
        if not isinstance(channel, str) or not channel:
            raise DeliveryError(DeliveryKind.TRANSIENT, "no_channel_in_response")
        return channel

    async def open_group(self, users: Sequence[UserRef]) -> str:
        """``conversations.open`` with several people: a group DM with them and the bot
        (Slack returns the same one for the same people, so a retry lands in it again)."""
        response = await self._call(
            self.client.conversations_open, users=",".join(u.user_id for u in users)
        )
        channel = (response.get("channel") or {}).get("id")
        if not isinstance(channel, str) or not channel:
            raise DeliveryError(DeliveryKind.TRANSIENT, "no_channel_in_response")
        return channel

    async def display_name(self, user: UserRef) -> str | None:
        """The name Slack shows for ``user`` (``users.info``), or ``None``."""
        try:
            response = await self._call(self.client.users_info, user=user.user_id)
        except DeliveryError:
            return None
        found = response.get("user") or {}
        profile = found.get("profile") or {}
        for name in (profile.get("display_name"), profile.get("real_name"), found.get("real_name")):
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None

    def direct_address(self, user: UserRef) -> str:
        """The user id: ``chat.postMessage`` to a user id lands in the app's DM with them and
        answers with that DM's id, so a first nudge needs no ``conversations.open`` (a Tier 3
        method: about 50 a minute, where a morning can have thousands of first nudges)."""
        return user.user_id

    async def post(self, channel: str, reply: Reply, key: str) -> Sent:
        """``chat.postMessage`` tagged with message metadata, so :meth:`find` can see it."""
        body = render.message(reply)
        body["channel"] = channel
        body["metadata"] = {"event_type": EVENT_TYPE, "event_payload": {"key": key}}
        body["unfurl_links"] = False
        # ``api_call`` with the JSON body, as ``chat_postMessage`` ends up doing: its wrapper
        # first walks every block looking for slack_sdk's model classes (six ``isinstance``
        # checks against ABCs per block, a tenth of a send) and copies the arguments twice.
        # Ours are plain dicts already, and the request, its errors and the answer are the same.
        response = await self._call(
            self.client.api_call, "chat.postMessage", data=_json(body), headers=dict(JSON)
        )
        ts = response.get("ts")
        if not isinstance(ts, str):
            raise DeliveryError(DeliveryKind.TRANSIENT, "no_ts_in_response")
        landed = response.get("channel")
        sent = Sent(landed if isinstance(landed, str) and landed else channel, ts)
        if reply.files:
            # The message is out: a failed upload must not make the runner send it again.
            # The message's own text says what the files show.
            try:
                await files.upload(self.client, sent.channel, reply.files)
            except files.FileDeliveryError as exc:
                log.warning("slack.nudge_files_failed", error=exc.code)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("slack.nudge_files_failed", error=type(exc).__name__)
        return sent

    async def post_to_channel(
        self, channel: str, reference: str | None, reply: Reply, key: str
    ) -> Sent:
        """A group's weekly post: ``chat.postMessage`` to the channel id, tagged like a nudge
        (``not_in_channel``, ``channel_not_found`` and ``is_archived`` are permanent)."""
        return await self.post(channel, reply, key)

    async def find(self, channel: str, key: str, since: datetime) -> str | None:
        """Look through the DM's recent history for a message tagged ``key``."""
        response = await self._call(
            self.client.conversations_history,
            channel=channel,
            oldest=f"{since.timestamp():.6f}",
            include_all_metadata=True,
            limit=100,
        )
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == EVENT_TYPE and payload.get("key") == key:
                ts = message.get("ts")
                return ts if isinstance(ts, str) else None
        return None

    async def update(self, channel: str, message_id: str, reply: Reply) -> None:
        """Replace a nudge in place (``chat.update``)."""
        await self._call(
            self.client.chat_update, channel=channel, ts=message_id, **render.message(reply)
        )

    async def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        self._ensure_session()
        try:
            return await method(*args, **kwargs)
        except SlackApiError as exc:
            raise _classify(exc) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(DeliveryKind.TRANSIENT, type(exc).__name__) from None


class _Response(aiohttp.ClientResponse):
    """Answers decoded with orjson: ``slack_sdk`` reads every answer with ``response.json()``,
    and ``chat.postMessage`` answers with the whole message, blocks included (~5 KB), of which
    a post needs the channel and the timestamp (:func:`posted`)."""

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = orjson.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """:meth:`aiohttp.ClientResponse.json` with orjson's ``loads`` by default (its errors
        are ``json.JSONDecodeError``s, as slack_sdk expects of a body that is not JSON); a
        message posted is read by :func:`posted` without decoding its echo."""
        if loads is orjson.loads and self.content_type == "application/json":
            answer = posted(await self.read())
            if answer is not None:
                return answer
        return await super().json(encoding=encoding, loads=loads, content_type=content_type)


#: The start of ``chat.postMessage``'s answer to a message posted: ``ok``, ``channel``, ``ts``
#: and then the echoed ``message``, in this order (as Slack documents it and sends it). Ids
#: and timestamps are letters, digits and dots: nothing in them needs unescaping.
_POSTED = re.compile(
    rb'\s*\{\s*"ok"\s*:\s*true\s*,\s*"channel"\s*:\s*"([A-Za-z0-9]+)"\s*,'
    rb'\s*"ts"\s*:\s*"([0-9.]+)"\s*,\s*"message"\s*:\s*\{'
)


def posted(body: bytes) -> dict[str, Any] | None:
    """``{"ok": True, "channel": …, "ts": …}`` when ``body`` is Slack's answer to a message
    posted, else ``None`` (decode it whole).

    That answer echoes the whole message back, blocks included: about 5 KB for a nudge, and
    decoding it into a few hundred dicts and strings, then freeing them, cost about a tenth
    of a send's instructions in the morning pass, for two short fields at its start. Neither
    slack_sdk nor the messenger reads the echo (nor the ``warning`` Slack may add after it);
    every other answer, and any failure, is decoded in full as before."""
    found = _POSTED.match(body)
    if found is None:
        return None
    return {"ok": True, "channel": found[1].decode(), "ts": found[2].decode()}


#: A body sent as ready-made JSON bytes (``data=``) is labelled as ``json=`` would label it.
JSON = {"Content-Type": "application/json;charset=utf-8"}


def _json(body: dict[str, Any]) -> bytes:
    """``body`` as UTF-8 JSON: orjson takes a tenth of the standard library's time for a
    5 KB nudge, which aiohttp would otherwise encode with ``json.dumps`` on every post."""
    return orjson.dumps(body)


def _classify(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = getattr(response, "status_code", 0) or 0
    error = str(response.get("error") or f"http_{status}")
    if status == 429 or error == "ratelimited":
        header = (getattr(response, "headers", None) or {}).get("Retry-After") or (
            getattr(response, "headers", None) or {}
        ).get("retry-after")
        try:
            wait = float(header) if header is not None else 1.0
        except ValueError:
            wait = 1.0
        return DeliveryError(DeliveryKind.RATELIMITED, "ratelimited", retry_after=wait)
    if status >= 500 or error in (
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    ):
        return DeliveryError(DeliveryKind.TRANSIENT, error)
    if error in PERMANENT:
        return DeliveryError(DeliveryKind.PERMANENT, error)
    return DeliveryError(DeliveryKind.TRANSIENT, error)
