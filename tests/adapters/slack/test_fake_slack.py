"""The fake Slack Web API itself: planned 429s carry exactly the ``Retry-After`` asked for."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fakes.slack_api import BOT_TOKEN, FakeSlack


@pytest.mark.parametrize(("retry_after", "header"), [(0, "0"), (2, "2"), (None, None)])
async def test_a_planned_429_sends_the_retry_after_it_was_given(
    fake_slack: FakeSlack, retry_after: int | None, header: str | None
) -> None:
    """``retry_after=0`` means "retry now" (a header of 0), not "no header" (wait the default)."""
    fake_slack.fail("chat.postMessage", status=429, retry_after=retry_after)
    auth = {"Authorization": f"Bearer {BOT_TOKEN}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        url = f"{fake_slack.api_url}chat.postMessage"
        async with http.post(url, json={"channel": "U1", "text": "hi"}) as limited:
            assert limited.status == 429
            assert limited.headers.get("Retry-After") == header
            assert (await limited.json()) == {"ok": False, "error": "ratelimited"}
        async with http.post(url, json={"channel": "U1", "text": "hi"}) as answer:
            assert answer.status == 200 and (await answer.json())["ok"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert len(fake_slack.messages_to("DU1")) == 1  # the refused post never reached Slack
