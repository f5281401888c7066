"""``python -m bot``: run the bot (default) or the console.

uv run python -m bot            # web server (+ Socket Mode when SLACK_APP_TOKEN is set)
uv run python -m bot console    # chat with the bot in this terminal, no Slack needed
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace

from dotenv import find_dotenv, load_dotenv

from bot.settings import ConfigError, Settings, configure_logging


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for configuration errors)."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.split("\n")[0])
    parser.add_argument(
        "mode", nargs="?", default="serve", choices=("serve", "console"), help="what to run"
    )
    parser.add_argument(
        "--no-scheduler",
        action="store_true",
        help="web only; run the nudges in a separate `python -m jobs` process (or RUN_SCHEDULER=false)",
    )
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True))
    try:
        settings = Settings.from_env(need_platform=args.mode == "serve")
        if args.no_scheduler:
            settings = replace(settings, run_scheduler=False)
        if args.mode == "console":
            from bot.console_main import run_console

            configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
            asyncio.run(run_console(settings))
        else:
            from bot.app import serve

            configure_logging(settings.log_level)
            asyncio.run(serve(settings))
    except ConfigError as exc:
        print(f"reconnect: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
