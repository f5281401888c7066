"""The weekly practice-buddy pass: pair each working group's opted-in members and introduce them.

Exactly once per group and week, across two clocks and a kill -9, as the morning pass does it:

* the week is *claimed* (``group_posts``, kind "buddies", key "") before anything is sent, in
  the transaction that records the pairs, so a second clock finds the claim and leaves it;
* each intro is recorded *before* it goes out and closed after; a crash leaves it open, and
  whoever takes the week over (its worker's heartbeat went stale) first asks the platform
  whether the tagged intro already arrived (Slack; Teams cannot tell, so there an intro in
  doubt is sent again rather than lost);
* who is paired is decided once, at the claim: a retry sends the same pairs the same words.
  A member who left the group or opted out since is left out of the intros still to send.

Slack: one intro in a group DM with both (or all three) people and the bot. Teams: an intro
in each person's own chat with the bot, naming their buddy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable

import structlog

from bot.core.groups.buddy_intros import buddy_intro, shared_intro
from bot.core.groups.buddy_schedule import BUDDY_GRACE, due_week
from bot.core.groups.pairing import Pair, met_counts, pair_up
from bot.core.model import UserRef
from bot.core.ports import DeliveryError, DeliveryKind, Messenger
from bot.core.replies import Reply
from bot.processes import pid_alive, worker_id
from jobs.runner import Clock
from storage.buddy_runs import BuddyGroup, BuddyRuns, Claim, Delivery

log = structlog.get_logger(__name__)

__all__ = ["BuddyConfig", "BuddyRunner", "BuddySummary"]

#: Errors that mean this install can't open group DMs at all (the app was installed before
#: the mpim scopes were added): retrying every minute would only loop.
_NOT_ALLOWED = frozenset({"missing_scope", "not_allowed_token_type", "no_permission"})


@runtime_checkable
class GroupOpener(Protocol):
    """A messenger that can open one conversation with several people (Slack's group DM)."""

    async def open_group(self, users: Sequence[UserRef]) -> str:
        """The id of a conversation with ``users`` and the bot."""
        ...


@runtime_checkable
class Namer(Protocol):
    """A messenger that can say what a person is called on its platform."""

    async def display_name(self, user: UserRef) -> str | None:
        """``user``'s display name, or ``None``."""
        ...


@dataclass(frozen=True, slots=True)
class BuddyConfig:
    """Tunables of the pass."""

    grace: timedelta = BUDDY_GRACE
    max_attempts: int = 5
    max_rate_limit_waits: int = 50
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    #: A worker whose heartbeat is older than this is considered dead.
    stale_after: timedelta = timedelta(seconds=90)
    heartbeat_every: float = 15.0


@dataclass(slots=True)
class BuddySummary:
    """What one pass did. ``due`` counts groups; the others count intros (groups for
    ``already`` and ``busy``)."""

    due: int = 0
    sent: int = 0
    already: int = 0
    busy: int = 0
    failed: int = 0
    undeliverable: int = 0
    #: A dry run's pairs: (where, the intro), one per pair (Slack) or person (Teams).
    messages: list[tuple[str, Reply]] = field(default_factory=list)

    def line(self) -> str:
        """One line for operators."""
        return (
            f"groups due {self.due} · intros sent {self.sent} · groups skipped "
            f"{self.already + self.busy} (already paired {self.already}, in progress "
            f"elsewhere {self.busy}) · failed {self.failed} · undeliverable {self.undeliverable}"
        )


class BuddyRunner:
    """Runs practice-buddy passes; one per process."""

    def __init__(
        self,
        store: BuddyRuns,
        messengers: Mapping[str, Messenger],
        *,
        config: BuddyConfig | None = None,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        worker: str | None = None,
    ) -> None:
        self.store = store
        self.messengers = dict(messengers)
        self.config = config or BuddyConfig()
        #: The real time, for records a platform's message times are compared with (an
        #: intro in doubt is looked for from its first attempt on), and for heartbeats.
        self.wall: Clock = wall_clock or (lambda: datetime.now(UTC))
        #: The time the schedule reads (``--at``, a test's clock).
        self.clock: Clock = clock or self.wall
        self.worker = worker or worker_id()
        self.host = socket.gethostname()

    async def stop(self) -> None:
        """Deregister (a clean stop)."""
        await self.store.remove_worker(self.worker)

    async def run_once(self, at: datetime | None = None, *, dry_run: bool = False) -> BuddySummary:
        """One pass as if the clock read ``at``."""
        now = at or self.clock()
        summary = BuddySummary()
        # A dry run needs no platform configured: it lists every platform's groups.
        platforms = sorted(self.messengers) if not dry_run else ["slack", "teams"]
        groups = [
            (g, week)
            for g in await self.store.groups(platforms)
            if (week := due_week(g.timing, now, self.config.grace)) is not None
        ]
        if not groups:
            return summary
        if dry_run:
            for group, week in groups:
                await self._preview(group, week, summary)
            return summary
        await self.store.heartbeat(self.worker, self.host, os.getpid(), self.wall())
        beating = asyncio.create_task(self._keep_beating())
        try:
            live = await self._live()
            for group, week in groups:
                try:
                    await self._pair(group, week, now, live, summary)
                except Exception:  # one group's trouble never stops the others
                    log.exception("buddies.group_failed", group=group.id)
                    summary.failed += 1
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        return summary

    async def _live(self) -> set[str]:
        """The workers alive now: a fresh heartbeat, and (on this machine) a process."""
        return {
            worker
            for worker, (host, pid) in (
                await self.store.workers(self.wall(), self.config.stale_after)
            ).items()
            # A process on this machine that is gone (kill -9) is dead at once.
            if host != self.host or pid_alive(pid)
        }

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_every)
            try:
                await self.store.heartbeat(self.worker, self.host, os.getpid(), self.wall())
            except Exception:
                log.warning("buddies.heartbeat_failed")

    # --- planning -------------------------------------------------------------------------

    async def _plan(self, group: BuddyGroup, week: date) -> tuple[Pair, ...]:
        members = await self.store.members(group.id)
        if len(members) < 2:
            return ()
        history = await self.store.history(group.id, week)
        return tuple(pair_up(members, met_counts(history), seed=group.id))

    async def _pair(
        self, group: BuddyGroup, week: date, now: datetime, live: set[str], summary: BuddySummary
    ) -> None:
        claim = await self.store.claimed(group.id, week)
        if claim is None:
            pairs = await self._plan(group, week)
            if not pairs:
                return  # fewer than two opted in: nobody to pair this week
            summary.due += 1
            if await self.store.claim(group.id, week, pairs, self.worker, now):
                claim = await self.store.claimed(group.id, week)
                assert claim is not None
                return await self._deliver(group, week, claim, summary)
            claim = await self.store.claimed(group.id, week)
            if claim is None:
                return
        else:
            summary.due += 1
        if claim.status == "sent":
            summary.already += 1
            return
        if claim.status == "claimed" and claim.worker not in live and claim.worker != self.worker:
            # ``live`` was read when this pass began; a clock that started since then has
            # beaten before claiming, so a look now (after reading its claim) finds it.
            live |= await self._live()
        if claim.status == "claimed" and (claim.worker == self.worker or claim.worker in live):
            # Another live clock is on it (or this one, in a pass still running).
            summary.busy += 1
            return
        if not await self.store.take_over(claim, self.worker, now):
            summary.busy += 1
            return
        log.info("buddies.taken_over", group=group.id, status=claim.status)
        await self._deliver(group, week, claim, summary)

    # --- delivery -------------------------------------------------------------------------

    async def _deliver(
        self, group: BuddyGroup, week: date, claim: Claim, summary: BuddySummary
    ) -> None:
        """Send the week's intros; the claim ends "sent", or "failed" for a later pass to
        retry (also when something unexpected broke off the delivery)."""
        try:
            outcomes = await self._intros(group, week, claim)
        except BaseException:
            await self.store.finish(claim.id, "failed", self.wall())
            raise
        for outcome in outcomes:
            match outcome:
                case "sent":
                    summary.sent += 1
                case "failed":
                    summary.failed += 1
                case "undeliverable":
                    summary.undeliverable += 1
        done = "failed" not in outcomes
        await self.store.finish(claim.id, "sent" if done else "failed", self.wall())

    async def _intros(self, group: BuddyGroup, week: date, claim: Claim) -> list[str]:
        messenger = self.messengers[group.platform]
        current = await self.store.members(group.id)
        records = await self.store.deliveries(group.id, week)
        outcomes: list[str] = []
        for number, pair in enumerate(claim.pairs):
            # Whoever left the group or opted out since the claim is not introduced.
            present = [m for m in pair if m in current]
            if len(present) < 2:
                continue
            users = [current[m] for m in present]
            names = [await self._name(messenger, u) for u in users]
            words = _words(group, week, number)
            if isinstance(messenger, GroupOpener):
                reply = shared_intro(group.name, names, words, messenger.command_prefix)
                opener = _group_opener(messenger, users)
                outcomes.append(
                    await self._intro(group, week, f"p{number}", opener, reply, records, messenger)
                )
                continue
            for i, member in enumerate(present):
                others = [n for j, n in enumerate(names) if j != i]
                reply = buddy_intro(group.name, others, words, messenger.command_prefix)
                opener = _direct_opener(messenger, users[i])
                key = f"p{number}u{member}"
                outcomes.append(
                    await self._intro(group, week, key, opener, reply, records, messenger)
                )
        return outcomes

    async def _intro(
        self,
        group: BuddyGroup,
        week: date,
        key: str,
        opener: Callable[[], Awaitable[str]],
        reply: Reply,
        records: Mapping[str, Delivery],
        messenger: Messenger,
    ) -> str:
        """Send one intro unless it went out already; "sent", "already", "failed" or
        "undeliverable"."""
        record = records.get(key)
        if record is not None and record.status in ("sent", "undeliverable"):
            return "already"
        tag = f"buddies:{group.id}:{week.isoformat()}:{key}"
        failures = waits = 0
        while True:
            try:
                channel = await opener()
                if record is not None and record.status == "claimed" and record.attempts:
                    # A send in doubt (the worker died mid-send): look before sending again.
                    since = record.claimed_at - timedelta(minutes=1)
                    found = await messenger.find(channel, tag, since)
                    record = None
                    if found is not None:
                        await self.store.end_intro(
                            group.id, week, key, "sent", self.wall(), message_id=found
                        )
                        return "already"
                await self.store.start_intro(group.id, week, key, channel, self.worker, self.wall())
                sent = await messenger.post(channel, reply, tag)
            except DeliveryError as exc:
                if exc.kind is DeliveryKind.PERMANENT or exc.code in _NOT_ALLOWED:
                    await self._end(group, week, key, "undeliverable", exc.code)
                    return "undeliverable"
                if (
                    exc.kind is DeliveryKind.RATELIMITED
                    and waits < self.config.max_rate_limit_waits
                ):
                    waits += 1
                    await asyncio.sleep(min(exc.retry_after or 1.0, self.config.backoff_max))
                    continue
                failures += 1
                await self._end(group, week, key, "failed", exc.code)
                if failures >= self.config.max_attempts:
                    return "failed"
                delay = self.config.backoff_base * 2 ** (failures - 1)
                await asyncio.sleep(min(delay, self.config.backoff_max))
                continue
            await self.store.end_intro(
                group.id, week, key, "sent", self.wall(), message_id=sent.message_id
            )
            return "sent"

    async def _end(self, group: BuddyGroup, week: date, key: str, status: str, code: str) -> None:
        log.warning("buddies.intro_failed", group=group.id, status=status, error=code)
        await self.store.end_intro(group.id, week, key, status, self.wall(), error=code)

    async def _name(self, messenger: Messenger | None, user: UserRef) -> str:
        if isinstance(messenger, Namer):
            try:
                name = await messenger.display_name(user)
            except Exception:
                name = None
            if name:
                return name
        return ""  # the intro says "another member of the group"

    # --- dry run --------------------------------------------------------------------------

    async def _preview(self, group: BuddyGroup, week: date, summary: BuddySummary) -> None:
        claim = await self.store.claimed(group.id, week)
        if claim is not None:
            summary.due += 1
            summary.already += claim.status == "sent"
            summary.busy += claim.status != "sent"
            return
        pairs = await self._plan(group, week)
        if not pairs:
            return
        summary.due += 1
        members = await self.store.members(group.id)
        messenger = self.messengers.get(group.platform)
        cmd = messenger.command_prefix if messenger is not None else "/reconnect "
        for number, pair in enumerate(pairs):
            users = [members[m] for m in pair]
            names = [await self._name(messenger, u) or u.user_id for u in users]
            words = _words(group, week, number)
            where = f"{group.platform} group {group.id} ({group.name}), pair {number + 1}"
            if group.platform == "slack":
                reply = shared_intro(group.name, names, words, cmd)
                summary.messages.append((f"{where}: a group DM with {', '.join(names)}", reply))
                continue
            for i in range(len(users)):
                others = [n for j, n in enumerate(names) if j != i]
                reply = buddy_intro(group.name, others, words, cmd)
                summary.messages.append((f"{where}: to {names[i]}", reply))


def _words(group: BuddyGroup, week: date, number: int) -> int:
    """Which suggestion a pair gets: differs between a week's pairs and from week to week."""
    return group.id + week.toordinal() // 7 + number


def _group_opener(messenger: GroupOpener, users: list[UserRef]) -> Callable[[], Awaitable[str]]:
    return lambda: messenger.open_group(users)


def _direct_opener(messenger: Messenger, user: UserRef) -> Callable[[], Awaitable[str]]:
    return lambda: messenger.open_channel(user)
