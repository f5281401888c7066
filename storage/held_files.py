"""Files offered on Teams with a file-consent card, held until the user accepts or declines.

Teams uploads a file only once the user clicks Accept, and that click may reach any web
process (or come after a restart), so the file waits in the database, not in memory. Each is
held for its owner only: taking it needs the token *and* the same user. Files not taken within
:data:`HOLD_FOR` are deleted by the clock (``jobs/purge.py``).
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import UserRef
from bot.core.replies import FileOut
from storage.models import HeldFile, User

HOLD_FOR = timedelta(days=1)


class HeldFiles:
    """The ``held_files`` table, scoped by user."""

    def __init__(self, engine: AsyncEngine, write_turn: asyncio.Lock | None = None) -> None:
        self.engine = engine
        self._write_turn = write_turn

    async def hold(self, user: UserRef, file: FileOut, now: datetime | None = None) -> str | None:
        """Keep ``file`` for ``user``; the token that takes it back (``None``: no such user)."""
        token = secrets.token_urlsafe(24)
        async with _turn(self._write_turn), self.engine.begin() as connection:
            owner = await connection.scalar(_owner(user))
            if owner is None:
                return None
            await connection.execute(
                insert(HeldFile).values(
                    token=token,
                    user_id=owner,
                    filename=file.filename[:255],
                    media_type=file.media_type[:100],
                    content=file.content,
                    created_at=now or datetime.now(UTC),
                )
            )
        return token

    async def take(self, user: UserRef, token: str) -> FileOut | None:
        """The file held for ``user`` under ``token``, removed from the table; ``None`` when
        there is none (taken already, expired, or someone else's)."""
        async with _turn(self._write_turn), self.engine.begin() as connection:
            owner = await connection.scalar(_owner(user))
            if owner is None:
                return None
            mine = (HeldFile.token == token[:64], HeldFile.user_id == owner)
            row = (
                await connection.execute(
                    select(HeldFile.filename, HeldFile.media_type, HeldFile.content).where(*mine)
                )
            ).first()
            if row is None:
                return None
            await connection.execute(delete(HeldFile).where(*mine))
        return FileOut(row.filename, row.media_type, bytes(row.content))

    async def expire(self, now: datetime) -> int:
        """Delete files held for longer than :data:`HOLD_FOR`; how many."""
        async with _turn(self._write_turn), self.engine.begin() as connection:
            result = await connection.execute(
                delete(HeldFile).where(HeldFile.created_at < now.astimezone(UTC) - HOLD_FOR)
            )
        return result.rowcount or 0


def _owner(user: UserRef) -> Select[int]:
    return select(User.id).where(
        User.platform == user.platform,
        User.workspace_id == user.workspace_id,
        User.external_id == user.user_id,
    )


class _turn:
    def __init__(self, lock: asyncio.Lock | None) -> None:
        self._lock = lock

    async def __aenter__(self) -> None:
        if self._lock is not None:
            await self._lock.acquire()

    async def __aexit__(self, *_: object) -> None:
        if self._lock is not None:
            self._lock.release()
