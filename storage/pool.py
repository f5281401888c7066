"""The pool on SQL: bulk import of people, and the reads and writes of the triage.

:class:`PoolBook` is a mixin of :class:`storage.repository.SqlContactBook`: the same owner and
connection (one transaction), the same rule that every statement filters on the owner.
Imported people are contacts with ``in_pool`` set and ``next_due_on`` at
:data:`bot.core.model.POOL_DUE`, so the book's other statements, which read the circle only,
and the morning pass, which reads due contacts only, never see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from bot.core.cadence import DEFAULT_CADENCE, Span
from bot.core.imports.clean import name_key
from bot.core.model import POOL_DUE, Contact, ContactDraft
from bot.core.ranking import rotation_key, value_points
from storage.models import ContactRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

_t = cast(Table, ContactRow.__table__)
_c = _t.c


class PoolBook:
    """Import and triage statements for one owner, within the book's transaction."""

    _connection: AsyncConnection
    _owner_id: int

    async def everyone(self) -> list[Contact]:
        """Every contact of the owner, circle and pool (what an import deduplicates against)."""
        return await self._pool_rows(_reads()[0])

    async def import_people(
        self, new: Sequence[Contact], merged: Sequence[Contact], *, today: date
    ) -> None:
        """Insert ``new`` people into the pool and write the merged fields of ``merged``
        (existing contacts, by id). Two bulk statements; the caller's transaction makes the
        import all-or-nothing."""
        if new:
            await self._connection.execute(
                _INSERT, [self._new_values(person, today) for person in new]
            )
        if merged:
            await self._connection.execute(
                _MERGE,
                [
                    {
                        "b_owner": self._owner_id,
                        "b_id": c.id,
                        "b_company_role": c.company_role,
                        "b_how_known": c.how_known,
                        "b_notes": c.notes,
                        "b_email": c.email,
                        "b_linkedin_url": c.linkedin_url,
                        "b_connected_on": c.connected_on,
                        "b_preferred_name": c.preferred_name,
                        "b_relationship": c.relationship,
                        "b_last_in_touch": c.last_in_touch,
                        "b_value_points": value_points(c),
                        "b_rotation_key": rotation_key(c),
                    }
                    for c in merged
                ],
            )

    async def pool(self) -> list[Contact]:
        """Everyone in the owner's pool (the triage ranks them in the core)."""
        return await self._pool_rows(_reads()[1])

    async def join_circle(
        self, contact_ids: Sequence[int], *, cadence: Span, today: date
    ) -> list[Contact]:
        """Move the owner's pool contacts among ``contact_ids`` into the circle with
        ``cadence``, due ``today``; returns those moved (others' ids are simply ignored)."""
        if not contact_ids:
            return []
        chosen = await self._pool_rows(_reads()[2], ids=list(contact_ids))
        order: dict[int, int] = {}
        for position, contact_id in enumerate(contact_ids):
            order.setdefault(contact_id, position)
        chosen.sort(key=lambda c: order[c.id])  # in the order asked for
        if chosen:
            await self._connection.execute(
                _JOIN,
                [
                    {
                        "b_owner": self._owner_id,
                        "b_id": c.id,
                        "b_count": cadence.count,
                        "b_unit": cadence.unit.value,
                        "b_due": today,
                    }
                    for c in chosen
                ],
            )
        for contact in chosen:
            contact.in_pool, contact.cadence, contact.next_due_on = False, cadence, today
            contact.skipped_on = None
        return chosen

    async def pool_decline(self, contact_id: int, today: date) -> Contact | None:
        """ "Not now" on a pool offer: the contact stays in the pool, marked as offered today
        (``skipped_on``), so the next offer is someone else. ``None`` if not in the pool."""
        found = await self._pool_rows(_reads()[2], ids=[contact_id])
        if not found:
            return None
        await self._connection.execute(
            _DECLINE, {"b_owner": self._owner_id, "b_id": contact_id, "b_day": today}
        )
        found[0].skipped_on = today
        return found[0]

    async def _promote(self, existing: Any, draft: ContactDraft, due_on: date) -> Contact:
        """``add`` of a name that is in the pool: that person joins the circle with the
        draft's cadence and any details the draft adds (what the import knew is kept)."""
        contact = _from_row(existing)
        contact.in_pool, contact.cadence, contact.next_due_on = False, draft.cadence, due_on
        contact.company_role = draft.company_role or contact.company_role
        contact.how_known = draft.how_known or contact.how_known
        contact.notes = draft.notes or contact.notes
        contact.preferred_name = draft.preferred_name or contact.preferred_name
        contact.relationship = draft.relationship or contact.relationship
        contact.last_in_touch = draft.last_in_touch or contact.last_in_touch
        await self._connection.execute(
            update(_t)
            .where(_c.owner_id == self._owner_id, _c.id == contact.id)
            .values(
                in_pool=False,
                cadence_count=draft.cadence.count,
                cadence_unit=draft.cadence.unit.value,
                next_due_on=due_on,
                skipped_on=None,
                company_role=contact.company_role,
                how_known=contact.how_known,
                notes=contact.notes,
                preferred_name=contact.preferred_name,
                relationship=contact.relationship,
                last_in_touch=contact.last_in_touch,
                value_points=value_points(contact),
                rotation_key=rotation_key(contact),
            )
        )
        return contact

    def _new_values(self, person: Contact, today: date) -> dict[str, Any]:
        stored = replace(person, created_on=today)  # what the ranking columns are worked from
        return {
            "owner_id": self._owner_id,
            "name": person.name,
            "name_key": name_key(person.name),
            "company_role": person.company_role,
            "how_known": person.how_known,
            "notes": person.notes,
            # A pool contact has no cadence of its own; the column is required, and the
            # default is what joining the circle gives unless the user picks another.
            "cadence_count": DEFAULT_CADENCE.count,
            "cadence_unit": DEFAULT_CADENCE.unit.value,
            "next_due_on": POOL_DUE,
            "last_note": "",
            "created_on": today,
            "email": person.email,
            "linkedin_url": person.linkedin_url,
            "connected_on": person.connected_on,
            "preferred_name": person.preferred_name,
            "relationship": person.relationship,
            "last_in_touch": person.last_in_touch,
            # The morning pass orders the circle by these once the person joins it.
            "value_points": value_points(stored),
            "rotation_key": rotation_key(stored),
            "in_pool": True,
        }

    async def _pool_rows(self, statement: Any, **params: Any) -> list[Contact]:
        params["owner"] = self._owner_id
        return [_from_row(row) for row in await self._connection.execute(statement, params)]


def _from_row(row: Any) -> Contact:
    from storage.repository import _contact  # the one row-to-contact mapping

    return _contact(row)


_OWNED = _c.owner_id == bindparam("owner")
_OWN_ROW = (_c.owner_id == bindparam("b_owner"), _c.id == bindparam("b_id"))
_INSERT = insert(_t)
_MERGE = (
    update(_t)
    .where(*_OWN_ROW)
    .values(
        company_role=bindparam("b_company_role"),
        how_known=bindparam("b_how_known"),
        notes=bindparam("b_notes"),
        email=bindparam("b_email"),
        linkedin_url=bindparam("b_linkedin_url"),
        connected_on=bindparam("b_connected_on"),
        preferred_name=bindparam("b_preferred_name"),
        relationship=bindparam("b_relationship"),
        last_in_touch=bindparam("b_last_in_touch"),
        value_points=bindparam("b_value_points"),
        rotation_key=bindparam("b_rotation_key"),
    )
)
_JOIN = (
    update(_t)
    .where(*_OWN_ROW, _c.in_pool.is_(True))
    .values(
        in_pool=False,
        cadence_count=bindparam("b_count"),
        cadence_unit=bindparam("b_unit"),
        next_due_on=bindparam("b_due"),
        skipped_on=None,
    )
)
_DECLINE = update(_t).where(*_OWN_ROW, _c.in_pool.is_(True)).values(skipped_on=bindparam("b_day"))


@cache
def _reads() -> tuple[Any, Any, Any]:
    """The reads (everyone, the pool, pool contacts among ids), on the repository's contact
    columns; built on first use, as the repository imports this module."""
    from storage.repository import BOOK_COLUMNS

    everyone = select(*BOOK_COLUMNS).where(_OWNED)
    pool = everyone.where(_c.in_pool.is_(True)).order_by(_c.id)
    among = pool.where(_c.id.in_(bindparam("ids", expanding=True)))
    return everyone, pool, among
