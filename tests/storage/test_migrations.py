"""Migrations run up and down on SQLite and PostgreSQL, and match the models."""

from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL

from storage import db
from storage.models import Base
from tests.support import postgres_schema


def test_database_is_at_head_and_matches_models(database_url: URL) -> None:
    assert db.current_revision(database_url) == db.head_revision()
    engine = create_engine(db.sync_url(database_url))
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_downgrade_and_upgrade_again(backend: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        if backend == "sqlite":
            url = db.normalise_url(f"sqlite:///{tmp_path / 'm.sqlite3'}")
            db.upgrade(url)
        else:
            url = stack.enter_context(postgres_schema())
        command.downgrade(db.alembic_config(url), "base")
        engine = create_engine(db.sync_url(url))
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        db.upgrade(url)
        assert db.current_revision(url) == db.head_revision()


def test_heroku_style_urls_are_accepted() -> None:
    url = db.normalise_url("postgres://u:p@host:5432/app")
    assert url.drivername == "postgresql+psycopg"
    assert db.normalise_url("sqlite:///data/x.sqlite3").drivername == "sqlite+aiosqlite"


def test_the_head_read_from_the_files_is_alembics() -> None:
    """storage.schema_version tells the newest revision without Alembic (console start-up)."""
    from storage.schema_version import script_head

    assert script_head() == db.head_revision()


def test_the_stored_revision_read_without_alembic_is_alembics(
    database_url: URL, tmp_path: Path
) -> None:
    from storage.schema_version import stored_revision

    assert stored_revision(database_url) == db.current_revision(database_url)
    empty = db.normalise_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert stored_revision(empty) is None
