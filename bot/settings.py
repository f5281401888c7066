"""Configuration from the environment (and ``.env``), validated once at start-up."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import URL

from bot.core.text import parse_count
from storage.db import DEFAULT_SQLITE_PATH, DatabaseUrlError, normalise_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """A missing or malformed setting. The message is one line naming the variable and the fix."""


TEAMS_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"


@dataclass(frozen=True, slots=True)
class TeamsSettings:
    """Teams is configured: with an Entra app (``client_id``) or, for local trials, anonymously.

    The Agents SDK reads the ``CONNECTIONS__…`` variables itself; this is what we check first.
    """

    client_id: str | None
    anonymous: bool
    #: Origins besides Microsoft's service hosts that an activity's ``serviceUrl`` may name
    #: (``TEAMS_ALLOWED_SERVICE_URLS``: the Emulator, a test connector).
    allowed_service_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot reads from the environment."""

    database_url: URL
    port: int = 3000
    log_level: str = "INFO"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    run_scheduler: bool = True
    nudge_grace_hours: float = 3.0
    nudge_concurrency: int = 100
    teams: TeamsSettings | None = None

    @property
    def socket_mode(self) -> bool:
        """Slack over Socket Mode (an app-level token is set) rather than HTTP."""
        return self.slack_app_token is not None

    @property
    def embedded_database(self) -> bool:
        """SQLite: migrated automatically at start-up."""
        return self.database_url.get_backend_name() == "sqlite"

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        need_platform: bool = True,
        serves_slack: bool = True,
    ) -> Settings:
        """Read and validate settings; raises :class:`ConfigError`.

        ``need_platform``: at least one of Slack and Teams must be configured (the bot and the
        scheduler need one; the console and migrations don't).
        ``serves_slack``: this process receives Slack's requests, so Slack needs the signing
        secret (HTTP) or the app token (Socket Mode). The scheduler only sends: the bot token
        is all it needs.
        """
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        database_url = _database_url(get("DATABASE_URL"))
        port = _port(get("PORT"))
        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(
                f"LOG_LEVEL={log_level!r} is not a log level: use one of {', '.join(LOG_LEVELS)}."
            )
        bot_token = get("SLACK_BOT_TOKEN")
        secret = get("SLACK_SIGNING_SECRET")
        app_token = get("SLACK_APP_TOKEN")
        api_url = _api_url(get("SLACK_API_URL"))
        teams = _teams(get)
        if bot_token is None and (secret or app_token):
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your "
                "Slack app's OAuth & Permissions page into .env (see .env.example)."
            )
        if need_platform and bot_token is None and teams is None:
            raise ConfigError(
                "No chat platform is configured: set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET, or "
                "SLACK_APP_TOKEN) for Slack, and/or CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
                "CLIENTID, CLIENTSECRET and TENANTID for Teams (see .env.example)."
            )
        if bot_token is not None:
            if not bot_token.startswith("xoxb-"):
                raise ConfigError(
                    "SLACK_BOT_TOKEN must be a bot token starting with xoxb- (OAuth & Permissions "
                    "page of your Slack app)."
                )
            if app_token is not None and not app_token.startswith("xapp-"):
                raise ConfigError(
                    "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic "
                    "Information → App-Level Tokens, scope connections:write), or unset for HTTP."
                )
            if serves_slack and app_token is None and secret is None:
                raise ConfigError(
                    "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your Slack "
                    "app's Basic Information page into .env, or set SLACK_APP_TOKEN for Socket Mode."
                )
        run_scheduler = _flag("RUN_SCHEDULER", get("RUN_SCHEDULER"), default=True)
        grace = _number("NUDGE_GRACE_HOURS", get("NUDGE_GRACE_HOURS"), 3.0, 0.0, 23.0)
        concurrency = int(_number("NUDGE_CONCURRENCY", get("NUDGE_CONCURRENCY"), 100, 1, 500))
        return cls(
            run_scheduler=run_scheduler,
            nudge_grace_hours=grace,
            nudge_concurrency=concurrency,
            database_url=database_url,
            port=port,
            log_level=log_level,
            slack_bot_token=bot_token,
            slack_signing_secret=secret,
            slack_app_token=app_token,
            slack_api_url=api_url,
            teams=teams,
        )


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """The raw ``DATABASE_URL``, or the default SQLite file."""
    env = os.environ if env is None else env
    return env.get("DATABASE_URL", "").strip() or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _database_url(raw: str | None) -> URL:
    try:
        return normalise_url(raw or f"sqlite:///{DEFAULT_SQLITE_PATH}")
    except DatabaseUrlError as exc:
        raise ConfigError(
            f"DATABASE_URL is not usable ({exc}): use postgresql://user:pass@host/db or "
            "sqlite:///data/reconnect.sqlite3, or unset it for the default SQLite file."
        ) from None


def service_url_origins(raw: str | None) -> tuple[str, ...]:
    """``TEAMS_ALLOWED_SERVICE_URLS``: comma-separated http(s) origins, as ``scheme://host[:port]``."""
    origins: list[str] = []
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            parts = urlsplit(item)
            port = parts.port
        except ValueError:
            port, parts = None, urlsplit("")
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise ConfigError(
                f"TEAMS_ALLOWED_SERVICE_URLS: {item!r} is not an origin: use e.g. "
                "http://localhost:3978 (scheme, host and port only; comma-separated)."
            )
        host = parts.hostname.lower()
        host = f"[{host}]" if ":" in host else host
        origins.append(f"{parts.scheme}://{host}" + (f":{port}" if port is not None else ""))
    return tuple(origins)


def _teams(get: Callable[[str], str | None]) -> TeamsSettings | None:
    client_id = get(TEAMS_PREFIX + "CLIENTID")
    allowed = service_url_origins(get("TEAMS_ALLOWED_SERVICE_URLS"))
    raw_anonymous = get(TEAMS_PREFIX + "ANONYMOUS_ALLOWED")
    anonymous = False
    if raw_anonymous is not None:
        # The SDK reads only true/false/1/0 and silently takes anything else as false.
        if raw_anonymous.lower() not in ("true", "false", "1", "0"):
            raise ConfigError(
                f"{TEAMS_PREFIX}ANONYMOUS_ALLOWED={raw_anonymous!r} must be true or false."
            )
        anonymous = raw_anonymous.lower() in ("true", "1")
    if client_id is None:
        for name in ("CLIENTSECRET", "TENANTID"):
            if get(TEAMS_PREFIX + name) is not None:
                raise ConfigError(
                    f"{TEAMS_PREFIX}CLIENTID is not set but {name} is: set the Azure Bot's "
                    "Microsoft App ID (the Entra app's client id)."
                )
        return TeamsSettings(None, True, allowed) if anonymous else None
    if anonymous:
        raise ConfigError(
            f"{TEAMS_PREFIX}ANONYMOUS_ALLOWED=true together with CLIENTID would accept unsigned "
            "requests: remove ANONYMOUS_ALLOWED in production (it is for local trials only)."
        )
    auth_type = (get(TEAMS_PREFIX + "AUTHTYPE") or "client_secret").lower()
    needed = ("CLIENTSECRET", "TENANTID") if auth_type == "client_secret" else ("TENANTID",)
    for name in needed:
        if get(TEAMS_PREFIX + name) is None:
            raise ConfigError(
                f"{TEAMS_PREFIX}{name} is not set: copy it from the Entra app registration of "
                "your Azure Bot (see the README, Microsoft Teams)."
            )
    return TeamsSettings(client_id, False, allowed)


def _flag(name: str, raw: str | None, *, default: bool) -> bool:
    if raw is None:
        return default
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not true or false: use true or false.")


def _number(name: str, raw: str | None, default: float, low: float, high: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} is not a number from {low:g} to {high:g}.")
    return value


def _port(raw: str | None) -> int:
    if raw is None:
        return 3000
    if parse_count(raw, below=65536) is None:
        raise ConfigError(f"PORT={raw!r} is not a TCP port: use a number from 1 to 65535.")
    return int(raw)


def _api_url(raw: str | None) -> str:
    if raw is None:
        return DEFAULT_SLACK_API_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"SLACK_API_URL={raw!r} is not an http(s) URL: use e.g. https://slack.com/api/ "
            "(or unset it)."
        )
    return raw if raw.endswith("/") else raw + "/"


def configure_logging(level: str) -> None:
    """Structured logs (logfmt-style key=value) on stderr for our code and the libraries."""
    import structlog

    logging.basicConfig(level=level, format="%(levelname)s %(name)s %(message)s")
    # Alembic narrates every plugin and migration step at INFO; keep start-up quiet.
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # Library lines: no personal data at any level, in our key=value format (bot/logs.py).
    from bot.logs import install as private_library_logs

    private_library_logs()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(
                key_order=["timestamp", "level", "event"], sort_keys=True
            ),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=__import__("sys").stderr),
        cache_logger_on_first_use=True,
    )
