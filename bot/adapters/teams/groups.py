"""Teams' side of the outplacement groups: a team channel or group chat is a group's place.

There the bot only hears messages that @mention it (the SDK strips the bot's own mention from
the text). A channel message's conversation id ends in ``;messageid=<thread root>``; the group
is keyed by the id without it, and its conversation reference (without the thread) is what
later proactive posts in the channel use. Everyone in the channel reads the bot's answers, so
requests from there are marked ``public``: the core then never shows anyone's own level there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from microsoft_agents.activity import Activity

from bot.core.service import Caller

MESSAGE_ID = ";messageid="


def channel_id(activity: Activity) -> str:
    """The conversation id without the thread (``;messageid=…``)."""
    return str(activity.conversation.id).split(MESSAGE_ID, 1)[0]


def shared_caller(caller: Caller, activity: Activity, mentioned: tuple[str, ...]) -> Caller:
    """The caller of a request from a team channel or group chat."""
    return replace(caller, channel=channel_id(activity), public=True, mentions=mentioned)


def channel_reference(activity: Activity) -> str:
    """The channel's conversation reference (JSON) for proactive posts: no thread, no
    activity id, no user."""
    reference = activity.get_conversation_reference()
    reference.activity_id = None
    reference.conversation.id = channel_id(activity)
    reference.user = None
    return reference.model_dump_json(by_alias=True, exclude_unset=True, exclude_none=True)


def mentions(activity: Activity) -> list[tuple[str, str | None]]:
    """``(channel account id, Entra object id or None)`` of everyone @mentioned in the
    message except the bot, in order."""
    bot = getattr(activity.recipient, "id", None)
    found: list[tuple[str, str | None]] = []
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        extra = getattr(entity, "model_extra", None) or {}
        mentioned: Any = getattr(entity, "mentioned", None) or extra.get("mentioned")
        if isinstance(mentioned, dict):
            account_id = mentioned.get("id")
            aad = mentioned.get("aadObjectId") or mentioned.get("aad_object_id")
        else:
            account_id = getattr(mentioned, "id", None)
            aad = getattr(mentioned, "aad_object_id", None)
        if not isinstance(account_id, str) or not account_id or account_id == bot:
            continue
        found.append((account_id, aad if isinstance(aad, str) and aad else None))
    return found


def gone_channel(activity: Activity, *, bot_removed: bool) -> tuple[str, str] | None:
    """``(channel id, reason)`` when a conversationUpdate says a channel is gone for the bot:
    the channel was deleted, or the bot was removed from the team or group chat (then the
    conversation's own channel — a team's General channel, or the group chat). ``None``
    otherwise."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    event = data.get("eventType")
    if event == "channelDeleted":
        channel = data.get("channel")
        found = channel.get("id") if isinstance(channel, dict) else None
        return (found, "channel_not_found") if isinstance(found, str) and found else None
    if bot_removed or event == "teamDeleted":
        return channel_id(activity), "not_in_channel"
    return None
