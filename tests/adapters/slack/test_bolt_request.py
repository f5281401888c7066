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


def test_form_fields_are_what_parse_qsl_gives() -> None:
    """bot/adapters/slack/inbound.form_fields decodes escapes with binascii: for every body,
    Slack's and odd ones alike, it must give what ``dict(parse_qsl(…))`` gives."""
    import random
    import re
    from urllib.parse import parse_qsl, urlencode

    from bot.adapters.slack.inbound import form_fields
    from tests.fakes import slack_requests as sr

    bodies = [
        sr.block_action("rc:snooze:1.1", "123", user="U1", response_url="http://x/y"),
        sr.slash_command("log Zoë Ó Briain -- a=b & 100% “quotes” 🙂", user="U1"),
        urlencode({"payload": '{"a": "=3D %41 \\u0000 \\ud800"}', "x": "=", "": "e"}),
        "", "&&", "a", "a=", "=b", "a=1&a=2", "a=%", "a=%4", "a=%zz", "a=%e2%80", "a=%E2%80%94",
        "a=b=c", "a=%3d%3D", "a+b=c+d", "a=é", "a=%C3é%A9", "a=\n=0A", "a=%0D%0A=",
    ]  # fmt: skip
    rng = random.Random(13)
    alphabet = "ab=&%+0123456789aAfFgG \t\n\r~é€"
    bodies += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)
    ]
    tokens = ["%41", "%3d", "%3D", "%e2%80%94", "%C3", "%ff", "%00", "+", "=", "&", "a", "Z",
              " ", "\n", "%", "%4", "%g1", "é"]  # fmt: skip
    bodies += ["".join(rng.choice(tokens) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    fast = 0
    for body in bodies:
        assert form_fields(body) == dict(parse_qsl(body, keep_blank_values=True)), body
        fast += body.isascii() and "%" in body and "%" not in re.sub("%[0-9A-Fa-f]{2}", "", body)
    assert fast > 200  # many bodies took the binascii path
