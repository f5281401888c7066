"""The clock's clean-up pass: data of users who removed the app, and files nobody took.

* A Teams user who uninstalled the app gets no more nudges at once (``users.undeliverable``);
  30 days later their data is deleted, unless they installed the app again meanwhile
  (:func:`storage.user_data.purge_uninstalled`).
* Files offered on Teams with a file-consent card and not accepted within a day are deleted
  (:class:`storage.held_files.HeldFiles`).

It runs hourly in the scheduler (``jobs.app.build_scheduler``); each pass is idempotent, so two
schedulers running it at once do no harm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.held_files import HeldFiles
from storage.user_data import purge_uninstalled

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    """What one pass deleted."""

    users: int
    files: int


class Purger:
    """Runs clean-up passes on one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] | None = None,
        write_turn: asyncio.Lock | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self._write_turn = write_turn
        self._held = HeldFiles(engine, write_turn=write_turn)

    async def run_once(self, at: datetime | None = None) -> PurgeSummary:
        """One pass as if the clock read ``at``."""
        now = at or self.clock()
        users = await purge_uninstalled(self.engine, now, lock=self._write_turn)
        files = await self._held.expire(now)
        if users or files:
            log.info("purge.pass", users_erased=users, files_expired=files)
        return PurgeSummary(users=users, files=files)
