"""Alembic environment: migrations run synchronously on SQLite (sqlite3) and PostgreSQL (psycopg)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL

from storage.db import ensure_sqlite_dir, normalise_url, sync_url
from storage.models import Base

config = context.config
if config.config_file_name is not None and not config.attributes.get("url"):
    # Only when run from the alembic CLI: the bot configures its own logging.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> URL:
    url: URL | None = config.attributes.get("url")
    if url is not None:
        return url
    from dotenv import find_dotenv, load_dotenv

    from bot.settings import database_url_from_env

    load_dotenv(find_dotenv(usecwd=True))
    return sync_url(normalise_url(database_url_from_env()))


def run_migrations() -> None:
    """Run migrations in a transaction on a fresh connection."""
    url = _url()
    ensure_sqlite_dir(url)
    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=url.get_backend_name() == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
