"""Compose reads: what composing each user's nudge needs, read set-based for many users at once.

The caller (``jobs.runner``) hands over one batch of users at a time and overlaps the next
batch's reads with composing this one; every read here is one statement for the whole batch.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core import wins
from bot.core.courage import EvidenceHint, Story, better
from bot.core.evidence import Expectation, NextStep, parse_expectation
from bot.core.model import POOL_DUE, Contact
from bot.core.nudges import ACTIVITY_COUNTED, MAX_STEPS, Activity
from bot.core.ranking import eligible, within_weekly_limit
from storage.dialect import DialectStore
from storage.ids import Ids
from storage.models import (
    ContactRow,
    ConversationRow,
    OutreachRow,
    PromptView,
    User,
)
from storage.pool_offers import read_pool_offers
from storage.records import ComposeInputs
from storage.repository import CONTACT_COLUMNS
from storage.step_reads import OpenStep, open_steps
from storage.weekly_reads import read_goal_lines

#: What :meth:`Dialect.owned_contacts` reads: a contact book's columns, then the owner's id.
OWNED_CONTACT_COLUMNS = (*CONTACT_COLUMNS, ContactRow.owner_id)


class _Views(NamedTuple):
    user_id: int
    prompt_id: str
    shown: int


class _Counts(NamedTuple):
    user_id: int
    contacts: int
    talks: int
    last_id: int | None


class _Told(NamedTuple):
    owner_id: int
    name: str
    expected: str
    actual: str
    reached_on: date
    replied_on: date | None


#: How far back a story of a fear that turned out better is still told.
STORY_WITHIN = timedelta(days=365)


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
        ids = Ids(users)  # their text written once for the eight statements that take them
        async with self._reading() as connection:
            await self._candidates(connection, ids, candidates_per_user, users, out)
            await self._followups(connection, ids, users, out)
            await self._activity(connection, ids, out)
            await read_pool_offers(self.dialect, connection, users, out)  # Mondays only
            await self._next_steps(connection, ids, users, out)
            await self._evidence(connection, ids, users, out)
            views = await self.dialect.rows(
                connection,
                select(PromptView.user_id, PromptView.prompt_id, PromptView.count).where(
                    self.dialect.among(PromptView.user_id, ids)
                ),
                _Views._make,
            )
            for user_id, prompt_id, count in views:
                out[user_id].prompt_views[prompt_id] = count
            for user_id, line in (await read_goal_lines(self.dialect, connection, users)).items():
                out[user_id].goal = line
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
        rows = await self.dialect.owned_contacts(connection, query)
        if min(users.values()) == latest:
            # Every user's day is the batch's (the usual page: one morning): the query checked
            # due and the weekly limit for that day already.
            for owner_id, contact in rows:
                if contact.skipped_on != latest:
                    out[owner_id].candidates.append(contact)
        else:
            for owner_id, contact in rows:
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
        self, connection: AsyncConnection, ids: list[int], out: dict[int, ComposeInputs]
    ) -> None:
        # Per-user counts as correlated subqueries over per-owner indexes, each stopping after
        # ACTIVITY_COUNTED entries: all composing asks of them (bot.core.nudges.Activity).
        owner = User.__table__.alias("u")

        def counted(*where: Any) -> Any:
            first = (
                select(literal_column("1"))
                .where(*where)
                .correlate(owner)  # to the user's row, two levels up
                .limit(ACTIVITY_COUNTED)
                .subquery()
            )
            return select(func.count()).select_from(first).scalar_subquery()

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
                # The circle only: imported people waiting in the pool are not contacts yet.
                # Pool contacts are the ones due POOL_DUE, so the (owner, due) index finds the
                # circle without reading a row (``in_pool`` would read all of them).
                counted(ContactRow.owner_id == owner.c.id, ContactRow.next_due_on < POOL_DUE),
                counted(ConversationRow.owner_id == owner.c.id),
                last,
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
        nothing = (None, None)
        for user_id, contacts, talks, _ in counts:
            last_on, learned = latest.get(user_id, nothing)
            # By position: (contacts, conversations, last activity on, last conversation
            # learned); a frozen dataclass matches keywords at a multiple of the cost.
            out[user_id].activity = Activity(contacts, talks, last_on, learned)

    async def _next_steps(
        self,
        connection: AsyncConnection,
        ids: list[int],
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        """Open next steps due on each user's day (at most ``MAX_STEPS``), with their contacts:
        two statements for the batch (most users have none)."""
        latest = max(users.values())
        steps = await open_steps(self.dialect, connection, ids, due_by=latest)
        wanted: dict[int, list[OpenStep]] = {}
        for row in steps:
            mine = wanted.setdefault(row.owner_id, [])
            if row.due_on <= users[row.owner_id] and len(mine) < MAX_STEPS:
                mine.append(row)
        contact_ids = [s.contact_id for mine in wanted.values() for s in mine]
        if not contact_ids:
            return
        query = select(*OWNED_CONTACT_COLUMNS).where(self.dialect.among(ContactRow.id, contact_ids))
        contacts = {
            (owner, c.id): c for owner, c in await self.dialect.owned_contacts(connection, query)
        }
        for owner_id, mine in wanted.items():
            for s in mine:
                contact = contacts.get((owner_id, s.contact_id))
                if contact is not None:  # the same owner's contact, still there
                    found = NextStep(s.id, s.contact_id, s.text, s.due_on)
                    out[owner_id].next_steps.append((found, contact))

    async def _evidence(
        self,
        connection: AsyncConnection,
        ids: list[int],
        users: dict[int, date],
        out: dict[int, ComposeInputs],
    ) -> None:
        """Who has made a prediction, and each user's latest fear that turned out better (two
        statements for the batch, both on the outreach index by owner)."""
        predicted = await self.dialect.rows(
            connection,
            select(OutreachRow.owner_id)
            .where(self.dialect.among(OutreachRow.owner_id, ids), OutreachRow.expected.is_not(None))
            .group_by(OutreachRow.owner_id),
            tuple,
        )
        who = {row[0] for row in predicted}
        if not who:
            return
        cold = [Expectation.NO_REPLY.value, Expectation.BRUSH_OFF.value]
        replied = [e.value for e in Expectation if e.replied]
        told = await self.dialect.rows(
            connection,
            select(
                OutreachRow.owner_id,
                ContactRow.name,
                OutreachRow.expected,
                OutreachRow.actual,
                OutreachRow.reached_on,
                OutreachRow.replied_on,
            )
            .join(ContactRow, ContactRow.id == OutreachRow.contact_id)
            .where(
                self.dialect.among(OutreachRow.owner_id, list(who)),
                OutreachRow.expected.in_(cold),
                OutreachRow.actual.in_(replied),
                OutreachRow.reached_on >= min(users.values()) - STORY_WITHIN,
            )
            .order_by(OutreachRow.owner_id, OutreachRow.reached_on.desc(), OutreachRow.id.desc()),
            _Told._make,
            dates=(4, 5),
        )
        stories: dict[int, Story] = {}
        for row in told:
            expected, actual = parse_expectation(row.expected), parse_expectation(row.actual)
            day = users[row.owner_id]
            if (
                row.owner_id in stories
                or expected is None
                or actual is None
                or not better(expected, actual)
                or not day - STORY_WITHIN <= row.reached_on <= day
            ):
                continue
            first = row.name.split(" ", 1)[0]
            stories[row.owner_id] = Story(first, expected, actual, row.reached_on, row.replied_on)
        for owner_id in who:
            out[owner_id].evidence = EvidenceHint(predicted=True, story=stories.get(owner_id))

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
