"""Fixtures for the nudge runner: the real store and Slack messenger against the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import SlackMessenger, web_client
from bot.core.model import UserRef
from bot.core.schedule import NudgePrefs
from bot.core.service import Caller, Reconnect
from jobs.runner import NudgeConfig, NudgeRunner
from storage.nudges import NudgeStore
from storage.repository import SqlStore
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.support import Clock

FAST = NudgeConfig(backoff_base=0.01, backoff_max=0.05, concurrency=8)


def at(*args: int) -> datetime:
    """A UTC instant."""
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
async def messenger(fake_slack: FakeSlack) -> AsyncIterator[SlackMessenger]:
    messenger = SlackMessenger(web_client(BOT_TOKEN, fake_slack.api_url))  # as jobs.app
    yield messenger
    await messenger.close()


@pytest.fixture
def make_runner(
    engine: AsyncEngine, messenger: SlackMessenger, clock: Clock
) -> Callable[..., NudgeRunner]:
    def make(**kwargs: object) -> NudgeRunner:
        config = kwargs.pop("config", FAST)
        return NudgeRunner(
            NudgeStore(engine), {"slack": messenger}, config=config, clock=clock, **kwargs
        )  # type: ignore[arg-type]

    return make


@pytest.fixture
def runner(make_runner: Callable[..., NudgeRunner]) -> NudgeRunner:
    return make_runner()


@pytest.fixture
def nudge_store(engine: AsyncEngine) -> NudgeStore:
    return NudgeStore(engine)


@pytest.fixture
def user(service: Reconnect, store: SqlStore) -> Callable[..., Awaitable[Caller]]:
    """Create a Slack user with contacts and nudge settings."""

    async def make(
        user_id: str, *contacts: str, tz: str = "UTC", nudge_at: time = time(8, 30),
        days: int = 0b0011111, cards: int = 3,
    ) -> Caller:  # fmt: skip
        caller = Caller(UserRef("slack", "T1", user_id))
        for line in contacts:
            await service.command(caller, f"add {line}")
        async with store.book(caller.user) as book:
            await book.save_prefs(
                NudgePrefs(timezone=tz, time=nudge_at, days=days, cards=cards),
                timezone_from_user=True,
            )
        return caller

    return make
