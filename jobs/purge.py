"""The clock's clean-up pass: data of users who removed the app, and files nobody took.

* A Teams user who uninstalled the app gets no more nudges at once (``users.undeliverable``);
  30 days later their data is deleted, unless they installed the app again meanwhile
  (:func:`storage.user_data.purge_uninstalled`).
* Files offered on Teams with a file-consent card and not accepted within a day are deleted
  (:class:`storage.held_files.HeldFiles`).
* Slash commands acknowledged early and still recorded as pending an hour later are deleted
  (:class:`storage.pending_work.PendingWork`; normally their work deleted them in seconds, and
  a web process takes over and runs again those of a process that died).

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
from storage.pending_work import PendingWork
from storage.user_data import purge_uninstalled

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    """What one pass deleted."""

    users: int
    files: int
    pending: int = 0


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
        self._pending = PendingWork(engine, write_turn=write_turn)

    async def run_once(self, at: datetime | None = None) -> PurgeSummary:
        """One pass as if the clock read ``at``."""
        now = at or self.clock()
        users = await purge_uninstalled(self.engine, now, lock=self._write_turn)
        files = await self._held.expire(now)
        pending = await self._pending.purge(now)
        if users or files or pending:
            log.info("purge.pass", users_erased=users, files_expired=files, pending_expired=pending)
        return PurgeSummary(users=users, files=files, pending=pending)
