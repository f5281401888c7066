"""Configuration: every bad setting stops start-up with one clear line and exit code 2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def test_defaults() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.port == 3000
    assert settings.database_url.drivername == "sqlite+aiosqlite"
    assert settings.database_url.database == "data/reconnect.sqlite3"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode


def test_heroku_database_url_and_api_url_without_slash() -> None:
    settings = Settings.from_env(
        {**GOOD, "DATABASE_URL": "postgres://u:p@db:5432/app", "SLACK_API_URL": "http://x/api"}
    )
    assert settings.database_url.drivername == "postgresql+psycopg"
    assert settings.slack_api_url == "http://x/api/"


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.socket_mode


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        (
            {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "yes"},
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED",
        ),
        (
            {
                "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "id",
                "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true",
            },
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED",
        ),
        (
            {
                "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "id",
                "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID": "t",
            },
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET",
        ),
        (
            {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET": "x"},
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID",
        ),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({**GOOD, "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({**GOOD, "PORT": "eighty"}, "PORT"),
        ({**GOOD, "PORT": "70000"}, "PORT"),
        ({**GOOD, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({**GOOD, "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({**GOOD, "DATABASE_URL": "::::"}, "DATABASE_URL"),
        ({**GOOD, "SLACK_API_URL": "ftp://slack"}, "SLACK_API_URL"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert str(raised.value).startswith(variable)
    assert "\n" not in str(raised.value)


def test_no_platform_names_both() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({})
    message = str(raised.value)
    assert message.startswith("No chat platform is configured")
    assert (
        "SLACK_BOT_TOKEN" in message
        and "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID" in message
    )


def test_teams_alone_is_enough() -> None:
    prefix = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
    creds = Settings.from_env({f"{prefix}CLIENTID": "app", f"{prefix}CLIENTSECRET": "s",
                               f"{prefix}TENANTID": "t"})  # fmt: skip
    assert creds.teams is not None and not creds.teams.anonymous and creds.slack_bot_token is None
    local = Settings.from_env({f"{prefix}ANONYMOUS_ALLOWED": "true"})
    assert local.teams is not None and local.teams.anonymous
    both = Settings.from_env({**GOOD, f"{prefix}ANONYMOUS_ALLOWED": "true"})
    assert both.teams is not None and both.slack_bot_token == "xoxb-1"


def test_the_scheduler_needs_only_the_bot_token() -> None:
    """The clock sends and serves nothing: no signing secret, no app token."""
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, serves_slack=False)
    assert settings.slack_bot_token == "xoxb-1" and settings.slack_signing_secret is None
    with pytest.raises(ConfigError, match=r"^No chat platform"):
        Settings.from_env({}, serves_slack=False)
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN must be a bot token"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxp-user"}, serves_slack=False)


def run_jobs(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_python_m_jobs_starts_without_a_signing_secret(tmp_path: Path) -> None:
    """`run-once` (no dry run: it needs a platform) with only the bot token gets past the
    settings; nobody is due on an empty database, so nothing is sent."""
    result = run_jobs(
        {"SLACK_BOT_TOKEN": "xoxb-1", "DATABASE_URL": f"sqlite:///{tmp_path / 'j.sqlite3'}"},
        "run-once",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "due 0 · sent 0" in result.stdout


def test_console_needs_no_slack_settings() -> None:
    assert Settings.from_env({}, need_platform=False).slack_bot_token is None


def run_bot(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_missing_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_bot({}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("reconnect: No chat platform is configured")


def test_unreachable_postgres_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_bot({**GOOD, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("reconnect: DATABASE_URL: cannot connect")
    assert "Traceback" not in result.stderr


def test_dotenv_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\nPORT=banana\n")
    result = run_bot({}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("reconnect: PORT='banana'")


def test_database_url_password_is_never_echoed() -> None:
    for url in ("mysql://u:s3cretpw@h/db", "postgresql://u:s3cretpw@h:notaport/db", "s3cretpw"):
        with pytest.raises(ConfigError) as raised:
            Settings.from_env({**GOOD, "DATABASE_URL": url})
        assert "s3cretpw" not in str(raised.value)
