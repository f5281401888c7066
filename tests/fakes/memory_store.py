"""An in-memory :class:`~bot.core.ports.Store`, for fast tests of the core service.

It keeps the promises of ``storage.repository.SqlStore`` that the service relies on (checked
against the real store by ``tests/core/test_store_contract.py``):

- a book is one transaction: committed when the block exits, nothing kept if it raises;
- everything is scoped to the book's owner, and contact ids are unique across owners;
- names are unique per owner after folding case and accents (``DuplicateContactError``);
- contacts handed out are copies: a change counts only once it is saved;
- the orderings of ``page``, ``upcoming`` and ``due_summary``.

It is stricter than the real store in one way: a book opened with ``write=False`` refuses
every write, so a command or button that declares itself read-only but writes fails the test.
And it refuses what PostgreSQL refuses (``Unstorable``): NUL and lone surrogates in text, and a
name or name key longer than its column — SQLite would take them, PostgreSQL fails the request.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from bot.core.cadence import DEFAULT_CADENCE, Span
from bot.core.data_export import contact_record, nudge_record, profile_record
from bot.core.data_export import conversation_record as conversation_out
from bot.core.evidence import (
    ConversationFacts,
    Expectation,
    NextStep,
    Outreach,
    StepStatus,
)
from bot.core.goals import STREAK_WEEKS, GoalChange, Reach, week_start
from bot.core.model import (
    POOL_DUE,
    Contact,
    ContactDraft,
    ContactGone,
    Conversation,
    DuplicateContactError,
    UserRef,
)
from bot.core.nudge_scrub import without_contact
from bot.core.ports import DueSummary, Erased, NudgeRecord, UserData
from bot.core.recap import STEPS_SHOWN, RecapInputs, RecapPrefs, recap_window
from bot.core.schedule import NudgePrefs
from bot.core.text import fold
from bot.core.wins import heard_line


class ReadOnlyViolation(AssertionError):
    """A book opened with ``write=False`` was asked to write."""


class Unstorable(AssertionError):
    """Text PostgreSQL would refuse reached the store: the core should have cleaned or refused it."""


#: Column sizes of ``storage.models.Contact`` (VARCHAR counts characters).
_COLUMN_MAX = {
    "preferred_name": 80,
    "name": 120,
    "name_key": 240,
    "company_role": 240,
    "email": 254,
    "linkedin_url": 500,
}


def _storable(**columns: str) -> None:
    for column, value in columns.items():
        if "\x00" in value:
            raise Unstorable(f"{column}: PostgreSQL refuses NUL in text")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Unstorable(f"{column}: a lone surrogate cannot be encoded") from None
        limit = _COLUMN_MAX.get(column)
        if limit is not None and len(value) > limit:
            raise Unstorable(f"{column}: longer than VARCHAR({limit})")


def _storable_contact(c: Contact | ContactDraft) -> None:
    _storable(
        name=c.name,
        name_key=fold(c.name),
        company_role=c.company_role,
        how_known=c.how_known,
        notes=c.notes,
        preferred_name=c.preferred_name,
        last_note=getattr(c, "last_note", ""),
        win=c.win,
    )


@dataclass
class _Owner:
    """Everything one user has."""

    prefs: NudgePrefs = field(default_factory=NudgePrefs)
    contacts: dict[int, Contact] = field(default_factory=dict)
    conversations: list[Conversation] = field(default_factory=list)
    nudges: dict[int, NudgeRecord] = field(default_factory=dict)
    erased: bool = False
    #: Imported people not yet chosen (kept apart: the circle's methods never see them).
    pool: dict[int, Contact] = field(default_factory=dict)
    goals: dict[date, int] = field(default_factory=dict)
    recap: RecapPrefs = field(default_factory=RecapPrefs)
    outreach: dict[int, Outreach] = field(default_factory=dict)
    next_steps: dict[int, NextStep] = field(default_factory=dict)


class MemoryStore:
    """Hands out :class:`MemoryBook` transactions over plain dictionaries."""

    def __init__(self) -> None:
        self.owners: dict[UserRef, _Owner] = {}
        self._next_id = 1
        #: ``write`` of every book handed out, in order (tests check read-only requests).
        self.opened: list[bool] = []

    @asynccontextmanager
    async def book(self, user: UserRef, *, write: bool = True) -> AsyncIterator[MemoryBook]:
        """A transaction over ``user``'s data: its changes are kept only if the block succeeds."""
        self.opened.append(write)
        owner = self.owners.setdefault(user, _Owner())
        working = copy.deepcopy(owner)
        yield MemoryBook(self, working, write=write, user=user)
        if working.erased:
            self.owners.pop(user, None)
        else:
            self.owners[user] = working

    async def in_book[T](
        self, user: UserRef, work: Callable[[MemoryBook], Awaitable[T]], *, write: bool = True
    ) -> T:
        """Run ``work`` in :meth:`book` (nothing here is ever aborted by a concurrent write, so
        there is nothing to retry)."""
        async with self.book(user, write=write) as book:
            return await work(book)

    async def ping(self) -> bool:
        """Always answers."""
        return True

    async def set_timezone(self, user: UserRef, timezone: str) -> None:
        """The platform's time zone, unless the user chose one in settings."""
        owner = self.owners.setdefault(user, _Owner())
        if not owner.prefs.timezone_locked:
            owner.prefs = replace(owner.prefs, timezone=timezone[:64])

    async def erase_workspace(self, platform: str, workspace_id: str) -> int:
        """Forget every user of a workspace."""
        gone = [u for u in self.owners if (u.platform, u.workspace_id) == (platform, workspace_id)]
        for user in gone:
            del self.owners[user]
        return len(gone)

    async def erase_users(self, platform: str, workspace_id: str, user_ids: list[str]) -> int:
        """Forget these users of a workspace."""
        wanted = set(user_ids)
        gone = [
            u
            for u in self.owners
            if (u.platform, u.workspace_id) == (platform, workspace_id) and u.user_id in wanted
        ]
        for user in gone:
            del self.owners[user]
        return len(gone)

    def add_nudge(
        self,
        user: UserRef,
        day: date,
        content: str,
        channel: str | None = None,
        message_id: str | None = None,
    ) -> int:
        """Record a sent nudge for ``user`` (what the morning pass would store); its id."""
        nudge_id = self.new_id()
        owner = self.owners.setdefault(user, _Owner())
        owner.nudges[nudge_id] = NudgeRecord(nudge_id, day, content, channel, message_id)
        return nudge_id

    def new_id(self) -> int:
        """A fresh id, unique across owners (like a database sequence)."""
        self._next_id += 1
        return self._next_id - 1


class MemoryBook:
    """One owner's data within one transaction (see :class:`bot.core.ports.ContactBook`)."""

    def __init__(
        self, store: MemoryStore, owner: _Owner, *, write: bool, user: UserRef | None = None
    ) -> None:
        self._user = user
        self._store = store
        self._owner = owner
        self._write = write
        self.timezone: str = owner.prefs.timezone

    # --- contacts ----------------------------------------------------------------------------

    async def add(self, draft: ContactDraft, *, due_on: date, today: date) -> Contact:
        self._writing()
        _storable_contact(draft)
        existing = self._by_key(fold(draft.name))
        if existing is not None and existing.in_pool:  # imported: now chosen
            return self._promote(existing, draft, due_on)
        if existing is not None:
            raise DuplicateContactError(copy.copy(existing))
        contact = draft.new_contact(self._store.new_id(), due_on=due_on, today=today)
        self._owner.contacts[contact.id] = contact
        return copy.copy(contact)

    async def get(self, contact_id: int) -> Contact | None:
        contact = self._owner.contacts.get(contact_id)
        return copy.copy(contact) if contact is not None else None

    async def names(self) -> list[tuple[int, str]]:
        return [(c.id, c.name) for c in self._owner.contacts.values()]

    async def named(self, name: str) -> Contact | None:
        key = fold(name)
        found = next(
            (c for c in self._owner.contacts.values() if key and fold(c.name) == key), None
        )
        return copy.copy(found) if found is not None else None

    async def page(self, *, offset: int, limit: int) -> list[Contact]:
        ordered = sorted(self._owner.contacts.values(), key=lambda c: (fold(c.name), c.id))
        return [copy.copy(c) for c in ordered[offset : offset + limit]]

    async def count(self) -> int:
        return len(self._owner.contacts)

    async def due_summary(self, today: date, *, limit: int) -> DueSummary:
        due = [c for c in self._owner.contacts.values() if c.next_due_on <= today]
        due.sort(key=lambda c: (c.next_due_on, fold(c.name)))
        return DueSummary(
            [copy.copy(c) for c in due[:limit]],
            total_due=len(due),
            total=len(self._owner.contacts),
        )

    async def upcoming(self, *, limit: int) -> list[Contact]:
        ordered = sorted(self._owner.contacts.values(), key=lambda c: (c.next_due_on, fold(c.name)))
        return [copy.copy(c) for c in ordered[:limit]]

    async def save(self, contact: Contact) -> None:
        self._writing()
        if contact.id not in self._owner.contacts:
            return  # not this owner's (or removed meanwhile): nothing to save
        _storable_contact(contact)
        existing = self._by_key(fold(contact.name))
        if existing is not None and existing.id != contact.id:
            raise DuplicateContactError(copy.copy(existing))
        self._owner.contacts[contact.id] = copy.copy(contact)

    async def delete(self, contact_id: int) -> bool:
        self._writing()
        self._owner.conversations = [
            c for c in self._owner.conversations if c.contact_id != contact_id
        ]
        for nudge_id, record in list(self._owner.nudges.items()):
            cleaned = without_contact(record.content, contact_id)
            if cleaned is not None:
                self._owner.nudges[nudge_id] = replace(record, content=cleaned)
        for table in (self._owner.outreach, self._owner.next_steps):
            for row_id in [i for i, row in table.items() if row.contact_id == contact_id]:
                del table[row_id]
        return self._owner.contacts.pop(contact_id, None) is not None

    async def log(self, conversation: Conversation) -> None:
        self._writing()
        if conversation.contact_id not in self._owner.contacts:
            raise ContactGone(conversation.contact_id)
        _storable(note=conversation.note, learned=conversation.learned)
        self._owner.conversations.append(conversation)

    async def count_conversations(self) -> int:
        return len(self._owner.conversations)

    async def history(self, contact_id: int, *, limit: int) -> list[Conversation]:
        mine = [
            (c.occurred_on, index, c)
            for index, c in enumerate(self._owner.conversations)
            if c.contact_id == contact_id
        ]
        mine.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [c for _, _, c in mine[:limit]]

    async def add_learned(self, contact_id: int, on: date, learned: str) -> bool:
        self._writing()
        _storable(learned=learned)
        for index in range(len(self._owner.conversations) - 1, -1, -1):
            c = self._owner.conversations[index]
            if (c.contact_id, c.occurred_on, c.kind, c.learned) == (
                contact_id,
                on,
                "conversation",
                "",
            ):
                self._owner.conversations[index] = replace(c, learned=learned)
                return True
        return False

    async def get_many(self, contact_ids: list[int]) -> dict[int, Contact]:
        contacts = self._owner.contacts
        return {i: copy.copy(contacts[i]) for i in contact_ids if i in contacts}

    # --- settings and nudges -----------------------------------------------------------------

    async def prefs(self) -> NudgePrefs:
        return self._owner.prefs

    async def save_prefs(self, prefs: NudgePrefs, *, timezone_from_user: bool) -> None:
        self._writing()
        self._owner.prefs = replace(prefs, timezone_locked=timezone_from_user)
        self.timezone = prefs.timezone

    async def nudge(self, nudge_id: int) -> NudgeRecord | None:
        return self._owner.nudges.get(nudge_id)

    async def save_nudge_content(self, nudge_id: int, content: str) -> None:
        self._writing()
        record = self._owner.nudges.get(nudge_id)
        if record is not None:
            self._owner.nudges[nudge_id] = replace(record, content=content)

    # --- your data --------------------------------------------------------------------------

    async def export_data(self) -> UserData:
        owner = self._owner
        everyone = (*owner.contacts.values(), *owner.pool.values())  # as SQL: the pool too
        contacts = sorted(everyone, key=lambda c: (fold(c.name), c.id))
        names = {c.id: c.name for c in contacts}
        conversations = sorted(owner.conversations, key=lambda c: c.occurred_on)
        user = self._user
        profile = profile_record(
            owner.prefs,
            platform=user.platform if user else "",
            workspace_id=user.workspace_id if user else "",
            user_id=user.user_id if user else "",
        )
        return UserData(
            profile=profile,
            sections={
                "contacts": [contact_record(c) for c in contacts],
                "conversations": [
                    conversation_out(c, names.get(c.contact_id, "")) for c in conversations
                ],
                "nudges": [
                    nudge_record(n.day, "morning", "sent", None, n.content)
                    for n in sorted(owner.nudges.values(), key=lambda n: (n.day, n.id))
                ],
                "outreach": [
                    {
                        "contact": names.get(o.contact_id, ""),
                        "reached_on": o.reached_on.isoformat(),
                        "expected": o.expected.value if o.expected else None,
                        "actual": o.actual.value if o.actual else None,
                        "replied_on": o.replied_on.isoformat() if o.replied_on else None,
                    }
                    for o in sorted(owner.outreach.values(), key=lambda o: (o.reached_on, o.id))
                ],
                "next_steps": [
                    {
                        "contact": names.get(t.contact_id, ""),
                        "text": t.text,
                        "due_on": t.due_on.isoformat(),
                        "status": t.status.value,
                    }
                    for t in sorted(owner.next_steps.values(), key=lambda t: (t.due_on, t.id))
                ],
                "weekly_goals": [
                    {"from_week": week.isoformat(), "goal": goal}
                    for week, goal in sorted(owner.goals.items())
                ],
                "recap_settings": [],
                "prompts_seen": [],
                "teams_chat": [],
            },
        )

    async def erase_all(self) -> Erased:
        self._writing()
        owner = self._owner
        erased = Erased(len(owner.contacts), len(owner.conversations), len(owner.nudges))
        owner.contacts.clear()
        owner.conversations.clear()
        owner.nudges.clear()
        owner.outreach.clear()
        owner.next_steps.clear()
        owner.erased = True
        return erased

    # --- the weekly goal and recap -------------------------------------------------------------

    async def goal_changes(self) -> list[GoalChange]:
        return [GoalChange(week, goal) for week, goal in sorted(self._owner.goals.items())]

    async def set_goal(self, week: date, goal: int) -> None:
        self._writing()
        goals = {w: g for w, g in self._owner.goals.items() if w < week}
        goals[week] = goal
        self._owner.goals = goals

    async def week_record(self, since: date) -> tuple[list[GoalChange], list[Reach]]:
        outreach, talks = await self.evidence_history(since)
        reached = [Reach(o.reached_on, o.contact_id) for o in outreach] + [
            Reach(t.occurred_on, t.contact_id) for t in talks
        ]
        return await self.goal_changes(), reached

    async def recap_prefs(self) -> RecapPrefs:
        return self._owner.recap

    async def save_recap_prefs(self, prefs: RecapPrefs) -> None:
        self._writing()
        self._owner.recap = prefs

    async def recap_inputs(self, day: date) -> RecapInputs:
        start, end = recap_window(day)
        first = week_start(day) - timedelta(weeks=STREAK_WEEKS)
        outreach, talks = await self.evidence_history(first)
        inputs = RecapInputs(goals=await self.goal_changes())
        for event in outreach:
            if event.reached_on <= day:
                inputs.reached.append(Reach(event.reached_on, event.contact_id))
                if start <= event.reached_on <= end:
                    inputs.outreach.append(event)
        for talk in talks:
            if talk.occurred_on <= day:
                inputs.reached.append(Reach(talk.occurred_on, talk.contact_id))
                if start <= talk.occurred_on <= end:
                    inputs.talks.append(talk)
        inputs.steps = await self.open_next_steps(limit=STEPS_SHOWN)
        named = {r.contact_id for r in inputs.reached if start <= r.day <= end}
        named |= {s.contact_id for s in inputs.steps}
        contacts = self._owner.contacts
        inputs.names = {cid: contacts[cid].name for cid in named if cid in contacts}
        noted = sorted(
            (c for c in contacts.values() if c.win_on is not None and start <= c.win_on <= end),
            key=lambda c: (c.win_on or start, c.id),
        )
        for contact in noted:
            line = heard_line(contact.name, contact.win, contact.preferred_name)
            if line is not None:
                inputs.wins.append(line)
        return inputs

    # --- predictions, outcomes and next steps ------------------------------------------------

    async def record_outreach(
        self, contact_id: int, reached_on: date, *, previous_contact_on: date | None
    ) -> Outreach:
        self._writing()
        if contact_id not in self._owner.contacts:
            raise ContactGone(contact_id)
        event = Outreach(
            self._store.new_id(), contact_id, reached_on, previous_contact_on=previous_contact_on
        )
        self._owner.outreach[event.id] = event
        return event

    async def outreach(self, outreach_id: int) -> Outreach | None:
        return self._owner.outreach.get(outreach_id)

    async def latest_outreach(self, contact_id: int) -> Outreach | None:
        mine = [o for o in self._owner.outreach.values() if o.contact_id == contact_id]
        return max(mine, key=lambda o: (o.reached_on, o.id), default=None)

    async def set_outreach(
        self,
        outreach_id: int,
        *,
        expected: Expectation | None,
        actual: Expectation | None,
        replied_on: date | None,
    ) -> bool:
        self._writing()
        event = self._owner.outreach.get(outreach_id)
        if event is None:
            return False
        self._owner.outreach[outreach_id] = replace(
            event, expected=expected, actual=actual, replied_on=replied_on
        )
        return True

    async def evidence_history(
        self, since: date | None
    ) -> tuple[list[Outreach], list[ConversationFacts]]:
        start = since or date.min
        outreach = sorted(
            (o for o in self._owner.outreach.values() if o.reached_on >= start),
            key=lambda o: (o.reached_on, o.id),
        )
        talks = [
            ConversationFacts(c.contact_id, c.occurred_on, c.response, c.outcomes)
            for c in self._owner.conversations
            if c.kind == "conversation" and c.occurred_on >= start
        ]
        talks.sort(key=lambda t: t.occurred_on)  # stable: same-day ones stay in logged order
        return outreach, talks

    async def add_next_step(self, contact_id: int, text: str, due_on: date) -> NextStep:
        self._writing()
        if contact_id not in self._owner.contacts:
            raise ContactGone(contact_id)
        _storable(text=text)
        if len(text) > 200:
            raise Unstorable("text: longer than VARCHAR(200)")
        step = NextStep(self._store.new_id(), contact_id, text, due_on)
        self._owner.next_steps[step.id] = step
        return step

    async def next_step(self, step_id: int) -> NextStep | None:
        return self._owner.next_steps.get(step_id)

    async def set_next_step(self, step_id: int, *, status: StepStatus, due_on: date) -> bool:
        self._writing()
        step = self._owner.next_steps.get(step_id)
        if step is None:
            return False
        self._owner.next_steps[step_id] = replace(step, status=status, due_on=due_on)
        return True

    async def next_steps_due(self, on: date, *, limit: int) -> list[NextStep]:
        due = [
            s
            for s in self._owner.next_steps.values()
            if s.status is StepStatus.OPEN and s.due_on <= on
        ]
        return sorted(due, key=lambda s: (s.due_on, s.id))[:limit]

    async def open_next_steps(self, *, limit: int) -> list[NextStep]:
        return await self.next_steps_due(date.max, limit=limit)

    # --- for tests -----------------------------------------------------------------------------

    @property
    def conversations(self) -> list[Conversation]:
        """Every conversation logged, oldest first."""
        return list(self._owner.conversations)

    def _by_key(self, key: str) -> Contact | None:
        everyone = [*self._owner.contacts.values(), *self._owner.pool.values()]
        return next((c for c in everyone if fold(c.name) == key), None)

    # --- imports and the pool ----------------------------------------------------------------

    async def everyone(self) -> list[Contact]:
        return [copy.copy(c) for c in (*self._owner.contacts.values(), *self._owner.pool.values())]

    async def import_people(
        self, new: Sequence[Contact], merged: Sequence[Contact], *, today: date
    ) -> None:
        self._writing()
        for person in new:
            _storable_contact(person)
            _storable(email=person.email, linkedin_url=person.linkedin_url)
            if self._by_key(fold(person.name)) is not None:
                raise Unstorable("name_key: the unique constraint would refuse this insert")
            contact = replace(
                person,
                id=self._store.new_id(),
                in_pool=True,
                next_due_on=POOL_DUE,
                created_on=today,
                cadence=DEFAULT_CADENCE,
            )
            self._owner.pool[contact.id] = contact
        for contact in merged:
            _storable_contact(contact)
            for where in (self._owner.contacts, self._owner.pool):
                if contact.id in where:
                    kept = where[contact.id]
                    where[contact.id] = replace(
                        kept,
                        company_role=contact.company_role,
                        how_known=contact.how_known,
                        notes=contact.notes,
                        email=contact.email,
                        linkedin_url=contact.linkedin_url,
                        connected_on=contact.connected_on,
                        preferred_name=contact.preferred_name,
                        relationship=contact.relationship,
                        last_in_touch=contact.last_in_touch,
                    )

    async def pool(self) -> list[Contact]:
        return [copy.copy(c) for c in sorted(self._owner.pool.values(), key=lambda c: c.id)]

    async def join_circle(
        self, contact_ids: Sequence[int], *, cadence: Span, today: date
    ) -> list[Contact]:
        self._writing()
        moved = []
        for contact_id in dict.fromkeys(contact_ids):
            contact = self._owner.pool.pop(contact_id, None)
            if contact is None:
                continue
            contact = replace(
                contact, in_pool=False, cadence=cadence, next_due_on=today, skipped_on=None
            )
            self._owner.contacts[contact.id] = contact
            moved.append(copy.copy(contact))
        return moved

    async def pool_decline(self, contact_id: int, today: date) -> Contact | None:
        self._writing()
        contact = self._owner.pool.get(contact_id)
        if contact is None:
            return None
        contact.skipped_on = today
        return copy.copy(contact)

    def _promote(self, existing: Contact, draft: ContactDraft, due_on: date) -> Contact:
        contact = self._owner.pool.pop(existing.id)
        contact = replace(
            contact,
            in_pool=False,
            cadence=draft.cadence,
            next_due_on=due_on,
            skipped_on=None,
            company_role=draft.company_role or contact.company_role,
            how_known=draft.how_known or contact.how_known,
            notes=draft.notes or contact.notes,
            preferred_name=draft.preferred_name or contact.preferred_name,
            relationship=draft.relationship or contact.relationship,
            last_in_touch=draft.last_in_touch or contact.last_in_touch,
        )
        self._owner.contacts[contact.id] = contact
        return copy.copy(contact)

    def _writing(self) -> None:
        if not self._write:
            raise ReadOnlyViolation("a read-only book was asked to write")
