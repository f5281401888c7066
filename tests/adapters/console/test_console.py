"""The console adapter: the same core and database, driven by typed lines."""

import io
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.console.repl import Console, console_caller
from bot.adapters.console.today import TodayNudge
from bot.core.service import Reconnect
from storage.nudges import NudgeStore
from storage.repository import SqlStore
from tests.support import Clock

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
            # name left empty; preferred, role, how, relationship, last in touch, notes, win,
            # cadence #4
            "", "", "VP Ops", "", "", "", "", "", "4",
            "Zoë Ó Briain",  # only the name is asked again
            "due",
            "99",  # no such button
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


async def test_opener_and_prep_in_the_console(service: Reconnect, store: SqlStore) -> None:
    output = await run(
        service,
        [
            "add Dr. Amara Okafor -- just promoted to COO; his wife passed away",
            "opener okafor",
            "prep okafor",
            "1",  # Openers, from the prep reply
            "log okafor -- coffee",
            "log okafor -- learned: loves opera",
            "quit",
        ],
    )
    assert "Openers for Dr. Amara Okafor" in output
    drafted = output.split("Openers for")[1].split("== Before")[0]
    assert "Hi Dr. Okafor, " in drafted and "wife" not in drafted
    assert "Wins & interests: just promoted to COO" in output  # prep shows the user's own notes
    assert "Three curious questions" in output and "👂" in output
    assert output.count("What did they mention twice?") == 1
    assert "Added what you learned to today's conversation" in output


async def test_form_can_be_cancelled(service: Reconnect, store: SqlStore) -> None:
    output = await run(service, ["add", "cancel", "quit"])
    assert "Cancelled." in output
    async with store.book(console_caller("ada").user) as book:
        assert await book.count() == 0


def test_console_process_end_to_end(tmp_path: Path) -> None:
    """`python -m bot console` with no Slack settings, on a fresh SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    script = "add Dana Whitfield every 2 months -- former CFO\ndue\nhelp\ntoday\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=script, cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Added Dana Whitfield" in result.stdout
    assert "1 person is due" in result.stdout
    assert "/reconnect snooze" in result.stdout
    assert "Reconnect works best with three people" in result.stdout  # the nudge at start
    assert "[1] Reached out" in result.stdout  # `today`, with Dana's card


async def test_today_shows_the_morning_nudge_and_its_buttons_work(
    service: Reconnect, store: SqlStore, engine: AsyncEngine, clock: Clock
) -> None:
    """At start and with `today`: the nudge the scheduler would send, with working buttons."""
    today = TodayNudge(store, NudgeStore(engine), clock)
    out = io.StringIO()
    lines = [
        "add Dana Whitfield every 2 months -- former CFO at Brightline, loves sailing",
        "/reconnect today",
        "1",  # Reached out (the first button of Dana's card)
        "today",  # the same nudge, showing what was done
        "quit",
    ]
    await Console(
        service, console_caller("ada"), scripted(lines), out, bold=False, today=today
    ).run()
    output = out.getvalue()
    start, first, after = output.split("Good morning")[1:4]
    assert "Reconnect works best with three people to start" in start  # no contacts yet
    assert "Dana Whitfield" in first and "[1] Reached out" in first
    assert "Unknown command" not in output and "Did you mean" not in output
    assert "You reached out to Dana Whitfield" in output
    assert "✓ You reached out to Dana Whitfield" in after
    async with store.book(console_caller("ada").user) as book:
        (dana,) = await book.page(offset=0, limit=5)
        assert dana.follow_up_on is not None  # the button recorded the outreach


def test_the_console_loads_no_chat_platform() -> None:
    """Start-up time: the console path imports neither Slack, Teams nor the web server."""
    code = (
        "import sys, bot.__main__, bot.console_main\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'microsoft_agents', 'aiohttp') "
        "or m.startswith(('bot.adapters.slack', 'bot.adapters.teams', 'bot.app', 'bot.web'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""


async def test_help_in_the_console_lists_today(
    service: Reconnect, store: SqlStore, engine: AsyncEngine, clock: Clock
) -> None:
    today = TodayNudge(store, NudgeStore(engine), clock)
    for word in ("help", "/reconnect help", "?"):
        out = io.StringIO()
        await Console(
            service, console_caller("ada"), scripted([word]), out, bold=False, today=today
        ).run()
        after_help = out.getvalue().split("Reconnect — keep in touch", 1)[1]
        assert "`today` — this morning's nudge" in after_help, word
        assert "`quit` — leave" in after_help
    without = await run(service, ["help"])
    assert "`today`" not in without.split("Reconnect — keep in touch")[1]


def test_a_console_start_on_a_migrated_database_loads_no_platform_nor_alembic(
    tmp_path: Path,
) -> None:
    """Start-up time: run the console (to `quit`) twice on one SQLite file; the second start,
    with nothing to migrate, imports neither Slack, Teams, the web server nor Alembic."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    code = (
        "import sys\n"
        "from bot.__main__ import main\n"
        "code = main(['console'])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'microsoft_agents', 'aiohttp', 'alembic', 'apscheduler') "
        "or m.startswith(('bot.adapters.slack', 'bot.adapters.teams', 'bot.app', 'bot.web'))]\n"
        "print('LOADED:' + ','.join(sorted(bad)))\n"
        "sys.exit(code)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            input="quit\n",
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        for _ in range(2)
    ]
    for result in runs:
        assert result.returncode == 0, result.stderr
    assert "alembic" in runs[0].stdout  # the first start migrated the new file
    assert "LOADED:\n" in runs[1].stdout, runs[1].stdout


async def test_today_shows_the_weekly_goal_as_the_morning_nudge_does(
    service: Reconnect, store: SqlStore, engine: AsyncEngine, clock: Clock
) -> None:
    today = TodayNudge(store, NudgeStore(engine), clock)
    out = io.StringIO()
    lines = ["add Dana Whitfield every 2 months", "goal 3", "today", "quit"]
    await Console(
        service, console_caller("ada"), scripted(lines), out, bold=False, today=today
    ).run()
    assert "Weekly goal: 0 of 3 this week" in out.getvalue()
