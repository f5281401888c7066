"""The weekly recap's storage: who gets one, and what composing it needs, for many users at once.

:class:`RecapStore` is the morning pass's store (claims, attempts, outcomes: ``storage.nudges``)
for nudges of kind ``"recap"``, plus the recap's own reads. Every read here is one statement
for a whole batch of users (the runner hands them over a batch at a time), scoped by owner.
:func:`storage.weekly_reads.read_recap_inputs` is also what a single user's ``recap`` command
runs, with one owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time

from sqlalchemy import select

from bot.core.evidence import ConversationFacts, Outreach
from bot.core.model import UserRef
from bot.core.recap import RecapInputs, RecapPrefs
from storage.models import ContactRow, RecapSetting, User
from storage.nudge_claims import page_of
from storage.nudges import NudgeStore
from storage.records import RECAP, Recipient
from storage.repository import prefs_of, read_evidence_history
from storage.weekly_reads import read_recap_inputs


def recap_prefs_of(day: int | None, at: time | None, enabled: bool | None) -> RecapPrefs:
    """Recap settings from a ``recap_settings`` row's columns (all ``None``: no row, the
    defaults)."""
    if day is None or at is None:
        return RecapPrefs()
    return RecapPrefs(day, at, bool(enabled))


class RecapStore(NudgeStore):
    """Claims, attempts and outcomes of weekly recaps, and what composing them needs."""

    kind = RECAP

    async def recipients(
        self, platforms: Iterable[str], *, after: int = 0, limit: int | None = None
    ) -> list[Recipient]:
        """Every reachable user on these platforms with at least one contact (someone who
        never added anybody has no week to look back on), with their recap settings; with
        ``limit``, one keyset page of them (as :meth:`ClaimStore.recipients`)."""
        has_contacts = select(ContactRow.id).where(ContactRow.owner_id == User.id).exists()
        query = (
            select(
                *User.__table__.c,
                RecapSetting.day.label("recap_day"),
                RecapSetting.at.label("recap_at"),
                RecapSetting.enabled.label("recap_on"),
            )
            .outerjoin(RecapSetting, RecapSetting.user_id == User.id)
            .where(
                User.undeliverable.is_(None),
                User.platform.in_(list(platforms)),
                has_contacts,
            )
        )
        query = page_of(query, User.id, after, limit)
        async with self._reading() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Recipient(
                r.id,
                UserRef(r.platform, r.workspace_id, r.external_id),
                prefs_of(r),  # type: ignore[arg-type]  # a row with the columns of a User
                r.dm_channel,
                recap_prefs_of(r.recap_day, r.recap_at, r.recap_on),
            )
            for r in rows
        ]

    async def recap_inputs(self, users: dict[int, date]) -> dict[int, RecapInputs]:
        """What composing each user's recap for their local recap day needs (one batch)."""
        async with self._reading() as connection:
            return await read_recap_inputs(self.dialect, connection, users)

    async def evidence_history(
        self, user_id: int
    ) -> tuple[list[Outreach], list[ConversationFacts]]:
        """One user's whole record of outreach and conversations, for their recap's chart
        (read as each recap is sent: one statement, on the owner's index)."""
        async with self._reading() as connection:
            return await read_evidence_history(connection, user_id, None)


__all__ = ["RecapStore", "recap_prefs_of"]
