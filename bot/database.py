"""Getting the database ready before a process uses it, without loading any chat platform.

The console needs this and nothing else of :mod:`bot.app` (which loads Slack, Teams and the web
server), so it lives here; :mod:`bot.app` re-exports it for the web and clock processes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import URL

from bot.settings import ConfigError, Settings
from storage import db, schema_version


async def prepare_database(settings: Settings) -> None:
    """Migrate the embedded SQLite database; check that PostgreSQL is migrated.

    Raises :class:`ConfigError` when a server database is behind (run the release step).
    """
    if settings.embedded_database:
        # Alembic is imported only when there is something to migrate (start-up time).
        if not await asyncio.to_thread(_at_head, settings.database_url):
            await asyncio.to_thread(db.upgrade, settings.database_url)
        return
    try:
        current = await asyncio.to_thread(db.current_revision, settings.database_url)
    except Exception as exc:
        raise ConfigError(
            f"DATABASE_URL: cannot connect to the database ({type(exc).__name__}). "
            "Check the host, credentials and that the server is running."
        ) from None
    head = db.head_revision()
    if current != head:
        raise ConfigError(
            f"DATABASE_URL: the database schema is at {current or 'nothing'}, not {head}. "
            "Run `uv run python -m storage upgrade` (the Procfile's release step) first."
        )


def _at_head(url: URL) -> bool:
    """The SQLite file exists and is at the newest migration (no Alembic needed to tell)."""
    head = schema_version.script_head()
    if head is None or not url.database or not Path(url.database).exists():
        return False
    return schema_version.stored_revision(url) == head
