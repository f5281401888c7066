"""SQL implementation of the core's :class:`~bot.core.ports.Store` and ``ContactBook``.

A ``SqlContactBook`` is created for exactly one owner and every statement it runs filters on
that owner's id, so nothing reachable through it belongs to anyone else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.cadence import Span, Unit
from bot.core.model import Contact, ContactDraft, Conversation, DuplicateContactError, UserRef
from bot.core.ports import NudgeRecord
from bot.core.schedule import NudgePrefs
from bot.core.text import fold
from storage.db import READ_ONLY
from storage.models import ContactRow, ConversationRef, ConversationRow, Nudge, User


class SqlStore:
    """Hands out one-transaction ``SqlContactBook`` objects for a user."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        # SQLite has one writer at a time. Queueing writers here, first come first served,
        # beats SQLite's busy handler, which polls with sleeps of up to 100 ms.
        self._write_turn = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        # A user's row id never changes, so it is looked up (or created) once per process.
        self._owner_ids: dict[UserRef, int] = {}

    @asynccontextmanager
    async def book(self, user: UserRef, *, write: bool = True) -> AsyncIterator[SqlContactBook]:
        """A transaction over ``user``'s contacts; the user row is created on first use.

        ``write=False`` promises only reads, so readers never wait for each other.
        """
        owner_id = self._owner_ids.get(user)
        if owner_id is None:
            owner_id = await self._ensure_owner(user)
        async with self._turn(write), self._sessions() as session, session.begin():
            if not write:
                await session.connection(execution_options={READ_ONLY: True})
            owner = await session.get(User, owner_id)
            if owner is None:  # deleted meanwhile (not something the bot does)
                self._owner_ids.pop(user, None)
                raise LookupError("user row vanished")
            yield SqlContactBook(session, owner)

    @asynccontextmanager
    async def _turn(self, write: bool) -> AsyncIterator[None]:
        if write and self._write_turn is not None:
            async with self._write_turn:
                yield
        else:
            yield

    async def _ensure_owner(self, user: UserRef) -> int:
        async with self._turn(True), self._sessions() as session, session.begin():
            owner = await self._owner(session, user)
            self._owner_ids[user] = owner.id
            return owner.id

    async def ping(self) -> bool:
        """``True`` when the database answers ``SELECT 1``."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def set_timezone(self, user: UserRef, timezone: str) -> None:
        """Record the user's IANA time zone from their platform profile.

        A time zone the user chose in settings wins: profile refreshes leave it alone.
        """
        async with self._turn(True), self._sessions() as session, session.begin():
            owner = await self._owner(session, user)
            # One conditional UPDATE, so a settings change committed meanwhile is never
            # overwritten (a read-then-write here lost that race on PostgreSQL).
            await session.execute(
                update(User)
                .where(User.id == owner.id, User.timezone_source != "user")
                .values(timezone=timezone[:64])
                .execution_options(synchronize_session=False)
            )

    async def save_reference(self, user: UserRef, conversation_id: str, reference: str) -> None:
        """Store (or refresh) where to reach ``user`` proactively; they are reachable again."""
        now = datetime.now(UTC)
        async with self._turn(True), self._sessions() as session, session.begin():
            owner = await self._owner(session, user)
            row = await session.get(ConversationRef, owner.id)
            if row is None:
                session.add(
                    ConversationRef(
                        user_id=owner.id,
                        conversation_id=conversation_id,
                        reference=reference,
                        updated_at=now,
                    )
                )
            elif row.reference != reference or row.conversation_id != conversation_id:
                row.conversation_id, row.reference, row.updated_at = conversation_id, reference, now
            owner.dm_channel = conversation_id
            owner.undeliverable = None

    async def forget_reference(self, user: UserRef) -> None:
        """The app was uninstalled from the user's personal scope: stop proactive messages."""
        async with self._turn(True), self._sessions() as session, session.begin():
            owner = await self._owner(session, user)
            await session.execute(
                delete(ConversationRef).where(ConversationRef.user_id == owner.id)
            )
            owner.dm_channel = None

    async def reference_for_user(self, user: UserRef) -> tuple[str, str] | None:
        """``(conversation id, reference JSON)`` for ``user``, if the bot can reach them."""
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(ConversationRef.conversation_id, ConversationRef.reference)
                    .join(User, User.id == ConversationRef.user_id)
                    .where(
                        User.platform == user.platform,
                        User.workspace_id == user.workspace_id,
                        User.external_id == user.user_id,
                    )
                )
            ).first()
        return (row.conversation_id, row.reference) if row is not None else None

    async def reference_for_conversation(self, conversation_id: str) -> str | None:
        """The stored reference JSON of a personal conversation."""
        async with self._sessions() as session:
            return await session.scalar(
                select(ConversationRef.reference)
                .where(ConversationRef.conversation_id == conversation_id)
                .limit(1)
            )

    async def _owner(self, session: AsyncSession, user: UserRef) -> User:
        identity = (
            User.platform == user.platform,
            User.workspace_id == user.workspace_id,
            User.external_id == user.user_id,
        )
        owner = await session.scalar(select(User).where(*identity))
        if owner is None:
            # Two first requests from the same user can race; ON CONFLICT makes that harmless.
            await session.execute(
                self._insert(User)
                .values(
                    platform=user.platform,
                    workspace_id=user.workspace_id,
                    external_id=user.user_id,
                    timezone="UTC",
                )
                .on_conflict_do_nothing()
            )
            owner = (await session.scalars(select(User).where(*identity))).one()
        return owner


class SqlContactBook:
    """One owner's contacts within one session (see :class:`bot.core.ports.ContactBook`)."""

    def __init__(self, session: AsyncSession, owner: User) -> None:
        self._session = session
        self._owner = owner
        self._owner_id = owner.id
        self.timezone = owner.timezone

    async def add(self, draft: ContactDraft, *, due_on: date, today: date) -> Contact:
        await self._refuse_duplicate(draft.name, None)
        row = ContactRow(owner_id=self._owner_id, created_on=today, next_due_on=due_on)
        _apply(row, draft)
        row.last_note = ""
        await self._flush_unique(row)
        return _contact(row)

    async def get(self, contact_id: int) -> Contact | None:
        row = await self._row(contact_id)
        return _contact(row) if row is not None else None

    async def names(self) -> list[tuple[int, str]]:
        result = await self._session.execute(
            select(ContactRow.id, ContactRow.name).where(ContactRow.owner_id == self._owner_id)
        )
        return [(row.id, row.name) for row in result]

    async def page(self, *, offset: int, limit: int) -> list[Contact]:
        rows = await self._session.scalars(
            select(ContactRow)
            .where(ContactRow.owner_id == self._owner_id)
            .order_by(ContactRow.name_key, ContactRow.id)
            .offset(offset)
            .limit(limit)
        )
        return [_contact(row) for row in rows]

    async def count(self) -> int:
        return await self._count(ContactRow.owner_id == self._owner_id)

    async def due(self, today: date, *, limit: int) -> list[Contact]:
        rows = await self._session.scalars(
            select(ContactRow)
            .where(ContactRow.owner_id == self._owner_id, ContactRow.next_due_on <= today)
            .order_by(ContactRow.next_due_on, ContactRow.name_key)
            .limit(limit)
        )
        return [_contact(row) for row in rows]

    async def count_due(self, today: date) -> int:
        return await self._count(
            ContactRow.owner_id == self._owner_id, ContactRow.next_due_on <= today
        )

    async def upcoming(self, *, limit: int) -> list[Contact]:
        rows = await self._session.scalars(
            select(ContactRow)
            .where(ContactRow.owner_id == self._owner_id)
            .order_by(ContactRow.next_due_on, ContactRow.name_key)
            .limit(limit)
        )
        return [_contact(row) for row in rows]

    async def save(self, contact: Contact) -> None:
        row = await self._row(contact.id)
        if row is None:
            return
        await self._refuse_duplicate(contact.name, contact.id)
        _apply(row, contact)
        row.last_contacted_on = contact.last_contacted_on
        row.next_due_on = contact.next_due_on
        row.last_note = contact.last_note
        row.skipped_on = contact.skipped_on
        row.reached_out_on = contact.reached_out_on
        row.follow_up_on = contact.follow_up_on
        await self._flush_unique(row)

    async def delete(self, contact_id: int) -> bool:
        # Conversations go explicitly, not only by cascade: SQLite may run without foreign keys.
        await self._session.execute(
            delete(ConversationRow).where(
                ConversationRow.owner_id == self._owner_id,
                ConversationRow.contact_id == contact_id,
            )
        )
        result = await self._session.execute(
            delete(ContactRow).where(
                ContactRow.owner_id == self._owner_id, ContactRow.id == contact_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def log(self, conversation: Conversation) -> None:
        if await self._row(conversation.contact_id) is None:
            raise LookupError("no such contact for this owner")
        self._session.add(
            ConversationRow(
                owner_id=self._owner_id,
                contact_id=conversation.contact_id,
                occurred_on=conversation.occurred_on,
                note=conversation.note,
                learned=conversation.learned,
                kind=conversation.kind,
            )
        )
        await self._session.flush()

    async def count_conversations(self) -> int:
        result = await self._session.scalar(
            select(func.count())
            .select_from(ConversationRow)
            .where(ConversationRow.owner_id == self._owner_id)
        )
        return int(result or 0)

    async def get_many(self, contact_ids: list[int]) -> dict[int, Contact]:
        if not contact_ids:
            return {}
        rows = await self._session.scalars(
            select(ContactRow).where(
                ContactRow.owner_id == self._owner_id, ContactRow.id.in_(contact_ids)
            )
        )
        return {row.id: _contact(row) for row in rows}

    async def prefs(self) -> NudgePrefs:
        return prefs_of(self._owner)

    async def save_prefs(self, prefs: NudgePrefs, *, timezone_from_user: bool) -> None:
        owner = self._owner
        owner.nudge_time = prefs.time
        owner.nudge_days = prefs.days
        owner.paused_until = prefs.paused_until
        owner.cards_per_nudge = prefs.cards
        owner.timezone = prefs.timezone
        owner.timezone_source = "user" if timezone_from_user else "platform"
        self.timezone = prefs.timezone
        await self._session.flush()

    async def nudge(self, nudge_id: int) -> NudgeRecord | None:
        # FOR UPDATE: two clicks on one nudge (a double click) take turns, so the second sees
        # what the first did. SQLite's BEGIN IMMEDIATE already serialises writers.
        row = await self._session.scalar(
            select(Nudge)
            .where(Nudge.user_id == self._owner_id, Nudge.id == nudge_id)
            .with_for_update()
        )
        if row is None:
            return None
        return NudgeRecord(row.id, row.local_date, row.content, row.channel, row.message_id)

    async def save_nudge_content(self, nudge_id: int, content: str) -> None:
        await self._session.execute(
            update(Nudge)
            .where(Nudge.user_id == self._owner_id, Nudge.id == nudge_id)
            .values(content=content)
        )

    async def _row(self, contact_id: int) -> ContactRow | None:
        return await self._session.scalar(
            select(ContactRow).where(
                ContactRow.owner_id == self._owner_id, ContactRow.id == contact_id
            )
        )

    async def _count(self, *where: object) -> int:
        result = await self._session.scalar(
            select(func.count()).select_from(ContactRow).where(*where)  # type: ignore[arg-type]
        )
        return int(result or 0)

    async def _refuse_duplicate(self, name: str, own_id: int | None) -> None:
        """Raise ``DuplicateContactError`` if another contact of this owner has the same name."""
        query = select(ContactRow).where(
            ContactRow.owner_id == self._owner_id, ContactRow.name_key == fold(name)
        )
        if own_id is not None:
            query = query.where(ContactRow.id != own_id)
        clash = await self._session.scalar(query)
        if clash is not None:
            raise DuplicateContactError(_contact(clash))

    async def _flush_unique(self, row: ContactRow) -> None:
        """Flush inside a savepoint, so losing a race on the unique name stays recoverable."""
        key = row.name_key
        try:
            async with self._session.begin_nested():
                self._session.add(row)
                await self._session.flush()
        except IntegrityError:
            existing = await self._session.scalar(
                select(ContactRow).where(
                    ContactRow.owner_id == self._owner_id, ContactRow.name_key == key
                )
            )
            if existing is None:
                raise
            raise DuplicateContactError(_contact(existing)) from None


def prefs_of(user: User) -> NudgePrefs:
    """A user row's nudge settings."""
    return NudgePrefs(
        timezone=user.timezone,
        time=user.nudge_time,
        days=user.nudge_days,
        paused_until=user.paused_until,
        cards=user.cards_per_nudge,
        timezone_locked=user.timezone_source == "user",
    )


def _apply(row: ContactRow, draft: ContactDraft | Contact) -> None:
    row.name = draft.name
    row.name_key = fold(draft.name)
    row.company_role = draft.company_role
    row.how_known = draft.how_known
    row.notes = draft.notes
    row.cadence_count = draft.cadence.count
    row.cadence_unit = draft.cadence.unit.value


def _contact(row: ContactRow) -> Contact:
    return Contact(
        id=row.id,
        name=row.name,
        cadence=Span(row.cadence_count, Unit(row.cadence_unit)),
        company_role=row.company_role,
        how_known=row.how_known,
        notes=row.notes,
        last_contacted_on=row.last_contacted_on,
        next_due_on=row.next_due_on,
        last_note=row.last_note,
        created_on=row.created_on,
        skipped_on=row.skipped_on,
        reached_out_on=row.reached_out_on,
        follow_up_on=row.follow_up_on,
    )
