"""One pass of the morning nudges: decide who is due, claim, compose, deliver, record.

Exactly once per user per local day, across crashes, restarts and concurrent schedulers:

* a nudge is *claimed* in the database (unique per user, kind and local date) before sending;
* every attempt is written *before* the message goes out and closed after, so a crash leaves
  an open attempt — the send is "in doubt" — and whoever takes the nudge over first asks the
  platform whether the tagged message already arrived (:meth:`Messenger.find`);
* claims of a worker that died (its process is gone, or its heartbeat is stale) are taken over
  with a compare-and-set, so two survivors cannot both take one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import structlog

from bot.core.model import Contact
from bot.core.nudges import NudgeContent, render
from bot.core.ports import DeliveryError, DeliveryKind, Messenger
from bot.core.recap import RecapContent
from bot.core.replies import Reply
from bot.core.schedule import DEFAULT_GRACE, due_day
from bot.processes import pid_alive, worker_id
from jobs.batching import GroupCommitter
from jobs.heap import PassHeap, check_every
from jobs.phases import Phase, accumulated, current_rss_mb, measured, peak_rss_mb
from jobs.ports import NudgeStorePort
from storage.records import (
    FINISHED,
    MORNING,
    AttemptOutcome,
    AttemptResult,
    AttemptStart,
    ComposeInputs,
    NudgeState,
    NudgeStatus,
    Recipient,
)

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

#: Users composed per chunk; the next chunk's database reads overlap with composing this one.
#: The only batching of the compose reads: the store reads each chunk in one statement per query.
_COMPOSE_CHUNK = 2000
_FIRST_CHUNK = 250
#: Users composed between two turns of the event loop (about a millisecond of composing).
_TURN_EVERY = 8
#: The delivery writes' group commit: the most entries per transaction, and how long an entry
#: waits for others to join it (a send's attempt waits that long before it is posted).
_JOURNAL_ITEMS = 500
_JOURNAL_WAIT = 0.01
#: Messages a dry run composes and shows.
_PREVIEWS = 20
#: Candidates ranked per user beyond the number of cards.
_EXTRA_CANDIDATES = 3


@dataclass(frozen=True, slots=True)
class NudgeConfig:
    """Tunables of the delivery pass."""

    grace: timedelta = DEFAULT_GRACE
    concurrency: int = 100
    #: Failed tries (5xx, lost connections) before a nudge is given up for this pass.
    max_attempts: int = 8
    #: Waits for 429s are not failures: they count separately, and generously.
    max_rate_limit_waits: int = 200
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    #: A worker whose heartbeat is older than this is considered dead.
    stale_after: timedelta = timedelta(seconds=90)
    heartbeat_every: float = 15.0
    #: Users planned, claimed and composed together (a page of the pass); several workers
    #: share a pass page by page.
    batch: int = 1000
    #: Pages planned, claimed and read while one is composed (at least 1). Memory holds these
    #: and the page composed: jobs.app.build_runner sets both for the database.
    pages_ahead: int = 2
    #: Nudges sent in one pass after which the database looks at the nudges table again.
    analyze_after: int = 10_000


@dataclass(slots=True)
class RunSummary:
    """What one pass did."""

    due: int = 0
    sent: int = 0
    already: int = 0  # sent earlier, by this or another worker
    busy: int = 0  # being sent right now by another live worker
    failed: int = 0
    undeliverable: int = 0
    previews: list[str] = field(default_factory=list)
    #: A dry run's previewed messages, with whom each is for (as in ``previews``).
    messages: list[tuple[str, Reply]] = field(default_factory=list)
    #: Timings of "plan", "compose" and "deliver", in the order they ran (absent when skipped).
    phases: dict[str, Phase] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        """Due, but not this pass's to send."""
        return self.already + self.busy

    def line(self) -> str:
        """One line for operators."""
        return (
            f"due {self.due} · sent {self.sent} · skipped {self.skipped} "
            f"(already sent {self.already}, in progress elsewhere {self.busy}) · "
            f"failed {self.failed} · undeliverable {self.undeliverable}"
        )


@dataclass(slots=True)
class _Job:
    nudge_id: int
    recipient: Recipient
    day: date
    content: str
    attempts: int
    in_doubt: bool
    claimed_at: datetime
    composed: NudgeContent | None = None
    contacts: dict[int, Contact] = field(default_factory=dict)
    prompt_id: str = ""
    open_attempt: bool = False  # the previous worker's last attempt never finished
    recap: RecapContent | None = None  # a weekly recap's content (jobs.recap_runner)


@dataclass(slots=True)
class _Composing:
    """A page's jobs to compose, in chunks, the first chunk's reads already under way."""

    jobs: list[_Job]
    chunks: list[list[_Job]]
    reading: asyncio.Task[Mapping[int, Any]] | None

    def cancel(self) -> None:
        """Stop reads that will not be used (the pass ended before this page)."""
        if self.reading is not None:
            self.reading.cancel()


class _Channel(NamedTuple):
    """A user's DM channel learnt (or forgotten, ``None``) while delivering."""

    user_id: int
    channel: str | None


type _Entry = AttemptStart | AttemptOutcome | _Channel


@dataclass(slots=True)
class _Writers:
    """The group-committed writes of one delivery phase: attempts opened, outcomes and DM
    channels of all concurrent sends go out together, one transaction per group
    (``NudgeStorePort.record_delivery``), each group lingering ``_JOURNAL_WAIT`` for company.

    A transaction costs the sending process much more CPU than a row (see
    ``storage.delivery.DeliveryWrites.record_delivery``), and every commit a send waits for
    is a wake-up of the sender and a trip through the event loop. A send waits for its
    attempt to be committed before posting (a crash after the post leaves it open: in doubt).
    Its final outcome it hands over without waiting (:meth:`finish`), so the sender's next
    attempt goes out in the same transaction; the pass counts nothing as sent before
    :meth:`close` has written every outcome, and fails if one could not be written."""

    journal: GroupCommitter[_Entry]
    failure: BaseException | None = None

    @classmethod
    def of(cls, store: NudgeStorePort) -> _Writers:
        async def write(entries: Sequence[_Entry]) -> None:
            starts: list[AttemptStart] = []
            outcomes: list[AttemptOutcome] = []
            channels: dict[int, str | None] = {}
            for entry in entries:
                if isinstance(entry, AttemptOutcome):
                    outcomes.append(entry)
                elif isinstance(entry, _Channel):
                    channels[entry.user_id] = entry.channel
                else:
                    starts.append(entry)
            await store.record_delivery(starts, outcomes, channels)

        return cls(
            GroupCommitter(write, max_items=_JOURNAL_ITEMS, max_wait=_JOURNAL_WAIT, linger=True)
        )

    def finish(self, outcome: AttemptOutcome) -> None:
        """Record a nudge's final outcome in the next group, without waiting for it."""
        self.journal.add(outcome).add_done_callback(self._settled)

    def _settled(self, written: asyncio.Future[None]) -> None:
        if not written.cancelled() and written.exception() is not None and self.failure is None:
            self.failure = written.exception()

    async def close(self) -> None:
        """Write what is pending; raise what a final outcome's write raised."""
        await self.journal.close()
        if self.failure is not None:
            raise self.failure


@dataclass(slots=True)
class _Send:
    """One nudge being delivered: how to reach the user, and the attempts so far."""

    job: _Job
    messenger: Messenger
    key: str  # the tag an earlier send can be found by (Messenger.find)
    direct: str | None  # where to post without opening a conversation, if the platform can
    cached: str | None  # the DM channel cached on the user, while it is still trusted
    channel: str | None  # the DM channel, once known
    number: int  # the last attempt's number
    failures: int = 0
    waits: int = 0  # rate-limit waits (they count separately from failures)


class NudgeRunner:
    """Runs passes; one per process (see :func:`worker_id`)."""

    #: What this runner sends (``nudges.kind``); the recap runner sends "recap".
    kind: str = MORNING

    def __init__(
        self,
        store: NudgeStorePort,
        messengers: Mapping[str, Messenger],
        *,
        config: NudgeConfig | None = None,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        worker: str | None = None,
    ) -> None:
        self.store: NudgeStorePort = store
        self.messengers = dict(messengers)
        self.config = config or NudgeConfig()
        self.wall = wall_clock or (lambda: datetime.now(UTC))
        self.clock = clock or self.wall
        self.worker = worker or worker_id()
        self.host = socket.gethostname()

    async def heartbeat(self) -> None:
        """Tell other workers this one is alive."""
        await self.store.heartbeat(self.worker, self.host, os.getpid(), self.wall())

    async def stop(self) -> None:
        """Deregister (a clean stop: claims are finished by then)."""
        await self.store.remove_worker(self.worker)

    async def close(self) -> None:
        """Release the messengers' connections (at shutdown; they reopen if used again)."""
        for messenger in self.messengers.values():
            await messenger.close()

    async def run_once(self, at: datetime | None = None, *, dry_run: bool = False) -> RunSummary:
        """One pass as if the clock read ``at``.

        The pass streams: one page of users at a time (``NudgeConfig.batch``, in id order) is
        planned, claimed and composed, then handed to ``concurrency`` senders while the next
        page is decided. Memory holds a page or two of users however many there are, the
        first messages leave within a second, and several workers on one database share the
        pass page by page (a page being claimed by one is skipped by the others)."""
        now = at or self.clock()
        summary = RunSummary()
        await self.heartbeat()
        beating = asyncio.create_task(self._keep_beating())
        try:
            with PassHeap(check_every=check_every(self.config.batch)).frozen() as heap:
                await self._run(now, summary, heap, dry_run=dry_run)
            if summary.sent >= self.config.analyze_after:
                # The next passes of the grace hours read these claims again, page by page.
                await self.store.refresh_statistics()
        finally:
            beating.cancel()
        log.info("nudges.pass", worker=self.worker, kind=self.kind, **_fields(summary))
        return summary

    async def _run(
        self, now: datetime, summary: RunSummary, heap: PassHeap, *, dry_run: bool
    ) -> None:
        if dry_run:
            with measured(summary.phases, "plan"), heap.paused():
                await self._preview(now, summary)
        else:
            await self._stream(now, summary, heap)

    async def _stream(self, now: datetime, summary: RunSummary, heap: PassHeap) -> None:
        """Decide page after page and send what each page claimed, through a bounded queue:
        deciding waits for the senders when a page is already waiting to be sent."""
        queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=self.config.batch)
        writers = _Writers.of(self.store)
        results: Counter[NudgeStatus] = Counter()
        senders: list[asyncio.Task[None]] = []
        started = cpu = 0.0

        async def sender() -> None:
            while (job := await queue.get()) is not None:
                results[await self._deliver_guarded(job, writers)] += 1
                del job  # nothing of a sent user is kept while waiting for the next

        try:
            failure: Exception | None = None
            try:
                async for jobs in self._decided(now, summary, heap):
                    if not senders:
                        started, cpu = time.perf_counter(), time.process_time()
                        senders = [
                            asyncio.create_task(sender()) for _ in range(self.config.concurrency)
                        ]
                    # Hand the page over job by job, dropping each from the list as it goes:
                    # once sent, nothing here keeps it alive.
                    jobs.reverse()
                    while jobs:
                        await queue.put(jobs.pop())
            except Exception as exc:  # what was claimed already still goes out, then raise
                failure = exc
            for _ in senders:
                await queue.put(None)
            await asyncio.gather(*senders)
            if failure is not None:
                raise failure
        finally:
            for task in senders:
                task.cancel()  # only when the pass itself was cancelled: they are done
            await asyncio.gather(*senders, return_exceptions=True)
            try:
                await writers.close()  # the outcomes not waited for: written before counted
            finally:
                if senders:
                    summary.phases["deliver"] = Phase(
                        started=started,
                        wall_s=time.perf_counter() - started,
                        cpu_s=time.process_time() - cpu,
                        rss_mb=current_rss_mb(),
                        peak_rss_mb=peak_rss_mb(),
                    )
        summary.sent += results[NudgeStatus.SENT]
        summary.failed += results[NudgeStatus.FAILED]
        summary.undeliverable += results[NudgeStatus.UNDELIVERABLE]

    async def decide_all(self, at: datetime | None = None) -> RunSummary:
        """Plan, claim and compose every page of a pass, and send nothing: what deciding
        alone costs (the benchmarks measure it; the claims stay, as a dead worker's would)."""
        summary = RunSummary()
        with PassHeap(check_every=check_every(self.config.batch)).frozen() as heap:
            async for jobs in self._decided(at or self.clock(), summary, heap):
                jobs.clear()
        return summary

    # --- deciding ---------------------------------------------------------------------------

    async def _decided(
        self, now: datetime, summary: RunSummary, heap: PassHeap
    ) -> AsyncIterator[list[_Job]]:
        """The jobs this worker claimed, composed, one page of users at a time.

        The pages ahead are read, claimed and their compose reads started while this one is
        composed (``config.pages_ahead`` of them): on PostgreSQL those queries run in the
        server meanwhile, on SQLite in the driver's thread (which lets go of the GIL while
        SQLite works). Without the overlap, deciding 10,000 users took 1.84 → 2.51 s on
        PostgreSQL; with one page of 2,000 ahead, a page's plan and reads (~4 round trips,
        then the reads) often outlasted composing the page before, and deciding 100,000 users
        waited for them ~20 % of the time. Memory holds the pages ahead and the one composed."""
        platforms = sorted(self.messengers)
        ahead: asyncio.Queue[_Composing | BaseException | None] = asyncio.Queue()
        room = asyncio.Semaphore(max(1, self.config.pages_ahead))  # pages not yet composed

        async def plan_pages() -> None:
            after, first = 0, True
            try:
                while True:
                    await room.acquire()
                    with accumulated(summary.phases, "plan"):
                        page = await self.store.recipients(
                            platforms, after=after, limit=self.config.batch
                        )
                        if not page:
                            break
                        jobs = await self._plan(page, now, summary)
                        composing = await self._start_composing(jobs, first=first)
                    after, first = page[-1].id, False
                    if composing.jobs:
                        ahead.put_nowait(composing)
                    else:
                        room.release()
            except Exception as exc:  # handed to the composing side, which raises it
                ahead.put_nowait(exc)
                return
            ahead.put_nowait(None)

        planning = asyncio.ensure_future(plan_pages())
        try:
            while True:
                composing = await ahead.get()
                if composing is None:
                    return
                if isinstance(composing, BaseException):
                    raise composing
                room.release()  # the next page ahead is planned while this one is composed
                with accumulated(summary.phases, "compose"), heap.paused():
                    await self._compose(composing)
                yield composing.jobs
        finally:
            planning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await planning
            while not ahead.empty():
                unused = ahead.get_nowait()
                if isinstance(unused, _Composing):
                    unused.cancel()

    async def _plan(self, page: list[Recipient], now: datetime, summary: RunSummary) -> list[_Job]:
        """Claim the nudges due on one page of users (and take over dead workers' ones)."""
        due = self._due_on(page, now, summary)
        if not due:
            return []
        wanted, takeovers, wall = await self._sort(due, summary)
        jobs: list[_Job] = []
        # The page's first user names its claim lock: a worker claiming it right now has it.
        won = await self.store.claim(wanted, self.worker, wall, page=page[0].id) if wanted else {}
        summary.busy += len(wanted) - len(won)
        for uid, nudge_id in won.items():
            recipient, day = due[uid]
            jobs.append(_Job(nudge_id, recipient, day, "", 0, False, wall))
        for recipient, state in takeovers:
            if await self.store.take_over(state, self.worker, wall):
                # Any earlier attempt may have reached the platform, even one recorded as a
                # timeout or a 5xx: look before sending again.
                doubt = state.open_attempt or state.attempts > 0
                job = _Job(
                    state.id,
                    recipient,
                    state.day,
                    state.content,
                    state.attempts,
                    doubt,
                    state.claimed_at,
                    open_attempt=state.open_attempt,
                )
                jobs.append(job)
            else:
                summary.busy += 1
        return jobs

    def _due_on(
        self, page: list[Recipient], now: datetime, summary: RunSummary
    ) -> dict[int, tuple[Recipient, date]]:
        """The users of ``page`` due a message at ``now``, with its local date."""
        due: dict[int, tuple[Recipient, date]] = {}
        # Users with the same settings are due on the same day: a page of 2,000 has a few
        # dozen distinct ones, and working out a local day in a time zone costs ~4 µs.
        known: dict[Hashable, date | None] = {}
        for recipient in page:
            key = self._due_key(recipient)
            if key in known:
                day = known[key]
            else:
                day = known[key] = self._due(recipient, now)
            if day is not None:
                due[recipient.id] = (recipient, day)
        summary.due += len(due)
        return due

    def _due_key(self, recipient: Recipient) -> Hashable:
        """Everything of ``recipient`` that :meth:`_due` reads (it gives the same day for
        equal keys at one instant)."""
        return recipient.prefs

    async def _sort(
        self, due: Mapping[int, tuple[Recipient, date]], summary: RunSummary
    ) -> tuple[list[tuple[int, date]], list[tuple[Recipient, NudgeState]], datetime]:
        """Split due users into nudges to claim and claims to take over (counting the rest
        on ``summary``), and the wall-clock time they were looked at."""
        existing = await self.store.existing(
            {day for _, day in due.values()}, list(due), finished_content=False
        )
        workers = await self.store.workers()
        wall = self.wall()
        wanted: list[tuple[int, date]] = []
        takeovers: list[tuple[Recipient, NudgeState]] = []
        for uid, (recipient, day) in due.items():
            state = existing.get((uid, day))
            if state is None:
                wanted.append((uid, day))
            elif state.status in FINISHED:
                summary.already += 1
            elif state.status == NudgeStatus.FAILED and state.attempts >= self._attempt_ceiling:
                summary.failed += 1
            elif state.status == NudgeStatus.FAILED or self._dead(state.worker, workers, wall):
                takeovers.append((recipient, state))
            else:
                summary.busy += 1
        return wanted, takeovers, wall

    def _due(self, recipient: Recipient, now: datetime) -> date | None:
        """The local date whose message ``recipient`` is due at ``now``, if any."""
        return due_day(recipient.prefs, now, self.config.grace)

    def _dead(
        self, worker: str, workers: Mapping[str, tuple[str, int, datetime]], wall: datetime
    ) -> bool:
        if worker == self.worker:
            return True  # an earlier pass of this process ended abnormally
        entry = workers.get(worker)
        if entry is None:
            return True
        host, pid, heartbeat = entry
        if host == self.host and not pid_alive(pid):
            return True
        return wall - heartbeat > self.config.stale_after

    async def _preview(self, now: datetime, summary: RunSummary) -> None:
        """A dry run: count who is due (page by page, as a pass would) and compose the first
        :data:`_PREVIEWS` messages; nothing is claimed or sent."""
        platforms = sorted(self.messengers)
        pending: list[_Job] = []
        after = 0
        while page := await self.store.recipients(platforms, after=after, limit=self.config.batch):
            after = page[-1].id
            due = self._due_on(page, now, summary)
            if not due:
                continue
            wanted, takeovers, wall = await self._sort(due, summary)
            found = [due[uid] for uid, _ in wanted] + [(r, s.day) for r, s in takeovers]
            for recipient, day in found[: _PREVIEWS - len(pending)]:
                pending.append(_Job(0, recipient, day, "", 0, False, wall))
        await self._compose(await self._start_composing(pending, first=True))
        for job in pending:
            reply = await self._prepare(job)
            if reply is not None:
                summary.previews.append(f"{_who(job.recipient)}: {reply.summary}")
                summary.messages.append((_who(job.recipient), reply))

    async def _start_composing(self, jobs: list[_Job], *, first: bool) -> _Composing:
        """``jobs`` split into chunks to compose, the first chunk's reads already started.

        Taken-over jobs reuse their stored content (:meth:`_restore`) and need no reads. The
        first page of a pass starts with a small chunk: nothing overlaps its reads, so
        composing (and then sending) starts sooner. Later pages are read whole: each extra
        chunk costs its statements again."""
        fresh = [job for job in jobs if not (job.content and await self._restore(job))]
        head = _FIRST_CHUNK if first else _COMPOSE_CHUNK
        chunks = [fresh[:head]] + [
            fresh[i : i + _COMPOSE_CHUNK] for i in range(head, len(fresh), _COMPOSE_CHUNK)
        ]
        if not fresh:
            return _Composing(jobs, [], None)
        return _Composing(jobs, chunks, asyncio.create_task(self._read_inputs(chunks[0])))

    async def _read_inputs(self, chunk: list[_Job]) -> Mapping[int, Any]:
        """What composing ``chunk`` needs, by user id, in one batch of reads."""
        # The store reads each user's eligible contacts in fair-rotation order, which already
        # weighs their lasting value (storage.dialect.top_due, bot.core.ranking.rotation_key);
        # the few beyond the cards let today's score break ties and the gentle path pick the
        # warmest. Every extra candidate is a row read and scored for thousands of users.
        per_user = max(job.recipient.prefs.cards for job in chunk) + _EXTRA_CANDIDATES
        users = {job.recipient.id: job.day for job in chunk}
        return await self.store.compose_inputs(users, candidates_per_user=per_user)

    def _compose_job(self, job: _Job, inputs: Mapping[int, Any]) -> None:
        """Compose ``job``'s message from its chunk's ``inputs`` (:meth:`_read_inputs`)."""
        content, contacts = _compose_one(job, inputs.get(job.recipient.id) or ComposeInputs())
        job.composed = content
        job.contacts = contacts
        # Stored with the first attempt, before anything is sent (start_attempts).
        job.content = content.to_json()
        job.prompt_id = content.prompt_id

    async def _compose(self, composing: _Composing) -> None:
        """Compose every chunk, the next chunk's reads running while this one is composed."""
        chunks, pending = composing.chunks, composing.reading
        if pending is None:
            return
        try:
            for k, chunk in enumerate(chunks):
                inputs = await pending
                if k + 1 < len(chunks):
                    pending = asyncio.create_task(self._read_inputs(chunks[k + 1]))
                for n, job in enumerate(chunk):
                    # Give the loop a turn every few users: the prefetch needs one for each
                    # step of its round trips (a chunk's result arrives in dozens of socket
                    # reads), and web requests sharing the process must not wait behind
                    # composing. A turn per user cost ~5 % of deciding (a poll each).
                    if n % _TURN_EVERY == 0:
                        await asyncio.sleep(0)
                    self._compose_job(job, inputs)
        finally:
            pending.cancel()

    async def _restore(self, job: _Job) -> bool:
        """Reuse a taken-over nudge's stored content (what may already have been sent)."""
        try:
            content = NudgeContent.from_json(job.content)
        except ValueError:
            return False
        job.composed = content
        job.contacts = await self.store.contacts_for(job.recipient.id, content.contact_ids())
        job.prompt_id = content.prompt_id
        return True

    def _render(self, job: _Job) -> Reply | None:
        """The message for ``job``. Rendered just before it is sent, not when composing: a
        rendered nudge is several kilobytes, and the pass holds thousands of jobs."""
        if job.composed is None:
            return None
        cmd = self.messengers[job.recipient.user.platform].command_prefix
        return render(job.composed, job.contacts, nudge_id=job.nudge_id, cmd=cmd)

    async def _prepare(self, job: _Job) -> Reply | None:
        """The message for ``job`` as it goes out: rendered, with whatever else is made only
        at send time (a weekly recap's chart). Called once per delivery, and for previews."""
        return self._render(job)

    # --- delivering -------------------------------------------------------------------------

    async def _deliver_guarded(self, job: _Job, writers: _Writers) -> NudgeStatus:
        """:meth:`_deliver`, with one user's bug recorded as a failure of their nudge instead
        of stopping the others."""
        try:
            return await self._deliver(job, writers)
        except Exception as exc:
            log.exception("nudges.deliver_crashed", nudge=job.nudge_id)
            await writers.journal.submit(
                AttemptOutcome(
                    job.nudge_id,
                    job.recipient.id,
                    0,
                    AttemptResult.ERROR,
                    type(exc).__name__,
                    status=NudgeStatus.FAILED,
                )
            )
            return NudgeStatus.FAILED

    async def _deliver(self, job: _Job, writers: _Writers) -> NudgeStatus:
        """Send one nudge: reach the user, settle an earlier send in doubt, then send with
        retries. Every step records what happened (attempts and outcomes) as it goes."""
        messenger = self.messengers[job.recipient.user.platform]
        send = _Send(
            job,
            messenger,
            key=f"reconnect-nudge-{job.nudge_id}",
            # Slack can post to a user id; otherwise, or to look for an earlier send, the DM
            # conversation has to be opened first.
            direct=messenger.direct_address(job.recipient.user),
            cached=job.recipient.dm_channel,
            channel=job.recipient.dm_channel,
            number=job.attempts,
        )
        refused = await self._reach(send, writers)
        if refused is not None:
            return refused
        if job.in_doubt and await self._verify_in_doubt(send, writers):
            return NudgeStatus.SENT
        return await self._send_with_retries(send, writers)

    async def _reach(self, send: _Send, writers: _Writers) -> NudgeStatus | None:
        """Open the DM conversation when it is needed and not cached; the nudge's final status
        when the user cannot be reached (recorded), else ``None``."""
        job = send.job
        if send.channel is not None or (send.direct is not None and not job.in_doubt):
            return None
        try:
            send.channel = await self._open(send.messenger, job)
        except DeliveryError as exc:
            status = NudgeStatus.UNDELIVERABLE if exc.permanent else NudgeStatus.FAILED
            await writers.journal.submit(
                AttemptOutcome(job.nudge_id, job.recipient.id, 0, exc.kind, exc.code, status=status)
            )
            return status
        await writers.journal.submit(_Channel(job.recipient.id, send.channel))
        return None

    async def _verify_in_doubt(self, send: _Send, writers: _Writers) -> bool:
        """Whether an earlier attempt (of a dead worker, or of an earlier pass) arrived after
        all; if it did, the nudge is recorded as sent."""
        job = send.job
        assert send.channel is not None
        found = await self._find(send.messenger, send.channel, send.key, job.claimed_at)
        if found is not None:
            # Close the dead worker's last attempt with what really happened.
            await writers.journal.submit(
                self._sent(job, job.attempts, AttemptResult.FOUND_EXISTING, send.channel, found)
            )
            return True
        if job.open_attempt:
            await writers.journal.submit(
                AttemptOutcome(
                    job.nudge_id,
                    job.recipient.id,
                    job.attempts,
                    AttemptResult.ABANDONED,
                    "not found; resending",
                )
            )
        return False

    async def _send_with_retries(self, send: _Send, writers: _Writers) -> NudgeStatus:
        """Post until it is sent, refused for good, or out of attempts for this pass."""
        job = send.job
        reply = await self._prepare(job)
        assert reply is not None
        while (
            send.failures < self.config.max_attempts
            and send.waits < self.config.max_rate_limit_waits
        ):
            send.number += 1
            target = send.channel if send.channel is not None else send.direct
            assert target is not None
            await writers.journal.submit(
                AttemptStart(job.nudge_id, send.number, self.worker, self.wall(), job.content)
            )
            try:
                sent = await send.messenger.post(target, reply, send.key)
            except DeliveryError as exc:
                final = await self._after_failed_post(send, writers, exc)
                if final is not None:
                    return final
                continue
            # A DM channel learnt from the post is cached with the outcome, in its transaction.
            learnt = sent.channel != send.channel
            send.channel = sent.channel
            writers.finish(
                self._sent(
                    job, send.number, AttemptResult.SENT, send.channel, sent.message_id, learnt
                )
            )
            return NudgeStatus.SENT
        return await self._give_up(send, writers)

    async def _after_failed_post(
        self, send: _Send, writers: _Writers, exc: DeliveryError
    ) -> NudgeStatus | None:
        """Record a failed post and get ready for the next one; the nudge's final status when
        there is no next one, else ``None``."""
        job, uid = send.job, send.job.recipient.id
        if exc.permanent and exc.code == "channel_not_found" and send.channel == send.cached:
            # The cached DM channel went away: reach the user afresh and retry.
            await writers.journal.submit(
                AttemptOutcome(job.nudge_id, uid, send.number, exc.kind, exc.code)
            )
            send.cached = send.channel = None
            await writers.journal.submit(_Channel(uid, None))
            if send.direct is None:
                send.channel = await self._open_or_none(send.messenger, job)
                if send.channel is None:
                    return await self._give_up(send, writers)
                await writers.journal.submit(_Channel(uid, send.channel))
            return None
        if exc.permanent:
            await writers.journal.submit(
                AttemptOutcome(
                    job.nudge_id,
                    uid,
                    send.number,
                    exc.kind,
                    exc.code,
                    status=NudgeStatus.UNDELIVERABLE,
                )
            )
            log.warning("nudges.undeliverable", user=uid, error=exc.code)
            return NudgeStatus.UNDELIVERABLE
        await writers.journal.submit(
            AttemptOutcome(job.nudge_id, uid, send.number, exc.kind, exc.code)
        )
        if exc.ratelimited:
            # Honour Retry-After, plus jitter so throttled sends don't all wake together.
            send.waits += 1
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            await asyncio.sleep(wait + random.uniform(0, min(1.0, wait / 2 + 0.1)))
            return None
        send.failures += 1
        await asyncio.sleep(self._backoff(send.failures))
        # It may have arrived all the same: look before sending again.
        if send.channel is None:
            send.channel = await self._open_or_none(send.messenger, job)
            if send.channel is not None:
                await writers.journal.submit(_Channel(uid, send.channel))
        if send.channel is not None:
            found = await self._find(send.messenger, send.channel, send.key, job.claimed_at)
            if found is not None:
                await writers.journal.submit(
                    self._sent(job, 0, AttemptResult.FOUND_EXISTING, send.channel, found)
                )
                return NudgeStatus.SENT
        return None

    async def _give_up(self, send: _Send, writers: _Writers) -> NudgeStatus:
        """Out of attempts for this pass: the nudge failed (a later pass may retry it)."""
        await writers.journal.submit(
            AttemptOutcome(
                send.job.nudge_id,
                send.job.recipient.id,
                0,
                AttemptResult.GAVE_UP,
                f"{send.number} attempts",
                status=NudgeStatus.FAILED,
            )
        )
        return NudgeStatus.FAILED

    @property
    def _attempt_ceiling(self) -> int:
        """Attempts after which a failed nudge is not retried by later passes."""
        return self.config.max_attempts + self.config.max_rate_limit_waits

    async def _open(self, messenger: Messenger, job: _Job) -> str:
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                return await messenger.open_channel(job.recipient.user)
            except DeliveryError as exc:
                if exc.permanent or attempt == self.config.max_attempts:
                    raise
                wait = exc.retry_after if exc.ratelimited else self._backoff(attempt)
                await asyncio.sleep(wait if wait is not None else 1.0)
        raise DeliveryError(DeliveryKind.TRANSIENT, "unreachable")

    async def _open_or_none(self, messenger: Messenger, job: _Job) -> str | None:
        """:meth:`_open`, or ``None`` when the conversation cannot be opened right now."""
        try:
            return await self._open(messenger, job)
        except DeliveryError as exc:
            log.warning("nudges.open_failed", user=job.recipient.id, error=exc.code)
            return None

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
        log.warning("nudges.unverifiable", channel=channel)
        return None

    def _sent(
        self,
        job: _Job,
        number: int,
        how: AttemptResult,
        channel: str,
        message_id: str,
        cache_channel: bool = False,
    ) -> AttemptOutcome:
        return AttemptOutcome(
            job.nudge_id,
            job.recipient.id,
            number,
            how,
            "",
            status=NudgeStatus.SENT,
            channel=channel,
            message_id=message_id,
            prompt_id=job.prompt_id,
            at=self.wall(),
            # Fair rotation: the contacts this nudge suggested, and its day.
            suggested=tuple(c.contact_id for c in job.composed.cards) if job.composed else (),
            day=job.day,
            cache_channel=cache_channel,
        )

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_every)
            try:
                await self.heartbeat()
            except Exception:
                log.warning("nudges.heartbeat_failed")


def _compose_one(job: _Job, inputs: ComposeInputs) -> tuple[NudgeContent, dict[int, Contact]]:
    content, contacts = inputs.compose(job.recipient.user, job.day, job.recipient.prefs.cards)
    if not content.welcome:
        content.goal = inputs.goal
    return content, contacts


def _who(recipient: Recipient) -> str:
    user = recipient.user
    return f"{user.platform}:{user.workspace_id}:{user.user_id}"


def _fields(summary: RunSummary) -> dict[str, int | float]:
    timings: dict[str, int | float] = {
        f"{name}_s": round(phase.wall_s, 3) for name, phase in summary.phases.items()
    }
    return timings | {
        "due": summary.due,
        "sent": summary.sent,
        "already": summary.already,
        "busy": summary.busy,
        "failed": summary.failed,
        "undeliverable": summary.undeliverable,
    }
