"""What the coach features ask an adapter to send, and the order they are sent in.

The core decides *what* goes where (a post in a group's channel, maybe in a thread; a DM to a
member); the adapter only knows *how* (Slack ``chat.postMessage`` with ``thread_ts``; Teams a
reply to the parent activity through the channel's stored conversation reference). Each item
carries a ``receipt`` the adapter hands back, so the core records the message id, or that it
failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from bot.core.model import UserRef
from bot.core.replies import Reply

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ThreadParent:
    """The message a post goes under (the week's wins thread)."""

    receipt: str
    #: Already posted: its id. ``None``: post :attr:`reply` first (this request claimed it).
    message_id: str | None
    reply: Reply


@dataclass(frozen=True, slots=True)
class ChannelPost:
    """Post ``reply`` in a group's channel, under ``parent`` when there is one."""

    channel: str  # the Slack channel id, or the Teams channel conversation id
    reference: str | None  # Teams: the channel's conversation reference (JSON)
    reply: Reply
    receipt: str
    parent: ThreadParent | None = None


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """Send ``reply`` to ``to`` in their DM (personal chat) with the bot."""

    to: UserRef
    reply: Reply
    receipt: str


@dataclass(frozen=True, slots=True)
class Deliveries:
    """An outcome that has to be delivered before the person who asked is answered:
    ``done`` once every item went out, ``failed`` when one could not."""

    items: tuple[ChannelPost | DirectMessage, ...]
    done: Reply
    failed: Reply


class SendFailed(Exception):
    """An adapter could not deliver an item; ``code`` is the platform's reason (logged)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class GroupSender(Protocol):
    """How an adapter sends to a channel and to a member."""

    async def to_channel(
        self, channel: str, reference: str | None, reply: Reply, thread: str | None
    ) -> str:
        """Post ``reply`` (under ``thread``, a parent message id, where the platform can);
        the new message's id. Raises :class:`SendFailed`."""
        ...

    async def to_member(self, user: UserRef, reply: Reply) -> str:
        """DM ``reply`` to ``user``; the message id. Raises :class:`SendFailed`."""
        ...


Record = Callable[[str, str | None, str], Awaitable[None]]
"""``record(receipt, message_id or None, error)``: what the core keeps of a delivery."""


async def deliver(deliveries: Deliveries, sender: GroupSender, record: Record) -> Reply:
    """Send every item in order (a thread's parent before its reply); the answer for the
    person who asked. Stops at the first failure: nothing later is sent."""
    for item in deliveries.items:
        try:
            if isinstance(item, DirectMessage):
                sent = await sender.to_member(item.to, item.reply)
            else:
                thread = await _parent(item.parent, item, sender, record)
                sent = await sender.to_channel(item.channel, item.reference, item.reply, thread)
        except SendFailed as exc:
            log.warning("groups.delivery_failed", error=exc.code[:64])
            await record(item.receipt, None, exc.code[:200])
            return deliveries.failed
        await record(item.receipt, sent, "")
    return deliveries.done


async def _parent(
    parent: ThreadParent | None, item: ChannelPost, sender: GroupSender, record: Record
) -> str | None:
    if parent is None:
        return None
    if parent.message_id is not None:
        return parent.message_id
    try:
        sent = await sender.to_channel(item.channel, item.reference, parent.reply, None)
    except SendFailed as exc:
        await record(parent.receipt, None, exc.code[:200])
        raise
    await record(parent.receipt, sent, "")
    return sent
