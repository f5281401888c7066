"""Building the nudge runner and the scheduler from settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.messenger import SlackMessenger, web_client
from bot.core.ports import Messenger
from bot.settings import Settings
from jobs.buddy_runner import BuddyRunner
from jobs.group_runner import GroupRunner
from jobs.purge import Purger
from jobs.recap_runner import RecapRunner
from jobs.runner import Clock, NudgeConfig, NudgeRunner
from storage import db
from storage.nudges import NudgeStore
from storage.recap_reads import RecapStore

log = structlog.get_logger(__name__)

#: The scheduler's jobs.
JOB_ID = "morning-nudges"
PURGE_JOB_ID = "purge"


def build_messengers(
    settings: Settings, engine: AsyncEngine, env: Mapping[str, str] | None = None
) -> dict[str, Messenger]:
    """A messenger for each configured platform."""
    messengers: dict[str, Messenger] = {}
    if settings.teams is not None:
        from bot.adapters.teams.hosting import build_hosting
        from bot.adapters.teams.messenger import TeamsMessenger
        from storage.held_files import HeldFiles
        from storage.repository import SqlStore

        store = SqlStore(engine)
        messengers["teams"] = TeamsMessenger(
            build_hosting(env, allowed_service_urls=settings.teams.allowed_service_urls),
            store,
            held=HeldFiles(engine, write_turn=store.write_turn),
        )
    if settings.slack_bot_token:
        messengers["slack"] = SlackMessenger(
            web_client(settings.slack_bot_token, settings.slack_api_url)
        )
    return messengers


def build_runner(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    messengers: dict[str, Messenger] | None = None,
    env: Mapping[str, str] | None = None,
) -> NudgeRunner:
    """The nudge runner for ``settings``."""
    engine = engine or db.create_engine(settings.database_url, fresh_plans=True)
    batch, ahead = _paging(engine)
    config = NudgeConfig(
        grace=timedelta(hours=settings.nudge_grace_hours),
        concurrency=settings.nudge_concurrency,
        batch=batch,
        pages_ahead=ahead,
    )
    return NudgeRunner(
        NudgeStore(engine),
        messengers if messengers is not None else build_messengers(settings, engine, env),
        config=config,
        clock=clock,
    )


def _paging(engine: AsyncEngine) -> tuple[int, int]:
    """How the morning pass pages its users on this database (docs/benchmarks.md, "Deciding
    100,000 users in 10 s"). PostgreSQL works on the reads while the clock composes: pages of
    1,000 with two read ahead keep it busy (2,000 with one ahead left deciding waiting ~20 % of
    the time) and hold less in memory. SQLite reads in the clock's own process: the larger page
    costs fewer statements, and a second page ahead only costs memory."""
    if engine.dialect.name == "sqlite":
        return 2000, 1  # users a page, pages ahead
    return 1000, 2


def build_recap_runner(
    settings: Settings,
    *,
    engine: AsyncEngine,
    messengers: dict[str, Messenger],
    clock: Clock | None = None,
) -> RecapRunner:
    """The weekly recap runner for ``settings``, sharing the morning runner's messengers."""
    config = NudgeConfig(
        grace=timedelta(hours=settings.nudge_grace_hours),
        concurrency=settings.nudge_concurrency,
        # A recap reads a year of each user's history: pages of 1,000 with two ahead composed
        # 3,000 recaps 15 % slower on PostgreSQL than one page of 2,000 ahead (docs/benchmarks.md,
        # "Deciding 100,000 users in 10 s").
        batch=2000,
        pages_ahead=1,
    )
    return RecapRunner(RecapStore(engine), messengers, config=config, clock=clock)


def build_group_runner(
    engine: AsyncEngine, messengers: dict[str, Messenger], *, clock: Clock | None = None
) -> GroupRunner:
    """The groups' weekly rhythm runner, sharing the morning runner's messengers."""
    from storage.group_posts import GroupPostStore
    from storage.group_stats import GroupStatsStore

    return GroupRunner(GroupPostStore(engine), GroupStatsStore(engine), messengers, clock=clock)


def build_buddy_runner(
    engine: AsyncEngine, messengers: dict[str, Messenger], *, clock: Clock | None = None
) -> BuddyRunner:
    """The weekly practice-buddy runner, sharing the morning runner's messengers."""
    from storage.buddy_runs import BuddyRuns

    return BuddyRunner(BuddyRuns(engine), messengers, clock=clock)


def build_scheduler(
    runner: NudgeRunner,
    recaps: RecapRunner | None = None,
    purger: Purger | None = None,
    groups: GroupRunner | None = None,
    *,
    buddies: BuddyRunner | None = None,
) -> AsyncIOScheduler:
    """An APScheduler that runs a pass at the start of every minute, never two at once: the
    morning nudges, then (with ``recaps``) the weekly recaps, then (with ``groups``) the
    groups' channel posts, then (with ``buddies``) the groups' practice buddies; and the clean-up pass (``purger``) hourly."""
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def tick() -> None:
        try:
            await runner.run_once()
        except Exception:
            log.exception("nudges.pass_failed")
        if recaps is not None:
            try:
                await recaps.run_once()
            except Exception:
                log.exception("recaps.pass_failed")
        if groups is not None:
            try:
                await groups.run_once()
            except Exception:
                log.exception("groups.pass_failed")
        if buddies is not None:
            try:
                await buddies.run_once()
            except Exception:
                log.exception("buddies.pass_failed")

    scheduler.add_job(
        tick,
        CronTrigger(second=0),
        id=JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=50,
    )
    if purger is not None:

        async def purge() -> None:
            try:
                await purger.run_once()
            except Exception:
                log.exception("purge.pass_failed")

        scheduler.add_job(
            purge,
            CronTrigger(minute=17),
            id=PURGE_JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=600,
        )
    return scheduler


def describe_schedule(scheduler: AsyncIOScheduler) -> str:
    """When the scheduler runs passes, for the start-up log line (``cron[second='0']``)."""
    job = scheduler.get_job(JOB_ID)
    return f"{job.trigger} UTC" if job is not None else "none"
