"""Teams side of the coach features: ``coach`` and ``group prompt`` typed in a chat (in a
channel, after an @mention), our buttons and the check-in card, and sending what the core
asks for — a post in the group's channel through its stored conversation reference (a reply
to the week's wins thread where the conversation is a channel; a plain post in a group chat,
which has no threads), or a message in a member's personal chat.

The coach's name for a check-in's signature is the activity's ``from.name``; never logged.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import structlog
from microsoft_agents.activity import Activity, ActivityTypes, Attachment, ConversationReference
from microsoft_agents.hosting.core import TurnContext

from bot.adapters.teams import cards
from bot.adapters.teams.hosting import TeamsHosting
from bot.adapters.teams.inbound import service_url_allowed
from bot.adapters.teams.messenger import TeamsMessenger
from bot.core.groups.channel_post import Deliveries, SendFailed, deliver
from bot.core.groups.coaching import Coaching
from bot.core.model import UserRef
from bot.core.ports import ConversationReferences, DeliveryError
from bot.core.replies import Reply
from bot.core.service import Caller, Reconnect

log = structlog.get_logger(__name__)

#: A form that can no longer be shown again (the member left, the win is gone).
EXPIRED = "That form is out of date — nothing was sent."
_MENTION = re.compile(r"^\s*(?:<at>[^<]{0,200}</at>\s*)+", re.IGNORECASE)


def coaching_of(service: Reconnect) -> Coaching | None:
    """The coach features, when this service has them."""
    return service.share if isinstance(service.share, Coaching) else None


def without_mention(text: str) -> str:
    """A channel message's text without the leading ``<at>Reconnect</at>``."""
    return _MENTION.sub("", text).strip()


def channel_of(activity: Activity) -> str | None:
    """The channel or group chat a message came from (``None`` in a personal chat), without
    the ``;messageid=`` of the thread it was typed in."""
    conversation = activity.conversation
    if getattr(conversation, "conversation_type", None) in (None, "personal"):
        return None
    return str(getattr(conversation, "id", "") or "").split(";messageid=")[0] or None


def with_channel(caller: Caller, activity: Activity) -> Caller:
    """``caller`` with the channel the activity came from."""
    return replace(caller, channel=channel_of(activity))


class TeamsGroupSender:
    """:class:`bot.core.groups.channel_post.GroupSender` on the Bot Connector."""

    def __init__(self, hosting: TeamsHosting, store: ConversationReferences) -> None:
        self.hosting = hosting
        self.store = store

    async def to_member(self, user: UserRef, reply: Reply) -> str:
        """Into the member's personal chat (its reference was stored when they last wrote)."""
        messenger = TeamsMessenger(self.hosting, self.store)
        try:
            conversation = await messenger.open_channel(user)
            sent = await messenger.post(conversation, reply, key="coach-checkin")
        except DeliveryError as exc:
            raise SendFailed(exc.code) from None
        return sent.message_id

    async def to_channel(
        self, channel: str, reference: str | None, reply: Reply, thread: str | None
    ) -> str:
        """Into the group's channel; under ``thread`` (an activity id) in a team channel."""
        if not reference:
            raise SendFailed("no_channel_reference")
        try:
            stored = ConversationReference.model_validate(json.loads(reference))
        except ValueError:
            raise SendFailed("bad_channel_reference") from None
        if not service_url_allowed(
            stored.service_url or "",
            self.hosting.allowed_service_urls,
            anonymous=self.hosting.anonymous,
        ):
            raise SendFailed("service_url_not_allowed")
        continuation = stored.get_continuation_activity()
        continuation.id = None
        conversation = continuation.conversation
        base = str(conversation.id).split(";messageid=")[0]
        threaded = thread and getattr(conversation, "conversation_type", None) == "channel"
        conversation.id = f"{base};messageid={thread}" if threaded else base
        outcome: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                sent = await context.send_activity(
                    Activity(
                        type=ActivityTypes.message,
                        summary=reply.summary[:200],
                        attachments=[
                            Attachment(content_type=cards.CONTENT_TYPE, content=cards.card(reply))
                        ],
                    )
                )
                outcome["id"] = getattr(sent, "id", None)
            except Exception as exc:  # the SDK would swallow it
                outcome["error"] = exc

        try:
            await self.hosting.adapter.continue_conversation_with_claims(
                self.hosting.identity(), continuation, callback
            )
        except Exception as exc:
            outcome["error"] = exc
        error = outcome.get("error")
        if error is not None:
            status = getattr(error, "status", None)
            raise SendFailed(f"http_{status}" if status else type(error).__name__)
        return str(outcome.get("id") or "")


async def finish(coaching: Coaching, sender: TeamsGroupSender, outcome: Any) -> Any:
    """Deliver a :class:`Deliveries` outcome; the reply to show (anything else as it is)."""
    if isinstance(outcome, Deliveries):
        return await deliver(outcome, sender, coaching.record)
    return outcome
