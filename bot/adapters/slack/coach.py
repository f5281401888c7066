"""Slack side of the coach features: routing ``coach`` / ``group prompt``, our buttons and the
check-in modal to :class:`~bot.core.groups.coaching.Coaching`, and sending what it asks for
(a post in a group's channel — in the week's wins thread with ``thread_ts`` — or a DM).

The coach's display name for a check-in's signature comes from ``users.info`` at send time;
it is never logged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import render
from bot.core.groups.channel_post import Deliveries, SendFailed, deliver
from bot.core.groups.coaching import Coaching
from bot.core.model import UserRef
from bot.core.replies import Form, FormErrors, FormKind, Reply
from bot.core.service import Caller, Reconnect

log = structlog.get_logger(__name__)


def coaching_of(service: Reconnect) -> Coaching | None:
    """The coach features, when this service has them."""
    return service.share if isinstance(service.share, Coaching) else None


def with_channel(caller: Caller, body: dict[str, Any]) -> Caller:
    """``caller`` with the channel a slash command came from (``None`` in a DM)."""
    channel = str(body.get("channel_id") or "")
    if not channel or channel.startswith("D") or body.get("channel_name") == "directmessage":
        return replace(caller, channel=None)
    return replace(caller, channel=channel)


class SlackGroupSender:
    """:class:`bot.core.groups.channel_post.GroupSender` on the Slack Web API."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def to_channel(
        self, channel: str, reference: str | None, reply: Reply, thread: str | None
    ) -> str:
        """``chat.postMessage`` in the channel (in the thread of ``thread``, a ts)."""
        kwargs: dict[str, Any] = {"channel": channel, **render.message(reply)}
        if thread:
            kwargs["thread_ts"] = thread
        try:
            sent = await self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            raise SendFailed(str(exc.response.get("error") or "slack_error")) from None
        return str(sent.get("ts") or "")

    async def to_member(self, user: UserRef, reply: Reply) -> str:
        """Open the member's DM with the bot and post there."""
        try:
            opened = await self.client.conversations_open(users=user.user_id)
            channel = str((opened.get("channel") or {}).get("id") or "")
            sent = await self.client.chat_postMessage(channel=channel, **render.message(reply))
        except SlackApiError as exc:
            raise SendFailed(str(exc.response.get("error") or "slack_error")) from None
        return str(sent.get("ts") or "")


async def display_name(client: AsyncWebClient, user_id: str) -> str | None:
    """The person's name as Slack shows it (display name, else real name); ``None`` if unknown."""
    try:
        info = await client.users_info(user=user_id)
    except SlackApiError:
        return None
    user = info.get("user") or {}
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name")
    return str(name) if name else None


async def finish(coaching: Coaching, client: AsyncWebClient, outcome: Any) -> Any:
    """Deliver what a :class:`Deliveries` outcome asks for; the reply to show. Anything else
    is returned as it is."""
    if isinstance(outcome, Deliveries):
        return await deliver(outcome, SlackGroupSender(client), coaching.record)
    return outcome


async def command(
    coaching: Coaching, client: AsyncWebClient, caller: Caller, body: dict[str, Any], text: str
) -> Reply | Form:
    """``coach …`` or ``group prompt …`` typed as a slash command."""
    # Slash command answers are ephemeral: only the coach sees the view, wherever they typed.
    outcome = await coaching.command(with_channel(caller, body), text, private=True)
    result = await finish(coaching, client, outcome)
    assert isinstance(result, Reply | Form)
    return result


async def submit(
    coaching: Coaching,
    client: AsyncWebClient,
    caller: Caller,
    kind: str,
    context: str,
    values: dict[str, str | None],
) -> Reply | FormErrors | Deliveries:
    """A submitted check-in or *Edit, then share* modal (delivered after Slack's 3 s
    acknowledgement). Only a check-in is signed, so only then is the coach's name looked up."""
    checkin = kind == FormKind.COACH_CHECKIN
    signer = await display_name(client, caller.user.user_id) if checkin else None
    return await coaching.submit(caller, kind, context, values, signer=signer)
