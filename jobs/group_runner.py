"""The groups' weekly rhythm pass: the Monday theme and the Friday recap in each group's
channel, exactly once.

The morning pass's guarantees, for channel posts (``storage.group_posts``):

* a post is *claimed* (unique per group, kind and week) before anything is sent, so two
  clocks never both post it;
* each attempt is written before the post goes out and closed after; a post whose attempt
  never closed (a worker killed mid-send) or failed is *in doubt*: whoever takes it over asks
  the platform whether the tagged post arrived (:meth:`Messenger.find`) before posting again,
  with the exact content stored with the first attempt;
* claims of dead workers (process gone, heartbeat stale) are taken over with a compare-and-set.

A channel that is gone (``not_in_channel``, ``channel_not_found``, ``is_archived``; Teams 403 or
404) marks the group broken — the pass posts nothing more there — and its coaches are told
once, by DM. Its own module, beside :mod:`jobs.runner`: it shares only the worker bookkeeping.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import cast

import structlog

from bot.core.groups.recap import GroupRecapContent, compose_group_recap, render_group_recap
from bot.core.groups.rhythm import DEFAULT_GRACE, RECAP, THEME, due_posts
from bot.core.groups.themes import LIBRARY, exercise_for, render_theme
from bot.core.ports import DeliveryError, Messenger
from bot.core.replies import Reply, message
from bot.processes import worker_id
from jobs.batching import GroupCommitter
from jobs.ports import ChannelMessenger
from jobs.runner import Clock
from storage.group_posts import (
    AttemptOpen,
    GroupPostStore,
    GroupTarget,
    PostKey,
    PostOutcome,
    PostState,
)
from storage.group_stats import GroupStatsStore
from storage.records import FINISHED, NudgeStatus

log = structlog.get_logger(__name__)

#: Groups composed per batch of reads.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """Tunables of the group pass."""

    grace: timedelta = DEFAULT_GRACE
    concurrency: int = 50
    max_attempts: int = 6
    max_rate_limit_waits: int = 100
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    stale_after: timedelta = timedelta(seconds=90)
    heartbeat_every: float = 15.0


@dataclass(slots=True)
class GroupRunSummary:
    """What one group pass did."""

    due: int = 0
    sent: int = 0
    already: int = 0
    busy: int = 0
    failed: int = 0
    undeliverable: int = 0  # posts refused for good (their channel is gone)
    broken: int = 0  # groups marked broken by this pass
    told: int = 0  # coaches told that their group's channel stopped working
    #: A dry run's posts: (where, kind, the post).
    messages: list[tuple[str, str, Reply]] = field(default_factory=list)
    compose_s: float = 0.0

    def line(self) -> str:
        """One line for operators."""
        return (
            f"group posts due {self.due} · sent {self.sent} · skipped {self.already + self.busy} "
            f"(already sent {self.already}, in progress elsewhere {self.busy}) · "
            f"failed {self.failed} · undeliverable {self.undeliverable} · "
            f"channels newly broken {self.broken} · coaches told {self.told}"
        )


@dataclass(frozen=True, slots=True)
class _Writers:
    """The group-committed writes of one delivery phase."""

    starts: GroupCommitter[AttemptOpen]
    outcomes: GroupCommitter[PostOutcome]


@dataclass(slots=True)
class _Post:
    post_id: int
    group: GroupTarget
    kind: str
    week: date
    attempts: int = 0
    content: str = ""
    in_doubt: bool = False
    claimed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    reply: Reply | None = None


class GroupRunner:
    """Runs group passes; one per process, beside the morning and recap runners."""

    kind = "group"

    def __init__(
        self,
        posts: GroupPostStore,
        stats: GroupStatsStore,
        messengers: Mapping[str, Messenger],
        *,
        config: GroupConfig | None = None,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        worker: str | None = None,
    ) -> None:
        self.posts = posts
        self.stats = stats
        self.messengers = dict(messengers)
        self.config = config or GroupConfig()
        self.wall = wall_clock or (lambda: datetime.now(UTC))
        self.clock = clock or self.wall
        self.worker = worker or worker_id()
        self.host = socket.gethostname()

    async def stop(self) -> None:
        """Deregister (a clean stop)."""
        await self.posts.remove_worker(self.worker)

    async def run_once(
        self, at: datetime | None = None, *, dry_run: bool = False
    ) -> GroupRunSummary:
        """One pass as if the clock read ``at``."""
        now = at or self.clock()
        summary = GroupRunSummary()
        await self.posts.heartbeat(self.worker, self.host, os.getpid(), self.wall())
        beating = asyncio.create_task(self._keep_beating())
        try:
            jobs = await self._plan(now, summary, dry_run=dry_run)
            started = asyncio.get_running_loop().time()
            await self._compose(jobs)
            summary.compose_s = asyncio.get_running_loop().time() - started
            if dry_run:
                for job in jobs:
                    assert job.reply is not None
                    where = f"{job.group.platform}:{job.group.workspace_id}:{job.group.channel_id}"
                    summary.messages.append((where, job.kind, job.reply))
                return summary
            await self._deliver_all(jobs, summary)
            await self._tell_coaches(summary)
        finally:
            beating.cancel()
        log.info("groups.pass", worker=self.worker, due=summary.due, sent=summary.sent)
        return summary

    # --- deciding -------------------------------------------------------------------------

    async def _plan(self, now: datetime, summary: GroupRunSummary, *, dry_run: bool) -> list[_Post]:
        groups = await self.posts.groups(self.messengers)
        due: dict[PostKey, GroupTarget] = {}
        for group in groups:
            for kind, week in due_posts(group.schedule, now, self.config.grace):
                due[(group.id, kind, week)] = group
        summary.due = len(due)
        existing = await self.posts.existing(due)
        workers = await self.posts.workers()
        wall = self.wall()
        wanted: list[PostKey] = []
        takeovers: list[PostState] = []
        for key in due:
            state = existing.get(key)
            if state is None:
                wanted.append(key)
            elif state.status in FINISHED:
                summary.already += 1
            elif state.status == NudgeStatus.FAILED and state.attempts >= self._ceiling:
                summary.failed += 1
            elif state.status == NudgeStatus.FAILED or self._dead(state.worker, workers, wall):
                takeovers.append(state)
            else:
                summary.busy += 1
        if dry_run:
            pending = wanted + [(s.group_id, s.kind, s.week_start) for s in takeovers]
            return [_Post(0, due[key], key[1], key[2]) for key in pending]
        jobs: list[_Post] = []
        won = await self.posts.claim(wanted, self.worker, wall)
        summary.busy += len(wanted) - len(won)
        for key, post_id in won.items():
            jobs.append(_Post(post_id, due[key], key[1], key[2], claimed_at=wall))
        for state in takeovers:
            if await self.posts.take_over(state, self.worker, wall):
                key = (state.group_id, state.kind, state.week_start)
                jobs.append(
                    _Post(
                        state.id,
                        due[key],
                        state.kind,
                        state.week_start,
                        attempts=state.attempts,
                        content=state.content,
                        # Any earlier attempt may have reached the channel: look first.
                        in_doubt=state.in_flight or state.attempts > 0,
                        claimed_at=state.claimed_at,
                    )
                )
            else:
                summary.busy += 1
        return jobs

    def _dead(
        self, worker: str, workers: Mapping[str, tuple[str, int, datetime]], wall: datetime
    ) -> bool:
        if worker == self.worker:
            return True  # an earlier pass of this process ended abnormally
        entry = workers.get(worker)
        if entry is None:
            return True
        host, pid, heartbeat = entry
        if host == self.host and not _alive(pid):
            return True
        return wall - heartbeat > self.config.stale_after

    @property
    def _ceiling(self) -> int:
        return self.config.max_attempts + self.config.max_rate_limit_waits

    # --- composing ------------------------------------------------------------------------

    async def _compose(self, jobs: list[_Post]) -> None:
        fresh: list[_Post] = []
        for job in jobs:
            if not (job.content and self._restore(job)):
                fresh.append(job)
        recaps = [job for job in fresh if job.kind == RECAP]
        for job in fresh:
            if job.kind == THEME:
                exercise = exercise_for(job.group.id, job.week)
                job.content = json.dumps({"kind": THEME, "key": exercise.key})
                job.reply = render_theme(exercise, job.group.id, job.week)
        for start in range(0, len(recaps), _CHUNK):
            chunk = recaps[start : start + _CHUNK]
            inputs = await self.stats.group_inputs({job.group.id: job.week for job in chunk})
            for job in chunk:
                await asyncio.sleep(0)  # let web requests sharing the process move on
                content = compose_group_recap(
                    job.week,
                    inputs[job.group.id],
                    shoutouts=job.group.schedule.shoutouts,
                    platform=job.group.platform,
                )
                job.content = content.to_json()
                job.reply = render_group_recap(content)

    def _restore(self, job: _Post) -> bool:
        """A taken-over post goes out exactly as first composed."""
        try:
            data = json.loads(job.content)
            if data.get("kind") == THEME:
                exercise = next(e for e in LIBRARY if e.key == data.get("key"))
                job.reply = render_theme(exercise, job.group.id, job.week)
                return True
            job.reply = render_group_recap(GroupRecapContent.from_json(job.content))
            return True
        except (ValueError, StopIteration, AttributeError):
            return False

    # --- delivering -----------------------------------------------------------------------

    async def _deliver_all(self, jobs: list[_Post], summary: GroupRunSummary) -> None:
        limit = asyncio.Semaphore(self.config.concurrency)
        # Attempts and outcomes are group-committed: each post still waits until its attempt
        # is written before it is sent, but many posts share a transaction.
        writers = _Writers(
            GroupCommitter(self.posts.start_attempts), GroupCommitter(self.posts.finish)
        )

        async def one(job: _Post) -> str:
            async with limit:
                try:
                    return await self._deliver(job, summary, writers)
                except Exception as exc:  # one group's bug must not stop the others
                    log.exception("groups.deliver_crashed", post=job.post_id)
                    failed = PostOutcome(job.post_id, NudgeStatus.FAILED, type(exc).__name__)
                    await writers.outcomes.submit(failed)
                    return NudgeStatus.FAILED

        try:
            results = await asyncio.gather(*(one(job) for job in jobs))
        finally:
            await writers.starts.close()
            await writers.outcomes.close()
        summary.sent += results.count(NudgeStatus.SENT)
        summary.failed += results.count(NudgeStatus.FAILED)
        summary.undeliverable += results.count(NudgeStatus.UNDELIVERABLE)

    async def _deliver(self, job: _Post, summary: GroupRunSummary, writers: _Writers) -> str:
        """Post one group's post: settle an earlier attempt in doubt, then post with retries.
        Every attempt is written before it is made and closed after."""
        messenger = cast(ChannelMessenger, self.messengers[job.group.platform])
        key = f"reconnect-group-{job.post_id}"
        channel = job.group.channel_id
        done = writers.outcomes.submit
        if job.in_doubt:
            found = await self._find(messenger, channel, key, job.claimed_at)
            if found is not None:
                await done(PostOutcome(job.post_id, NudgeStatus.SENT, None, found, self.wall()))
                return NudgeStatus.SENT
        assert job.reply is not None
        number, failures, waits = job.attempts, 0, 0
        while failures < self.config.max_attempts and waits < self.config.max_rate_limit_waits:
            number += 1
            await writers.starts.submit(AttemptOpen(job.post_id, number, job.content))
            try:
                sent = await messenger.post_to_channel(
                    channel, job.group.post_reference, job.reply, key
                )
            except DeliveryError as exc:
                if exc.permanent:
                    await done(PostOutcome(job.post_id, NudgeStatus.UNDELIVERABLE, exc.code))
                    if await self.posts.mark_broken(job.group.id, exc.code):
                        summary.broken += 1
                        log.warning("groups.channel_broken", group=job.group.id, error=exc.code)
                    return NudgeStatus.UNDELIVERABLE
                await done(PostOutcome(job.post_id, NudgeStatus.CLAIMED, exc.code))
                if exc.ratelimited:
                    waits += 1
                    wait = exc.retry_after if exc.retry_after is not None else 1.0
                    await asyncio.sleep(wait + random.uniform(0, min(1.0, wait / 2 + 0.1)))
                    continue
                failures += 1
                await asyncio.sleep(self._backoff(failures))
                # It may have arrived all the same: look before posting again.
                found = await self._find(messenger, channel, key, job.claimed_at)
                if found is not None:
                    await done(PostOutcome(job.post_id, NudgeStatus.SENT, None, found, self.wall()))
                    return NudgeStatus.SENT
                continue
            await done(
                PostOutcome(job.post_id, NudgeStatus.SENT, None, sent.message_id, self.wall())
            )
            return NudgeStatus.SENT
        await done(PostOutcome(job.post_id, NudgeStatus.FAILED, f"{number} attempts"))
        return NudgeStatus.FAILED

    async def _find(
        self, messenger: Messenger, channel: str, key: str, since: datetime
    ) -> str | None:
        for attempt in range(1, 4):
            try:
                return await messenger.find(channel, key, since - timedelta(minutes=10))
            except DeliveryError as exc:
                if exc.permanent:
                    break
                wait = exc.retry_after if exc.ratelimited else self._backoff(attempt)
                await asyncio.sleep(wait if wait is not None else 1.0)
        return None

    # --- broken channels ------------------------------------------------------------------

    async def _tell_coaches(self, summary: GroupRunSummary) -> None:
        """DM the coaches of each newly broken group, once (a compare-and-set decides who
        tells; a crash before telling is caught up by the next pass)."""
        for group_id, reason in await self.posts.untold(self.messengers):
            if not await self.posts.claim_telling(group_id, self.wall()):
                continue
            for coach, dm, name in await self.posts.coaches(group_id):
                messenger = self.messengers.get(coach.platform)
                if messenger is None:
                    continue
                reply = broken_notice(name, reason, messenger.command_prefix)
                try:
                    target = dm or messenger.direct_address(coach)
                    if target is None:
                        target = await messenger.open_channel(coach)
                    await messenger.post(target, reply, f"reconnect-group-broken-{group_id}")
                    summary.told += 1
                except DeliveryError as exc:
                    # Told once means tried once: a coach we can't reach is not retried.
                    log.warning("groups.coach_not_told", group=group_id, error=exc.code)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_every)
            try:
                await self.posts.heartbeat(self.worker, self.host, os.getpid(), self.wall())
            except Exception:
                log.warning("groups.heartbeat_failed")


_REASONS = {
    "is_archived": "its channel was archived",
    "not_in_channel": "I'm no longer in its channel",
    "channel_not_found": "its channel can't be found any more",
    "forbidden": "I was removed from its channel or team",
    "conversation_not_found": "its channel can't be found any more",
}


def broken_notice(name: str, reason: str, cmd: str) -> Reply:
    """The one DM a coach gets when their group's channel stopped working."""
    why = _REASONS.get(reason, "I can't post in its channel any more")
    shown = " ".join(name.split())[:80] or "your group"
    return message(
        f"I've stopped the weekly posts for your group “{shown}”: {why}. Nothing else changed. "
        f"To start again, add me back to the channel and type `{cmd}group resume` there."
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("utf-8", "replace")
    except OSError:
        return True
    fields = text.rpartition(")")[2].split()
    return not (fields and fields[0] == "Z")  # a zombie never finishes its claims


__all__ = ["GroupConfig", "GroupRunSummary", "GroupRunner", "broken_notice"]
