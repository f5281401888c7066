"""The weekly recap pass end to end on SQLite and PostgreSQL, against the fake Slack over HTTP:
the right local day and time across DST, exactly once, what it says, and its goal buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import SlackMessenger
from bot.core.evidence import Expectation, OutcomeTag
from bot.core.recap import RecapPrefs
from bot.core.service import Caller, Reconnect
from jobs.__main__ import report
from jobs.recap_runner import RecapRunner
from storage.models import Nudge, PromptView
from storage.recap_reads import RecapStore
from storage.records import RECAP
from storage.repository import SqlStore
from tests.fakes.slack_api import FakeSlack, iter_texts
from tests.jobs.conftest import FAST, at
from tests.support import Clock

MakeUser = Callable[..., Awaitable[Caller]]


@pytest.fixture
def recaps(engine: AsyncEngine, messenger: SlackMessenger, clock: Clock) -> RecapRunner:
    return RecapRunner(RecapStore(engine), {"slack": messenger}, config=FAST, clock=clock)


def texts(message: dict) -> str:
    """The message's words, without Slack's emphasis marks."""
    body = "\n".join([message.get("text") or "", *iter_texts(message.get("blocks") or [])])
    return body.replace("*", "").replace("_", "")


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def set_recap(store: SqlStore, caller: Caller, prefs: RecapPrefs) -> None:
    async with store.book(caller.user) as book:
        await book.save_recap_prefs(prefs)


async def recap_rows(engine: AsyncEngine) -> list[tuple[int, date, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Nudge.user_id, Nudge.local_date, Nudge.status).where(Nudge.kind == RECAP)
        )
        return [tuple(r) for r in rows]


# --- the right local day and time, across DST ---------------------------------------------------


async def test_the_recap_comes_on_friday_at_16_local_time_on_both_sides_of_dst(
    recaps: RecapRunner, user: MakeUser, fake_slack: FakeSlack
) -> None:
    """London leaves summer time on Sunday 25 Oct 2026: Friday 16:00 is 15:00 UTC before, and
    16:00 UTC after; New York leaves it a week later (1 Nov)."""
    await user("ULON", "Dana Whitfield", tz="Europe/London")
    await user("UNYC", "Marcus Chen", tz="America/New_York")
    assert (await recaps.run_once(at(2026, 10, 23, 14, 59))).due == 0  # 15:59 BST
    first = await recaps.run_once(at(2026, 10, 23, 15, 0))  # 16:00 BST
    assert (first.due, first.sent) == (1, 1)
    again = await recaps.run_once(at(2026, 10, 23, 15, 30))
    assert (again.due, again.sent, again.already) == (1, 0, 1)
    ny = await recaps.run_once(at(2026, 10, 23, 20, 0))  # 16:00 EDT
    assert (ny.due, ny.sent) == (1, 1)
    # The week after: London is on GMT, New York still on EDT.
    assert (await recaps.run_once(at(2026, 10, 30, 15, 0))).due == 0  # 15:00 GMT
    after = await recaps.run_once(at(2026, 10, 30, 16, 0))  # 16:00 GMT
    assert (after.due, after.sent) == (1, 1)
    assert (await recaps.run_once(at(2026, 10, 30, 20, 0))).sent == 1  # 16:00 EDT
    # And once New York is on EST too (6 Nov): 16:00 EST is 21:00 UTC.
    assert (await recaps.run_once(at(2026, 11, 6, 20, 0))).due == 0
    assert (await recaps.run_once(at(2026, 11, 6, 21, 0))).sent == 1
    assert len(fake_slack.messages_to("DULON")) == 2
    assert len(fake_slack.messages_to("DUNYC")) == 3
    # Never on another weekday, nor twice in a day.
    for day in range(24, 30):
        assert (await recaps.run_once(at(2026, 10, day, 15, 0))).due == 0


async def test_a_recap_time_in_the_dst_gap_and_the_overlap_is_sent_once(
    recaps: RecapRunner, user: MakeUser, store: SqlStore, fake_slack: FakeSlack
) -> None:
    """Sunday 01:30 in London: on 28 Mar 2027 the clock jumps from 01:00 to 02:00, so 01:30
    never happens (the recap comes at 02:30 BST, an hour after 01:30 GMT would have been, as
    the morning nudge does); on 25 Oct 2026 01:30 happens twice (the first one counts)."""
    caller = await user("U1", "Dana Whitfield", tz="Europe/London")
    await set_recap(store, caller, RecapPrefs(day=6, time=time(1, 30)))
    overlap = await recaps.run_once(at(2026, 10, 25, 0, 30))  # the first 01:30 (BST)
    assert overlap.sent == 1
    second = await recaps.run_once(at(2026, 10, 25, 1, 30))  # the second 01:30 (GMT)
    assert (second.sent, second.already) == (0, 1)
    assert (await recaps.run_once(at(2027, 3, 28, 1, 29))).due == 0  # 02:29 BST
    gap = await recaps.run_once(at(2027, 3, 28, 1, 30))  # 02:30 BST
    assert gap.sent == 1
    assert len(fake_slack.messages_to("DU1")) == 2


async def test_off_paused_and_contactless_users_get_no_recap(
    recaps: RecapRunner, user: MakeUser, store: SqlStore, service: Reconnect, clock: Clock
) -> None:
    off = await user("UOFF", "Dana Whitfield")
    await set_recap(store, off, RecapPrefs(enabled=False))
    paused = await user("UPAUSE", "Bo Li")
    clock.now = at(2026, 12, 1, 9, 0)
    await service.command(paused, "pause until 10 Dec")
    await user("UNONE")  # no contacts: nothing to look back on
    moved = await user("UTHU", "Cy Park")
    await set_recap(store, moved, RecapPrefs(day=3, time=time(9, 0)))
    on = await user("UON", "Di Ross")
    friday = await recaps.run_once(at(2026, 12, 4, 16, 0))
    assert (friday.due, friday.sent) == (1, 1)  # UON only
    thursday = await recaps.run_once(at(2026, 12, 3, 9, 0))
    assert (thursday.due, thursday.sent) == (1, 1)  # UTHU, on its own day and time
    assert on and moved


# --- what it says -------------------------------------------------------------------------------


async def test_the_recap_tells_the_week_and_offers_next_weeks_goal(
    recaps: RecapRunner,
    user: MakeUser,
    store: SqlStore,
    service: Reconnect,
    clock: Clock,
    fake_slack: FakeSlack,
    engine: AsyncEngine,
) -> None:
    caller = await user("U1", "Dana Whitfield", "Priya Raman", "Marcus Chen", tz="Europe/Berlin")
    clock.now = at(2026, 11, 30, 9, 0)  # Monday
    assert "Goal set: 3 people a week" in (await service.command(caller, "goal 3")).summary
    # Tuesday: reached out to Dana, feared silence; she replied gladly on Wednesday.
    clock.now = at(2026, 12, 1, 9, 0)
    async with store.book(caller.user) as book:
        [(dana, _)] = [n for n in await book.names() if n[1] == "Dana Whitfield"]
        [(priya, _)] = [n for n in await book.names() if n[1] == "Priya Raman"]
        event = await book.record_outreach(dana, date(2026, 12, 1), previous_contact_on=None)
        await book.set_outreach(
            event.id,
            expected=Expectation.NO_REPLY,
            actual=Expectation.GLAD,
            replied_on=date(2026, 12, 2),
        )
        await book.add_next_step(priya, "introduce me to the CFO", date(2026, 12, 8))
    # Thursday: a conversation with Priya that brought a referral.
    clock.now = at(2026, 12, 3, 9, 0)
    await service.command(caller, "log Priya -- coffee")
    async with store.book(caller.user) as book:
        await _tag_last_conversation(book, OutcomeTag.REFERRAL)
    summary = await recaps.run_once(at(2026, 12, 4, 15, 0))  # Friday 16:00 in Berlin
    assert summary.sent == 1
    [message] = fake_slack.messages_to("DU1")
    body = texts(message)
    assert "Your week, 30 Nov – 4 Dec" in body
    assert "You reached 2 people: Dana Whitfield and Priya Raman." in body
    assert "You logged 1 conversation." in body
    assert "2 of 3 this week." in body
    assert "You reached out once and heard back once." in body
    assert "You expected a cold reception once; they were glad to hear from you." in body
    assert "A referral" in body
    assert "Priya Raman: introduce me to the CFO — by Tue 8 Dec" in body
    assert "One question to sit with:" in body
    labels = [b["text"]["text"] for b in buttons(message)]
    assert labels == ["Keep 3 next week", "Raise to 4", "Lower to 2"]
    # The evidence chart comes with it, uploaded to the same DM, its words in the alt text.
    [chart] = fake_slack.shared_files
    assert (chart["filename"], chart["channel"]) == ("reconnect-week-2026-12-04.png", "DU1")
    assert chart["content"].startswith(b"\x89PNG\r\n\x1a\n")
    assert "You expected a cold reception once" in chart["alt_txt"]
    assert "for the 8 weeks to 04 Dec 2026: once in all" in chart["alt_txt"]
    # The question shown is remembered, so next week's is another one.
    async with engine.connect() as connection:
        views = (await connection.execute(select(PromptView.prompt_id))).scalars().all()
    assert [v for v in views if v.startswith("reflect-")] != []
    # "Raise to 4" sets next week's goal, and leaves this week's.
    raise_value = next(b["value"] for b in buttons(message) if b["text"]["text"] == "Raise to 4")
    clock.now = at(2026, 12, 4, 16, 0)
    reply = await service.action(caller, "goal.set", raise_value)
    assert "Next week's goal: 4 people" in reply.summary  # type: ignore[union-attr]
    shown = (await service.command(caller, "goal")).summary
    assert (
        "Your goal: 3 people a week. So far this week: 2 of 3. From next week: 4 people." in shown
    )
    clock.now = at(2026, 12, 7, 9, 0)  # next Monday
    assert "Your goal: 4 people a week" in (await service.command(caller, "goal")).summary


async def _tag_last_conversation(book: object, tag: OutcomeTag) -> None:
    """Tag the latest conversation with an outcome, as the log form does (predict's part)."""
    from sqlalchemy import update

    from storage.models import ConversationRow
    from storage.repository import SqlContactBook

    assert isinstance(book, SqlContactBook)
    await book._connection.execute(
        update(ConversationRow)
        .where(ConversationRow.owner_id == book._owner_id)
        .values(outcomes=tag.value, response=Expectation.GLAD.value)
    )


async def test_a_quiet_week_gets_a_short_kind_recap(
    recaps: RecapRunner, user: MakeUser, fake_slack: FakeSlack
) -> None:
    await user("U1", "Dana Whitfield")
    await recaps.run_once(at(2026, 12, 4, 16, 0))
    [message] = fake_slack.messages_to("DU1")
    body = texts(message)
    assert "A quiet week — that happens." in body
    assert "One question" not in body and "Fears vs facts" not in body
    assert [b["text"]["text"] for b in buttons(message)] == [
        "Set a goal of 3 a week",
        "Start with 1 a week",
    ]
    assert len(message["blocks"]) <= 6
    assert fake_slack.shared_files == []  # nothing recorded, nothing to draw


async def test_the_streak_counts_weeks_met_and_a_miss_starts_afresh(
    recaps: RecapRunner,
    user: MakeUser,
    service: Reconnect,
    clock: Clock,
    fake_slack: FakeSlack,
) -> None:
    caller = await user("U1", "Dana Whitfield", "Priya Raman")
    clock.now = at(2026, 11, 9, 9, 0)  # Monday, three weeks before
    await service.command(caller, "goal 1")
    for monday in (date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 30)):
        tuesday = monday + timedelta(days=1)
        clock.now = at(tuesday.year, tuesday.month, tuesday.day, 9, 0)
        await service.command(caller, "log Dana")
    await recaps.run_once(at(2026, 11, 20, 16, 0))
    await recaps.run_once(at(2026, 11, 27, 16, 0))  # the week of 23 Nov: missed
    await recaps.run_once(at(2026, 12, 4, 16, 0))
    first, missed, after = (texts(m) for m in fake_slack.messages_to("DU1"))
    assert "Goal met: 1 of 1 this week. Streak: 2 weeks in a row." in first
    assert "0 of 1 this week. Streak: 2 weeks in a row." in missed  # not over until Sunday
    assert "Goal met: 1 of 1 this week. Streak: 1 week — keep it going." in after
    for text in (first, missed, after):
        assert "fail" not in text.lower() and "broke" not in text.lower()


async def test_wins_heard_this_week_are_in_the_recap(
    recaps: RecapRunner, user: MakeUser, service: Reconnect, clock: Clock, fake_slack: FakeSlack
) -> None:
    caller = await user("U1", "Dana Whitfield", "Priya Raman", "Marcus Chen")
    clock.now = at(2026, 11, 30, 9, 0)  # Monday
    await service.command(caller, "win Dana -- started as CFO at Acme")
    clock.now = at(2026, 12, 2, 9, 0)
    await service.command(caller, "win Priya -- she launched her book!")
    await service.command(caller, "win Marcus -- was laid off, keep it quiet")
    await recaps.run_once(at(2026, 12, 4, 16, 0))
    [message] = fake_slack.messages_to("DU1")
    body = texts(message)
    assert (
        "Good news you heard\n• Dana Whitfield started as CFO at Acme.\n"
        "• Priya Raman launched her book." in body
    )
    assert "Marcus" not in body and "laid off" not in body
    assert "No one reached, but there was news worth a look below." in body


async def test_a_chart_that_fails_leaves_the_recap_to_go_out_alone(
    recaps: RecapRunner,
    user: MakeUser,
    service: Reconnect,
    clock: Clock,
    fake_slack: FakeSlack,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caller = await user("U1", "Dana Whitfield")
    clock.now = at(2026, 12, 2, 9, 0)
    await service.command(caller, "log Dana -- lunch")

    async def broken(user_id: int) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(recaps.recaps, "evidence_history", broken)
    summary = await recaps.run_once(at(2026, 12, 4, 16, 0))
    assert summary.sent == 1
    [message] = fake_slack.messages_to("DU1")
    assert "You reached 1 person: Dana Whitfield." in texts(message)
    assert fake_slack.shared_files == []
    assert [status for *_, status in await recap_rows(engine)] == ["sent"]


async def test_a_failed_chart_upload_still_counts_the_recap_sent_once(
    recaps: RecapRunner,
    user: MakeUser,
    service: Reconnect,
    clock: Clock,
    fake_slack: FakeSlack,
    engine: AsyncEngine,
) -> None:
    caller = await user("U1", "Dana Whitfield")
    clock.now = at(2026, 12, 2, 9, 0)
    await service.command(caller, "log Dana -- lunch")
    fake_slack.fail("files.completeUploadExternal", status=200, error="missing_scope")
    summary = await recaps.run_once(at(2026, 12, 4, 16, 0))
    assert (summary.sent, summary.failed) == (1, 0)
    assert len(fake_slack.messages_to("DU1")) == 1
    assert fake_slack.shared_files == []
    again = await recaps.run_once(at(2026, 12, 4, 16, 30))
    assert (again.sent, again.already) == (0, 1)


# --- dry run ------------------------------------------------------------------------------------


async def test_a_dry_run_shows_each_recap_in_full_and_sends_nothing(
    recaps: RecapRunner, user: MakeUser, service: Reconnect, clock: Clock, engine: AsyncEngine,
    fake_slack: FakeSlack,
) -> None:  # fmt: skip
    caller = await user("U1", "Dana Whitfield")
    clock.now = at(2026, 12, 2, 9, 0)
    await service.command(caller, "log Dana -- lunch")
    now = at(2026, 12, 4, 16, 0)
    summary = await recaps.run_once(now, dry_run=True)
    lines = "\n".join(await report(recaps, summary, now, dry_run=True))
    assert lines.startswith("dry run: due 1 · sent 0")
    assert "--- would send to slack:T1:U1 ---" in lines
    assert "You reached 1 person: Dana Whitfield." in lines
    assert "One question to sit with:" in lines
    # The chart is named and described, not dumped.
    assert "[with reconnect-week-2026-12-04.png (image/png, " in lines
    assert "Chart. Left: your predicted versus actual responses." in lines
    assert "PNG" not in lines.replace("reconnect-week-2026-12-04.png", "")
    assert fake_slack.calls_to("files.getUploadURLExternal") == []
    assert await recap_rows(engine) == []
    assert fake_slack.messages_to("DU1") == []
    nobody = await recaps.run_once(at(2026, 12, 3, 16, 0), dry_run=True)
    why = "\n".join(await report(recaps, nobody, at(2026, 12, 3, 16, 0), dry_run=True))
    assert "nobody's weekly recap" in why


async def test_a_dry_run_with_nobody_to_recap_says_why(recaps: RecapRunner, user: MakeUser) -> None:
    await user("U1")  # no contacts
    now = at(2026, 12, 4, 16, 0)
    summary = await recaps.run_once(now, dry_run=True)
    lines = "\n".join(await report(recaps, summary, now, dry_run=True))
    assert "nobody on slack has added a contact yet" in lines


async def test_prefs_default_is_friday_16(user: MakeUser, store: SqlStore) -> None:
    caller = await user("U1", "Dana")
    async with store.book(caller.user, write=False) as book:
        assert await book.recap_prefs() == RecapPrefs(4, time(16, 0), True)


# --- the goal in the morning nudge --------------------------------------------------------------


async def test_the_morning_nudge_shows_the_weeks_goal(
    runner, user: MakeUser, service: Reconnect, clock: Clock, fake_slack: FakeSlack
) -> None:
    ada = await user("U1", "Dana Whitfield", "Priya Raman", tz="Asia/Tokyo")
    await user("U2", "Bo Li", tz="Asia/Tokyo")  # no goal: no line
    clock.now = at(2026, 11, 30, 1, 0)  # Monday 10:00 in Tokyo
    await service.command(ada, "goal 3")
    await service.command(ada, "log Dana -- coffee")
    clock.now = at(2026, 11, 29, 23, 0)  # Monday 08:00 in Tokyo, still Sunday in UTC
    await service.command(ada, "log Priya -- call")
    await runner.run_once(at(2026, 11, 30, 23, 30))  # Tuesday 08:30 in Tokyo
    [nudge] = fake_slack.messages_to("DU1")
    assert "🎯 Weekly goal: 2 of 3 this week" in texts(nudge)
    [other] = fake_slack.messages_to("DU2")
    assert "Weekly goal" not in texts(other)
