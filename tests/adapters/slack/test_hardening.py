"""Hostile and broken requests to POST /slack/events: never a 500, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack.inbound import response_url_allowed
from bot.app import build_app
from bot.core.model import UserRef
from storage import replays
from storage.replays import KEEP_SECONDS, PRUNE_EVERY_SECONDS, SeenRequests
from storage.repository import SqlStore
from tests.conftest import slack_settings
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import FakeSlack
from tests.support import Clock, SlackClient, contacts_table_gone

ADA = UserRef("slack", sr.TEAM, "U1")
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


# --- signed, parseable, but broken payloads ----------------------------------------------------


def _payload(body: str) -> dict[str, Any]:
    return json.loads(dict(parse_qsl(body))["payload"])


def _form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _submission(**changes: Any) -> dict[str, Any]:
    payload = _payload(sr.view_submission("rc_form:add_contact", {"name": "Dana Whitfield"}))
    for key, value in changes.items():
        if key == "user" and value is None:
            del payload["user"]
        elif key in ("state", "private_metadata"):
            payload["view"][key] = value
        else:
            payload[key] = value
    return payload


def _click(**changes: Any) -> dict[str, Any]:
    payload = _payload(sr.block_action("rc:add.form:0.0", ""))
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


BROKEN: list[tuple[str, dict[str, Any]]] = [
    ("view.state a string", _submission(state="x")),
    ("view.state.values a list", _submission(state={"values": []})),
    ("private_metadata an object", _submission(private_metadata={"url": "https://x"})),
    ("submission without user", _submission(user=None)),
    ("submission with user {}", _submission(user={})),
    ("actions empty", _click(actions=[])),
    ("actions not a list", _click(actions={"action_id": "rc:add.form:0.0"})),
    ("action not an object", _click(actions=["rc:add.form:0.0"])),
    ("click without user", _click(user=None)),
    ("view a string", {**_submission(), "view": "x"}),
]


@pytest.mark.parametrize(("name", "payload"), BROKEN, ids=[b[0] for b in BROKEN])
async def test_signed_broken_payloads_are_acked_and_change_nothing(
    slack: SlackClient,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    name: str,
    payload: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await slack.post(_form(payload))
    assert response.status < 500, (name, response.status, response.body[:300])
    no_tracebacks(caplog)
    # Refused before Bolt ran anything, so nothing can still be on its way to the database.
    out = capsys.readouterr().out
    assert "slack.request_ignored" in out or "slack.request_rejected" in out
    async with engine.connect() as connection:
        users = (await connection.execute(text("SELECT count(*) FROM users"))).scalar_one()
        contacts = (await connection.execute(text("SELECT count(*) FROM contacts"))).scalar_one()
    assert (users, contacts) == (0, 0)


async def test_nul_and_lone_surrogates_are_stripped_from_form_values(
    slack: SlackClient, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await slack.submit(
        "rc_form:add_contact",
        {"name": "Da\x00na\ud800", "company_role": "VP\udfff Ops\x00", "notes": "\x00"},
    )
    assert response.status == 200, response.body[:300]
    no_tracebacks(caplog)
    async with SqlStore(engine).book(ADA) as book:
        (contact,) = [await book.get(cid) for cid, _ in await book.names()]
    assert contact is not None
    assert (contact.name, contact.company_role) == ("Dana", "VP Ops")


async def test_nul_and_lone_surrogates_are_stripped_from_a_pick_note(
    slack: SlackClient,
    engine: AsyncEngine,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await slack.command("add Dana Whitfield")
    async with SqlStore(engine).book(ADA) as book:
        ((dana, _),) = await book.names()
    value = json.dumps({"op": "log", "id": dana, "note": "co\x00ffee\ud800"})
    response = await slack.click("rc:pick:0.0", value)
    assert response.status == 200
    await fake_slack.async_wait_for("response_url")  # handled after the ack
    no_tracebacks(caplog)
    async with engine.connect() as connection:
        notes = (await connection.execute(text("SELECT note FROM conversations"))).scalars()
        assert list(notes) == ["coffee"]


# --- a button whose handler fails after the ack ------------------------------------------------


async def test_a_failing_button_tells_the_user_and_logs_one_line(
    slack: SlackClient,
    engine: AsyncEngine,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await slack.command("add Dana Whitfield")
    async with SqlStore(engine).book(ADA) as book:
        ((dana, _),) = await book.names()
    capsys.readouterr()
    async with contacts_table_gone(engine):
        response = await slack.click("rc:snooze:3.1", str(dana))
        assert response.status == 200
        posted = (await fake_slack.async_wait_for("response_url"))[0]
    assert "something went wrong" in posted.params["text"].lower()
    assert posted.params.get("replace_original") in (False, "false", None)
    lines = [line for line in capsys.readouterr().out.splitlines() if "action_failed" in line]
    assert len(lines) == 1 and "error=" in lines[0], lines


async def test_a_failing_button_on_the_home_tab_sends_a_direct_message(
    slack: SlackClient, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    await slack.command("add Dana Whitfield")
    async with SqlStore(engine).book(ADA) as book:
        ((dana, _),) = await book.names()
    async with contacts_table_gone(engine):
        body = sr.block_action("rc:snooze:3.1", str(dana), container="view")
        assert (await slack.post(body)).status == 200
        posted = (await fake_slack.async_wait_for("chat.postMessage"))[0]
    assert posted.params["channel"] == "U1"
    assert "something went wrong" in posted.params["text"].lower()


# --- response_url from private_metadata --------------------------------------------------------


@contextlib.asynccontextmanager
async def attacker() -> AsyncIterator[tuple[str, list[str]]]:
    """A tiny web server that records every request it gets: ``(its url, paths hit)``."""
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/steal", hits
    finally:
        await runner.cleanup()


async def test_a_foreign_response_url_in_private_metadata_gets_nothing(
    slack: SlackClient, fake_slack: FakeSlack, engine: AsyncEngine
) -> None:
    async with attacker() as (url, hits):
        metadata = json.dumps({"ctx": "", "url": url})
        response = await slack.submit("rc_form:add_contact", {"name": "Dana"}, metadata=metadata)
        assert response.status == 200
        # The reply goes to the Home tab instead, once the submission is handled.
        # (views.publish is the handler's last step: any post to the attacker came before.)
        await fake_slack.async_wait_for("views.publish")
        assert hits == []
    assert fake_slack.calls_to("response_url") == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/actions/T1/1/x", True),
        ("https://hooks.slack-gov.com/commands/T1/1/x", True),
        ("http://hooks.slack.com/actions/T1/1/x", False),
        ("https://hooks.slack.com.evil.example/x", False),
        ("https://hooks.slack.com@evil.example/x", False),
        ("https://evil.example/?https://hooks.slack.com/", False),
        ("https://hooks.slack.com:8443/x", False),
        ("https://slack.com/api/chat.postMessage", False),
        ("http://127.0.0.1:9/response/1", True),  # the configured SLACK_API_URL's origin
        ("http://127.0.0.1:10/response/1", False),
        ("https://127.0.0.1:9/response/1", False),
        ("http://127.0.0.1:bad/x", False),
        ("javascript:alert(1)", False),
    ],
)
def test_response_urls_are_trusted_only_on_slack_hooks_or_the_api_origin(
    url: str, allowed: bool
) -> None:
    assert response_url_allowed(url, api_url="http://127.0.0.1:9/api/") is allowed


# --- replays and Slack's retries ---------------------------------------------------------------


async def conversations(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            (await connection.execute(text("SELECT count(*) FROM conversations"))).scalar_one()
        )


async def post_as_is(slack: SlackClient, url: str, body: str, headers: dict[str, str]) -> int:
    async with slack.http.post(url, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status


async def log_form_body(slack: SlackClient, engine: AsyncEngine) -> str:
    await slack.command("add Dana Whitfield")
    async with SqlStore(engine).book(ADA) as book:
        ((dana, _),) = await book.names()
    values = {"contact": sr.select(str(dana)), "occurred_on": sr.date_picked("2026-11-24"),
              "note": "coffee"}  # fmt: skip
    return sr.view_submission("rc_form:log_conversation", values)


async def test_a_replayed_request_has_no_second_effect(
    slack: SlackClient, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    body = await log_form_body(slack, engine)
    headers = sr.signed_headers(body, content_type=FORM)
    assert await post_as_is(slack, slack.url, body, headers) == 200
    await fake_slack.async_wait_for("views.publish")
    assert await post_as_is(slack, slack.url, body, headers) == 200
    # A submission is written before its ack, so a second one would be counted by now.
    assert await conversations(engine) == 1
    assert len(fake_slack.calls_to("views.publish")) == 1


async def test_slacks_retry_of_a_handled_request_has_no_second_effect(
    slack: SlackClient, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    body = await log_form_body(slack, engine)
    headers = sr.signed_headers(body, content_type=FORM)
    assert await post_as_is(slack, slack.url, body, headers) == 200
    retry = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert await post_as_is(slack, slack.url, body, retry) == 200
    await fake_slack.async_wait_for("views.publish")
    assert await conversations(engine) == 1


async def test_a_replay_to_another_web_process_has_no_second_effect(
    slack: SlackClient,
    engine: AsyncEngine,
    database_url: URL,
    fake_slack: FakeSlack,
    clock: Clock,
) -> None:
    """Two apps, each with its own engine (as two processes would be), on one database."""
    other = build_app(slack_settings(database_url, fake_slack.api_url), clock=clock)
    runner = web.AppRunner(other.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        other_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        body = await log_form_body(slack, engine)
        headers = sr.signed_headers(body, content_type=FORM)
        assert await post_as_is(slack, slack.url, body, headers) == 200
        assert await post_as_is(slack, other_url, body, headers) == 200
        await fake_slack.async_wait_for("views.publish")
        assert await conversations(engine) == 1
    finally:
        await runner.cleanup()
        await other.close()


async def test_seen_requests_are_pruned_after_the_signature_window(engine: AsyncEngine) -> None:
    now = [1_800_000_000.0]
    seen = SeenRequests(engine, now=lambda: now[0])
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM slack_seen_requests"))
    assert await seen.first_time(1_800_000_000, "v0=a")
    assert not await seen.first_time(1_800_000_000, "v0=a")
    assert await seen.first_time(1_800_000_000, "v0=b")
    now[0] += KEEP_SECONDS + PRUNE_EVERY_SECONDS + 1
    assert await seen.first_time(int(now[0]), "v0=c")
    assert await seen.count() == 1


async def test_old_keys_are_pruned_on_both_databases_without_waiting_for_a_lock(
    engine: AsyncEngine,
) -> None:
    """SQLite prunes inside the claiming transaction (which holds the write lock already; a
    prune of its own on the request's path waited out the 30 s busy timeout while another
    writer held the lock); PostgreSQL prunes on its own."""
    stamp = int(time.time())
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM slack_seen_requests"))
        await connection.execute(
            text("INSERT INTO slack_seen_requests (timestamp, signature) VALUES (:t, 'v0=old')"),
            {"t": stamp - KEEP_SECONDS - 10},
        )
    replays._sqlite_pruned_at[0] = 0.0
    token = replays.PENDING.set(((stamp, "v0=new"),))
    try:
        async with engine.begin() as connection:
            await replays.claim(connection)
    finally:
        replays.PENDING.reset(token)
    await SeenRequests(engine).prune_if_due()
    assert await SeenRequests(engine).count() == 1


async def test_seen_requests_taken_in_together_are_told_apart(engine: AsyncEngine) -> None:
    seen = SeenRequests(engine)
    stamp = int(time.time())
    same = [seen.first_time(stamp, "v0=same") for _ in range(5)]
    results = await asyncio.gather(*same, seen.first_time(stamp, "v0=other"))
    assert results == [True, False, False, False, False, True]
    assert await asyncio.gather(seen.first_time(stamp, "v0=same")) == [False]


async def seen_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        query = text("SELECT count(*) FROM slack_seen_requests")
        return int((await connection.execute(query)).scalar_one())


async def test_only_requests_that_may_write_are_recorded_against_replays(
    slack: SlackClient, engine: AsyncEngine
) -> None:
    """A replayed ``due`` is answered again (nothing to store twice) without a statement for the
    replay table; a replayed ``log`` is recorded and has no second effect."""
    await slack.command("add Dana Whitfield")
    before = await seen_rows(engine)
    due = sr.slash_command("due", response_url=slack.response_url)
    headers = sr.signed_headers(due, content_type=FORM)
    assert await post_as_is(slack, slack.url, due, headers) == 200
    assert await post_as_is(slack, slack.url, due, headers) == 200
    assert await seen_rows(engine) == before
    log = sr.slash_command("log Dana Whitfield", response_url=slack.response_url)
    headers = sr.signed_headers(log, content_type=FORM)
    assert await post_as_is(slack, slack.url, log, headers) == 200
    assert await post_as_is(slack, slack.url, log, headers) == 200
    assert await seen_rows(engine) == before + 1
    assert await conversations(engine) == 1


# --- failures before the ack, and respond() --------------------------------------------------


async def test_a_command_failing_before_its_ack_gets_a_friendly_answer_and_one_line(
    slack: SlackClient, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    await slack.command("add Dana Whitfield")
    capsys.readouterr()
    async with contacts_table_gone(engine):
        response = await slack.command("due")
    assert response.status == 200
    assert response.json["response_type"] == "ephemeral"
    assert "something went wrong" in response.json["text"].lower()
    out = capsys.readouterr()
    lines = [line for line in out.out.splitlines() if "listener_failed" in line]
    assert len(lines) == 1 and "kind=command" in lines[0], lines
    assert "Traceback" not in out.out + out.err


async def test_a_form_failing_before_its_ack_keeps_the_modal_open_with_a_message(
    slack: SlackClient, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    body = await log_form_body(slack, engine)
    capsys.readouterr()
    async with contacts_table_gone(engine):
        response = await slack.post(body)
    assert response.status == 200
    assert response.json["response_action"] == "errors"
    ((block, message),) = response.json["errors"].items()
    assert block in json.loads(dict(parse_qsl(body))["payload"])["view"]["state"]["values"]
    assert "something went wrong" in message.lower()
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert sum("listener_failed" in line for line in out.out.splitlines()) == 1


async def test_respond_posts_only_to_allowed_response_urls(
    slack: SlackClient, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    """A signed payload naming a foreign response_url: Bolt's respond() must not post there."""
    await slack.command("add Dana Whitfield")
    async with SqlStore(engine).book(ADA) as book:
        ((dana, _),) = await book.names()
    async with attacker() as (url, hits):
        body = sr.block_action("rc:snooze:3.1", str(dana), response_url=url + "/hook")
        assert (await slack.post(body)).status == 200
        await asyncio.sleep(0.3)
    assert hits == []
    # The press still worked (the snooze is stored) and the user heard about it by DM.
    posted = await fake_slack.async_wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "U1"


async def test_a_retry_of_a_request_whose_writes_never_committed_runs_it(
    slack: SlackClient, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    """The request's key is recorded in its own write transaction: when that transaction
    never commits (here the database fails; a killed process is the same), Slack's retry of
    it is not mistaken for a replay, and it takes effect once."""
    body = await log_form_body(slack, engine)
    headers = sr.signed_headers(body, content_type=FORM)
    async with contacts_table_gone(engine):
        assert await post_as_is(slack, slack.url, body, headers) == 200  # the friendly errors
    assert await conversations(engine) == 0
    retry = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert await post_as_is(slack, slack.url, body, retry) == 200
    assert await conversations(engine) == 1
    assert await post_as_is(slack, slack.url, body, {**retry, "X-Slack-Retry-Num": "2"}) == 200
    assert await conversations(engine) == 1
