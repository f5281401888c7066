"""Slack's side of the outplacement groups: which channel a request came from, whom a command
mentions, the welcome post in the channel, and the events that say a channel is gone.

Slash commands typed in a channel carry its ``channel_id``; that is the group's key. A direct
message (``D…``, or ``channel_name`` ``directmessage``) is no channel. Buttons pressed on a
message carry the message's channel.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import render
from bot.adapters.slack.inflight import tracked
from bot.core.replies import Reply
from bot.core.service import Caller, Reconnect

log = structlog.get_logger(__name__)

PLATFORM = "slack"
#: ``<@U123>`` or ``<@U123|dana>`` in command text as Slack sends it (before unescaping).
_MENTION = re.compile(r"<@([UW][A-Z0-9]{1,62})(?:\|[^<>]*)?>")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{1,62}$")

NOT_POSTED = (
    "I couldn't post the welcome in this channel — add me first (`/invite @Reconnect`), "
    "then run `/reconnect group create` again."
)


def channel_of(body: dict[str, Any]) -> str | None:
    """The channel a slash command or a button press came from; ``None`` in a DM."""
    channel = body.get("channel_id")
    if channel is None:
        found = body.get("channel")
        channel = found.get("id") if isinstance(found, dict) else None
    if channel is None:
        container = body.get("container")
        channel = container.get("channel_id") if isinstance(container, dict) else None
    if not isinstance(channel, str) or body.get("channel_name") == "directmessage":
        return None
    return channel if _CHANNEL_ID.match(channel) else None


def mentions_in(text: str) -> tuple[str, ...]:
    """The user ids mentioned in raw (still escaped) command text, in order."""
    return tuple(_MENTION.findall(text))


def in_public_message(body: dict[str, Any]) -> bool:
    """Whether a button was pressed on a message everyone in a channel sees (a group's
    welcome): its answer must then go to the presser alone, never replace the message."""
    container = body.get("container")
    if not isinstance(container, dict) or container.get("type") != "message":
        return False
    return container.get("is_ephemeral") is False and channel_of(body) is not None


async def post_in_channel(
    client: AsyncWebClient, respond: Any, caller: Caller, outcome: Reply
) -> None:
    """Post ``outcome.post`` (a group's welcome) in the caller's channel; if Slack refuses
    (the bot is not in it), tell the caller how to fix it."""
    if outcome.post is None or caller.channel is None:
        return
    try:
        await client.chat_postMessage(channel=caller.channel, **render.message(outcome.post))
    except SlackApiError as exc:
        log.warning("slack.group_post_failed", error=exc.response.get("error"))
        try:
            await respond(replace_original=False, response_type="ephemeral", text=NOT_POSTED)
        except Exception as sorry:
            log.warning("slack.sorry_failed", error=type(sorry).__name__)


#: Events that mean the bot can no longer post in a channel, and the reason recorded.
GONE_EVENTS = {
    "channel_archive": "is_archived",
    "group_archive": "is_archived",
    "channel_deleted": "channel_not_found",
    "group_deleted": "channel_not_found",
    "channel_left": "not_in_channel",
    "group_left": "not_in_channel",
}


def register_channel_events(app: AsyncApp, service: Reconnect) -> None:
    """Mark a group broken when its channel is archived or deleted or the bot leaves it."""

    async def mark(body: dict[str, Any], channel: Any, reason: str) -> None:
        team = body.get("team_id")
        if service.groups is None or not isinstance(team, str) or not isinstance(channel, str):
            return
        if await service.groups.channel_gone(PLATFORM, team, channel, reason):
            log.info("slack.group_broken", reason=reason)

    def on_gone(reason: str) -> Any:
        async def handler(body: dict[str, Any], event: dict[str, Any]) -> None:
            await mark(body, event.get("channel"), reason)

        return handler

    for name, reason in GONE_EVENTS.items():
        app.event(name)(tracked(on_gone(reason)))

    async def on_member_left(body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        bot_user = getattr(context, "bot_user_id", None) or (context or {}).get("bot_user_id")
        if bot_user and event.get("user") == bot_user:
            await mark(body, event.get("channel"), "not_in_channel")

    app.event("member_left_channel")(tracked(on_member_left))


def is_join(text: str) -> bool:
    """Whether typed command text joins a group (``group join …``), so the adapter looks up
    the name the member is shown by."""
    words = text.casefold().split()
    return len(words) >= 2 and words[0] in ("group", "groups", "cohort") and words[1] == "join"
