"""Is the database at the newest migration? Answered without importing Alembic.

Importing Alembic (and its migration environment) costs a noticeable part of a second on every
start of the console, which only needs it when there is something to migrate. The newest
revision is read from the migration files' own ``revision`` / ``down_revision`` lines, and the
database's from the ``alembic_version`` table; :func:`storage.db.upgrade` (Alembic) runs only
when they differ. A test checks :func:`script_head` against Alembic's own answer.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision(?:: str)? = ['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:: [^=]+)? = ['\"]([^'\"]+)['\"]", re.MULTILINE)


def script_head() -> str | None:
    """The revision no other migration names as its ``down_revision`` (``None`` when the
    files do not give exactly one; the caller then asks Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            return None
        revisions.add(revision.group(1))
        parents.update(_DOWN.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(url: URL) -> str | None:
    """The revision recorded in the database at ``url`` (``None``: not migrated yet);
    blocking, with the synchronous driver."""
    from storage.db import sync_url

    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None  # no such table yet
    finally:
        engine.dispose()
    return rows[0][0] if len(rows) == 1 else None
