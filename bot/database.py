"""Getting the database ready before a process uses it, without loading any chat platform.

The console needs this and nothing else of :mod:`bot.app` (which loads Slack, Teams and the web
server), so it lives here; :mod:`bot.app` re-exports it for the web and clock processes.
"""

from __future__ import annotations

import asyncio

from bot.settings import ConfigError, Settings
from storage import db


async def prepare_database(settings: Settings) -> None:
    """Migrate the embedded SQLite database; check that PostgreSQL is migrated.

    Raises :class:`ConfigError` when a server database is behind (run the release step).
    """
    if settings.embedded_database:
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
