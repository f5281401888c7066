"""The console writes a reply's files to a folder and prints their paths; ``delete my data``
asks, and a number confirms."""

import io
import json
import os
import stat
from pathlib import Path

from bot.adapters.console.files import EXPORT_DIR_ENV, export_dir, write_files
from bot.adapters.console.repl import Console, console_caller
from bot.core.replies import FileOut
from bot.core.service import Reconnect
from storage.repository import SqlStore


def scripted(lines: list[str]):
    queue = list(lines)

    async def read(prompt: str) -> str | None:
        return queue.pop(0) if queue else None

    return read


async def run(service: Reconnect, lines: list[str], folder: Path) -> str:
    out = io.StringIO()
    console = Console(
        service, console_caller("ada"), scripted(lines), out, bold=False, files_dir=folder
    )
    await console.run()
    return out.getvalue()


async def test_export_writes_files_and_prints_paths(service: Reconnect, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    output = await run(
        service,
        ["add Dana Whitfield -- loves sailing", "export", "export json", "quit"],
        folder,
    )
    written = sorted(p.name for p in folder.iterdir())
    assert written == [
        "reconnect-contacts-2026-11-25.csv",
        "reconnect-contacts-2026-11-25.vcf",
        "reconnect-data-2026-11-25-2.json",  # the second export the same day
        "reconnect-data-2026-11-25.json",
    ]
    for name in written:
        assert str(folder / name) in output
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    data = json.loads((folder / "reconnect-data-2026-11-25.json").read_text())
    assert data["contacts"][0]["notes"] == "loves sailing"


async def test_delete_my_data_in_the_console(
    service: Reconnect, store: SqlStore, tmp_path: Path
) -> None:
    output = await run(
        service,
        ["add Dana Whitfield", "delete my data", "2", "delete my data", "1", "quit"],
        tmp_path,
    )
    assert "Delete all your data?" in output
    assert "Nothing was deleted" in output
    assert "I deleted everything I kept about you: 1 contact" in output
    async with store.book(console_caller("ada").user) as book:
        assert await book.names() == []


def test_the_folder_is_configurable_and_names_are_made_safe(tmp_path: Path) -> None:
    assert export_dir({}) == Path("reconnect-exports")
    assert export_dir({EXPORT_DIR_ENV: str(tmp_path)}) == tmp_path
    (path,) = write_files(tmp_path, [FileOut("../../etc/pass wd", "text/plain", b"x")])
    assert path.parent == tmp_path and path.name == "pass_wd"


async def test_an_unwritable_folder_is_said(service: Reconnect, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    output = await run(service, ["export csv", "quit"], blocker)
    assert f"I couldn't write the files to {blocker}" in output
