"""What the core needs from storage, as protocols; ``storage.repository`` implements them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Protocol

from bot.core.model import Contact, ContactDraft, Conversation, UserRef


class ContactBook(Protocol):
    """One user's contacts inside one transaction. Every method is scoped to that user.

    A ``ContactBook`` is only ever handed out for a single owner, so a contact id taken from a
    button or a form that belongs to someone else simply is not found.
    """

    timezone: str

    async def add(self, draft: ContactDraft, *, due_on: date, today: date) -> Contact:
        """Insert a contact; raises :class:`~bot.core.model.DuplicateContactError`."""
        ...

    async def get(self, contact_id: int) -> Contact | None:
        """The owner's contact with this id, or ``None``."""
        ...

    async def names(self) -> list[tuple[int, str]]:
        """``(id, name)`` of every contact, for fuzzy matching."""
        ...

    async def page(self, *, offset: int, limit: int) -> list[Contact]:
        """Contacts in name order."""
        ...

    async def count(self) -> int:
        """How many contacts the owner has."""
        ...

    async def due(self, today: date, *, limit: int) -> list[Contact]:
        """Contacts due on or before ``today``, most overdue first."""
        ...

    async def count_due(self, today: date) -> int:
        """How many contacts are due on or before ``today``."""
        ...

    async def upcoming(self, *, limit: int) -> list[Contact]:
        """Contacts in due-date order, due or not (for pickers)."""
        ...

    async def save(self, contact: Contact) -> None:
        """Write back an edited contact; raises ``DuplicateContactError`` on a name clash."""
        ...

    async def delete(self, contact_id: int) -> bool:
        """Delete a contact and its conversations; ``False`` when there was none."""
        ...

    async def log(self, conversation: Conversation) -> None:
        """Record a conversation."""
        ...

    async def count_conversations(self) -> int:
        """How many conversations the owner has logged."""
        ...


class Store(Protocol):
    """Hands out :class:`ContactBook` units of work and reports whether the database answers."""

    def book(self, user: UserRef) -> AbstractAsyncContextManager[ContactBook]:
        """A transaction over ``user``'s contacts: committed on exit, rolled back on error."""
        ...

    async def ping(self) -> bool:
        """``True`` when the database answers a trivial query."""
        ...

    async def set_timezone(self, user: UserRef, timezone: str) -> None:
        """Record the user's IANA time zone (from their platform profile)."""
        ...
