"""No names, notes, message texts or tokens in the logs, even at LOG_LEVEL=DEBUG: the real bot
process serves a Slack flow over HTTP, then the real clock process sends the morning nudge,
and everything both printed is searched for what the user typed."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.request import urlopen

from bot.logs import HIDDEN, PrivateRecords
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.test_process import ROOT, run_bot

#: What the user typed: none of it may appear in any log line.
SECRETS = (
    "Dana", "Whitfield", "Brightline", "sailing", "Marcus", "Okafor", "Kestrel", "marina",
    "hiring", BOT_TOKEN,
)  # fmt: skip


def post(port: int, body: str, content_type: str = "application/x-www-form-urlencoded") -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers=sr.signed_headers(body, content_type=content_type),
    )
    with urlopen(request, timeout=15) as response:
        assert response.status == 200
        return response.read().decode()


def test_a_full_flow_at_debug_logs_no_personal_data(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'private.sqlite3'}"
    users = {"U1": {"real_name": "Ada One", "tz": "UTC", "profile": {"real_name": "Ada One"}}}
    with FakeSlack(users=users) as fake:
        slack = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database,
            "LOG_LEVEL": "DEBUG",
            "RUN_SCHEDULER": "false",
        }
        with run_bot(tmp_path, slack) as bot:
            added = post(
                bot.port, sr.slash_command("add Dana Whitfield -- CFO at Brightline, loves sailing")
            )
            assert "Dana Whitfield" in added  # the reply has it; the logs must not
            post(bot.port, sr.slash_command("add Marcus Okafor every 3 months -- Kestrel Labs"))
            post(bot.port, sr.slash_command("log Marcus -- coffee at the marina; he is hiring"))
            post(bot.port, sr.slash_command("snooze Okafor 2 weeks"))
            post(bot.port, sr.slash_command("export"))
            fake.wait_for("files.completeUploadExternal")
            post(bot.port, sr.slash_command("remove Marcus"))  # asks first
            post(bot.port, sr.app_home_opened(), content_type="application/json")
            fake.wait_for("views.publish")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))},
            "PYTHONPATH": str(ROOT),
            **slack,
        }
        # The morning pass, as the clock process runs it.
        clock = subprocess.run(
            [sys.executable, "-m", "jobs", "run-once", "--at", "2026-12-01T08:30:00+00:00"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        (nudge,) = fake.calls_to("chat.postMessage")
    logs = bot.output + clock.stdout + clock.stderr
    assert clock.returncode == 0, logs
    assert "Dana Whitfield" in json.dumps(nudge.params)  # the card names her, so could leak
    # The flow really ran at DEBUG, through the libraries' loggers...
    assert "level='debug'" in logs and "logger='slack_sdk" in logs
    assert "slack api request: POST files.completeUploadExternal" in bot.output
    assert "slack api request: POST chat.postMessage" in clock.stdout + clock.stderr
    # ...and no log line says anything the user typed.
    leaked = [s for s in SECRETS if s in logs]
    assert leaked == [], [line for line in logs.splitlines() if any(s in line for s in leaked)]


def record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_library_records_are_reduced_to_what_is_safe() -> None:
    private = PrivateRecords()
    cases = [
        (
            record("slack_sdk.web", logging.DEBUG, "Sending a request - url: POST https://slack.com/api/chat.update, json: {'text': 'Dana'}"),
            "slack api request: POST chat.update",
        ),
        (
            record("slack_sdk.web", logging.DEBUG, "Received the following response - status: 429, body: {'text': 'Dana'}"),
            "slack api response: status 429",
        ),
        (
            record("microsoft_agents.connector", logging.INFO, "Reply to %s in %s", "1234", "a:personal-ada"),
            "Reply to 1234 in a:personal-ada",
        ),
        (
            record("microsoft_agents.connector", logging.INFO, "Activity text %s", "Dana Whitfield"),
            "Activity text …",
        ),
        (record("aiohttp.client", logging.DEBUG, "body: {'note': 'sailing'}"), HIDDEN),
        (record("aiohttp.client", logging.DEBUG, "connection closed"), "connection closed"),
        (record("x", logging.INFO, "%(a)s", {"a": "Dana"}), HIDDEN),
    ]  # fmt: skip
    for item, expected in cases:
        private.filter(item)
        assert item.getMessage() == expected
