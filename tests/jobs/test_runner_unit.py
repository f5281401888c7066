"""The nudge runner's delivery decisions, on the in-memory store and messenger: no database, no
HTTP, no real waiting (every wait the runner asks for is recorded instead of slept).

The end-to-end paths and the storage contract stay on SQLite and PostgreSQL (test_runner.py,
test_faults.py, test_nudge_store_contract.py); these pin down each decision exactly: which
attempts and outcomes are recorded, how many posts are made, what is waited for.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

import jobs.runner
from bot.core.model import ContactDraft, UserRef
from bot.core.ports import DeliveryError, DeliveryKind
from bot.core.schedule import NudgePrefs
from jobs.runner import NudgeConfig, NudgeRunner
from storage.records import AttemptOutcome, AttemptStart, NudgeStatus
from tests.fakes.memory_messenger import Delivered, MemoryMessenger, Stall
from tests.fakes.memory_nudges import MemoryNudgeStore
from tests.fakes.memory_store import MemoryStore
from tests.support import Clock

DAY = date(2026, 12, 1)  # a Tuesday
AT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
CONFIG = NudgeConfig(max_attempts=3, max_rate_limit_waits=4, backoff_base=0.01, backoff_max=0.05)
CEILING = CONFIG.max_attempts + CONFIG.max_rate_limit_waits
DEAD = "elsewhere:99999:dead"


def transient(code: str = "internal_error") -> DeliveryError:
    return DeliveryError(DeliveryKind.TRANSIENT, code)


def ratelimited(retry_after: float | None) -> DeliveryError:
    return DeliveryError(DeliveryKind.RATELIMITED, "ratelimited", retry_after)


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the runner asks for, none of them slept (the heartbeat loop's excepted: it
    is cancelled at the end of each pass)."""
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    class RunnersAsyncio:
        def __getattr__(self, name: str) -> Any:
            return getattr(asyncio, name)

        @staticmethod
        async def sleep(delay: float) -> None:
            if delay >= CONFIG.heartbeat_every:
                await real_sleep(delay)
            if delay > 0:
                recorded.append(delay)
            await real_sleep(0)

    monkeypatch.setattr(jobs.runner, "asyncio", RunnersAsyncio())
    return recorded


@dataclass
class Env:
    books: MemoryStore = field(default_factory=MemoryStore)
    clock: Clock = field(default_factory=lambda: Clock(AT))
    slack: MemoryMessenger = field(default_factory=MemoryMessenger)

    def __post_init__(self) -> None:
        self.store = MemoryNudgeStore(self.books)

    def runner(self, config: NudgeConfig = CONFIG, **kwargs: Any) -> NudgeRunner:
        return NudgeRunner(
            self.store,
            {"slack": self.slack},
            config=config,
            clock=self.clock,
            wall_clock=self.clock,  # heartbeats and claims on the test's clock too
            **kwargs,
        )

    async def user(self, user_id: str, *contacts: str, cards: int = 3) -> int:
        ref = UserRef("slack", "T1", user_id)
        async with self.books.book(ref) as book:
            await book.save_prefs(
                NudgePrefs(timezone="UTC", time=time(8, 30), days=0b1111111, cards=cards),
                timezone_from_user=True,
            )
            for name in contacts:
                await book.add(ContactDraft(name=name), due_on=DAY - timedelta(3), today=DAY)
        return self.store.user_id(ref)

    def outcomes(self, nudge_id: int) -> list[tuple[int, str | None]]:
        return [(a.number, a.outcome) for a in self.store.attempts_of(nudge_id)]

    def only_nudge(self) -> int:
        [nudge_id] = self.store.nudges
        return nudge_id

    async def left_by(self, worker: str, uid: int, *, attempts: int = 0, status: str = "") -> int:
        """A nudge ``worker`` claimed five minutes ago, with ``attempts`` closed as transient
        errors, then maybe given up (``status="failed"``)."""
        then = AT - timedelta(minutes=5)
        nudge_id = (await self.store.claim([(uid, DAY)], worker, then))[uid]
        for number in range(1, attempts + 1):
            await self.store.start_attempts([AttemptStart(nudge_id, number, worker, then, "")])
            await self.store.record_outcomes([AttemptOutcome(nudge_id, uid, number, "transient")])
        if status:
            await self.store.record_outcomes(
                [AttemptOutcome(nudge_id, uid, 0, "gave_up", status=NudgeStatus(status))]
            )
        return nudge_id


@pytest.fixture
def env() -> Iterator[Env]:
    yield Env()


# --- sending -----------------------------------------------------------------------------------


async def test_a_nudge_is_posted_once_and_recorded(env: Env) -> None:
    uid = await env.user("U1", "Dana Whitfield")
    summary = await env.runner().run_once(AT)
    assert (summary.due, summary.sent, summary.failed) == (1, 1, 0)
    [posted] = env.slack.to("U1")
    assert "Dana Whitfield" in repr(posted.reply)
    nudge_id = env.only_nudge()
    nudge = env.store.nudges[nudge_id]
    assert (nudge.status, nudge.channel, nudge.message_id) == ("sent", "DU1", posted.message_id)
    assert posted.key == f"reconnect-nudge-{nudge_id}"
    assert env.outcomes(nudge_id) == [(1, "sent")]
    assert env.store.users()[uid].dm_channel == "DU1"  # Slack named the DM: cached
    assert env.slack.calls == [("post", "U1")]  # straight to the user id: no open, no find
    # The attempt and its content were written before the post; the outcome after.
    assert env.store.calls.index("start_attempts") < env.store.calls.index("record_outcomes")
    again = await env.runner().run_once(AT + timedelta(minutes=1))
    assert (again.already, again.sent) == (1, 0) and len(env.slack.posted) == 1


async def test_a_pass_sets_older_objects_aside_from_the_collector_and_hands_them_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    await env.user("U1", "Dana Whitfield")
    frozen_while_posting: list[int] = []
    post = env.slack.post

    async def watched(channel: str, reply: Any, key: str) -> Any:
        frozen_while_posting.append(gc.get_freeze_count())
        return await post(channel, reply, key)

    monkeypatch.setattr(env.slack, "post", watched)
    before = gc.get_freeze_count()
    await env.runner().run_once(AT)
    assert frozen_while_posting and frozen_while_posting[0] > before
    assert gc.get_freeze_count() == 0  # nothing stays out of the collector's reach
    await env.runner().decide_all(AT + timedelta(days=1))
    assert gc.get_freeze_count() == 0


async def test_a_permanent_error_is_undeliverable_after_one_post(env: Env) -> None:
    uid = await env.user("U1", "Dana")
    env.slack.fail("post", DeliveryError(DeliveryKind.PERMANENT, "account_inactive"))
    summary = await env.runner().run_once(AT)
    assert (summary.sent, summary.undeliverable, summary.failed) == (0, 1, 0)
    assert env.slack.count("post") == 1
    nudge = env.store.nudges[env.only_nudge()]
    assert (nudge.status, nudge.error) == ("undeliverable", "account_inactive")
    assert env.outcomes(nudge.id) == [(1, "permanent")]
    assert env.store.users()[uid].undeliverable == "account_inactive"
    tomorrow = await env.runner().run_once(AT + timedelta(days=1))
    assert tomorrow.due == 0  # no longer a recipient


async def test_transient_errors_are_retried_up_to_max_attempts_then_given_up(
    env: Env, waits: list[float]
) -> None:
    await env.user("U1", "Dana")
    env.slack.fail("post", *(transient() for _ in range(CONFIG.max_attempts)))
    summary = await env.runner().run_once(AT)
    assert (summary.sent, summary.failed) == (0, 1)
    assert env.slack.count("post") == CONFIG.max_attempts
    nudge = env.store.nudges[env.only_nudge()]
    assert (nudge.status, nudge.error, nudge.attempts) == ("failed", "3 attempts", 3)
    assert env.outcomes(nudge.id) == [(1, "transient"), (2, "transient"), (3, "transient")]
    # After each failure: exponential backoff, then a look whether it arrived after all.
    assert env.slack.count("find") == CONFIG.max_attempts
    assert len(waits) == 3
    assert all(0 < w <= CONFIG.backoff_base * 2**k for k, w in enumerate(waits))


async def test_a_failed_post_that_arrived_after_all_is_not_sent_again(env: Env) -> None:
    await env.user("U1", "Dana")
    env.slack.fail("post", Delivered(transient("timeout")))
    summary = await env.runner().run_once(AT)
    assert summary.sent == 1
    [posted] = env.slack.posted
    nudge = env.store.nudges[env.only_nudge()]
    assert (nudge.status, nudge.message_id) == ("sent", posted.message_id)
    assert env.outcomes(nudge.id) == [(1, "transient")]
    assert env.slack.count("post") == 1


async def test_rate_limits_honour_retry_after_and_are_not_failures(
    env: Env, waits: list[float]
) -> None:
    await env.user("U1", "Dana")
    config = NudgeConfig(max_attempts=2, max_rate_limit_waits=5, backoff_base=0.01)
    # More 429s than max_attempts, and one real failure among them: still sent.
    env.slack.fail("post", ratelimited(2.0), ratelimited(None), transient(), ratelimited(0.0))
    summary = await env.runner(config).run_once(AT)
    assert (summary.sent, summary.failed) == (1, 0)
    nudge_id = env.only_nudge()
    assert env.outcomes(nudge_id) == [
        (1, "ratelimited"), (2, "ratelimited"), (3, "transient"), (4, "ratelimited"), (5, "sent"),
    ]  # fmt: skip
    assert env.slack.count("find") == 1  # a 429 sent nothing: only the 5xx needs a look
    retry_after, default, backoff, *rest = waits
    assert 2.0 <= retry_after <= 3.0  # Retry-After plus at most a second of jitter
    assert 1.0 <= default <= 1.6  # no Retry-After: a second, plus jitter
    assert 0 < backoff <= 0.01
    assert all(0 < w <= 0.1 for w in rest)  # Retry-After: 0 waits only the jitter


async def test_rate_limit_waits_have_their_own_limit(env: Env) -> None:
    await env.user("U1", "Dana")
    env.slack.fail("post", *(ratelimited(0) for _ in range(CONFIG.max_rate_limit_waits)))
    summary = await env.runner().run_once(AT)
    assert (summary.sent, summary.failed) == (0, 1)
    assert env.slack.count("post") == CONFIG.max_rate_limit_waits  # 4: more than max_attempts
    nudge = env.store.nudges[env.only_nudge()]
    assert (nudge.status, nudge.error) == ("failed", "4 attempts")
    assert [o for _, o in env.outcomes(nudge.id)] == ["ratelimited"] * 4


async def test_a_bug_delivering_one_nudge_does_not_stop_the_others(env: Env) -> None:
    await env.user("U1", "Dana")
    await env.user("U2", "Bo")
    env.slack.fail("post", RuntimeError("boom"))
    summary = await env.runner().run_once(AT)
    assert (summary.sent, summary.failed) == (1, 1)
    statuses = sorted((n.status, n.error) for n in env.store.nudges.values())
    assert statuses == [("failed", "RuntimeError"), ("sent", None)]


# --- reaching the user -------------------------------------------------------------------------


async def test_a_cached_channel_that_went_away_is_reopened_and_retried(env: Env) -> None:
    env.slack.direct = False  # like Teams: every post needs the conversation
    uid = await env.user("U1", "Dana")
    await env.store.set_dm_channels({uid: "DGONE"})
    summary = await env.runner().run_once(AT)
    assert (summary.sent, summary.undeliverable) == (1, 0)
    assert env.slack.calls == [("post", "DGONE"), ("open_channel", "U1"), ("post", "DU1")]
    nudge = env.store.nudges[env.only_nudge()]
    assert (nudge.status, nudge.channel) == ("sent", "DU1")
    assert env.outcomes(nudge.id) == [(1, "permanent"), (2, "sent")]
    row = env.store.users()[uid]
    assert (row.dm_channel, row.undeliverable) == ("DU1", None)


async def test_a_gone_cached_channel_with_a_direct_address_posts_there(env: Env) -> None:
    uid = await env.user("U1", "Dana")
    await env.store.set_dm_channels({uid: "DGONE"})
    assert (await env.runner().run_once(AT)).sent == 1
    assert env.slack.calls == [("post", "DGONE"), ("post", "U1")]
    assert env.store.users()[uid].dm_channel == "DU1"


async def test_channel_not_found_on_a_fresh_channel_is_undeliverable(env: Env) -> None:
    env.slack.direct = False
    await env.user("U1", "Dana")
    env.slack.fail("post", DeliveryError(DeliveryKind.PERMANENT, "channel_not_found"))
    summary = await env.runner().run_once(AT)
    assert summary.undeliverable == 1
    assert env.slack.calls == [("open_channel", "U1"), ("post", "DU1")]


async def test_when_the_gone_channel_cannot_be_reopened_the_nudge_fails(env: Env) -> None:
    env.slack.direct = False
    uid = await env.user("U1", "Dana")
    await env.store.set_dm_channels({uid: "DGONE"})
    env.slack.fail("open_channel", *(transient() for _ in range(CONFIG.max_attempts)))
    summary = await env.runner().run_once(AT)
    assert (summary.sent, summary.failed, summary.undeliverable) == (0, 1, 0)
    assert env.slack.count("open_channel") == CONFIG.max_attempts
    nudge = env.store.nudges[env.only_nudge()]
    assert env.outcomes(nudge.id) == [(1, "permanent")]
    assert (nudge.status, nudge.error) == ("failed", "1 attempts")
    assert env.store.users()[uid].dm_channel is None  # forgotten, not replaced


async def test_a_user_whose_conversation_cannot_be_opened(env: Env) -> None:
    env.slack.direct = False
    await env.user("U1", "Dana")
    await env.user("U2", "Bo")
    env.slack.fail("open_channel", DeliveryError(DeliveryKind.PERMANENT, "user_not_found"))
    summary = await env.runner().run_once(AT)
    assert (summary.undeliverable, summary.sent) == (1, 1)
    marks = sorted(str(row.undeliverable) for row in env.store.users().values())
    assert marks == ["None", "user_not_found"]
    [refused] = [n for n in env.store.nudges.values() if n.status == "undeliverable"]
    assert env.outcomes(refused.id) == []  # nothing was posted: no attempt
    assert refused.error == "user_not_found"


# --- taking over ------------------------------------------------------------------------------


async def _killed_mid_send(env: Env, *, delivered: bool) -> int:
    """A first worker's pass that dies while its post is in flight; then its heartbeat goes
    stale. Returns the nudge's id."""
    env.slack.fail("post", Stall(delivered=delivered))
    first = env.runner(worker=DEAD)
    task = asyncio.create_task(first.run_once(AT))
    await env.slack.stalling.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    env.clock.advance(minutes=5)  # past stale_after
    return env.only_nudge()


async def test_a_dead_workers_send_that_arrived_is_found_not_repeated(env: Env) -> None:
    await env.user("U1", "Dana")
    nudge_id = await _killed_mid_send(env, delivered=True)
    assert env.outcomes(nudge_id) == [(1, None)]  # in doubt
    [posted] = env.slack.posted
    summary = await env.runner().run_once(AT + timedelta(minutes=5))
    assert summary.sent == 1
    assert env.slack.count("post") == 1  # the dead worker's only
    nudge = env.store.nudges[nudge_id]
    assert (nudge.status, nudge.message_id) == ("sent", posted.message_id)
    assert env.outcomes(nudge_id) == [(1, "found_existing")]
    # Looked for it since shortly before it was claimed.
    assert env.slack.finds_since == [AT - timedelta(minutes=10)]


async def test_a_dead_workers_send_that_never_arrived_is_abandoned_then_resent(env: Env) -> None:
    await env.user("U1", "Dana")
    nudge_id = await _killed_mid_send(env, delivered=False)
    [meant] = env.slack.stalled
    summary = await env.runner().run_once(AT + timedelta(minutes=5))
    assert summary.sent == 1
    [posted] = env.slack.posted
    assert posted.reply == meant  # the stored content, re-rendered: the same message
    assert env.outcomes(nudge_id) == [(1, "abandoned"), (2, "sent")]
    assert env.store.attempts[nudge_id, 1].detail == "not found; resending"
    assert env.store.nudges[nudge_id].status == "sent"


@pytest.mark.parametrize(
    ("register", "taken"),
    [
        ("alive elsewhere", False),
        ("stale heartbeat", True),
        ("dead process on this host", True),
        ("never registered", True),
    ],
)
async def test_only_a_dead_workers_claim_is_taken_over(
    env: Env, register: str, taken: bool
) -> None:
    uid = await env.user("U1", "Dana")
    if register == "alive elsewhere":
        await env.store.heartbeat("other", "elsewhere", 1, AT - timedelta(seconds=30))
    elif register == "stale heartbeat":
        await env.store.heartbeat("other", "elsewhere", 1, AT - timedelta(seconds=91))
    elif register == "dead process on this host":
        await env.store.heartbeat("other", socket.gethostname(), 4_194_305, AT)  # > pid_max
    nudge_id = await env.left_by("other", uid)
    runner = env.runner()
    summary = await runner.run_once(AT)
    assert (summary.busy, summary.sent) == ((0, 1) if taken else (1, 0))
    assert len(env.slack.posted) == (1 if taken else 0)
    assert ("take_over" in env.store.calls) is taken
    assert env.store.nudges[nudge_id].worker == (runner.worker if taken else "other")
    assert env.slack.count("find") == 0  # no attempt was made: nothing to look for


async def test_a_failed_nudge_is_retried_until_the_attempt_ceiling(env: Env) -> None:
    uid = await env.user("U1", "Dana")
    nudge_id = await env.left_by(DEAD, uid, attempts=CEILING - 1, status="failed")
    summary = await env.runner().run_once(AT)
    assert (summary.sent, summary.failed) == (1, 0)
    # Earlier attempts may have arrived: looked first; none was left open, so none abandoned.
    assert env.slack.count("find") == 1
    assert env.outcomes(nudge_id)[-2:] == [(CEILING - 1, "transient"), (CEILING, "sent")]


async def test_a_failed_nudge_at_the_attempt_ceiling_is_left_failed(env: Env) -> None:
    uid = await env.user("U1", "Dana")
    nudge_id = await env.left_by(DEAD, uid, attempts=CEILING, status="failed")
    summary = await env.runner().run_once(AT)
    assert (summary.due, summary.failed, summary.sent, summary.busy) == (1, 1, 0, 0)
    assert env.slack.calls == [] and "take_over" not in env.store.calls
    assert env.store.nudges[nudge_id].status == "failed"


async def test_a_lost_take_over_race_counts_as_busy(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    uid = await env.user("U1", "Dana")
    await env.left_by(DEAD, uid)
    store = env.store
    real = store.take_over

    async def someone_else_first(*args: Any) -> bool:
        [state] = (await store.existing([DAY])).values()
        assert await real(state, "quicker", AT)
        return await real(*args)

    monkeypatch.setattr(store, "take_over", someone_else_first)
    summary = await env.runner().run_once(AT)
    assert (summary.busy, summary.sent) == (1, 0) and env.slack.posted == []


# --- previews ---------------------------------------------------------------------------------


async def test_dry_run_previews_new_and_taken_over_nudges_and_changes_nothing(env: Env) -> None:
    taken = await env.user("U0", "Ada")
    await env.user("U1", "Bo")
    await env.user("U2", "Cy")
    await env.left_by(DEAD, taken)
    env.store.calls.clear()
    summary = await env.runner().run_once(AT, dry_run=True)
    assert (summary.due, summary.sent, summary.busy, summary.already) == (3, 0, 0, 0)
    who = [p.split(": ", 1)[0] for p in summary.previews]
    assert who == ["slack:T1:U1", "slack:T1:U2", "slack:T1:U0"]  # new ones, then take-overs
    assert "Cy" in summary.previews[1]
    assert env.slack.calls == []
    [nudge] = env.store.nudges.values()
    assert (nudge.worker, nudge.status) == (DEAD, "claimed")  # left as it was
    assert not {"claim", "take_over", "start_attempts", "record_outcomes"} & set(env.store.calls)
    assert list(summary.phases) == ["plan"]


async def test_dry_run_previews_at_most_twenty(env: Env) -> None:
    for i in range(23):
        await env.user(f"U{i:02}", "Dana")
    summary = await env.runner().run_once(AT, dry_run=True)
    assert summary.due == 23 and len(summary.previews) == 20


# --- workers ----------------------------------------------------------------------------------


async def test_a_pass_registers_its_worker_and_a_clean_stop_deregisters_it(env: Env) -> None:
    runner = env.runner(worker="me")
    await runner.run_once(AT)
    host, pid, beat = (await env.store.workers())["me"]
    assert (host, pid, beat) == (socket.gethostname(), os.getpid(), AT)
    await runner.stop()
    await runner.close()
    assert await env.store.workers() == {} and env.slack.closed == 1


# --- the delivery writes ----------------------------------------------------------------------


async def test_one_transaction_carries_the_attempts_and_outcomes_of_concurrent_sends(
    env: Env,
) -> None:
    for n in range(6):
        await env.user(f"U{n}", "Dana")
    groups: list[tuple[int, int]] = []
    write = env.store.record_delivery

    async def counting(starts: Any, outcomes: Any, channels: dict[int, str | None]) -> None:
        groups.append((len(starts), len(outcomes)))
        await write(starts, outcomes, channels)

    env.store.record_delivery = counting  # type: ignore[method-assign]
    summary = await env.runner().run_once(AT)
    assert summary.sent == 6 and len(env.slack.posted) == 6
    # Six sends at once: their attempts in one group, their outcomes (not waited for) in the
    # next, not twelve transactions.
    assert sum(s for s, _ in groups) == 6 and sum(o for _, o in groups) == 6
    assert len(groups) <= 3, groups


async def test_an_outcome_that_cannot_be_written_fails_the_pass_and_leaves_the_send_in_doubt(
    env: Env,
) -> None:
    await env.user("U1", "Dana")

    class DatabaseDown(Exception):
        pass

    async def failing(outcomes: Any) -> None:
        raise DatabaseDown

    healthy = env.store.record_outcomes
    env.store.record_outcomes = failing  # type: ignore[method-assign]
    runner = env.runner()
    with pytest.raises(DatabaseDown):
        await runner.run_once(AT)  # the pass does not report the nudge as sent
    nudge_id = env.only_nudge()
    assert len(env.slack.to("U1")) == 1
    assert env.outcomes(nudge_id) == [(1, None)]  # open: the post may have arrived
    env.store.record_outcomes = healthy  # type: ignore[method-assign]
    env.clock.advance(minutes=5)
    again = await env.runner().run_once()
    # Taken over (its worker stopped heartbeating), found at the platform, not sent again.
    assert len(env.slack.to("U1")) == 1
    assert env.store.nudges[nudge_id].status == "sent", again.line()


async def test_a_pass_that_sent_many_has_the_database_look_at_the_nudges_again() -> None:
    for threshold, looked in ((4, 0), (3, 1)):
        env = Env()
        for n in range(3):
            await env.user(f"U{n}", "Dana")
        summary = await env.runner(replace(CONFIG, analyze_after=threshold)).run_once(AT)
        assert summary.sent == 3
        assert env.store.calls.count("refresh_statistics") == looked  # 3 sent: 4 is too many
