"""Predict, then find out in the console (the real store on both databases): ``reached``,
the one-tap guess by number, the follow-up's log form with a response and outcomes, and the
evidence with its chart."""

from datetime import UTC, datetime

from bot.core.model import UserRef
from bot.core.service import Reconnect
from storage.repository import SqlStore
from tests.adapters.console.test_console import run
from tests.support import Clock


async def test_reached_guess_log_and_evidence(
    service: Reconnect, store: SqlStore, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    first = await run(
        service,
        ["add Dana Whitfield", "add Bo Li", "reached dana", "2", "reached bo", "5", "quit"],
    )
    first = " ".join(first.split())
    assert "Marked Dana Whitfield as reached out" in first
    assert "Noted: you expect a polite brush-off from Dana." in first
    assert "No guess this time. I'll ask in 3 days whether Bo replied." in first

    clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    second = await run(
        service,
        [
            "log",  # the form: contact, date, note, learned, response, outcomes, step, due
            "2", "", "coffee", "", "4", "2,4", "", "",
            "evidence",
            "quit",
        ],
    )  # fmt: skip
    second = " ".join(second.split())  # the console wraps long lines
    assert "Logged your conversation with Dana Whitfield" in second
    assert "Response: will go out of their way to help" in second
    assert "information about a company or role and a referral" in second
    assert "You reached out twice and heard back once (50%)." in second
    assert "Median time to a reply: 2 days." in second
    assert "You expected a cold reception once; that person replied warmly." in second

    async with store.book(UserRef("console", "local", "ada"), write=False) as book:
        outreach, talks = await book.history(None)
    assert [(o.expected, o.actual) for o in outreach] == [
        ("brush_off", "go_out_of_way"),
        (None, None),
    ]
    assert [sorted(t.outcomes) for t in talks] == [["info", "referral"]]
