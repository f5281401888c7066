"""The clean-up pass from the command line: ``python -m jobs purge --at …`` deletes the data of
users who removed the app more than 30 days before, and nobody else's."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from storage import db
from storage.models import ContactRow, User

ROOT = Path(__file__).resolve().parents[2]


def test_purge_from_the_command_line(tmp_path: Path) -> None:
    url = db.normalise_url(f"sqlite:///{tmp_path / 'purge.sqlite3'}")
    db.upgrade(url)
    engine = create_engine(db.sync_url(url))
    removed = datetime(2026, 10, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for external, uninstalled in (
            ("gone", removed),
            ("recent", datetime(2026, 11, 20, tzinfo=UTC)),
            ("here", None),
        ):
            user_id = connection.execute(
                insert(User)
                .values(
                    platform="teams",
                    workspace_id="t",
                    external_id=external,
                    uninstalled_at=uninstalled,
                )
                .returning(User.id)
            ).scalar_one()
            connection.execute(
                insert(ContactRow).values(
                    owner_id=user_id, name=f"Contact of {external}", name_key=external,
                    cadence_count=6, cadence_unit="weeks", next_due_on=removed.date(),
                    created_on=removed.date(),
                )
            )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "jobs", "purge", "--at", "2026-11-25T12:00:00+00:00"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT), "DATABASE_URL": str(url.set(drivername="sqlite"))},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "purged 1 uninstalled user and 0 unclaimed files"
    with engine.connect() as connection:
        assert sorted(connection.scalars(select(User.external_id))) == ["here", "recent"]
        assert sorted(connection.scalars(select(ContactRow.name))) == [
            "Contact of here",
            "Contact of recent",
        ]
    engine.dispose()
