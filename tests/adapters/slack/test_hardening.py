"""Hostile and broken requests to POST /slack/events: never a 500, never a traceback."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.fakes import slack_requests as sr
from tests.support import SlackClient

FORM = "application/x-www-form-urlencoded"

#: (name, body bytes, content type, extra headers) — bodies that break parsing.
MALFORMED: list[tuple[str, bytes, str, dict[str, str]]] = [
    ("invalid utf-8", b"payload=%7B%7D\xff\xfe", FORM, {}),
    ("bogus charset", b"command=%2Freconnect&text=help", f"{FORM}; charset=bogus", {}),
    ("non-integer timestamp", b"command=%2Freconnect", FORM, {"X-Slack-Request-Timestamp": "soon"}),
    ("json list", b"[]", "application/json", {}),
    ("json string", b'"x"', "application/json", {}),
    ("team not an object", b'{"team":5}', "application/json", {}),
    ("payload null", b"payload=null", FORM, {}),
    ("payload a list", b"payload=%5B%5D", FORM, {}),
    ("payload team a number", b"payload=" + json.dumps({"team": 5}).encode(), FORM, {}),
    ("payload not json", b"payload=%7Bnope", FORM, {}),
    ("event not an object", b'{"type":"event_callback","event":"x"}', "application/json", {}),
]
IDS = [case[0] for case in MALFORMED]


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not bad, [r.getMessage()[:200] for r in bad]


def _signature(body: bytes, timestamp: str) -> str:
    import hashlib
    import hmac

    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(sr.SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize(("name", "body", "content_type", "extra"), MALFORMED, ids=IDS)
async def test_malformed_requests_get_a_4xx_and_no_traceback(
    slack: SlackClient,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    name: str,
    body: bytes,
    content_type: str,
    extra: dict[str, str],
    signed: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp}
    if signed:
        headers["X-Slack-Signature"] = _signature(body, timestamp)
    headers.update(extra)
    async with slack.http.post(slack.url, data=body, headers=headers) as response:
        status = response.status
        answer = await response.read()
    assert status < 500, (name, status, answer[:300])
    if not signed or name == "non-integer timestamp":
        assert status in (400, 401)
    no_tracebacks(caplog)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert sr.SIGNING_SECRET not in out.out + out.err
    if status >= 400:
        assert (out.out + out.err).count("slack.request_rejected") == 1  # one line, no body
        assert "reconnect" not in out.out + out.err
