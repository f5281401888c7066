"""The console's ``import <path>`` on both databases: a real file from disk, the report, the
triage with numbered checkboxes, and paths that are not files."""

from pathlib import Path

from bot.core.imports.people import MAX_BYTES
from bot.core.service import Reconnect
from storage.repository import SqlStore
from tests.adapters.console.test_console import console_caller, run

DATA = Path(__file__).resolve().parents[2] / "data"


async def test_import_a_file_then_pick_who_matters(service: Reconnect, store: SqlStore) -> None:
    output = await run(
        service,
        [
            f"import {DATA / 'linkedin_connections.csv'}",
            "1",  # "Pick who matters": the triage form
            "1,2",  # Priya Raman (COO) and Chen Wei (VP): the likely valuable ones first
            "list pool",
            "due",
            "quit",
        ],
    )
    assert "Imported 8 people from your LinkedIn connections into your pool." in output
    assert "Skipped 1 line: line 10 — no name." in output
    assert "1) Priya Raman — Chief Operating Officer at Woodgrove Bank · connected 2016" in output
    assert "Added Priya Raman and Chen Wei to your circle" in output
    assert "Your pool: 6 people with no reminders (page 1 of 1)." in output
    async with store.book(console_caller("ada").user, write=False) as book:
        assert sorted(n for _, n in await book.names()) == ["Chen Wei", "Priya Raman"]
        assert len(await book.pool()) == 6


async def test_paths_that_are_not_files(
    service: Reconnect, store: SqlStore, tmp_path: Path
) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    output = await run(
        service,
        [
            "import",
            f"import {tmp_path / 'missing.csv'}",
            f"import {tmp_path}",
            f"import '{big}'",
            f"import {DATA / 'not_contacts.csv'}",
            "quit",
        ],
    )
    output = " ".join(output.split())  # the console wraps long lines
    assert "Type `import` and the path of the file" in output
    assert "There's no file at" in output and "missing.csv." in output  # (wrapped at hyphens)
    assert "is a folder, not a file" in output
    assert "more than the 5 MB I import at once" in output
    assert "I don't recognise that file." in output
    async with store.book(console_caller("ada").user, write=False) as book:
        assert await book.everyone() == []
