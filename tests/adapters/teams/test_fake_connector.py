"""The fake Teams connector over real HTTP: routes, recording, faults, rate limiting, latency."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.teams_connector import Call, FakeTeamsConnector, ManualClock, RealClock

PERSONAL = "a:1XyZpersonalConversationId0123456789"
CHANNEL = "19:abcdef0123456789@thread.tacv2;messageid=1736935200000"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def message(
    text: str | None = "hello", conversation: str = PERSONAL, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "message",
        "channelId": "msteams",
        "conversation": {"id": conversation, "tenantId": TENANT},
        "text": text,
        **extra,
    }


@pytest.fixture
def fake_time() -> ManualClock:
    """The fake's clock: it stands still until the test advances it."""
    return ManualClock()


@pytest.fixture
def teams(fake_time: ManualClock) -> Iterator[FakeTeamsConnector]:
    with FakeTeamsConnector(clock=fake_time) as fake:
        yield fake


@pytest.fixture
async def http(teams: FakeTeamsConnector) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": "Bearer test-token"}
    async with aiohttp.ClientSession(base_url=teams.service_url, headers=headers) as session:
        yield session


async def post(
    http: aiohttp.ClientSession, path: str, body: Any
) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
    async with http.post(path, json=body) as response:
        return response.status, await response.json(), response


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for ``condition`` about the fake, whose loop runs in another thread: polled, and
    fails after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (no event to await across the threads)
            await asyncio.sleep(0.005)


async def test_send_records_the_call_and_answers_201_with_a_new_id(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    body = message("hi there", id=None, locale=None)  # a plain send carries nulls
    status, answer, _ = await post(http, f"v3/conversations/{PERSONAL}/activities", body)

    assert status == 201
    [call] = teams.calls
    assert (call.method, call.kind, call.conversation_id, call.activity_id) == (
        "POST", "send", PERSONAL, None,
    )  # fmt: skip
    assert call.authorization == "Bearer test-token"
    assert call.body == body and call.text == "hi there"
    assert call.response_id == answer["id"] and call.ok
    assert teams.sent() == [call] == teams.sent(PERSONAL)
    assert teams.sent("a:other") == []
    assert teams.messages_in(PERSONAL) == [{**body, "id": answer["id"]}]
    assert teams.service_url == f"http://127.0.0.1:{teams.port}/"


async def test_reply_in_a_channel_thread_keeps_the_conversation_id_intact(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    ids = set()
    for text in ("one", "two"):
        status, answer, _ = await post(
            http,
            f"v3/conversations/{CHANNEL}/activities/1736935200000",
            message(text, CHANNEL, replyToId="1736935200000"),
        )
        assert status == 201
        ids.add(answer["id"])

    assert len(ids) == 2
    calls = teams.wait_for("reply", 2)
    assert {c.conversation_id for c in calls} == {CHANNEL}
    assert {c.activity_id for c in calls} == {"1736935200000"}
    assert teams.texts(CHANNEL) == ["one", "two"]


async def test_update_answers_json_with_the_activity_id_and_changes_the_message(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x"}]}
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    _, sent, _ = await post(
        http, f"v3/conversations/{PERSONAL}/activities", message(None, attachments=[attachment])
    )
    activity_id = sent["id"]
    assert teams.sent()[0].card == card

    new = message("done", id=activity_id, locale=None)
    async with http.put(f"v3/conversations/{PERSONAL}/activities/{activity_id}", json=new) as r:
        assert r.status == 200
        assert r.content_type == "application/json"
        assert await r.json() == {"id": activity_id}

    [update] = teams.updates()
    assert (update.kind, update.activity_id, update.text) == ("update", activity_id, "done")
    assert teams.messages_in(PERSONAL) == [{**new, "id": activity_id}]
    assert teams.message(activity_id) == {**new, "id": activity_id}

    async with http.delete(f"v3/conversations/{PERSONAL}/activities/{activity_id}") as r:
        assert r.status == 200
        assert await r.json() == {"id": activity_id}
    assert [c.activity_id for c in teams.deletes()] == [activity_id]
    assert teams.messages_in(PERSONAL) == []
    assert len(teams.sent()) == 1  # the record of what was sent stays


async def test_strict_mode_answers_404_for_unknown_activities() -> None:
    async with FakeTeamsConnector(strict=True) as teams, aiohttp.ClientSession() as http:
        url = f"{teams.service_url}v3/conversations/{PERSONAL}/activities/nope"
        async with http.put(url, json=message("x")) as r:
            assert r.status == 404
            assert (await r.json())["error"]["code"] == "ActivityNotFoundInConversation"
        assert teams.updates() == [] and teams.rejected(404)[0].kind == "update"


async def test_typing_activities_are_kept_apart_from_messages(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    teams.fail(500, kind="reply")  # typing passes a fault by default ...
    typing = {"type": "typing", "conversation": {"id": PERSONAL}, "replyToId": "in-1"}
    status, _, _ = await post(http, f"v3/conversations/{PERSONAL}/activities/in-1", typing)
    assert status == 201
    status, _, _ = await post(http, f"v3/conversations/{PERSONAL}/activities/in-1", message())
    assert status == 500  # ... the message takes it

    assert [c.type for c in teams.typing_calls()] == ["typing"]
    assert teams.sent() == []
    assert teams.messages_in(PERSONAL) == []

    teams.fail(502, kind="reply", typing=True)
    status, _, _ = await post(http, f"v3/conversations/{PERSONAL}/activities/in-1", typing)
    assert status == 502


async def test_create_conversation_returns_the_same_one_to_one_chat_for_the_same_user(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    def params(user: str) -> dict[str, Any]:
        return {"bot": {"id": "28:bot"}, "members": [{"id": user}], "isGroup": False,
                "tenantId": TENANT, "channelData": {"tenant": {"id": TENANT}}}  # fmt: skip

    _, first, _ = await post(http, "v3/conversations", params("29:ada"))
    _, again, _ = await post(http, "v3/conversations", params("29:ada"))
    _, other, _ = await post(http, "v3/conversations", params("29:bob"))

    assert first["id"] == again["id"] != other["id"]
    assert first["id"].startswith("a:")
    creates = teams.calls_of("create")
    assert [c.conversation_id for c in creates] == [first["id"], first["id"], other["id"]]
    assert all(c.status == 201 for c in creates)


@pytest.mark.parametrize("status", [429, 412, 500, 502, 504, 403])
async def test_planned_faults_answer_the_status_once(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession, status: int
) -> None:
    teams.fail(status, retry_after=7 if status == 429 else None)
    path = f"v3/conversations/{PERSONAL}/activities"

    got, body, response = await post(http, path, message())
    assert got == status
    assert set(body["error"]) == {"code", "message"}
    assert response.headers.get("Retry-After") == ("7" if status == 429 else None)

    got, _, _ = await post(http, path, message())
    assert got == 201
    assert [c.status for c in teams.calls] == [status, 201]
    assert len(teams.sent()) == 1 and len(teams.rejected(status)) == 1


async def test_faults_can_target_a_kind_a_conversation_and_repeat(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    teams.fail(429, times=2, retry_after=0.5, kind="send", conversation_id=CHANNEL)
    teams.fail(412, kind=("update", "delete"))

    got, _, _ = await post(http, f"v3/conversations/{PERSONAL}/activities", message())
    assert got == 201  # other conversation
    got, _, _ = await post(http, f"v3/conversations/{CHANNEL}/activities/1", message())
    assert got == 201  # a reply, not a send
    for _ in range(2):
        got, _, response = await post(http, f"v3/conversations/{CHANNEL}/activities", message())
        assert got == 429 and response.headers["Retry-After"] == "0.5"
    got, _, _ = await post(http, f"v3/conversations/{CHANNEL}/activities", message())
    assert got == 201
    async with http.delete(f"v3/conversations/{PERSONAL}/activities/x") as r:
        assert r.status == 412
    assert teams.throttled == 0  # planned faults are not the rate limiter's


async def test_rate_limit_answers_429_with_retry_after_beyond_the_burst(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession, fake_time: ManualClock
) -> None:
    teams.rate_limit(per_second=2.0, burst=3)
    path = f"v3/conversations/{PERSONAL}/activities"
    results = await asyncio.gather(*(post(http, path, message(str(i))) for i in range(12)))

    statuses = [status for status, _, _ in results]
    assert statuses.count(201) == 3  # the burst (the clock stands still: nothing refills)
    assert statuses.count(429) == 9 == teams.throttled
    assert {r.headers["Retry-After"] for s, _, r in results if s == 429} == {"1"}
    assert all(c.throttled for c in teams.rejected(429))
    assert len(teams.sent()) == 3

    fake_time.advance(0.25)  # half a token back: still throttled
    assert (await post(http, path, message("too soon")))[0] == 429
    fake_time.advance(0.25)  # one token back
    assert (await post(http, path, message("later")))[0] == 201
    assert (await post(http, path, message("one too many")))[0] == 429  # and only one
    assert teams.throttled == 11


async def test_rate_limit_per_conversation_and_fractional_retry_after(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    teams.rate_limit(per_second=1000, per_conversation=7, retry_after=None)
    busy = [
        await post(http, f"v3/conversations/{PERSONAL}/activities", message(str(i)))
        for i in range(9)
    ]
    assert [s for s, _, _ in busy] == [201] * 7 + [429] * 2
    retry_after = float(busy[-1][2].headers["Retry-After"])
    assert 0 < retry_after < 1
    assert busy[-1][2].headers["Retry-After"] == "0.143"  # a whole token at 7 a second: 1/7 s

    status, _, _ = await post(http, f"v3/conversations/{CHANNEL}/activities", message())
    assert status == 201  # another conversation has its own bucket

    teams.rate_limit(None)
    status, _, _ = await post(http, f"v3/conversations/{PERSONAL}/activities", message())
    assert status == 201


async def test_rate_limit_is_per_tenant(
    teams: FakeTeamsConnector, http: aiohttp.ClientSession
) -> None:
    teams.rate_limit(per_second=0.001, burst=1)
    other = message()
    other["conversation"]["tenantId"] = "another-tenant"
    path = f"v3/conversations/{PERSONAL}/activities"
    assert [(await post(http, path, message()))[0] for _ in range(2)] == [201, 429]
    assert (await post(http, path, other))[0] == 201
    teams.reset()  # refills the buckets, keeps the limit
    assert teams.calls == [] and teams.throttled == 0
    assert [(await post(http, path, message()))[0] for _ in range(2)] == [201, 429]


async def test_latency_delays_the_answer_but_the_message_is_in_teams_on_arrival(
    fake_time: ManualClock,
) -> None:
    async with (
        FakeTeamsConnector(latency=0.5, clock=fake_time) as teams,
        aiohttp.ClientSession() as http,
    ):
        url = f"{teams.service_url}v3/conversations/{PERSONAL}/activities"
        request = asyncio.create_task(http.post(url, json=message("slow")))
        [call] = await teams.async_wait_for(None, 1, within=5)
        # In Teams on arrival, while the answer is held back (no time has passed).
        assert call.ok and teams.messages_in(PERSONAL)[0]["text"] == "slow"
        await until(lambda: fake_time.sleeping == 1)
        assert not request.done()
        fake_time.advance(0.375)
        assert fake_time.sleeping == 1 and not request.done()  # the latency is not up yet
        fake_time.advance(0.125)  # (binary fractions: exactly 0.5 s in all)
        response = await asyncio.wait_for(request, 5)
        assert response.status == 201 and fake_time.sleeping == 0
        response.release()


async def test_latency_on_the_real_clock_answers_after_recording() -> None:
    async with FakeTeamsConnector(latency=0.05) as teams, aiohttp.ClientSession() as http:
        assert isinstance(teams.clock, RealClock)
        url = f"{teams.service_url}v3/conversations/{PERSONAL}/activities"
        async with http.post(url, json=message("real")) as response:
            assert response.status == 201
            assert teams.texts(PERSONAL) == ["real"]  # recorded before the answer left


def test_sync_use_waits_and_reports_what_arrived(teams: FakeTeamsConnector) -> None:
    data = json.dumps({"type": "message", "text": "from a thread", "x": None}).encode()
    request = urllib.request.Request(
        f"{teams.service_url}v3/conversations/{CHANNEL}/activities/123",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201

    [call] = teams.wait_for(lambda c: c.text == "from a thread", timeout=1)
    assert call.conversation_id == CHANNEL and call.authorization is None
    assert call.body["x"] is None

    with pytest.raises(TimeoutError, match="1 of 2 arrived"):
        teams.wait_for("reply", 2, timeout=0.05)
    with pytest.raises(ValueError, match="unknown kind"):
        teams.wait_for("post")


def test_unknown_routes_are_recorded_and_answered_404(teams: FakeTeamsConnector) -> None:
    url = f"{teams.service_url}v3/conversations/{PERSONAL}/members"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(url, timeout=5)
    assert error.value.code == 404
    [call] = teams.calls
    assert isinstance(call, Call) and call.kind == "other" and call.method == "GET"


async def test_the_sdk_connector_client_works_against_the_fake(
    teams: FakeTeamsConnector,
) -> None:
    client_module = pytest.importorskip("microsoft_agents.hosting.core.connector.client")
    from microsoft_agents.activity import (
        Activity,
        ChannelAccount,
        ConversationAccount,
        ConversationParameters,
    )

    client = client_module.ConnectorClient(teams.service_url, "")  # anonymous: no token
    try:
        ops = client.conversations

        def activity(text: str, **extra: Any) -> Activity:
            return Activity(
                type="message",
                text=text,
                conversation=ConversationAccount(id=CHANNEL),
                **extra,
            )

        sent = await ops.send_to_conversation(CHANNEL, activity("send"))
        reply = await ops.reply_to_activity(CHANNEL, "1736935200000", activity("reply"))
        updated = await ops.update_activity(CHANNEL, sent.id, activity("edited", id=sent.id))
        await ops.delete_activity(CHANNEL, reply.id)
        created = await ops.create_conversation(
            ConversationParameters(
                is_group=False, members=[ChannelAccount(id="29:ada")], tenant_id=TENANT
            )
        )

        assert updated.id == sent.id
        assert created.id.startswith("a:")
        assert [c.kind for c in teams.calls] == ["send", "reply", "update", "delete", "create"]
        assert {c.conversation_id for c in teams.calls[:4]} == {CHANNEL}
        assert all(c.authorization is None for c in teams.calls)
        assert [m["text"] for m in teams.messages_in(CHANNEL)] == ["edited"]

        teams.fail(429, retry_after=3)
        with pytest.raises(aiohttp.ClientResponseError) as error:
            await ops.send_to_conversation(CHANNEL, activity("throttled"))
        assert error.value.status == 429
        assert error.value.headers is not None and error.value.headers["Retry-After"] == "3"
    finally:
        await client.close()
