"""``python -m bot console``: the console adapter wired to the real database."""

from __future__ import annotations

import contextlib
import sys

import tzlocal

from bot.adapters.console.repl import (
    Console,
    console_caller,
    enable_line_editing,
    keep_interrupts_on_this_thread,
    stdin_reader,
)
from bot.adapters.console.today import TodayNudge
from bot.core.groups.coaching import Coaching
from bot.core.service import Reconnect
from bot.database import prepare_database
from bot.settings import Settings
from storage import db
from storage.group_reads import SqlCoachStore
from storage.groups import SqlGroups
from storage.nudges import NudgeStore
from storage.repository import SqlStore


async def run_console(settings: Settings) -> None:
    """Chat with Reconnect in the terminal, on the configured database."""
    keep_interrupts_on_this_thread()  # before the database starts its threads
    await prepare_database(settings)
    engine = db.create_engine(settings.database_url)
    try:
        store = SqlStore(engine)
        caller = console_caller()
        with contextlib.suppress(Exception):  # an unknown local zone just means UTC
            await store.set_timezone(caller.user, tzlocal.get_localzone_name())
        # No channels here: `group` lists the console user's groups; creating and joining
        # happen in a channel (Slack, Teams).
        coaching = Coaching(SqlCoachStore(engine, write_turn=store.write_turn))
        service = Reconnect(
            store, groups=SqlGroups(engine, write_turn=store.write_turn), share=coaching
        )
        today = TodayNudge(store, NudgeStore(engine), service.clock)
        console = Console(
            service, caller, stdin_reader, sys.stdout, bold=sys.stdout.isatty(), today=today
        )
        enable_line_editing()
        await console.run()
    finally:
        await engine.dispose()
