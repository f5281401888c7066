"""Assembling and running Reconnect: storage, core, adapters, web server."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass

import structlog
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.app import build_slack_app, build_web_client
from bot.adapters.slack.preflight import check_credentials
from bot.core.dates import Clock, system_clock
from bot.core.service import Reconnect
from bot.settings import ConfigError, Settings
from bot.web import build_web_app
from storage import db
from storage.repository import SqlStore

log = structlog.get_logger(__name__)


@dataclass
class ReconnectApp:
    """Everything one process runs, built by :func:`build_app`. ``close()`` releases it."""

    settings: Settings
    engine: AsyncEngine
    service: Reconnect
    web: web.Application
    slack: AsyncApp | None = None

    async def close(self) -> None:
        """Dispose of the database engine."""
        await self.engine.dispose()


def build_app(
    settings: Settings, *, clock: Clock = system_clock, engine: AsyncEngine | None = None
) -> ReconnectApp:
    """Build (but do not start) the whole application from ``settings``."""
    engine = engine or db.create_engine(settings.database_url)
    service = Reconnect(SqlStore(engine), clock=clock)
    slack = build_slack_app(settings, service) if settings.slack_bot_token else None
    http_slack = slack if slack is not None and not settings.socket_mode else None
    return ReconnectApp(
        settings=settings,
        engine=engine,
        service=service,
        web=build_web_app(service, http_slack, settings.slack_signing_secret or ""),
        slack=slack,
    )


async def prepare_database(settings: Settings) -> None:
    """Migrate the embedded SQLite database; check that PostgreSQL is migrated.

    Raises :class:`ConfigError` when a server database is behind (run the release step).
    """
    if settings.embedded_database:
        await asyncio.to_thread(db.upgrade, settings.database_url)
        return
    try:
        current = await asyncio.to_thread(db.current_revision, settings.database_url)
    except Exception as exc:
        raise ConfigError(
            f"DATABASE_URL: cannot connect to the database ({type(exc).__name__}). "
            "Check the host, credentials and that the server is running."
        ) from None
    head = db.head_revision()
    if current != head:
        raise ConfigError(
            f"DATABASE_URL: the database schema is at {current or 'nothing'}, not {head}. "
            "Run `uv run python -m storage upgrade` (the Procfile's release step) first."
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
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(
            app.slack,
            settings.slack_app_token,
            web_client=build_web_client(settings, token=settings.slack_app_token),
        )
        await socket_handler.connect_async()
    scheduler = None
    if settings.run_scheduler:
        from jobs.app import build_runner, build_scheduler

        nudge_runner = build_runner(settings, engine=app.engine)
        scheduler = build_scheduler(nudge_runner)
        scheduler.start()
    log.info(
        "reconnect.started",
        port=settings.port,
        slack="socket_mode" if socket_handler else "http",
        database=settings.database_url.get_backend_name(),
        scheduler=scheduler is not None,
    )
    try:
        await until_stopped()
    finally:
        log.info("reconnect.stopping")
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            await nudge_runner.stop()
        if socket_handler is not None:
            await socket_handler.close_async()
        await runner.cleanup()
        await app.close()
