"""An in-memory :class:`~bot.core.ports.Messenger` with scripted failures, for the runner's unit
tests.

It behaves like a chat platform as far as the runner can tell:

- ``open_channel`` gives each user a DM channel (``D<user id>``, then ``D<user id>-2`` … once
  one was :meth:`close_channel`-ed); posting to a closed or unknown channel is refused for good
  with ``channel_not_found``;
- with ``direct=True`` (Slack) ``direct_address`` is the user id and a post to it lands in the
  user's DM channel; with ``direct=False`` (Teams) there is no direct address;
- ``find`` returns the id of a message posted with that key in that channel;
- :meth:`fail` scripts what the next calls of a method raise, in order: a
  :class:`~bot.core.ports.DeliveryError`, any other exception (a bug), or :class:`Delivered`
  — the message goes out and then the call fails all the same (a timeout after the platform
  took it) — or :class:`Stall`: the call never returns (the worker dies mid-send; cancel it).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.model import UserRef
from bot.core.ports import DeliveryError, DeliveryKind, Sent
from bot.core.replies import Reply


@dataclass(frozen=True, slots=True)
class Delivered:
    """A scripted post that reaches the user, then raises ``error`` anyway."""

    error: Exception


@dataclass(frozen=True, slots=True)
class Stall:
    """A scripted post that hangs until cancelled; ``delivered``: the message went out first."""

    delivered: bool = False


@dataclass(slots=True)
class Posted:
    """A message that went out."""

    channel: str
    key: str
    message_id: str
    reply: Reply


@dataclass
class MemoryMessenger:
    """One platform's messaging, in memory."""

    platform: str = "slack"
    direct: bool = True
    command_prefix: str = "/reconnect "
    posted: list[Posted] = field(default_factory=list)
    #: ``(method, argument)`` of every call, in order: the user id, channel or post target.
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: ``since`` of every ``find``.
    finds_since: list[datetime] = field(default_factory=list)
    closed: int = 0
    #: What stalled posts were asked to send.
    stalled: list[Reply] = field(default_factory=list)
    #: Set once a post stalls.
    stalling: asyncio.Event = field(default_factory=asyncio.Event)
    _script: dict[str, deque[Exception | Delivered | Stall]] = field(default_factory=dict)
    _open: dict[str, str] = field(default_factory=dict)  # user id → current DM channel
    _opened: dict[str, int] = field(default_factory=dict)  # user id → channels opened so far

    # --- scripting and reading -----------------------------------------------------------------

    def fail(self, method: str, *errors: Exception | Delivered | Stall) -> None:
        """The next calls of ``method`` ("post", "open_channel", "find") raise these, in order."""
        self._script.setdefault(method, deque()).extend(errors)

    def close_channel(self, channel: str) -> None:
        """The DM channel goes away (posting there is refused; opening gives a new one)."""
        self._open = {uid: ch for uid, ch in self._open.items() if ch != channel}

    def to(self, user_id: str) -> list[Posted]:
        """Messages that reached ``user_id`` (in whichever of their DM channels)."""
        return [p for p in self.posted if p.channel.split("-")[0] == f"D{user_id}"]

    def count(self, method: str) -> int:
        """How many times ``method`` was called."""
        return sum(1 for name, _ in self.calls if name == method)

    # --- Messenger -----------------------------------------------------------------------------

    async def open_channel(self, user: UserRef) -> str:
        self.calls.append(("open_channel", user.user_id))
        self._scripted("open_channel")
        return self._channel_of(user.user_id)

    def direct_address(self, user: UserRef) -> str | None:
        return user.user_id if self.direct else None

    async def post(self, channel: str, reply: Reply, key: str) -> Sent:
        self.calls.append(("post", channel))
        step = self._next("post")
        if isinstance(step, Exception):
            raise step
        target = self._landing(channel)
        if isinstance(step, Stall):
            self.stalled.append(reply)
            if step.delivered:
                self._deliver(target, key, reply)
            self.stalling.set()
            await asyncio.Event().wait()
        sent = self._deliver(target, key, reply)
        if isinstance(step, Delivered):
            raise step.error
        return Sent(target, sent.message_id)

    async def find(self, channel: str, key: str, since: datetime) -> str | None:
        self.calls.append(("find", channel))
        self.finds_since.append(since)
        self._scripted("find")
        found = [p for p in self.posted if p.channel == channel and p.key == key]
        return found[-1].message_id if found else None

    async def close(self) -> None:
        self.closed += 1

    def _channel_of(self, user_id: str) -> str:
        channel = self._open.get(user_id)
        if channel is None:
            n = self._opened[user_id] = self._opened.get(user_id, 0) + 1
            channel = self._open[user_id] = f"D{user_id}" + (f"-{n}" if n > 1 else "")
        return channel

    def _landing(self, channel: str) -> str:
        """Where a post to ``channel`` lands: an open DM, or the DM of a user id (direct)."""
        if channel in self._open.values():
            return channel
        if self.direct and not channel.startswith("D"):
            return self._channel_of(channel)
        raise DeliveryError(DeliveryKind.PERMANENT, "channel_not_found")

    def _deliver(self, channel: str, key: str, reply: Reply) -> Posted:
        sent = Posted(channel, key, f"{len(self.posted) + 1}.0001", reply)
        self.posted.append(sent)
        return sent

    def _next(self, method: str) -> Exception | Delivered | Stall | None:
        queue = self._script.get(method)
        return queue.popleft() if queue else None

    def _scripted(self, method: str) -> None:
        step = self._next(method)
        if isinstance(step, Delivered):
            raise step.error
        if isinstance(step, Exception):
            raise step


__all__ = ["Delivered", "MemoryMessenger", "Posted", "Stall"]
