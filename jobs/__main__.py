"""``python -m jobs``: the nudge scheduler on its own (the Procfile's ``clock`` process).

uv run python -m jobs                                   # run the scheduler until stopped
uv run python -m jobs run-once [--at ISO-8601] [--dry-run] [--kind morning|recap|group|buddies]
uv run python -m jobs purge [--at ISO-8601]             # the hourly clean-up pass, once
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dotenv import find_dotenv, load_dotenv

from bot.settings import ConfigError, Settings, configure_logging

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.core.ports import Messenger
    from jobs.runner import NudgeRunner, RunSummary


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 2 for configuration errors."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description="Reconnect's nudges.")
    sub = parser.add_subparsers(dest="command")
    once = sub.add_parser("run-once", help="run one pass now (or as if at --at) and exit")
    once.add_argument("--at", type=_instant, help="pretend the clock reads this ISO-8601 time")
    once.add_argument("--dry-run", action="store_true", help="decide and compose, send nothing")
    purge = sub.add_parser(
        "purge", help="delete data of users who uninstalled 30+ days ago, and stale files"
    )
    purge.add_argument("--at", type=_instant, help="pretend the clock reads this ISO-8601 time")
    once.add_argument(
        "--kind",
        choices=("morning", "recap", "group", "buddies"),
        default="morning",
        help="the morning nudges (default), the weekly recaps, the groups' channel posts, or "
        "the groups' practice buddies",
    )
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True))
    dry = args.command == "run-once" and args.dry_run
    try:
        offline = dry or args.command == "purge"  # needs the database only
        settings = Settings.from_env(need_platform=not offline, serves_slack=False)
        configure_logging(settings.log_level)
        if args.command == "purge":
            return asyncio.run(_purge(settings, args.at))
        if args.command == "run-once":
            return asyncio.run(_run_once(settings, args.at, dry, args.kind))
        asyncio.run(_run_forever(settings))
    except ConfigError as exc:
        print(f"reconnect: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


async def _run_once(
    settings: Settings, at: datetime | None, dry_run: bool, kind: str = "morning"
) -> int:
    from bot.app import prepare_database
    from jobs.app import build_recap_runner, build_runner
    from storage import db

    await prepare_database(settings)
    # Ours to dispose: the runner sees its store only through jobs.ports.NudgeStorePort.
    engine = db.create_engine(settings.database_url, fresh_plans=True)
    runner = build_runner(settings, engine=engine)
    if kind == "group":
        try:
            return await _run_groups(runner.messengers, engine, at, dry_run)
        finally:
            await runner.close()
            await engine.dispose()
    if kind == "buddies":
        try:
            return await _run_buddies(runner.messengers, engine, at, dry_run)
        finally:
            await runner.close()
            await engine.dispose()
    if kind == "recap":
        runner = build_recap_runner(settings, engine=engine, messengers=runner.messengers)
    try:
        now = at or runner.clock()
        summary = await runner.run_once(now, dry_run=dry_run)
        await runner.stop()
        lines = await report(runner, summary, now, dry_run=dry_run)
    finally:
        await runner.close()
        await engine.dispose()
    print("\n".join(lines))
    return 0


async def _run_groups(messengers: Any, engine: Any, at: datetime | None, dry_run: bool) -> int:
    """``run-once --kind group``: the groups' theme and recap posts due at ``at``; a dry run
    prints every post with its full text."""
    from bot.adapters.console.render import render
    from jobs.app import build_group_runner

    runner = build_group_runner(engine, messengers)
    now = at or runner.clock()
    summary = await runner.run_once(now, dry_run=dry_run)
    await runner.stop()
    lines = [("dry run: " if dry_run else "") + summary.line()]
    if summary.due == 0:
        lines.append(
            f"  no group post is due at {now:%Y-%m-%d %H:%M} UTC (themes and recaps are due "
            "from their local time for a few hours; broken or paused groups are left out)."
        )
    for where, kind, reply in summary.messages:
        lines.append(f"--- would post the {kind} in {where} ---")
        lines.append(render(reply)[0])
    print("\n".join(lines))
    return 0


async def _run_buddies(
    messengers: dict[str, Messenger], engine: AsyncEngine, at: datetime | None, dry_run: bool
) -> int:
    """``run-once --kind buddies``: the groups' practice buddies due at ``at``; a dry run
    prints every pair with the full text of its intro."""
    from bot.adapters.console.render import render
    from jobs.app import build_buddy_runner

    runner = build_buddy_runner(engine, messengers)
    now = at or runner.clock()
    summary = await runner.run_once(now, dry_run=dry_run)
    if not dry_run:
        await runner.stop()
    lines = [("dry run: " if dry_run else "") + summary.line()]
    if summary.due == 0:
        lines.append(
            f"  no group's buddies are due at {now:%Y-%m-%d %H:%M} UTC (due from the group's "
            "theme time, default Mondays 09:00 in its zone, for 6 hours; groups with fewer "
            "than two members opted in, broken or paused groups are left out)."
        )
    for where, reply in summary.messages:
        lines.append(f"--- would introduce: {where} ---")
        lines.append(render(reply)[0])
    print("\n".join(lines))
    return 0


async def _purge(settings: Settings, at: datetime | None) -> int:
    from bot.app import prepare_database
    from jobs.purge import Purger
    from storage import db

    await prepare_database(settings)
    engine = db.create_engine(settings.database_url)
    try:
        summary = await Purger(engine).run_once(at)
    finally:
        await engine.dispose()
    users = "user" if summary.users == 1 else "users"
    files = "file" if summary.files == 1 else "files"
    line = f"purged {summary.users} uninstalled {users} and {summary.files} unclaimed {files}"
    if summary.pending:  # slash commands left pending for an hour: normally none
        line += f" ({summary.pending} pending {'command' if summary.pending == 1 else 'commands'})"
    print(line)
    return 0


async def report(
    runner: NudgeRunner, summary: RunSummary, now: datetime, *, dry_run: bool
) -> list[str]:
    """What ``run-once`` prints: the summary line; for a dry run, the full text of every
    previewed nudge; and when nobody is due, why."""
    from bot.adapters.console.render import render

    lines = [("dry run: " if dry_run else "") + summary.line()]
    if summary.due == 0:
        lines.append(f"  nobody is due: {await nobody_due_because(runner, now)}")
    for who, reply in summary.messages:
        lines.append(f"--- would send to {who} ---")
        lines.append(render(reply)[0])
        for file in reply.files:  # named and described, never dumped
            size = f"{len(file.content) / 1024:.1f} KB"
            lines.append(f"  [with {file.filename} ({file.media_type}, {size})]")
            if file.alt_text:
                lines.append(f"  {file.alt_text}")
    unshown = summary.due - summary.skipped - summary.failed - len(summary.messages)
    if dry_run and summary.messages and unshown > 0:
        lines.append(f"  … and {unshown} more not shown")
    return lines


async def nobody_due_because(runner: NudgeRunner, now: datetime) -> str:
    """Why a pass at ``now`` found nobody due: no platform, no users, or nobody's time."""
    from bot.core.schedule import nudge_instant
    from storage.records import RECAP

    platforms = sorted(runner.messengers)
    if not platforms:
        return (
            "no chat platform is configured (SLACK_BOT_TOKEN, or the Teams CLIENTID, "
            "CLIENTSECRET and TENANTID), so there is nobody to send to."
        )
    recipients = await runner.store.recipients(platforms)
    where = " and ".join(platforms)
    if not recipients and runner.kind == RECAP:
        return (
            f"nobody on {where} has added a contact yet (a recap needs someone to look back "
            "on; users marked undeliverable are left out)."
        )
    if not recipients:
        return (
            f"there are no users on {where} yet (someone appears once they use the bot; "
            "users marked undeliverable are left out)."
        )
    grace = runner.config.grace
    if runner.kind == RECAP:
        return (
            f"{len(recipients)} user{'s' if len(recipients) != 1 else ''} with contacts on "
            f"{where}, but nobody's weekly recap (their recap day and local time, default "
            f"Fridays at 16:00) falls in the last {grace.total_seconds() / 3600:g} h before "
            f"{now:%Y-%m-%d %H:%M} UTC, or their recaps are off or paused."
        )
    upcoming = []
    for recipient in recipients:
        prefs = recipient.prefs
        local = now.astimezone(UTC).date()
        for offset in range(-1, 9):
            day = local + timedelta(days=offset)
            instant = nudge_instant(prefs, day)
            if prefs.sends_on(day) and instant > now:
                upcoming.append(instant)
                break
    window = (
        f"{(now - grace):%Y-%m-%d %H:%M} and {now:%H:%M} UTC"
        if (now - grace).date() == now.date()
        else f"{(now - grace):%Y-%m-%d %H:%M} and {now:%Y-%m-%d %H:%M} UTC"
    )
    told = (
        f"{len(recipients)} user{'s' if len(recipients) != 1 else ''} on {where}, but nobody's "
        f"local nudge time on a nudge day falls between {window} (the last "
        f"{grace.total_seconds() / 3600:g} h, NUDGE_GRACE_HOURS)"
    )
    if not upcoming:
        return told + "; none has a nudge in the next week (paused, or no days chosen)."
    first = min(upcoming).astimezone(UTC)
    return f"{told}; the next is at {first:%Y-%m-%d %H:%M} UTC — try --at {first.isoformat()}."


async def _run_forever(settings: Settings) -> None:
    import structlog

    from bot.app import prepare_database, until_stopped
    from jobs.app import (
        build_buddy_runner,
        build_group_runner,
        build_recap_runner,
        build_runner,
        build_scheduler,
        describe_schedule,
    )
    from storage import db

    log = structlog.get_logger("jobs")
    await prepare_database(settings)
    engine = db.create_engine(settings.database_url, fresh_plans=True)
    runner = build_runner(settings, engine=engine)
    from jobs.purge import Purger

    recaps = build_recap_runner(settings, engine=engine, messengers=runner.messengers)
    groups = build_group_runner(engine, runner.messengers)
    buddies = build_buddy_runner(engine, runner.messengers)
    scheduler = build_scheduler(runner, recaps, Purger(engine), groups, buddies=buddies)
    scheduler.start()
    log.info(
        "clock.started",
        worker=runner.worker,
        platforms=",".join(sorted(runner.messengers)),
        schedule=describe_schedule(scheduler),
        grace_hours=settings.nudge_grace_hours,
        concurrency=settings.nudge_concurrency,
        database=settings.database_url.get_backend_name(),
    )
    try:
        await until_stopped()
    finally:
        scheduler.shutdown(wait=False)
        await recaps.stop()
        await groups.stop()
        await buddies.stop()
        await runner.stop()
        await runner.close()
        await engine.dispose()
        log.info("clock.stopped", worker=runner.worker)


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


if __name__ == "__main__":
    sys.exit(main())
