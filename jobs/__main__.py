"""``python -m jobs``: the nudge scheduler on its own (the Procfile's ``clock`` process).

uv run python -m jobs                                   # run the scheduler until stopped
uv run python -m jobs run-once [--at ISO-8601] [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from dotenv import find_dotenv, load_dotenv

from bot.settings import ConfigError, Settings, configure_logging


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 2 for configuration errors."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description="Reconnect's nudges.")
    sub = parser.add_subparsers(dest="command")
    once = sub.add_parser("run-once", help="run one pass now (or as if at --at) and exit")
    once.add_argument("--at", type=_instant, help="pretend the clock reads this ISO-8601 time")
    once.add_argument("--dry-run", action="store_true", help="decide and compose, send nothing")
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True))
    dry = args.command == "run-once" and args.dry_run
    try:
        settings = Settings.from_env(need_platform=not dry, serves_slack=False)
        configure_logging(settings.log_level)
        if args.command == "run-once":
            return asyncio.run(_run_once(settings, args.at, dry))
        asyncio.run(_run_forever(settings))
    except ConfigError as exc:
        print(f"reconnect: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


async def _run_once(settings: Settings, at: datetime | None, dry_run: bool) -> int:
    from bot.app import prepare_database
    from jobs.app import build_runner
    from storage import db

    await prepare_database(settings)
    # Ours to dispose: the runner sees its store only through jobs.ports.NudgeStorePort.
    engine = db.create_engine(settings.database_url)
    runner = build_runner(settings, engine=engine)
    try:
        summary = await runner.run_once(at, dry_run=dry_run)
        await runner.stop()
    finally:
        await runner.close()
        await engine.dispose()
    print(("dry run: " if dry_run else "") + summary.line())
    for preview in summary.previews:
        print(f"  would send {preview}")
    return 0


async def _run_forever(settings: Settings) -> None:
    from bot.app import prepare_database, until_stopped
    from jobs.app import build_runner, build_scheduler
    from storage import db

    await prepare_database(settings)
    engine = db.create_engine(settings.database_url)
    runner = build_runner(settings, engine=engine)
    scheduler = build_scheduler(runner)
    scheduler.start()
    try:
        await until_stopped()
    finally:
        scheduler.shutdown(wait=False)
        await runner.stop()
        await runner.close()
        await engine.dispose()


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


if __name__ == "__main__":
    sys.exit(main())
