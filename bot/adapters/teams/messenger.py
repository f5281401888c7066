"""Proactive messages on Teams: morning nudges sent into each user's personal chat.

Teams has no API for a bot to search its own sent messages, so :meth:`TeamsMessenger.find`
cannot confirm a send that was in doubt when a worker died; such a nudge is sent again
(at least once) rather than risk losing it. Everything else — claims, attempts, retries — is
the same exactly-once machinery as on Slack.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import aiohttp
import structlog
from aiolimiter import AsyncLimiter
from microsoft_agents.activity import Activity, ActivityTypes, Attachment, ConversationReference
from microsoft_agents.hosting.core import TurnContext

from bot.adapters.teams import cards, files
from bot.adapters.teams.hosting import TeamsHosting
from bot.adapters.teams.inbound import service_url_allowed
from bot.core.model import UserRef
from bot.core.ports import ConversationReferences, DeliveryError, DeliveryKind, Sent
from bot.core.replies import Reply

log = structlog.get_logger(__name__)

#: Teams' documented limits: ~30 requests per second per app per tenant, 7 per second per chat.
TENANT_PER_SECOND = 30.0
CONVERSATION_PER_SECOND = 7.0
TRANSIENT = frozenset({412, 500, 502, 503, 504})
#: 413: the message is over Teams' size limit; sending the same message again cannot help.
PERMANENT = {
    401: "unauthorized",
    403: "forbidden",
    404: "conversation_not_found",
    413: "message_too_large",
}


class TeamsMessenger:
    """:class:`bot.core.ports.Messenger` for Teams."""

    platform = "teams"
    command_prefix = ""

    def __init__(
        self,
        hosting: TeamsHosting,
        store: ConversationReferences,
        *,
        per_tenant: float = TENANT_PER_SECOND,
        per_conversation: float = CONVERSATION_PER_SECOND,
        held: files.FileHold | None = None,
    ) -> None:
        self.hosting = hosting
        self.store = store
        #: Where offered files wait for the user's answer (none: non-image files are not sent).
        self.held = held
        self._per_tenant = per_tenant
        self._per_conversation = per_conversation
        self._tenants: dict[str, AsyncLimiter] = {}
        self._conversations: dict[str, AsyncLimiter] = {}

    async def open_channel(self, user: UserRef) -> str:
        """The user's personal chat, captured when they installed the app or last wrote."""
        found = await self.store.reference_for_user(user)
        if found is None:
            raise DeliveryError(DeliveryKind.PERMANENT, "no_conversation_reference")
        return found[0]

    async def display_name(self, user: UserRef) -> str | None:
        """The name Teams gave ``user`` in their stored personal-chat reference, or ``None``."""
        found = await self.store.reference_for_user(user)
        if found is None:
            return None
        try:
            name = (json.loads(found[1]).get("user") or {}).get("name")
        except (ValueError, AttributeError):
            return None
        return name.strip() if isinstance(name, str) and name.strip() else None

    def direct_address(self, user: UserRef) -> None:
        """Teams needs the stored conversation reference: always :meth:`open_channel` first."""
        return None

    async def post(self, channel: str, reply: Reply, key: str) -> Sent:
        """Send ``reply`` as an Adaptive Card into the conversation ``channel``."""
        raw = await self.store.reference_for_conversation(channel)
        if raw is None:
            raise DeliveryError(DeliveryKind.PERMANENT, "no_conversation_reference")
        reference = ConversationReference.model_validate(json.loads(raw))
        if not service_url_allowed(
            reference.service_url or "",
            self.hosting.allowed_service_urls,
            anonymous=self.hosting.anonymous,
        ):
            # Stored before serviceUrls were checked, or the setting changed: never send there.
            raise DeliveryError(DeliveryKind.PERMANENT, "service_url_not_allowed")
        tenant = getattr(reference.conversation, "tenant_id", None) or "unknown"
        async with (
            self._limiter(self._tenants, tenant, self._per_tenant),
            self._limiter(self._conversations, channel, self._per_conversation),
        ):
            return Sent(channel, await self._send(reference, reply, key, user=_user_of(reference)))

    async def post_to_channel(
        self, channel: str, reference: str | None, reply: Reply, key: str
    ) -> Sent:
        """A group's weekly post, sent proactively into the team channel (or group chat) with
        its stored conversation reference; 403 and 404 (the bot was removed, the channel is
        gone) are permanent."""
        if not reference:
            raise DeliveryError(DeliveryKind.PERMANENT, "no_conversation_reference")
        try:
            parsed = ConversationReference.model_validate(json.loads(reference))
        except ValueError:
            raise DeliveryError(DeliveryKind.PERMANENT, "bad_conversation_reference") from None
        if not service_url_allowed(
            parsed.service_url or "",
            self.hosting.allowed_service_urls,
            anonymous=self.hosting.anonymous,
        ):
            raise DeliveryError(DeliveryKind.PERMANENT, "service_url_not_allowed")
        tenant = getattr(parsed.conversation, "tenant_id", None) or "unknown"
        async with (
            self._limiter(self._tenants, tenant, self._per_tenant),
            self._limiter(self._conversations, channel, self._per_conversation),
        ):
            return Sent(channel, await self._send(parsed, reply, key, user=None))

    async def find(self, channel: str, key: str, since: datetime) -> str | None:
        """Teams can't look up a bot's sent messages: unknown (see the module docstring)."""
        return None

    async def close(self) -> None:
        """Nothing to release: the hosting adapter owns the connector's connections."""

    async def _send(
        self, reference: ConversationReference, reply: Reply, key: str, *, user: UserRef | None
    ) -> str:
        continuation = reference.get_continuation_activity()
        continuation.id = None  # a new message, not a reply to a made-up activity id
        outcome: dict[str, Any] = {}
        content, offered = files.card(reply)

        async def callback(context: TurnContext) -> None:
            try:
                sent = await context.send_activity(
                    Activity(
                        type=ActivityTypes.message,
                        summary=reply.summary[:200],
                        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=content)],
                        channel_data={"reconnectKey": key},
                    )
                )
                outcome["id"] = getattr(sent, "id", None)
            except Exception as exc:  # the SDK would swallow it; we classify it
                outcome["error"] = exc
                return
            if offered and user is not None:
                # The message is out: a failed offer must not make the runner send it again.
                try:
                    await files.offer(context, self.held, user, offered)
                except Exception as exc:
                    log.warning("teams.nudge_files_failed", error=type(exc).__name__)

        try:
            await self.hosting.adapter.continue_conversation_with_claims(
                self.hosting.identity(), continuation, callback
            )
        except Exception as exc:
            outcome["error"] = exc
        error = outcome.get("error")
        if error is not None:
            raise _classify(error) from None
        return str(outcome.get("id") or "")

    @staticmethod
    def _limiter(limiters: dict[str, AsyncLimiter], key: str, per_second: float) -> AsyncLimiter:
        limiter = limiters.get(key)
        if limiter is None:
            # At most 3 at once, refilled at the full rate: a second's burst (or a catch-up
            # after the event loop stalled) would draw 429s from a server with a smaller bucket.
            burst = min(3.0, per_second)
            limiter = limiters[key] = AsyncLimiter(burst, burst / per_second)
        return limiter


def _user_of(reference: ConversationReference) -> UserRef | None:
    """The user a stored personal-chat reference reaches (as the bot names Teams users)."""
    user = reference.user
    user_id = getattr(user, "aad_object_id", None) or getattr(user, "id", None)
    tenant = getattr(reference.conversation, "tenant_id", None)
    if not user_id or not tenant:
        return None
    return UserRef("teams", str(tenant), str(user_id))


def _classify(error: BaseException) -> DeliveryError:
    if isinstance(error, aiohttp.ClientResponseError):
        status = error.status
        if status == 429:
            headers = error.headers  # aiohttp's response headers (a multidict), if any
            header = headers.get("Retry-After") if headers is not None else None
            try:
                wait = float(header) if header is not None else 1.0
            except ValueError:
                wait = 1.0
            return DeliveryError(DeliveryKind.RATELIMITED, "http_429", retry_after=wait)
        if status in TRANSIENT:
            return DeliveryError(DeliveryKind.TRANSIENT, f"http_{status}")
        if status in PERMANENT:
            return DeliveryError(DeliveryKind.PERMANENT, PERMANENT[status])
        return DeliveryError(DeliveryKind.TRANSIENT, f"http_{status}")
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return DeliveryError(DeliveryKind.TRANSIENT, type(error).__name__)
    return DeliveryError(DeliveryKind.TRANSIENT, type(error).__name__)
