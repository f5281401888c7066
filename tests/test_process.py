"""`python -m bot` as a real process: HTTP mode and Socket Mode, against the fake Slack."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parent.parent


#: Starting ``python -m bot`` (imports, migrations, the credentials check) on a busy machine.
START_TIMEOUT = 60.0


def free_port() -> int:
    """A port free right now (the kernel's pick: another test worker may take it before the
    bot binds it; :func:`run_bot` notices and starts again on another)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listens(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds the listening socket on ``port`` (so a health check there
    reaches it, not some other process); None where ``/proc`` cannot tell (not Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue
    return False


def healthy(port: int) -> bool:
    try:
        with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class BotProcess:
    """A running ``python -m bot``: its port, and its output once stopped."""

    port: int
    output: str = ""


def start_bot(cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """Start ``python -m bot`` on a free port and wait until it answers /healthz there; on
    another port if that one was taken meanwhile."""
    for _ in range(3):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=cwd,
            env={**env, "PORT": str(port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None:
            if listens(process.pid, port) is not False and healthy(port):
                return process, port
            if time.monotonic() > deadline:
                process.kill()
                output, _ = process.communicate(timeout=15)
                pytest.fail(f"bot not healthy within {START_TIMEOUT} s:\n{output}")
            time.sleep(0.05)
        output, _ = process.communicate(timeout=15)
        if "address already in use" not in output.lower():
            pytest.fail(f"bot exited with {process.returncode}:\n{output}")
    pytest.fail(f"bot found no free port:\n{output}")


@contextmanager
def run_bot(tmp_path: Path, env_extra: dict[str, str]) -> Iterator[BotProcess]:
    """Start ``python -m bot`` with no platform settings but ``env_extra``; wait for /healthz."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "CONNECTIONS__"))
    }
    env.update(PYTHONPATH=str(ROOT), **env_extra)
    process, port = start_bot(tmp_path, env)
    bot = BotProcess(port)
    try:
        yield bot
    finally:
        process.terminate()
        bot.output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, "the bot should stop cleanly on SIGTERM"


@contextmanager
def bot_process(tmp_path: Path, fake: FakeSlack, **extra: str) -> Iterator[int]:
    """``python -m bot`` on Slack (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)."""
    slack = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    with run_bot(tmp_path, {**slack, **extra}) as bot:
        yield bot.port


def test_http_mode_serves_slack_and_creates_the_default_sqlite(tmp_path: Path) -> None:
    import urllib.request

    with FakeSlack() as fake, bot_process(tmp_path, fake) as port:
        body = sr.slash_command("add Dana Whitfield -- former CFO")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events",
            data=body.encode(),
            headers=sr.signed_headers(body, content_type="application/x-www-form-urlencoded"),
        )
        with urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert "Added *Dana Whitfield*" in response.read().decode()
    assert (tmp_path / "data" / "reconnect.sqlite3").exists()


def test_socket_mode_acks_over_the_websocket(tmp_path: Path) -> None:
    with FakeSlack() as fake, bot_process(tmp_path, fake, SLACK_APP_TOKEN="xapp-test") as port:
        assert fake.socket_connected.wait(30), "the bot never opened a Socket Mode connection"
        envelope_id = str(uuid.uuid4())
        payload = dict(
            item.split("=", 1) for item in sr.slash_command("add Marcus Chen").split("&")
        )
        from urllib.parse import unquote_plus

        fake.socket_send(
            {
                "envelope_id": envelope_id,
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {k: unquote_plus(v) for k, v in payload.items()},
            }
        )
        reply = fake.socket_reply(envelope_id)
        assert "Added *Marcus Chen*" in str(reply.get("payload"))
        opened = fake.calls_to("apps.connections.open")
        assert opened and opened[0].token == "xapp-test"
        # Over Socket Mode the HTTP endpoint is not served, but the health check is.
        with pytest.raises(OSError) as raised:
            urlopen(f"http://127.0.0.1:{port}/slack/events", data=b"x", timeout=5)
        assert "404" in str(raised.value)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-revoked"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-revoked"}, "SLACK_APP_TOKEN"),
    ],
)
def test_a_token_slack_rejects_stops_start_up_with_one_line(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    with FakeSlack() as fake:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
        result = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **clean,
                "PYTHONPATH": str(ROOT),
                "PORT": str(free_port()),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
                "SLACK_API_URL": fake.api_url,
                **env,
            },
        )
    assert result.returncode == 2
    assert result.stderr.startswith(f"reconnect: {variable} was rejected by Slack (invalid_auth)")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_teams_only_in_anonymous_mode_says_so(tmp_path: Path) -> None:
    teams = {
        "RUN_SCHEDULER": "false",
        "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true",
    }
    with run_bot(tmp_path, teams) as bot:
        with pytest.raises(OSError) as slack:
            urlopen(f"http://127.0.0.1:{bot.port}/slack/events", data=b"x", timeout=5)
        assert "404" in str(slack.value)  # Slack is not configured
        with pytest.raises(OSError) as activity:
            urlopen(f"http://127.0.0.1:{bot.port}/api/messages", data=b"{}", timeout=5)
        assert "400" in str(activity.value)  # served, and a non-activity is a bad request
    assert "anonymous mode" in bot.output
    assert "teams='anonymous'" in bot.output and "slack='off'" in bot.output
