"""Assembling and running Reconnect: storage, core, adapters, web server."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack import file_import as slack_files
from bot.adapters.slack import responses as slack_responses
from bot.adapters.slack.app import build_slack_app, build_web_client, drain_deferred
from bot.adapters.slack.pending import PendingCommands, PendingRecovery
from bot.adapters.slack.preflight import check_credentials
from bot.core.dates import Clock, system_clock
from bot.core.groups.coaching import Coaching
from bot.core.service import Reconnect
from bot.database import prepare_database as prepare_database
from bot.settings import Settings
from bot.web import build_web_app
from storage import db
from storage.group_reads import SqlCoachStore
from storage.group_rhythm import SqlRhythmGroups
from storage.groups import SqlGroups
from storage.repository import SqlStore

if TYPE_CHECKING:
    from bot.adapters.teams.hosting import TeamsHosting

log = structlog.get_logger(__name__)


@dataclass
class ReconnectApp:
    """Everything one process runs, built by :func:`build_app`. ``close()`` releases it."""

    settings: Settings
    engine: AsyncEngine
    service: Reconnect
    web: web.Application
    slack: AsyncApp | None = None
    teams: TeamsHosting | None = None
    #: Slack commands acknowledged early, recorded until their work commits.
    pending: PendingCommands | None = None

    async def close(self) -> None:
        """Dispose of the database engine."""
        await self.engine.dispose()


def build_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    engine: AsyncEngine | None = None,
    env: Mapping[str, str] | None = None,
) -> ReconnectApp:
    """Build (but do not start) the whole application from ``settings``.

    ``env`` is where the Agents SDK reads its ``CONNECTIONS__…`` settings (default: os.environ).
    """
    engine = engine or db.create_engine(settings.database_url)
    store = SqlStore(engine)
    groups = SqlGroups(engine, write_turn=store.write_turn)
    coaching = Coaching(SqlCoachStore(engine, write_turn=store.write_turn), clock=clock)
    service = Reconnect(
        store,
        clock=clock,
        groups=groups,
        rhythm_groups=SqlRhythmGroups(engine),
        share=coaching,
    )
    slack = None
    pending = None
    if settings.slack_bot_token:
        slack, timezones, pending = build_slack_app(settings, service)
    http_slack = slack if slack is not None and not settings.socket_mode else None
    web_app = build_web_app(service, http_slack, settings.slack_signing_secret or "")
    if slack is not None:

        async def drain(_: web.Application) -> None:
            await timezones.drain()
            await slack_files.drain()  # contacts files being imported
            await drain_deferred()  # commands acknowledged with "One moment…"
            await slack_responses.SESSIONS.close()  # their answers are sent: no more posts

        web_app.on_cleanup.append(drain)
    hosting = None
    if settings.teams is not None:
        from bot.adapters.teams.bot import build_agent
        from bot.adapters.teams.hosting import build_hosting
        from bot.adapters.teams.web import add_teams_route

        hosting = build_hosting(env, allowed_service_urls=settings.teams.allowed_service_urls)
        from storage.held_files import HeldFiles

        held = HeldFiles(engine, write_turn=store.write_turn)
        # Attached contacts files may come from the same local origins as trial service URLs.
        agent = build_agent(
            hosting, service, store, held=held, file_origins=settings.teams.allowed_service_urls
        )
        add_teams_route(web_app, hosting, agent)
    return ReconnectApp(
        settings=settings,
        engine=engine,
        service=service,
        web=web_app,
        slack=slack,
        teams=hosting,
        pending=pending,
    )


async def until_stopped() -> None:
    """Wait for SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve(settings: Settings) -> None:
    """Run the web server (and Socket Mode, and the nudge scheduler) until SIGINT/SIGTERM."""
    await prepare_database(settings)
    if settings.slack_bot_token:
        await check_credentials(settings)
    app = build_app(settings)
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=settings.port)
    await site.start()
    socket_handler = None
    if app.slack is not None and settings.socket_mode:
        from bot.adapters.slack.socket_replays import DedupingSocketModeHandler
        from storage.replays import SeenRequests

        store = app.service.store
        socket_handler = DedupingSocketModeHandler(
            app.slack,
            settings.slack_app_token,
            web_client=build_web_client(settings, token=settings.slack_app_token),
            replays=SeenRequests(
                app.engine,
                write_turn=store.write_turn if isinstance(store, SqlStore) else None,
            ),
        )
        # Bolt's Socket Mode handler is unannotated (connect_async, close_async).
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
    scheduler = None
    if settings.run_scheduler:
        from jobs.app import (
            build_buddy_runner,
            build_group_runner,
            build_recap_runner,
            build_runner,
            build_scheduler,
        )
        from jobs.purge import Purger

        nudge_runner = build_runner(settings, engine=app.engine)
        recaps = build_recap_runner(settings, engine=app.engine, messengers=nudge_runner.messengers)
        store = app.service.store
        write_turn = store.write_turn if isinstance(store, SqlStore) else None
        purger = Purger(app.engine, write_turn=write_turn)
        groups = build_group_runner(app.engine, nudge_runner.messengers)
        buddies = build_buddy_runner(app.engine, nudge_runner.messengers)
        scheduler = build_scheduler(nudge_runner, recaps, purger, groups, buddies=buddies)
        scheduler.start()
    # Commands other processes acknowledged early and then died on: taken over now and
    # periodically, in the background (``bot/adapters/slack/pending.py``).
    recovering = None
    stop_recovery = asyncio.Event()
    if app.slack is not None and app.pending is not None:
        recovery = PendingRecovery(
            app.service, app.slack.client, app.pending, api_url=settings.slack_api_url
        )
        recovering = asyncio.create_task(recovery.run(stop_recovery))
    if app.teams is not None and app.teams.anonymous:
        log.warning(
            "teams.anonymous_mode",
            message="Teams runs WITHOUT authentication (ANONYMOUS_ALLOWED=true): anyone who can "
            "reach /api/messages can talk to the bot. For local trials only.",
        )
        print(
            "reconnect: WARNING: Teams is in anonymous mode (no authentication) — local trials only.",
            file=sys.stderr,
        )
    log.info(
        "reconnect.started",
        port=settings.port,
        slack=("socket_mode" if socket_handler else "http") if app.slack else "off",
        teams=("anonymous" if app.teams.anonymous else "on") if app.teams else "off",
        database=settings.database_url.get_backend_name(),
        scheduler=scheduler is not None,
    )
    try:
        await until_stopped()
    finally:
        log.info("reconnect.stopping")
        if recovering is not None:
            stop_recovery.set()
            await recovering  # commands it took over are drained with the others below
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            await nudge_runner.stop()
            await groups.stop()
            await buddies.stop()
            await nudge_runner.close()
        if socket_handler is not None:
            await socket_handler.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()
        await app.close()
