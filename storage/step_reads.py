"""Open next steps of a batch of users, in one statement: for the morning pass (those due) and
the weekly recap (all of them)."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.evidence import StepStatus
from storage.dialect import Dialect
from storage.models import NextStepRow


class OpenStep(NamedTuple):
    """One open next step, as read for a batch."""

    owner_id: int
    id: int
    contact_id: int
    text: str
    due_on: date


async def open_steps(
    dialect: Dialect, connection: AsyncConnection, ids: list[int], *, due_by: date | None = None
) -> list[OpenStep]:
    """The open next steps of users ``ids`` (due on or before ``due_by``, if given), by owner,
    then earliest due, then id."""
    where = [dialect.among(NextStepRow.owner_id, ids), NextStepRow.status == StepStatus.OPEN.value]
    if due_by is not None:
        where.append(NextStepRow.due_on <= due_by)
    return await dialect.rows(
        connection,
        select(
            NextStepRow.owner_id,
            NextStepRow.id,
            NextStepRow.contact_id,
            NextStepRow.text,
            NextStepRow.due_on,
        )
        .where(*where)
        .order_by(NextStepRow.owner_id, NextStepRow.due_on, NextStepRow.id),
        OpenStep._make,
        dates=(4,),
    )
