"""The morning pass's read for the weekly pool offer: per user on an offer day, the pool
contact to offer (the tie made longest ago, never declined). Two short statements per batch,
none on other days; the first walks the partial index ``ix_contacts_owner_pool``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, NamedTuple, cast

from sqlalchemy import Table, select

from bot.core.cadence import DEFAULT_CADENCE
from bot.core.imports.offer_view import offer_day
from bot.core.model import POOL_DUE, Contact
from storage.models import ContactRow, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from storage.dialect import Dialect
    from storage.records import ComposeInputs

_t = cast(Table, ContactRow.__table__)


class _Offer(NamedTuple):
    owner_id: int
    id: int
    name: str
    company_role: str
    connected_on: date


async def read_pool_offers(
    dialect: Dialect,
    connection: AsyncConnection,
    users: dict[int, date],
    out: dict[int, ComposeInputs],
) -> None:
    """Set ``pool_offer`` of the users whose day is an offer day and whose pool has someone."""
    ids = [uid for uid, day in users.items() if offer_day(day)]
    if not ids:
        return
    owner = cast(Table, User.__table__).alias("u")
    best = (
        select(_t.c.id)
        .where(
            _t.c.owner_id == owner.c.id,
            _t.c.in_pool.is_(True),
            _t.c.connected_on.is_not(None),
            _t.c.skipped_on.is_(None),  # declined before ("Not now")
        )
        .order_by(_t.c.connected_on, _t.c.id)
        .limit(1)
        .correlate(owner)
        .scalar_subquery()
    )
    picked = await connection.execute(
        select(best).select_from(owner).where(dialect.among(owner.c.id, ids))
    )
    contact_ids = [row[0] for row in picked if row[0] is not None]
    if not contact_ids:
        return
    rows = await dialect.rows(
        connection,
        select(_t.c.owner_id, _t.c.id, _t.c.name, _t.c.company_role, _t.c.connected_on).where(
            dialect.among(_t.c.id, contact_ids), _t.c.in_pool.is_(True)
        ),
        _Offer._make,
        dates=(4,),
    )
    for row in rows:
        if row.owner_id in out:
            out[row.owner_id].pool_offer = Contact(
                id=row.id,
                name=row.name,
                cadence=DEFAULT_CADENCE,
                company_role=row.company_role,
                next_due_on=POOL_DUE,
                connected_on=row.connected_on,
                in_pool=True,
            )
