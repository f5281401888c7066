"""respond() on a kept-alive connection (bot/adapters/slack/responses.py)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.adapters.slack.responses import ResponseSessions, SharedRespond
from tests.fakes.slack_api import FakeSlack, _open_sockets

ANSWERS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (
        (),
        {
            "text": "Snoozed Dana until Friday.",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Dana*"}}],
            "response_type": "ephemeral",
            "replace_original": True,
        },
    ),
    (("Sorry — please try again.",), {"replace_original": False}),
    (({"text": "A whole message", "response_type": "ephemeral"},), {}),
]


def _posted(fake: FakeSlack) -> list[dict[str, Any]]:
    return [call.params for call in fake.calls if call.method == "response_url"]


async def test_answers_share_one_connection_and_are_what_bolt_sends(fake_slack: FakeSlack) -> None:
    """Bolt's respond() opens a connection for every answer (to Slack: a TLS handshake each);
    ours keeps one open for the next answer, and posts the very same messages."""
    url = fake_slack.response_url("a")
    sessions = ResponseSessions()
    for args, kwargs in ANSWERS:
        await SharedRespond(response_url=url, sessions=sessions)(*args, **kwargs)
        assert _open_sockets(fake_slack.port) == 1  # the same connection, still open
    ours = _posted(fake_slack)
    await sessions.close()
    fake_slack.calls.clear()
    for args, kwargs in ANSWERS:
        await AsyncRespond(response_url=url)(*args, **kwargs)
    assert ours == _posted(fake_slack) and len(ours) == len(ANSWERS)


async def test_a_closed_session_is_replaced_and_no_url_is_refused(fake_slack: FakeSlack) -> None:
    sessions = ResponseSessions()
    first = sessions.session()
    await sessions.close()
    assert first.closed and sessions.session() is not first
    await SharedRespond(response_url=fake_slack.response_url(), sessions=sessions)("again")
    assert [p["text"] for p in _posted(fake_slack)] == ["again"]
    await sessions.close()
    with pytest.raises(ValueError, match="no response_url"):
        await SharedRespond(response_url=None, sessions=sessions)("lost")
