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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date

from bot.core.model import (
    Contact,
    ContactDraft,
    ContactGone,
    Conversation,
    DuplicateContactError,
    UserRef,
)
from bot.core.ports import DueSummary, NudgeRecord
from bot.core.schedule import NudgePrefs
from bot.core.text import fold


class ReadOnlyViolation(AssertionError):
    """A book opened with ``write=False`` was asked to write."""


class Unstorable(AssertionError):
    """Text PostgreSQL would refuse reached the store: the core should have cleaned or refused it."""


#: Column sizes of ``storage.models.Contact`` (VARCHAR counts characters).
_COLUMN_MAX = {"name": 120, "name_key": 240, "company_role": 240}


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
        yield MemoryBook(self, working, write=write)
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

    def __init__(self, store: MemoryStore, owner: _Owner, *, write: bool) -> None:
        self._store = store
        self._owner = owner
        self._write = write
        self.timezone: str = owner.prefs.timezone

    # --- contacts ----------------------------------------------------------------------------

    async def add(self, draft: ContactDraft, *, due_on: date, today: date) -> Contact:
        self._writing()
        _storable_contact(draft)
        existing = self._by_key(fold(draft.name))
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
        return self._owner.contacts.pop(contact_id, None) is not None

    async def log(self, conversation: Conversation) -> None:
        self._writing()
        if conversation.contact_id not in self._owner.contacts:
            raise ContactGone(conversation.contact_id)
        _storable(note=conversation.note, learned=conversation.learned)
        self._owner.conversations.append(conversation)

    async def count_conversations(self) -> int:
        return len(self._owner.conversations)

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

    # --- for tests -----------------------------------------------------------------------------

    @property
    def conversations(self) -> list[Conversation]:
        """Every conversation logged, oldest first."""
        return list(self._owner.conversations)

    def _by_key(self, key: str) -> Contact | None:
        return next((c for c in self._owner.contacts.values() if fold(c.name) == key), None)

    def _writing(self) -> None:
        if not self._write:
            raise ReadOnlyViolation("a read-only book was asked to write")
