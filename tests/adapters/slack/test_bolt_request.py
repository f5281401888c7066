"""bot/web.py hands Bolt the payload it parsed already: Bolt must see what it would have read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.adapters.slack.inbound import parse
from bot.web import bolt_request_of
from tests.fakes import slack_requests as sr

FORM = "application/x-www-form-urlencoded"
EVENT = json.dumps(
    {
        "type": "event_callback",
        "team_id": "T1",
        "event": {"type": "app_home_opened", "user": "U1", "tab": "home"},
    }
)


def _seen_by_bolt(request: AsyncBoltRequest) -> dict[str, Any]:
    context = {k: v for k, v in request.context.items() if k not in ("ack", "say", "respond")}
    return {
        "raw_body": request.raw_body,
        "body": request.body,
        "query": request.query,
        "headers": request.headers,
        "content_type": request.content_type,
        "context": context,
        "lazy": (request.lazy_only, request.lazy_function_name),
        "mode": request.mode,
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (sr.slash_command("log Dana -- coffee", response_url="https://hooks.slack.com/x"), FORM),
        (sr.block_action("rc:snooze:1.1", "42", response_url="https://hooks.slack.com/x"), FORM),
        (sr.block_action("rc:due", "", container="view"), f"{FORM}; charset=utf-8"),
        (EVENT, "application/json"),
        (EVENT, "Application/JSON; charset=utf-8"),  # Bolt reads this one itself
        (" " + EVENT, "APPLICATION/JSON"),  # … and this one, which only we read as JSON
    ],
)
def test_bolt_sees_the_request_it_would_have_parsed(body: str, content_type: str) -> None:
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": "1"}
    text, payload = parse(body.encode(), content_type)
    ours = bolt_request_of(text, payload, "a=1", headers, content_type)
    bolts = AsyncBoltRequest(body=text, query="a=1", headers=headers)
    assert _seen_by_bolt(ours) == _seen_by_bolt(bolts)


def test_a_parsed_payload_is_not_parsed_again() -> None:
    body = sr.slash_command("due")
    payload = parse(body.encode(), FORM)[1]
    request = bolt_request_of(body, payload, "", {"Content-Type": FORM}, FORM)
    assert request.body is payload  # Bolt's own copy would be another dict
