"""``storage.group_reads`` on SQLite and PostgreSQL: a snapshot reads only what each member's
level allows, groups are scoped to the asking coach and workspace, check-ins are one a week,
and the week's wins thread is claimed by exactly one sharer (taken over when abandoned)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.coach import TREND_WEEKS
from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef
from bot.core.service import Caller, Reconnect
from storage.group_reads import SqlCoachStore
from storage.models import GroupPost
from tests.groups_rows import make_group, user_id

WEEK = date(2026, 11, 23)
COACH = UserRef("slack", "T1", "U9")
LEVELS = {UserRef("slack", "T1", f"U{i}"): level for i, level in enumerate(SharingLevel, start=1)}


async def seeded(engine: AsyncEngine, service: Reconnect) -> int:
    group = await make_group(
        engine, "Spring", "C1", COACH, [(u, lv.value, u.user_id) for u, lv in LEVELS.items()]
    )
    for user in LEVELS:
        caller = Caller(user)
        await service.command(caller, "add Dana Whitfield -- SECRET")
        await service.command(caller, "reached Dana")
        await service.command(caller, "log Dana went well -- an interview next: send CV by friday")
    return group


async def test_a_snapshot_reads_only_what_each_level_allows(
    engine: AsyncEngine, service: Reconnect
) -> None:
    store = SqlCoachStore(engine)
    await seeded(engine, service)
    [group] = await store.coached_groups(COACH)
    snapshot = await store.snapshot(group, WEEK, TREND_WEEKS)
    by_level = {m.level: m for m in snapshot.members}
    assert set(by_level) == set(SharingLevel)
    for level, m in by_level.items():
        numbers = level.allows(SharingLevel.NUMBERS)
        assert bool(m.weeks) == numbers and (m.last_active is not None) == numbers
        if numbers:
            assert len(m.weeks) == TREND_WEEKS
            week = m.weeks[-1]
            assert (week.outreach, week.replies, week.conversations, week.reached) == (1, 1, 1, 1)
        assert m.reached_names == (("Dana Whitfield",) if level.allows(SharingLevel.NAMES) else ())
        outcomes = level.allows(SharingLevel.OUTCOMES)
        assert [o.words for o in m.outcomes] == (["an interview"] if outcomes else [])
        assert [s.text for s in m.steps] == (["send CV"] if outcomes else [])


async def test_groups_are_scoped_to_their_coaches_and_workspace(engine: AsyncEngine) -> None:
    store = SqlCoachStore(engine)
    group = await make_group(engine, "Spring", "C1", COACH, [])
    other = await make_group(engine, "Autumn", "C2", UserRef("slack", "T1", "U8"), [])
    assert [g.id for g in await store.coached_groups(COACH)] == [group]
    assert await store.coached_group(COACH, other) is None
    assert await store.coached_group(UserRef("slack", "T2", "U9"), group) is None
    assert await store.coached_group(UserRef("teams", "T1", "U9"), group) is None
    assert await store.group_in_channel(COACH, "C2") is None
    assert (await store.group_in_channel(COACH, "C1")) is not None


async def test_one_check_in_per_member_per_week_and_a_failed_one_is_released(
    engine: AsyncEngine,
) -> None:
    store = SqlCoachStore(engine)
    ada = UserRef("slack", "T1", "U1")
    group = await make_group(engine, "Spring", "C1", COACH, [(ada, "numbers", "Ada")])
    member = await user_id(engine, ada)
    first = await store.claim_checkin(group, member, COACH, WEEK)
    assert first is not None
    assert await store.claim_checkin(group, member, COACH, WEEK) is None
    await store.checkin_done(first, ok=False)
    again = await store.claim_checkin(group, member, COACH, WEEK)
    assert again is not None and await store.checked_in(group, member, WEEK)
    await store.checkin_done(again, ok=True)
    assert await store.claim_checkin(group, member, COACH, WEEK) is None
    assert await store.claim_checkin(group, member, COACH, WEEK + timedelta(days=7)) is not None


async def test_the_wins_thread_is_claimed_once_and_taken_over_when_abandoned(
    engine: AsyncEngine,
) -> None:
    store = SqlCoachStore(engine)
    ada, ben = UserRef("slack", "T1", "U1"), UserRef("slack", "T1", "U2")
    group = await make_group(
        engine, "Spring", "C1", COACH, [(ada, "numbers", "Ada"), (ben, "names", "Ben")]
    )
    first = await store.share_win(ada, group, WEEK, "Got an offer.", "offer", "w1")
    second = await store.share_win(ben, group, WEEK, "Got a referral.", "referral", "w2")
    assert first is not None and second is not None
    assert first.mine and not second.mine and first.post_id == second.post_id
    assert (await store.share_win(ada, group, WEEK, "Got an offer.", "offer", "w1")).duplicate  # type: ignore[union-attr]
    # Abandoned (its claimer died): the next sharer takes it over; once posted, all thread there.
    async with engine.begin() as connection:
        await connection.execute(
            update(GroupPost).values(claimed_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    third = await store.share_win(ben, group, WEEK, "Got an interview.", "interview", "w3")
    assert third is not None and third.mine
    await store.posted("parent", third.post_id, "1700.1")
    fourth = await store.share_win(ada, group, WEEK, "Another.", "went well", "w4")
    assert fourth is not None and (fourth.mine, fourth.parent_message_id) == (False, "1700.1")
    # Someone not in the group, or in another workspace, shares nothing.
    assert (
        await store.share_win(UserRef("slack", "T1", "U7"), group, WEEK, "x", "offer", "w") is None
    )
    assert (
        await store.share_win(UserRef("slack", "T2", "U1"), group, WEEK, "x", "offer", "w") is None
    )
