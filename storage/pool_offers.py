"""The morning pass's read for the weekly pool offer: per user on an offer day, the pool
contact to offer, never declined: the most valuable kind of tie the user named first (a former
boss: :func:`bot.core.ranking.tie_value`), then the one longest out of touch (their "last in
touch", else when you connected). Two short statements per batch, none on other days; the
first reads the owner's pool through the partial index ``ix_contacts_owner_pool``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, NamedTuple, cast

from sqlalchemy import Table, case, func, or_, select

from bot.core.cadence import DEFAULT_CADENCE
from bot.core.imports.offer_view import offer_day
from bot.core.model import POOL_DUE, Contact
from bot.core.ranking import tie_value
from bot.core.relationships import Relationship
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
    connected_on: date | None
    relationship: str
    last_in_touch: date | None


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
    tie = case(
        {r.value: tie_value(r.value) for r in Relationship if tie_value(r.value)},
        value=_t.c.relationship,
        else_=0,
    )
    since = func.coalesce(_t.c.last_in_touch, _t.c.connected_on, POOL_DUE)
    best = (
        select(_t.c.id)
        .where(
            _t.c.owner_id == owner.c.id,
            _t.c.in_pool.is_(True),
            or_(
                _t.c.connected_on.is_not(None),
                _t.c.last_in_touch.is_not(None),
                _t.c.relationship != "",
            ),
            _t.c.skipped_on.is_(None),  # declined before ("Not now")
        )
        .order_by(tie.desc(), since, _t.c.id)
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
        select(
            _t.c.owner_id,
            _t.c.id,
            _t.c.name,
            _t.c.company_role,
            _t.c.connected_on,
            _t.c.relationship,
            _t.c.last_in_touch,
        ).where(dialect.among(_t.c.id, contact_ids), _t.c.in_pool.is_(True)),
        _Offer._make,
        dates=(4, 6),
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
                relationship=row.relationship,
                last_in_touch=row.last_in_touch,
                in_pool=True,
            )
