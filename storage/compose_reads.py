"""Compose reads: what composing each user's nudge needs, read set-based for many users at once.

The caller (``jobs.runner``) hands over one batch of users at a time and overlaps the next
batch's reads with composing this one; every read here is one statement for the whole batch.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core import wins
from bot.core.model import Contact
from bot.core.nudges import Activity
from bot.core.ranking import eligible, within_weekly_limit
from storage.dialect import DialectStore
from storage.models import ContactRow, ConversationRow, PromptView, User
from storage.records import ComposeInputs
from storage.repository import CONTACT_COLUMNS

#: What :meth:`Dialect.owned_contacts` reads: a contact book's columns, then the owner's id.
OWNED_CONTACT_COLUMNS = (*CONTACT_COLUMNS, ContactRow.owner_id)


class _Views(NamedTuple):
    user_id: int
    prompt_id: str
    shown: int


class _Counts(NamedTuple):
    user_id: int
    contacts: int
    recent: int
    pending: int
    talks: int
    last_id: int | None


class _Latest(NamedTuple):
    owner_id: int
    occurred_on: date
    learned: str
    kind: str


class ComposeReads(DialectStore):
    """Candidates, follow-ups, activity and prompt history for composing nudges."""

    async def compose_inputs(
        self, users: dict[int, date], *, candidates_per_user: int
    ) -> dict[int, ComposeInputs]:
        """What composing each user's nudge for their local date needs (``users``: ``{user id:
        local date}``; one batch, as the runner splits them)."""
        out: dict[int, ComposeInputs] = {uid: ComposeInputs() for uid in users}
        if not users:
            return out
        ids = list(users)
        async with self._reading() as connection:
            await self._candidates(connection, ids, candidates_per_user, users, out)
            await self._followups(connection, ids, users, out)
            await self._activity(connection, ids, users, out)
            views = await self.dialect.rows(
                connection,
                select(PromptView.user_id, PromptView.prompt_id, PromptView.count).where(
                    self.dialect.among(PromptView.user_id, ids)
                ),
                _Views._make,
            )
            for user_id, prompt_id, count in views:
                out[user_id].prompt_views[prompt_id] = count
        return out

    async def _candidates(
        self,
        connection: AsyncConnection,
        ids: list[int],
        limit: int,
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        """The ``limit`` most overdue contacts per user that are eligible on their day: due,
        not skipped that day, not awaiting a reply (the rule of ``bot.core.ranking.eligible``;
        the query checks the reply, and due by the batch's latest day)."""
        latest = max(users.values())
        query = self.dialect.top_due(OWNED_CONTACT_COLUMNS, ids, latest, limit)
        for owner_id, contact in await self.dialect.owned_contacts(connection, query):
            day = users[owner_id]
            if (
                contact.next_due_on <= day
                and contact.skipped_on != day
                and within_weekly_limit(contact, day)
            ):
                out[owner_id].candidates.append(contact)
        await self._wins(connection, ids, users, out)

    async def _wins(
        self,
        connection: AsyncConnection,
        ids: list[int],
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        """Contacts with a recent win to congratulate, due or not (``ranking.congratulate``):
        read off the partial (owner_id, win_on) index, which holds only contacts with a win."""
        earliest = min(users.values()) - wins.RECENT
        query = select(*OWNED_CONTACT_COLUMNS).where(
            self.dialect.among(ContactRow.owner_id, ids),
            ContactRow.win_on.is_not(None),  # the partial index's condition
            ContactRow.win_on >= earliest,
            ContactRow.follow_up_on.is_(None),
        )
        for owner_id, contact in await self.dialect.owned_contacts(connection, query):
            inputs = out[owner_id]
            if any(c.id == contact.id for c in inputs.candidates):
                continue
            if eligible(contact, users[owner_id]):
                inputs.candidates.append(contact)

    async def _followups(
        self,
        connection: AsyncConnection,
        ids: list[int],
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        latest = max(users.values())
        query = (
            select(*OWNED_CONTACT_COLUMNS)
            .where(
                self.dialect.among(ContactRow.owner_id, ids),
                ContactRow.follow_up_on.is_not(None),  # the partial index's condition
                ContactRow.follow_up_on <= latest,
            )
            .order_by(ContactRow.follow_up_on)
        )
        for owner_id, contact in await self.dialect.owned_contacts(connection, query):
            if contact.follow_up_on is not None and contact.follow_up_on <= users[owner_id]:
                out[owner_id].followups.append(contact)

    async def _activity(
        self,
        connection: AsyncConnection,
        ids: list[int],
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        # Per-user counts as correlated subqueries over per-owner indexes: each reads a short
        # index range instead of aggregating every contact and conversation of the batch.
        earliest = min(users.values()) - timedelta(days=7)
        owner = User.__table__.alias("u")

        def contacts_where(*where: Any) -> Any:
            return (
                select(func.count())
                .select_from(ContactRow)
                .where(ContactRow.owner_id == owner.c.id, *where)
                .scalar_subquery()
            )

        talks = (
            select(func.count())
            .select_from(ConversationRow)
            .where(ConversationRow.owner_id == owner.c.id)
            .scalar_subquery()
        )
        last = (
            select(ConversationRow.id)
            .where(ConversationRow.owner_id == owner.c.id)
            .order_by(ConversationRow.occurred_on.desc(), ConversationRow.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        counts = await self.dialect.rows(
            connection,
            select(
                owner.c.id,
                contacts_where().label("contacts"),
                contacts_where(ContactRow.created_on >= earliest).label("recent"),
                contacts_where(ContactRow.follow_up_on.is_not(None)).label("pending"),
                talks.label("talks"),
                last.label("last_id"),
            ).where(self.dialect.among(owner.c.id, ids)),
            _Counts._make,
        )
        last_ids = [row.last_id for row in counts if row.last_id is not None]
        latest: dict[int, tuple[date, bool | None]] = {}
        if last_ids:
            rows = await self.dialect.rows(
                connection,
                select(
                    ConversationRow.owner_id,
                    ConversationRow.occurred_on,
                    ConversationRow.learned,
                    ConversationRow.kind,
                ).where(self.dialect.among(ConversationRow.id, last_ids)),
                _Latest._make,
                dates=(1,),
            )
            latest = {
                row.owner_id: (
                    row.occurred_on,
                    bool(row.learned) if row.kind == "conversation" else None,
                )
                for row in rows
            }
        for row in counts:
            last_on, learned = latest.get(row.user_id, (None, None))
            out[row.user_id].activity = Activity(
                contacts=row.contacts,
                added_last_week=row.recent,
                conversations=row.talks,
                last_activity_on=last_on,
                last_conversation_learned=learned,
                followups_pending=row.pending,
            )

    async def contacts_for(self, user_id: int, contact_ids: list[int]) -> dict[int, Contact]:
        """A user's contacts by id (for re-rendering a nudge taken over from another worker)."""
        if not contact_ids:
            return {}
        query = select(*OWNED_CONTACT_COLUMNS).where(
            ContactRow.owner_id == user_id, ContactRow.id.in_(contact_ids)
        )
        async with self._reading() as connection:
            rows = await self.dialect.owned_contacts(connection, query)
        return {contact.id: contact for _, contact in rows}
