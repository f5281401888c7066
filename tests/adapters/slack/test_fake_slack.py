"""The fake Slack Web API itself: planned 429s carry exactly the ``Retry-After`` asked for; it
knows when every client is done with it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

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


def test_wait_until_idle_waits_for_what_a_killed_client_sent(fake_slack: FakeSlack) -> None:
    """A client that dies right after sending: once the fake is idle, its post is in Slack."""
    body = json.dumps({"channel": "U1", "text": "last words"})
    request = (
        f"POST /api/chat.postMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {BOT_TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )
    script = (
        "import socket, sys, time\n"
        f"s = socket.create_connection(('127.0.0.1', {fake_slack.port}))\n"
        "s.sendall(sys.argv[1].encode())\n"
        "print('sent', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, request], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"sent\n"
    finally:
        child.kill()
        child.wait(10)
    fake_slack.wait_until_idle()
    assert [m["text"] for m in fake_slack.messages_to("DU1")] == ["last words"]


async def test_wait_until_idle_counts_a_connected_client(fake_slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake_slack.api_url}auth.test") as response:
            assert response.status == 200  # the connection stays open (keep-alive)
        with pytest.raises(TimeoutError, match="still busy"):
            await asyncio.to_thread(fake_slack.wait_until_idle, 0.05)
    await asyncio.to_thread(fake_slack.wait_until_idle)


async def test_held_answers_wait_for_release_but_the_message_is_in_slack_on_arrival(
    fake_slack: FakeSlack,
) -> None:
    auth = {"Authorization": f"Bearer {BOT_TOKEN}"}
    url = f"{fake_slack.api_url}chat.postMessage"
    fake_slack.hold_answers("chat.postMessage", from_call=2)
    async with aiohttp.ClientSession(headers=auth) as http:

        async def post(text: str) -> int:
            async with http.post(url, json={"channel": "U1", "text": text}) as response:
                return response.status

        assert await post("first") == 200  # before the hold's call: answered
        held = [asyncio.create_task(post(text)) for text in ("second", "third")]
        await fake_slack.async_wait_for("chat.postMessage", 3)
        assert [m["text"] for m in fake_slack.messages_to("DU1")] == ["first", "second", "third"]
        async with http.post(f"{fake_slack.api_url}auth.test") as other:
            assert other.status == 200  # other methods are answered
        assert not any(task.done() for task in held)
        fake_slack.release_answers()
        assert await asyncio.gather(*held) == [200, 200]
        assert await post("fourth") == 200  # no longer held
