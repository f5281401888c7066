"""An in-memory :class:`~jobs.ports.NudgeStorePort`, for fast tests of the nudge runner.

It keeps the promises of ``storage.nudges.NudgeStore`` that the runner relies on (checked
against the real store on SQLite and PostgreSQL by ``tests/jobs/test_nudge_store_contract.py``):

- one morning nudge per user and local date: a claim for an existing one is lost, whoever holds it;
- ``take_over`` is a compare-and-set on the nudge's worker and status;
- attempts are opened before a send (an existing number is kept, the count and content are
  stored all the same) and closed after; an open one marks the nudge ``open_attempt``;
- outcomes close attempts, then set the nudge's status, channel, message id, ``sent_at`` (sent
  only) and error (not sent only), cache DM channels (``cache_channel``), mark undeliverable
  users and count prompt views, in that order;
- a worker's heartbeat refreshes only its time; workers silent for a day are forgotten;
- compose reads follow the SQL: candidates are each user's first ``candidates_per_user``
  contacts in fair-rotation order (``ranking.rotation_key``, then most overdue) due by the
  batch's latest day, not awaiting a reply and within the weekly limit, then only those due on
  the user's day, not skipped that day and within its weekly limit; plus contacts with a win to
  congratulate; follow-ups due by the user's day; contacts and conversations counted up to
  ``ACTIVITY_COUNTED``;
- a sent nudge's ``suggested`` contacts are marked suggested on its ``day``.

Users, their settings and contacts live in a :class:`~tests.fakes.memory_store.MemoryStore` (so
tests seed them through the same ``Store`` protocol as the SQL store); user ids are handed out
in the order users first appear there, like a database sequence. What the SQL store keeps on
the user row beyond that — the cached DM channel and the undeliverable mark — lives here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.core.courage import EvidenceHint, Story, better
from bot.core.evidence import StepStatus
from bot.core.model import Contact, UserRef
from bot.core.nudges import ACTIVITY_COUNTED, MAX_STEPS, Activity
from bot.core.ranking import eligible, rotation_key, within_weekly_limit
from bot.core.wins import RECENT
from storage.compose_reads import STORY_WITHIN
from storage.records import (
    FINISHED,
    MORNING,
    AttemptOutcome,
    AttemptStart,
    ComposeInputs,
    NudgeState,
    NudgeStatus,
    Recipient,
)
from tests.fakes.memory_store import MemoryStore, _Owner


@dataclass(slots=True)
class NudgeRow:
    """A ``nudges`` row."""

    id: int
    user_id: int
    kind: str
    local_date: date
    status: str
    worker: str
    claimed_at: datetime
    attempts: int = 0
    content: str = ""
    channel: str | None = None
    message_id: str | None = None
    sent_at: datetime | None = None
    error: str | None = None


@dataclass(slots=True)
class AttemptRow:
    """A ``delivery_attempts`` row."""

    nudge_id: int
    number: int
    worker: str
    started_at: datetime
    outcome: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class UserRow:
    """What the ``users`` row holds beyond the :class:`MemoryStore`'s owner."""

    id: int
    ref: UserRef
    dm_channel: str | None = None
    undeliverable: str | None = None


class MemoryNudgeStore:
    """The nudge store's tables as dictionaries, over a :class:`MemoryStore`'s users."""

    def __init__(self, book_store: MemoryStore | None = None) -> None:
        self.book_store = book_store if book_store is not None else MemoryStore()
        self._users: dict[UserRef, UserRow] = {}
        self.nudges: dict[int, NudgeRow] = {}
        self.attempts: dict[tuple[int, int], AttemptRow] = {}
        #: ``{(user id, prompt id): (count, last shown)}``
        self.prompt_views: dict[tuple[int, str], tuple[int, date]] = {}
        self._workers: dict[str, tuple[str, int, datetime]] = {}
        self._next_nudge = 1
        #: Every call of a port method, by name, in order (tests check the runner's writes).
        self.calls: list[str] = []

    # --- for tests ---------------------------------------------------------------------------

    def users(self) -> dict[int, UserRow]:
        """Every user row by id (the book store's owners, in the order they appeared)."""
        for ref in self.book_store.owners:
            if ref not in self._users:
                self._users[ref] = UserRow(len(self._users) + 1, ref)
        return {row.id: row for row in self._users.values()}

    def user_id(self, ref: UserRef) -> int:
        """The id of ``ref``'s user row."""
        return next(uid for uid, row in self.users().items() if row.ref == ref)

    def attempts_of(self, nudge_id: int) -> list[AttemptRow]:
        """A nudge's attempts by number."""
        return sorted(
            (a for a in self.attempts.values() if a.nudge_id == nudge_id), key=lambda a: a.number
        )

    async def counts_by_status(self, day: date | None = None) -> dict[str, int]:
        """``{status: count}`` of morning nudges (as ``NudgeStore.counts_by_status``)."""
        counts: dict[str, int] = {}
        for nudge in self.nudges.values():
            if nudge.kind == MORNING and (day is None or nudge.local_date == day):
                counts[nudge.status] = counts.get(nudge.status, 0) + 1
        return counts

    # --- workers -----------------------------------------------------------------------------

    async def heartbeat(self, worker: str, host: str, pid: int, now: datetime) -> None:
        self.calls.append("heartbeat")
        known = self._workers.get(worker)
        self._workers[worker] = (host, pid, now) if known is None else (known[0], known[1], now)
        self._workers = {
            wid: entry
            for wid, entry in self._workers.items()
            if not entry[2] < now - timedelta(days=1)
        }

    async def remove_worker(self, worker: str) -> None:
        self.calls.append("remove_worker")
        self._workers.pop(worker, None)

    async def workers(self) -> dict[str, tuple[str, int, datetime]]:
        self.calls.append("workers")
        return dict(self._workers)

    # --- planning ----------------------------------------------------------------------------

    async def recipients(
        self, platforms: Iterable[str], *, after: int = 0, limit: int | None = None
    ) -> list[Recipient]:
        self.calls.append("recipients")
        wanted = set(platforms)
        owners = self.book_store.owners
        found = [
            Recipient(row.id, row.ref, owners[row.ref].prefs, row.dm_channel)
            for row in sorted(self.users().values(), key=lambda row: row.id)
            if row.undeliverable is None and row.ref.platform in wanted
        ]
        if limit is None:
            return found
        return [r for r in found if r.id > after][:limit]

    async def existing(
        self,
        days: Iterable[date],
        users: Sequence[int] | None = None,
        *,
        finished_content: bool = True,
    ) -> dict[tuple[int, date], NudgeState]:
        self.calls.append("existing")
        wanted = set(days)
        among = None if users is None else set(users)
        open_ids = {a.nudge_id for a in self.attempts.values() if a.outcome is None}
        return {
            (n.user_id, n.local_date): NudgeState(
                n.id,
                n.user_id,
                n.local_date,
                n.status,
                n.worker,
                n.attempts,
                "" if not finished_content and n.status in FINISHED else n.content,
                n.claimed_at,
                n.id in open_ids,
            )
            for n in self.nudges.values()
            if n.kind == MORNING
            and n.local_date in wanted
            and (among is None or n.user_id in among)
        }

    async def claim(
        self,
        wanted: Sequence[tuple[int, date]],
        worker: str,
        now: datetime,
        *,
        page: int | None = None,  # one process: nobody else claims a page meanwhile
    ) -> dict[int, int]:
        self.calls.append("claim")
        users = self.users()
        taken = {(n.user_id, n.kind, n.local_date) for n in self.nudges.values()}
        won: dict[int, int] = {}
        for uid, day in wanted:
            if uid not in users:
                raise LookupError(f"no user {uid}")  # the foreign key
            if (uid, MORNING, day) in taken:
                continue
            taken.add((uid, MORNING, day))
            nudge = NudgeRow(self._next_nudge, uid, MORNING, day, NudgeStatus.CLAIMED, worker, now)
            self._next_nudge += 1
            self.nudges[nudge.id] = nudge
            won[uid] = nudge.id
        return won

    async def refresh_statistics(self) -> None:
        self.calls.append("refresh_statistics")

    async def take_over(self, state: NudgeState, worker: str, now: datetime) -> bool:
        self.calls.append("take_over")
        nudge = self.nudges.get(state.id)
        if nudge is None or nudge.worker != state.worker or nudge.status != state.status:
            return False
        nudge.worker, nudge.claimed_at, nudge.status = worker, now, NudgeStatus.CLAIMED
        return True

    # --- composing ---------------------------------------------------------------------------

    async def compose_inputs(
        self, users: dict[int, date], *, candidates_per_user: int
    ) -> dict[int, ComposeInputs]:
        self.calls.append("compose_inputs")
        out: dict[int, ComposeInputs] = {uid: ComposeInputs() for uid in users}
        if not users:
            return out
        latest = max(users.values())
        rows = self.users()
        for uid, day in users.items():
            row = rows.get(uid)
            if row is None:
                continue
            owner = self.book_store.owners[row.ref]
            contacts = list(owner.contacts.values())
            top = sorted(
                (
                    c
                    for c in contacts
                    if c.next_due_on <= latest
                    and c.follow_up_on is None
                    and within_weekly_limit(c, latest)
                ),
                key=lambda c: (rotation_key(c), c.next_due_on, c.id),
            )[:candidates_per_user]
            inputs = out[uid]
            inputs.candidates = [
                copy.copy(c)
                for c in top
                if c.next_due_on <= day and c.skipped_on != day and within_weekly_limit(c, day)
            ]
            chosen = {c.id for c in inputs.candidates}
            inputs.candidates += [
                copy.copy(c)
                for c in contacts
                if c.id not in chosen
                and c.win_on is not None
                and c.win_on >= min(users.values()) - RECENT
                and eligible(c, day)
            ]
            inputs.followups = [
                copy.copy(c)
                for c in sorted(contacts, key=lambda c: (c.follow_up_on or date.min, c.id))
                if c.follow_up_on is not None and c.follow_up_on <= day
            ]
            talks = owner.conversations
            # The latest by (date, id); ids grow with the order they were logged in.
            last = max(enumerate(talks), key=lambda t: (t[1].occurred_on, t[0]), default=None)
            inputs.activity = Activity(
                contacts=min(len(contacts), ACTIVITY_COUNTED),
                conversations=min(len(talks), ACTIVITY_COUNTED),
                last_activity_on=last[1].occurred_on if last else None,
                last_conversation_learned=(
                    bool(last[1].learned) if last and last[1].kind == "conversation" else None
                ),
            )
            inputs.prompt_views = {
                prompt: count for (u, prompt), (count, _) in self.prompt_views.items() if u == uid
            }
            due_steps = sorted(
                (
                    s
                    for s in owner.next_steps.values()
                    if s.status is StepStatus.OPEN
                    and s.due_on <= day
                    and s.contact_id in owner.contacts
                ),
                key=lambda s: (s.due_on, s.id),
            )[:MAX_STEPS]
            inputs.next_steps = [(s, copy.copy(owner.contacts[s.contact_id])) for s in due_steps]
            inputs.evidence = _evidence_hint(owner, day)
        return out

    async def contacts_for(self, user_id: int, contact_ids: list[int]) -> dict[int, Contact]:
        self.calls.append("contacts_for")
        row = self.users().get(user_id)
        if row is None:
            return {}
        contacts = self.book_store.owners[row.ref].contacts
        return {i: copy.copy(contacts[i]) for i in contact_ids if i in contacts}

    # --- delivering --------------------------------------------------------------------------

    async def start_attempts(self, attempts: Sequence[AttemptStart]) -> None:
        self.calls.append("start_attempts")
        for a in attempts:
            if a.nudge_id not in self.nudges:
                raise LookupError(f"no nudge {a.nudge_id}")  # the foreign key
            self.attempts.setdefault(
                (a.nudge_id, a.number), AttemptRow(a.nudge_id, a.number, a.worker, a.at)
            )
        for a in attempts:
            nudge = self.nudges[a.nudge_id]
            nudge.attempts, nudge.content = a.number, a.content

    async def record_outcomes(self, outcomes: Sequence[AttemptOutcome]) -> None:
        self.calls.append("record_outcomes")
        for o in outcomes:
            attempt = self.attempts.get((o.nudge_id, o.number)) if o.number > 0 else None
            if attempt is not None:
                attempt.outcome, attempt.detail = o.outcome, o.detail[:200] or None
        finished = [o for o in outcomes if o.status is not None]
        for o in finished:
            nudge = self.nudges.get(o.nudge_id)
            if nudge is None:
                continue
            sent = o.status == NudgeStatus.SENT
            nudge.status = str(o.status)
            nudge.channel, nudge.message_id = o.channel, o.message_id
            nudge.sent_at = o.at if sent else None
            nudge.error = None if sent else o.detail[:200]
        rows = self.users()
        for o in outcomes:
            if o.cache_channel and o.user_id in rows:
                rows[o.user_id].dm_channel = o.channel
        for o in finished:
            if o.status == NudgeStatus.UNDELIVERABLE and o.user_id in rows:
                rows[o.user_id].undeliverable = o.detail[:64]
        for o in finished:
            row = rows.get(o.user_id)
            if o.status == NudgeStatus.SENT and o.day is not None and row is not None:
                book = self.book_store.owners[row.ref].contacts
                for cid in o.suggested:
                    if cid in book:
                        book[cid].mark_suggested(o.day)
        for o in finished:
            if o.status == NudgeStatus.SENT and o.prompt_id:
                count, _ = self.prompt_views.get((o.user_id, o.prompt_id), (0, date.min))
                shown = (o.at or datetime.now(UTC)).date()
                self.prompt_views[o.user_id, o.prompt_id] = (count + 1, shown)

    async def set_dm_channels(self, channels: dict[int, str | None]) -> None:
        self.calls.append("set_dm_channels")
        rows = self.users()
        for uid, channel in channels.items():
            if uid in rows:
                rows[uid].dm_channel = channel

    async def record_delivery(
        self,
        starts: Sequence[AttemptStart],
        outcomes: Sequence[AttemptOutcome],
        channels: dict[int, str | None],
    ) -> None:
        # One transaction in the SQL store; here the three parts, named in ``calls`` as the
        # writes they are (what the runner tests check the order of).
        if starts:
            await self.start_attempts(starts)
        if outcomes:
            await self.record_outcomes(outcomes)
        if channels:
            await self.set_dm_channels(channels)


__all__ = ["AttemptRow", "MemoryNudgeStore", "NudgeRow", "UserRow"]


def _evidence_hint(owner: _Owner, day: date) -> EvidenceHint:
    """As ``storage.compose_reads`` reads it: any prediction, and the latest fear (within a
    year) that turned out better."""
    events = list(owner.outreach.values())
    if not any(e.expected is not None for e in events):
        return EvidenceHint()
    candidates = sorted(
        (
            e
            for e in events
            if e.expected is not None
            and e.actual is not None
            and e.contact_id in owner.contacts
            and better(e.expected, e.actual)
            and day - STORY_WITHIN <= e.reached_on <= day
        ),
        key=lambda e: (e.reached_on, e.id),
        reverse=True,
    )
    if not candidates:
        return EvidenceHint(predicted=True)
    e = candidates[0]
    assert e.expected is not None and e.actual is not None
    first = owner.contacts[e.contact_id].name.split(" ", 1)[0]
    return EvidenceHint(True, Story(first, e.expected, e.actual, e.reached_on, e.replied_on))
