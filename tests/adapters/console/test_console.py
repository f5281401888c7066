"""The console adapter: the same core and database, driven by typed lines."""

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.adapters.console.repl import Console, console_caller
from bot.core.service import Reconnect
from storage.repository import SqlStore

ROOT = Path(__file__).resolve().parents[3]


def scripted(lines: list[str]):
    queue = list(lines)

    async def read(prompt: str) -> str | None:
        return queue.pop(0) if queue else None

    return read


async def run(service: Reconnect, lines: list[str]) -> str:
    out = io.StringIO()
    await Console(service, console_caller("ada"), scripted(lines), out, bold=False).run()
    return out.getvalue()


async def test_commands_buttons_and_forms(service: Reconnect, store: SqlStore) -> None:
    output = await run(
        service,
        [
            "/reconnect add Dana Whitfield every 2 months -- former CFO, loves sailing",
            "reconnect add Dana Scully",
            "log dana -- coffee",  # ambiguous: buttons 1 and 2
            "2",  # Dana Whitfield (alphabetical: Scully, Whitfield)
            "add",  # the add form
            "", "VP Ops", "", "", "4",  # name left empty; role, how, notes, cadence #4
            "Zoë Ó Briain",  # only the name is asked again
            "due",
            "9",  # no such button
            "quit",
        ],
    )  # fmt: skip
    assert "Added Dana Whitfield" in output
    assert "Several contacts match “dana”" in output
    assert "Logged your conversation with Dana Whitfield" in output
    assert "! Please enter their name." in output
    assert "Added Zoë Ó Briain" in output
    assert "There's no button with that number." in output
    assert "Bye" in output
    async with store.book(console_caller("ada").user) as book:
        assert sorted(n for _, n in await book.names()) == [
            "Dana Scully", "Dana Whitfield", "Zoë Ó Briain",
        ]  # fmt: skip


async def test_form_can_be_cancelled(service: Reconnect, store: SqlStore) -> None:
    output = await run(service, ["add", "cancel", "quit"])
    assert "Cancelled." in output
    async with store.book(console_caller("ada").user) as book:
        assert await book.count() == 0


def test_console_process_end_to_end(tmp_path: Path) -> None:
    """`python -m bot console` with no Slack settings, on a fresh SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    script = "add Dana Whitfield every 2 months -- former CFO\ndue\nhelp\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=script, cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Added Dana Whitfield" in result.stdout
    assert "1 person is due" in result.stdout
    assert "/reconnect snooze" in result.stdout
