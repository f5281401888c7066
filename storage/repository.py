"""SQL implementation of the core's :class:`~bot.core.ports.Store` and ``ContactBook``.

A ``SqlContactBook`` is created for exactly one owner and every statement it runs filters on
that owner's id, so nothing reachable through it belongs to anyone else.

Books run on the request path (every slash command, button and form), so they use Core
statements on one connection, selecting only the columns they need, and as few statements as
possible; the ORM session is kept for the rarely used user-level operations below.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    Date,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.cadence import Span, Unit
from bot.core.evidence import (
    ConversationFacts,
    Expectation,
    NextStep,
    Outreach,
    StepStatus,
    join_outcomes,
    parse_expectation,
    parse_outcomes,
)
from bot.core.model import (
    Contact,
    ContactDraft,
    ContactGone,
    Conversation,
    DuplicateContactError,
    UserRef,
)
from bot.core.ports import DueSummary, Erased, NudgeRecord, UserData
from bot.core.ranking import rotation_key, value_points
from bot.core.schedule import NudgePrefs
from bot.core.text import fold
from storage import pending_work, replays
from storage.dialect import Dialect, _span, dialect_of
from storage.direct import Direct
from storage.models import (
    ContactRow,
    ConversationRef,
    ConversationRow,
    NextStepRow,
    Nudge,
    OutreachRow,
    User,
)
from storage.pool import PoolBook
from storage.user_data import erase_owner, erase_where, export_owner, scrub_nudges
from storage.user_data import uninstalled_values as _uninstalled_values
from storage.weekly_book import WeeklyBook


class OwnerVanished(LookupError):
    """The user's row is gone (their data was erased) since this process cached its id."""


class SqlStore:
    """Hands out one-transaction ``SqlContactBook`` objects for a user."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = dialect_of(engine)
        self._insert = self._dialect.insert
        self._statements = _Statements.for_dialect(self._dialect)
        # Reads run statement by statement, without BEGIN and COMMIT round trips. That sees
        # what PostgreSQL's READ COMMITTED transactions see anyway: each statement reads
        # what was committed when it started.
        self._read_options: dict[str, Any] = self._dialect.read_options
        # The same engine with those options: its connections come with them, without a
        # round of SQLAlchemy's async machinery per read to set them.
        self._reader = engine.execution_options(**self._read_options)
        # SQLite has one writer at a time. Queueing writers here, first come first served,
        # beats SQLite's busy handler, which polls with sleeps of up to 100 ms.
        self._write_turn = asyncio.Lock() if self._dialect.single_writer else None
        # The lock order on PostgreSQL: a writing transaction first locks its owner's user row
        # (the read every book starts with anyway, so no extra round trip), and only then
        # reads or writes contacts, conversations and nudges. One owner's writers take turns,
        # so none of them sees a contact vanish halfway, and they cannot deadlock each other.
        # FOR NO KEY UPDATE: inserts that merely reference the user (foreign-key checks take
        # FOR KEY SHARE) are not held up. SQLite's writers already take turns (above).
        self._owner_for_write = (
            _OWNER_DIRECT if self._dialect.single_writer else _OWNER_LOCKED_DIRECT
        )
        # A user's row id never changes, so it is looked up (or created) once per process.
        self._owner_ids: dict[UserRef, int] = {}

    @property
    def write_turn(self) -> asyncio.Lock | None:
        """The lock this process's SQLite writers queue on (``None`` on PostgreSQL). Other
        writers to the same database in this process (e.g. replay protection) queue on it too."""
        return self._write_turn

    @asynccontextmanager
    async def book(self, user: UserRef, *, write: bool = True) -> AsyncIterator[SqlContactBook]:
        """A transaction over ``user``'s contacts; the user row is created on first use.

        ``write=False`` promises only reads, so readers never wait for each other.
        """
        owner_id = self._owner_ids.get(user)
        if owner_id is None:
            owner_id = await self._ensure_owner(user)
        if write and self._write_turn is not None:
            async with self._write_turn, self._transaction(user, owner_id, write) as book:
                yield book
        else:
            async with self._transaction(user, owner_id, write) as book:
                yield book

    async def owner_id(self, user: UserRef) -> int:
        """The id of ``user``'s row, created on first use (looked up once per process)."""
        owner_id = self._owner_ids.get(user)
        if owner_id is None:
            owner_id = await self._ensure_owner(user)
        return owner_id

    @asynccontextmanager
    async def _transaction(
        self, user: UserRef, owner_id: int, write: bool
    ) -> AsyncIterator[SqlContactBook]:
        if not write:
            # Reads run statement by statement (see _read_options), so they need no BEGIN and
            # COMMIT of SQLAlchemy's either: two fewer trips through its async machinery.
            async with self._reader.connect() as connection:
                owner = await _OWNER_DIRECT.first(connection, {"owner": owner_id})
                book = self._opened(user, connection, owner, write=False)
                yield book
            return
        async with self.engine.connect() as connection:
            async with connection.begin():
                owner = await self._owner_for_write.first(connection, {"owner": owner_id})
                book = self._opened(user, connection, owner, write=True)
                # a signed Slack request is recorded with its writes (replays.py)
                await replays.claim(connection)
                yield book
                # a command acknowledged early: its record goes with its work
                await pending_work.settle(connection)
            replays.claimed()
            pending_work.settled()
            if book.erased:  # the user row is gone: a next request starts afresh
                self._owner_ids.pop(user, None)

    def _opened(
        self, user: UserRef, connection: AsyncConnection, owner: Any, *, write: bool
    ) -> SqlContactBook:
        if owner is None:  # erased meanwhile (delete my data, an uninstall)
            self._owner_ids.pop(user, None)
            raise OwnerVanished("user row vanished")
        return SqlContactBook(connection, owner, self._statements, write=write)

    async def in_book[T](
        self,
        user: UserRef,
        work: Callable[[SqlContactBook], Awaitable[T]],
        *,
        write: bool = True,
    ) -> T:
        """Run ``work`` in :meth:`book`, once more (in a new transaction) if the database
        aborted the first run as a serialization failure or a deadlock (SQLSTATE 40001,
        40P01; SQLite's "database is locked", e.g. another process writing)."""
        try:
            async with self.book(user, write=write) as book:
                return await work(book)
        except DBAPIError as exc:
            if not _retryable(exc):
                raise
        except OwnerVanished:
            pass  # the user's data was erased (by another process): start afresh
        async with self.book(user, write=write) as book:
            return await work(book)

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
            await self._lock_owner(session, owner.id)
            # One conditional UPDATE, so a settings change committed meanwhile is never
            # overwritten (a read-then-write here lost that race on PostgreSQL).
            await session.execute(
                update(User)
                .where(User.id == owner.id, User.timezone_source != "user")
                .values(timezone=timezone[:64])
                .execution_options(synchronize_session=False)
            )

    async def save_reference(self, user: UserRef, conversation_id: str, reference: str) -> None:
        """Store (or refresh) where to reach ``user`` proactively; they are reachable again.

        A personal conversation belongs to one user: if another user's reference names
        ``conversation_id`` already, nothing changes (it is never rebound to ``user``).
        """
        try:
            await self._save_reference(user, conversation_id, reference)
        except IntegrityError:
            # Another user's reference took this conversation id between our check and our
            # write (the unique index refused ours): it stays theirs, as above.
            if not await self._taken_by_other(user, conversation_id):
                raise

    async def _taken_by_other(self, user: UserRef, conversation_id: str) -> bool:
        async with self._sessions() as session:
            owner = await session.scalar(
                select(ConversationRef.user_id)
                .join(User, User.id == ConversationRef.user_id)
                .where(
                    ConversationRef.conversation_id == conversation_id,
                    ~(
                        (User.platform == user.platform)
                        & (User.workspace_id == user.workspace_id)
                        & (User.external_id == user.user_id)
                    ),
                )
                .limit(1)
            )
        return owner is not None

    async def _save_reference(self, user: UserRef, conversation_id: str, reference: str) -> None:
        now = datetime.now(UTC)
        async with self._turn(True), self._sessions() as session, session.begin():
            owner = await self._owner(session, user)
            await self._lock_owner(session, owner.id)
            taken = await session.scalar(
                select(ConversationRef.user_id)
                .where(
                    ConversationRef.conversation_id == conversation_id,
                    ConversationRef.user_id != owner.id,
                )
                .limit(1)
            )
            if taken is not None:
                return
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
            owner.uninstalled_at = None  # reinstalled: nothing is due to be purged

    async def forget_reference(self, user: UserRef) -> None:
        """The app was uninstalled from the user's personal scope: stop proactive messages."""
        async with self._turn(True), self._sessions() as session, session.begin():
            owner = await self._owner(session, user)
            await session.execute(
                delete(ConversationRef).where(ConversationRef.user_id == owner.id)
            )
            owner.dm_channel = None
            # No more nudges from now on; the data goes in 30 days unless they come back
            # (storage.user_data.purge_uninstalled).
            for column, value in _uninstalled_values(datetime.now(UTC)).items():
                setattr(owner, column, value)

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

    async def erase_workspace(self, platform: str, workspace_id: str) -> int:
        """Delete every user of a workspace and all their data (the app was uninstalled)."""
        erased = await erase_where(
            self.engine,
            User.platform == platform,
            User.workspace_id == workspace_id,
            lock=self._write_turn,
            workspace=(platform, workspace_id),  # its groups go too
        )
        self._forget_cached(lambda u: u.platform == platform and u.workspace_id == workspace_id)
        return erased

    async def erase_users(self, platform: str, workspace_id: str, user_ids: list[str]) -> int:
        """Delete these users of a workspace and all their data (their tokens were revoked)."""
        if not user_ids:
            return 0
        erased = await erase_where(
            self.engine,
            User.platform == platform,
            User.workspace_id == workspace_id,
            User.external_id.in_(user_ids),
            lock=self._write_turn,
        )
        wanted = set(user_ids)
        self._forget_cached(
            lambda u: (
                (u.platform, u.workspace_id) == (platform, workspace_id) and u.user_id in wanted
            )
        )
        return erased

    def _forget_cached(self, matches: Callable[[UserRef], bool]) -> None:
        for user in [u for u in self._owner_ids if matches(u)]:
            del self._owner_ids[user]

    async def _lock_owner(self, session: AsyncSession, owner_id: int) -> None:
        """On PostgreSQL, lock the owner's row as every other writer does first (the lock
        order that keeps one owner's writers from deadlocking); SQLite writers take turns."""
        if not self._dialect.single_writer:
            await session.execute(_OWNER_LOCKED, {"owner": owner_id})

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


class SqlContactBook(PoolBook, WeeklyBook):
    """One owner's contacts within one transaction (see :class:`bot.core.ports.ContactBook`).

    Every statement is one of the prepared Core statements below, run on the transaction's
    connection with the owner's id as a parameter: no ORM identity map or unit of work, and
    no statement built, compiled or cache-keyed again on the request path.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        owner: Any,
        statements: _Statements,
        *,
        write: bool = True,
    ) -> None:
        self._connection = connection
        self._owner_id: int = owner.id
        self._prefs = _prefs(owner)
        self._statements = statements
        self.timezone: str = owner.timezone
        #: Set by :meth:`erase_all`: the owner's row is gone once this transaction commits.
        self.erased = False
        #: In a writing transaction, the circle's contacts this transaction has read or written
        #: (by id) and the name key each has in the database now. The owner's writers take
        #: turns (the owner's row lock on PostgreSQL, one writer at a time on SQLite), so these
        #: stay true until this transaction changes them: a contact in here exists (no check
        #: before logging to it) and, saved under the same key, cannot clash with another
        #: contact's name (no look-up before the update). Read-only books keep nothing.
        self._known: dict[int, str] | None = {} if write else None

    @property
    def _dialect(self) -> Dialect:
        assert self._statements.dialect is not None
        return self._statements.dialect

    async def add(self, draft: ContactDraft, *, due_on: date, today: date) -> Contact:
        key = fold(draft.name)
        values = {
            "owner_id": self._owner_id,
            "name_key": key,
            "created_on": today,
            "next_due_on": due_on,
            "last_note": "",
            **_draft_values(draft),
            **_rank_values(draft.new_contact(0, due_on=due_on, today=today)),
        }
        # One statement: a name this owner already has (even one a concurrent request just
        # added) inserts nothing, and the transaction stays usable.
        for _ in range(2):
            added = await self._statements.add.first(self._connection, values)
            if added is not None:
                new_id = added[0]
                self._remember(new_id, key)
                return draft.new_contact(new_id, due_on=due_on, today=today)
            existing = await self._first(_BY_KEY, key=key)
            if existing is not None and existing.in_pool:
                return await self._promote(existing, draft, due_on)  # imported: now chosen
            if existing is not None:
                raise DuplicateContactError(_contact_at(existing))
            # The clashing contact was removed meanwhile: try again.
        raise RuntimeError("could not add the contact")  # pragma: no cover

    async def get(self, contact_id: int) -> Contact | None:
        row = await self._first(_GET, id=contact_id)
        if row is None:
            return None
        self._remember(row.id, row.name_key)
        return _contact_at(row)

    async def named(self, name: str) -> Contact | None:
        key = fold(name)
        if not key:
            return None
        row = await self._first(_NAMED, key=key)
        if row is None:
            return None
        contact = _contact_at(row)
        if fold(contact.name) != key:
            # A key stored by an older fold(): not what matching calls this name; the caller
            # matches against every name instead.
            return None
        self._remember(contact.id, key)
        return contact

    async def names(self) -> list[tuple[int, str]]:
        return [(row.id, row.name) for row in await self._rows(_NAMES)]

    async def page(self, *, offset: int, limit: int) -> list[Contact]:
        return await self._contacts(_PAGE, offset=offset, limit=limit)

    async def count(self) -> int:
        return int(await self._scalar(_COUNT) or 0)

    async def due_summary(self, today: date, *, limit: int) -> DueSummary:
        # One statement: the counts come on every row (and on a single row with no contact
        # when nobody is due).
        params = {"owner": self._owner_id, "today": today, "limit": limit}
        rows = await _DIRECT[_DUE].rows(self._connection, params)
        contacts = [_contact_at(row, 2) for row in rows if row.id is not None]
        return DueSummary(contacts, total_due=int(rows[0].total_due), total=int(rows[0].total))

    async def upcoming(self, *, limit: int) -> list[Contact]:
        return await self._contacts(_UPCOMING, limit=limit)

    async def save(self, contact: Contact) -> None:
        key = fold(contact.name)
        if self._known is not None and self._known.get(contact.id) == key:
            # Read in this transaction and the name keeps its key (a log, a snooze, most
            # edits): the contact is there and no other contact can have that key, so the
            # update goes straight in, without the look-up below or a savepoint.
            await _SAVE_DIRECT.rows(self._connection, self._save_values(contact, key))
            return
        # One look finds both the contact itself and any other contact with the new name.
        rows = await _DIRECT[_SAVE_LOOKUP].rows(
            self._connection, {"owner": self._owner_id, "id": contact.id, "key": key}
        )
        own = next((row for row in rows if row.id == contact.id), None)
        if own is None:
            return
        for row in rows:
            if row.id != contact.id:
                raise DuplicateContactError(_contact_at(row))
        values = self._save_values(contact, key)
        if own.name_key == key:
            # The name keeps its key (a log, a snooze, most edits): the update cannot clash
            # with another contact's name, so no savepoint (two round trips) is needed.
            await _SAVE_DIRECT.rows(self._connection, values)
            self._remember(contact.id, key)
            return
        # A new name: in a savepoint, so losing a race on the unique name stays recoverable.
        try:
            async with self._connection.begin_nested():
                await self._connection.execute(_SAVE, values)
        except IntegrityError:
            existing = await self._first(_BY_KEY, key=key)
            if existing is None or existing.id == contact.id:
                raise
            raise DuplicateContactError(_contact_at(existing)) from None
        self._remember(contact.id, key)

    def _save_values(self, contact: Contact, key: str) -> dict[str, Any]:
        return {
            "b_owner": self._owner_id,
            "b_id": contact.id,
            "name_key": key,
            "last_contacted_on": contact.last_contacted_on,
            "next_due_on": contact.next_due_on,
            "last_note": contact.last_note,
            "skipped_on": contact.skipped_on,
            "reached_out_on": contact.reached_out_on,
            "follow_up_on": contact.follow_up_on,
            "email": contact.email,
            "linkedin_url": contact.linkedin_url,
            "connected_on": contact.connected_on,
            **_draft_values(contact),
            # Not the suggested_* dates: only the morning pass writes those (storage.delivery).
            **_rank_values(contact),
        }

    def _remember(self, contact_id: int, key: str) -> None:
        """Note that circle contact ``contact_id`` is there with name key ``key`` (see
        ``_known``; only a writing transaction keeps it)."""
        if self._known is not None:
            self._known[contact_id] = key

    def _exists_here(self, contact_id: int) -> bool:
        """Whether this writing transaction has read or written the contact already (so it
        is there: the owner's other writers wait for this transaction)."""
        return self._known is not None and contact_id in self._known

    async def delete(self, contact_id: int) -> bool:
        if self._known is not None:
            self._known.pop(contact_id, None)
        params = {"owner": self._owner_id, "id": contact_id}
        # Conversations go explicitly, not only by cascade: SQLite may run without foreign keys.
        await self._connection.execute(_DELETE_CONVERSATIONS, params)
        await self._connection.execute(_DELETE_OUTREACH, params)
        await self._connection.execute(_DELETE_NEXT_STEPS, params)
        result = await self._connection.execute(_DELETE, params)
        # Stored morning messages quote the contact's notes: nothing of them may stay.
        await scrub_nudges(self._connection, self._owner_id, contact_id)
        return bool(result.rowcount)

    async def log(self, conversation: Conversation) -> None:
        contact_id = conversation.contact_id
        if not self._exists_here(contact_id) and await self._first(_EXISTS, id=contact_id) is None:
            raise ContactGone(contact_id)
        values = {
            "owner_id": self._owner_id,
            "contact_id": conversation.contact_id,
            "occurred_on": conversation.occurred_on,
            "note": conversation.note,
            "learned": conversation.learned,
            "kind": conversation.kind,
            "response": conversation.response.value if conversation.response else None,
            "outcomes": join_outcomes(conversation.outcomes),
        }
        try:
            await _LOG_DIRECT.rows(self._connection, values)
        except IntegrityError as exc:
            # Removed by a transaction that committed after the check above (only possible
            # where writers do not take turns, i.e. without the owner lock).
            if _foreign_key_violation(exc):
                raise ContactGone(conversation.contact_id) from exc
            raise

    async def count_conversations(self) -> int:
        return int(await self._scalar(_COUNT_CONVERSATIONS) or 0)

    async def history(self, contact_id: int, *, limit: int) -> list[Conversation]:
        rows = await self._connection.execute(
            _CONVERSATIONS, {"owner": self._owner_id, "id": contact_id, "limit": limit}
        )
        return [
            Conversation(contact_id, row.occurred_on, row.note, row.learned, row.kind)
            for row in rows
        ]

    async def add_learned(self, contact_id: int, on: date, learned: str) -> bool:
        found = await self._first(_LEARN_TARGET, id=contact_id, on=on)
        if found is None:
            return False
        await self._connection.execute(
            _LEARN, {"b_owner": self._owner_id, "b_id": found.id, "b_learned": learned}
        )
        return True

    async def get_many(self, contact_ids: list[int]) -> dict[int, Contact]:
        if not contact_ids:
            return {}
        contacts = await self._contacts(_GET_MANY, ids=list(contact_ids))
        return {contact.id: contact for contact in contacts}

    async def prefs(self) -> NudgePrefs:
        return self._prefs

    async def save_prefs(self, prefs: NudgePrefs, *, timezone_from_user: bool) -> None:
        await self._connection.execute(
            _SAVE_PREFS,
            {
                "b_owner": self._owner_id,
                "nudge_time": prefs.time,
                "nudge_days": prefs.days,
                "paused_until": prefs.paused_until,
                "cards_per_nudge": prefs.cards,
                "timezone": prefs.timezone,
                "timezone_source": "user" if timezone_from_user else "platform",
            },
        )
        self._prefs = replace(prefs, timezone_locked=timezone_from_user)
        self.timezone = prefs.timezone

    async def nudge(self, nudge_id: int) -> NudgeRecord | None:
        # FOR UPDATE: two clicks on one nudge (a double click) take turns, so the second sees
        # what the first did. SQLite's BEGIN IMMEDIATE already serialises writers.
        row = await self._first(_NUDGE, id=nudge_id)
        if row is None:
            return None
        return NudgeRecord(row.id, row.local_date, row.content, row.channel, row.message_id)

    async def save_nudge_content(self, nudge_id: int, content: str) -> None:
        await self._connection.execute(
            _SAVE_NUDGE_CONTENT, {"b_owner": self._owner_id, "b_id": nudge_id, "b_content": content}
        )

    async def export_data(self) -> UserData:
        """Everything stored about the owner (storage.user_data.SECTIONS)."""
        return await export_owner(self._connection, self._owner_id)

    async def erase_all(self) -> Erased:
        """Delete everything of the owner, their user row last, in this transaction."""
        erased = await erase_owner(self._connection, self._owner_id)
        self.erased = True
        if self._known is not None:
            self._known.clear()
        return erased

    # --- predictions, outcomes and next steps ------------------------------------------------

    async def record_outreach(
        self, contact_id: int, reached_on: date, *, previous_contact_on: date | None
    ) -> Outreach:
        values = {
            "owner_id": self._owner_id,
            "contact_id": contact_id,
            "reached_on": reached_on,
            "previous_contact_on": previous_contact_on,
        }
        new_id = await self._insert_for_contact(_ADD_OUTREACH, contact_id, values)
        return Outreach(new_id, contact_id, reached_on, previous_contact_on=previous_contact_on)

    async def outreach(self, outreach_id: int) -> Outreach | None:
        row = await self._first(_OUTREACH, id=outreach_id)
        return _outreach(row) if row is not None else None

    async def latest_outreach(self, contact_id: int) -> Outreach | None:
        row = await self._first(_LATEST_OUTREACH, contact=contact_id)
        return _outreach(row) if row is not None else None

    async def set_outreach(
        self,
        outreach_id: int,
        *,
        expected: Expectation | None,
        actual: Expectation | None,
        replied_on: date | None,
    ) -> bool:
        params = {
            "b_owner": self._owner_id,
            "b_id": outreach_id,
            "expected": expected.value if expected else None,
            "actual": actual.value if actual else None,
            "replied_on": replied_on,
        }
        return bool((await self._connection.execute(_SET_OUTREACH, params)).rowcount)

    async def evidence_history(
        self, since: date | None
    ) -> tuple[list[Outreach], list[ConversationFacts]]:
        return await read_evidence_history(self._connection, self._owner_id, since)

    async def add_next_step(self, contact_id: int, text: str, due_on: date) -> NextStep:
        values = {
            "owner_id": self._owner_id,
            "contact_id": contact_id,
            "text": text,
            "due_on": due_on,
            "status": StepStatus.OPEN.value,
        }
        new_id = await self._insert_for_contact(_ADD_NEXT_STEP, contact_id, values)
        return NextStep(new_id, contact_id, text, due_on)

    async def next_step(self, step_id: int) -> NextStep | None:
        row = await self._first(_NEXT_STEP, id=step_id)
        return _next_step(row) if row is not None else None

    async def set_next_step(self, step_id: int, *, status: StepStatus, due_on: date) -> bool:
        params = {
            "b_owner": self._owner_id,
            "b_id": step_id,
            "status": status.value,
            "due_on": due_on,
        }
        return bool((await self._connection.execute(_SET_NEXT_STEP, params)).rowcount)

    async def next_steps_due(self, on: date, *, limit: int) -> list[NextStep]:
        rows = await self._rows(_NEXT_STEPS_DUE, on=on, limit=limit)
        return [_next_step(r) for r in rows]

    async def open_next_steps(self, *, limit: int) -> list[NextStep]:
        rows = await self._rows(_NEXT_STEPS_DUE, on=date.max, limit=limit)
        return [_next_step(r) for r in rows]

    async def _insert_for_contact(self, statement: Any, contact_id: int, values: Any) -> int:
        """Insert a row that belongs to one of the owner's contacts; its new id."""
        if not self._exists_here(contact_id) and await self._first(_EXISTS, id=contact_id) is None:
            raise ContactGone(contact_id)
        try:
            return int((await self._connection.execute(statement, values)).scalar_one())
        except IntegrityError as exc:
            if _foreign_key_violation(exc):
                raise ContactGone(contact_id) from exc
            raise

    async def _rows(self, statement: Any, **params: Any) -> list[Any]:
        params["owner"] = self._owner_id
        direct = _DIRECT.get(statement)
        if direct is not None:
            return await direct.rows(self._connection, params)
        return list((await self._connection.execute(statement, params)).all())

    async def _first(self, statement: Any, **params: Any) -> Any:
        rows = await self._rows(statement, **params)
        return rows[0] if rows else None

    async def _scalar(self, statement: Any, **params: Any) -> Any:
        row = await self._first(statement, **params)
        return row[0] if row is not None else None

    async def _contacts(self, statement: Any, **params: Any) -> list[Contact]:
        rows = await self._rows(statement, **params)
        at = _BOOK_AT.get(statement)
        if at is None:  # a statement not checked by _reads_book: by name
            return [_contact(row) for row in rows]
        return [_contact_at(row, at) for row in rows]


# --- prepared statements ------------------------------------------------------------------
#
# Built once, on the tables rather than the ORM classes, with the owner and every other value
# as bound parameters. Each takes :owner, so none can be run without the owner's scope.

_contacts_t = cast(Table, ContactRow.__table__)
_users_t = cast(Table, User.__table__)
_conversations_t = cast(Table, ConversationRow.__table__)
_nudges_t = cast(Table, Nudge.__table__)
_c = _contacts_t.c
_OWNED = _c.owner_id == bindparam("owner")
#: The owner's circle: the contacts they chose, without the imported pool (see
#: ``storage.pool``). Every statement below that lists, counts or fetches contacts for a command
#: or button reads the circle only; the name-key lookups (duplicates) read both.
_CIRCLE = and_(_OWNED, _c.in_pool.is_(False))

#: What :func:`_contact` reads: every column of a contact but its owner, key and timestamps.
CONTACT_COLUMNS = (
    _c.id,
    _c.name,
    _c.cadence_count,
    _c.cadence_unit,
    _c.company_role,
    _c.how_known,
    _c.notes,
    _c.last_contacted_on,
    _c.next_due_on,
    _c.last_note,
    _c.created_on,
    _c.skipped_on,
    _c.reached_out_on,
    _c.follow_up_on,
    _c.preferred_name,
    _c.relationship,
    _c.last_in_touch,
    _c.win,
    _c.win_on,
    _c.suggested_on,
    _c.suggested_before_on,  # storage.dialect reads these by position: add new ones at the end
)
#: What a book reads of a contact: the above, and what imports add (``storage.pool``). The
#: morning pass reads :data:`CONTACT_COLUMNS` only (pool contacts are never due).
BOOK_COLUMNS = (*CONTACT_COLUMNS, _c.email, _c.linkedin_url, _c.connected_on, _c.in_pool)
#: Their names, in order.
_BOOK_KEYS = tuple(column.key for column in BOOK_COLUMNS)
_BOOK_WIDTH = len(_BOOK_KEYS)
#: Where the book's statements have :data:`BOOK_COLUMNS` (by statement): their rows are read by
#: position (:func:`_contact_at`), about twice as fast as by name (:func:`_contact`).
_BOOK_AT: dict[Any, int] = {}


def _reads_book[S: Select[Any]](statement: S, *, at: int = 0) -> S:
    """``statement``, checked (at import) to select :data:`BOOK_COLUMNS` in order from its
    column ``at`` on, so that :func:`_contact_at` may read its rows by position."""
    keys = tuple(column.key for column in statement.selected_columns)
    if keys[at : at + _BOOK_WIDTH] != _BOOK_KEYS:
        raise RuntimeError(f"not the book's columns from column {at} on: {keys}")
    _BOOK_AT[statement] = at
    return statement


#: What a book needs of its owner's row: the id and the nudge settings.
_OWNER = select(
    _users_t.c.id,
    _users_t.c.timezone,
    _users_t.c.timezone_source,
    _users_t.c.nudge_time,
    _users_t.c.nudge_days,
    _users_t.c.paused_until,
    _users_t.c.cards_per_nudge,
).where(_users_t.c.id == bindparam("owner"))

_OWNER_LOCKED = _OWNER.with_for_update(key_share=True)

#: With the stored name key after the book's columns (remembered for a later save).
_GET = _reads_book(select(*BOOK_COLUMNS, _c.name_key).where(_CIRCLE, _c.id == bindparam("id")))
#: The circle's contact with this name key (at most one: the key is unique per owner).
_NAMED = _reads_book(select(*BOOK_COLUMNS).where(_CIRCLE, _c.name_key == bindparam("key")))
_GET_MANY = _reads_book(
    select(*BOOK_COLUMNS).where(_CIRCLE, _c.id.in_(bindparam("ids", expanding=True)))
)
_BY_KEY = _reads_book(select(*BOOK_COLUMNS).where(_OWNED, _c.name_key == bindparam("key")))
_SAVE_LOOKUP = _reads_book(
    select(*BOOK_COLUMNS, _c.name_key).where(
        _OWNED, or_(_c.id == bindparam("id"), _c.name_key == bindparam("key"))
    )
)
_EXISTS = select(_c.id).where(_CIRCLE, _c.id == bindparam("id"))
_NAMES = select(_c.id, _c.name).where(_CIRCLE)
_PAGE = _reads_book(
    select(*BOOK_COLUMNS)
    .where(_CIRCLE)
    .order_by(_c.name_key, _c.id)
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
_UPCOMING = _reads_book(
    select(*BOOK_COLUMNS)
    .where(_CIRCLE)
    .order_by(_c.next_due_on, _c.name_key)
    .limit(bindparam("limit"))
)
_COUNT = select(func.count()).select_from(_contacts_t).where(_CIRCLE)
_COUNT_CONVERSATIONS = (
    select(func.count())
    .select_from(_conversations_t)
    .where(_conversations_t.c.owner_id == bindparam("owner"))
)


def _due_statement() -> Any:
    """Who is due (most overdue first, at most :limit), with the owner's two counts."""
    counts = (
        select(
            func.count().label("total"),
            func.count(case((_c.next_due_on <= bindparam("today"), 1))).label("total_due"),
        )
        .where(_CIRCLE)
        .subquery("counts")
    )
    listing = (
        select(*BOOK_COLUMNS, _c.name_key)
        .where(_CIRCLE, _c.next_due_on <= bindparam("today"))
        .order_by(_c.next_due_on, _c.name_key)
        .limit(bindparam("limit"))
        .subquery("listing")
    )
    return (
        select(counts.c.total, counts.c.total_due, *(listing.c[c.key] for c in BOOK_COLUMNS))
        .select_from(counts.outerjoin(listing, true()))
        .order_by(listing.c.next_due_on, listing.c.name_key)
    )


_DUE = _reads_book(_due_statement(), at=2)  # after the two counts
_SAVE = update(_contacts_t).where(_c.owner_id == bindparam("b_owner"), _c.id == bindparam("b_id"))
_DELETE = delete(_contacts_t).where(_OWNED, _c.id == bindparam("id"))
_DELETE_CONVERSATIONS = delete(_conversations_t).where(
    _conversations_t.c.owner_id == bindparam("owner"),
    _conversations_t.c.contact_id == bindparam("id"),
)
_LOG = insert(_conversations_t)
_v = _conversations_t.c
#: A contact's latest conversations, newest first (for ``prep``).
_CONVERSATIONS = (
    select(_v.occurred_on, _v.note, _v.learned, _v.kind)
    .where(_v.owner_id == bindparam("owner"), _v.contact_id == bindparam("id"))
    .order_by(_v.occurred_on.desc(), _v.id.desc())
    .limit(bindparam("limit"))
)
#: The conversation a later "learned:" belongs to: that day's latest, with nothing learned yet.
_LEARN_TARGET = (
    select(_v.id)
    .where(
        _v.owner_id == bindparam("owner"),
        _v.contact_id == bindparam("id"),
        _v.occurred_on == bindparam("on"),
        _v.kind == "conversation",
        _v.learned == "",
    )
    .order_by(_v.id.desc())
    .limit(1)
)
_LEARN = (
    update(_conversations_t)
    .where(_v.owner_id == bindparam("b_owner"), _v.id == bindparam("b_id"))
    .values(learned=bindparam("b_learned"))
)
_SAVE_PREFS = update(_users_t).where(_users_t.c.id == bindparam("b_owner"))
_NUDGE = (
    select(
        _nudges_t.c.id,
        _nudges_t.c.local_date,
        _nudges_t.c.content,
        _nudges_t.c.channel,
        _nudges_t.c.message_id,
    )
    .where(_nudges_t.c.user_id == bindparam("owner"), _nudges_t.c.id == bindparam("id"))
    .with_for_update()
)
_SAVE_NUDGE_CONTENT = (
    update(_nudges_t)
    .where(_nudges_t.c.user_id == bindparam("b_owner"), _nudges_t.c.id == bindparam("b_id"))
    .values(content=bindparam("b_content"))
)


_outreach_t = cast(Table, OutreachRow.__table__)
_o = _outreach_t.c
_OUTREACH_COLUMNS = (
    _o.id,
    _o.contact_id,
    _o.reached_on,
    _o.expected,
    _o.actual,
    _o.replied_on,
    _o.previous_contact_on,
)
_O_OWNED = _o.owner_id == bindparam("owner")
_ADD_OUTREACH = insert(_outreach_t).returning(_o.id)
_OUTREACH = select(*_OUTREACH_COLUMNS).where(_O_OWNED, _o.id == bindparam("id"))
_LATEST_OUTREACH = (
    select(*_OUTREACH_COLUMNS)
    .where(_O_OWNED, _o.contact_id == bindparam("contact"))
    .order_by(_o.reached_on.desc(), _o.id.desc())
    .limit(1)
)

_SET_OUTREACH = (
    update(_outreach_t)
    .where(_o.owner_id == bindparam("b_owner"), _o.id == bindparam("b_id"))
    .values(
        expected=bindparam("expected"),
        actual=bindparam("actual"),
        replied_on=bindparam("replied_on"),
    )
)
_DELETE_OUTREACH = delete(_outreach_t).where(_O_OWNED, _o.contact_id == bindparam("id"))
_cv = _conversations_t.c


def _history_statement() -> Any:
    """Outreach and logged conversations since :since, oldest first, in one result: ``source``
    says which ("o" or "c"); the conversation's response comes as ``expected``."""
    no_date = cast(Any, null()).cast(Date)
    outreach = select(
        literal("o").label("source"),
        _o.id,
        _o.contact_id,
        _o.reached_on.label("day"),
        _o.expected,
        _o.actual,
        _o.replied_on,
        _o.previous_contact_on,
        cast(Any, null()).cast(String).label("outcomes"),
    ).where(_O_OWNED, _o.reached_on >= bindparam("since"))
    talks = select(
        literal("c").label("source"),
        _cv.id,
        _cv.contact_id,
        _cv.occurred_on.label("day"),
        _cv.response.label("expected"),
        cast(Any, null()).cast(String).label("actual"),
        no_date.label("replied_on"),
        no_date.label("previous_contact_on"),
        _cv.outcomes,
    ).where(
        _cv.owner_id == bindparam("owner"),
        _cv.kind == "conversation",
        _cv.occurred_on >= bindparam("since"),
    )
    both = union_all(outreach, talks).subquery("history")
    return select(both).order_by(both.c.day, both.c.source, both.c.id)


_HISTORY = _history_statement()


async def read_evidence_history(
    connection: AsyncConnection, owner_id: int, since: date | None
) -> tuple[list[Outreach], list[ConversationFacts]]:
    """One owner's outreach and logged conversations since ``since`` (all, with ``None``),
    oldest first. One statement (a UNION ALL of both tables): the Home tab reads this on every
    open, and the recap pass for each recap's chart as it is sent."""
    outreach: list[Outreach] = []
    talks: list[ConversationFacts] = []
    params = {"owner": owner_id, "since": since or date.min}
    for r in (await connection.execute(_HISTORY, params)).all():
        if r.source == "o":
            outreach.append(
                Outreach(
                    id=r.id,
                    contact_id=r.contact_id,
                    reached_on=r.day,
                    expected=parse_expectation(r.expected),
                    actual=parse_expectation(r.actual),
                    replied_on=r.replied_on,
                    previous_contact_on=r.previous_contact_on,
                )
            )
        else:
            talks.append(
                ConversationFacts(
                    r.contact_id,
                    r.day,
                    parse_expectation(r.expected),
                    parse_outcomes(r.outcomes),
                )
            )
    return outreach, talks


_next_steps_t = cast(Table, NextStepRow.__table__)
_n = _next_steps_t.c
_N_OWNED = _n.owner_id == bindparam("owner")
_NEXT_STEP_COLUMNS = (_n.id, _n.contact_id, _n.text, _n.due_on, _n.status)
_ADD_NEXT_STEP = insert(_next_steps_t).returning(_n.id)
_NEXT_STEP = select(*_NEXT_STEP_COLUMNS).where(_N_OWNED, _n.id == bindparam("id"))
_SET_NEXT_STEP = (
    update(_next_steps_t)
    .where(_n.owner_id == bindparam("b_owner"), _n.id == bindparam("b_id"))
    .values(status=bindparam("status"), due_on=bindparam("due_on"))
)
_NEXT_STEPS_DUE = (
    select(*_NEXT_STEP_COLUMNS)
    .where(_N_OWNED, _n.status == StepStatus.OPEN.value, _n.due_on <= bindparam("on"))
    .order_by(_n.due_on, _n.id)
    .limit(bindparam("limit"))
)
_DELETE_NEXT_STEPS = delete(_next_steps_t).where(_N_OWNED, _n.contact_id == bindparam("id"))


#: The book's statements that run on the driver connection (``storage/direct.py``): the ones
#: of the commands and buttons acknowledged on the request path, and the plain reads around
#: them. Anything else (expanding ``IN`` lists, a row count) goes through SQLAlchemy.
_DIRECT: dict[Any, Direct] = {
    statement: Direct(statement)
    for statement in (
        _GET, _NAMED, _BY_KEY, _SAVE_LOOKUP, _EXISTS, _NAMES, _PAGE, _UPCOMING, _COUNT,
        _COUNT_CONVERSATIONS, _DUE, _CONVERSATIONS, _LEARN_TARGET, _NUDGE, _OUTREACH,
        _LATEST_OUTREACH, _NEXT_STEP, _NEXT_STEPS_DUE,
    )
}  # fmt: skip
_OWNER_DIRECT = Direct(_OWNER)
_OWNER_LOCKED_DIRECT = Direct(_OWNER_LOCKED)
_SAVE_DIRECT = Direct(_SAVE)
_LOG_DIRECT = Direct(_LOG)


def _outreach(row: Any) -> Outreach:
    return Outreach(
        id=row.id,
        contact_id=row.contact_id,
        reached_on=row.reached_on,
        expected=parse_expectation(row.expected),
        actual=parse_expectation(row.actual),
        replied_on=row.replied_on,
        previous_contact_on=row.previous_contact_on,
    )


def _next_step(row: Any) -> NextStep:
    return NextStep(row.id, row.contact_id, row.text, row.due_on, StepStatus(row.status))


@dataclass(frozen=True, slots=True)
class _Statements:
    """The prepared statements that depend on the dialect."""

    #: Insert a contact, or nothing when the owner already has one with that name key;
    #: returns the new id.
    add: Direct
    dialect: Dialect | None = None

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> _Statements:
        add = (
            dialect.insert(_contacts_t)
            .on_conflict_do_nothing(index_elements=[_c.owner_id, _c.name_key])
            .returning(_c.id)
        )
        return cls(add=Direct(add), dialect=dialect)


#: Serialization failure and deadlock: the transaction was aborted and may simply run again.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
#: SQLITE_BUSY and SQLITE_LOCKED (primary result codes).
_RETRYABLE_SQLITE_CODES = frozenset({5, 6})


def _retryable(exc: DBAPIError) -> bool:
    """Whether the database aborted a transaction only because of a concurrent one."""
    original = exc.orig
    if getattr(original, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _RETRYABLE_SQLITE_CODES


def _foreign_key_violation(exc: IntegrityError) -> bool:
    """Whether ``exc`` is a foreign-key violation (SQLSTATE 23503, or SQLite's message)."""
    original = exc.orig
    return getattr(original, "sqlstate", None) == "23503" or "FOREIGN KEY" in str(original)


def prefs_of(user: User) -> NudgePrefs:
    """A user row's nudge settings."""
    return _prefs(user)


def _prefs(user: Any) -> NudgePrefs:
    """The nudge settings of a ``User``, or of a row with the same attributes."""
    return NudgePrefs(
        timezone=user.timezone,
        time=user.nudge_time,
        days=user.nudge_days,
        paused_until=user.paused_until,
        cards=user.cards_per_nudge,
        timezone_locked=user.timezone_source == "user",
    )


def _draft_values(draft: ContactDraft | Contact) -> dict[str, Any]:
    return {
        "name": draft.name,
        "company_role": draft.company_role,
        "how_known": draft.how_known,
        "notes": draft.notes,
        "preferred_name": draft.preferred_name,
        "cadence_count": draft.cadence.count,
        "cadence_unit": draft.cadence.unit.value,
    }


def _rank_values(contact: Contact) -> dict[str, Any]:
    """The issue-10 fields of a contact, with the ranking columns maintained from them."""
    return {
        "relationship": contact.relationship,
        "last_in_touch": contact.last_in_touch,
        "win": contact.win,
        "win_on": contact.win_on,
        "value_points": value_points(contact),
        "rotation_key": rotation_key(contact),
    }


def _contact(row: ContactRow | Row[*tuple[Any, ...]]) -> Contact:
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
        preferred_name=row.preferred_name,
        email=row.email,
        linkedin_url=row.linkedin_url,
        connected_on=row.connected_on,
        in_pool=bool(row.in_pool),
        relationship=row.relationship,
        last_in_touch=row.last_in_touch,
        win=row.win,
        win_on=row.win_on,
        suggested_on=row.suggested_on,
        suggested_before_on=row.suggested_before_on,
    )


def _contact_at(row: Row[*tuple[Any, ...]], at: int = 0) -> Contact:
    """The contact in ``row`` of a :func:`_reads_book` statement whose book columns start at
    ``at``, read by position: a due list, Home and every card read ten or more, and reading a
    row's two dozen columns by name costs more than building the contact."""
    (cid, name, count, unit, role, how, notes, last, due, note, created, skipped, reached,
     follow, preferred, tie, touch, win, win_on, shown, shown_before, email, linkedin,
     connected, in_pool) = row[at : at + _BOOK_WIDTH]  # fmt: skip
    return Contact(
        cid, name, _span(count, unit), role, how, notes, last, due, note, created, skipped,
        reached, follow, preferred_name=preferred, email=email, linkedin_url=linkedin,
        connected_on=connected, in_pool=bool(in_pool), relationship=tie, last_in_touch=touch,
        win=win, win_on=win_on, suggested_on=shown, suggested_before_on=shown_before,
    )  # fmt: skip
