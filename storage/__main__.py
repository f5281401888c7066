"""``python -m storage upgrade|current``: migrate the configured database, or show its revision."""

from __future__ import annotations

import argparse
import sys

from dotenv import find_dotenv, load_dotenv


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 2 for configuration errors."""
    parser = argparse.ArgumentParser(prog="python -m storage")
    parser.add_argument("action", choices=("upgrade", "current"))
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True))
    from bot.settings import ConfigError, Settings
    from storage import db

    try:
        settings = Settings.from_env(need_platform=False)
    except ConfigError as exc:
        print(f"reconnect: {exc}", file=sys.stderr)
        return 2
    if args.action == "upgrade":
        db.upgrade(settings.database_url)
        print(f"database is at {db.current_revision(settings.database_url)}")
    else:
        print(db.current_revision(settings.database_url) or "empty")
    return 0


if __name__ == "__main__":
    sys.exit(main())
