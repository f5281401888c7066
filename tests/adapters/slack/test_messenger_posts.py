"""The nudge messenger's ``chat.postMessage``, as the clock process builds it
(:func:`bot.adapters.slack.messenger.web_client`), against the fake Slack: what reaches Slack,
how Slack's answers map onto retry, wait or give up, and what the send costs in wasted work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.slack import render
from bot.adapters.slack.messenger import EVENT_TYPE, SlackMessenger, posted, web_client
from bot.core.model import UserRef
from bot.core.ports import DeliveryError, DeliveryKind
from bot.core.replies import Button, Reply, Strong, context, section
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

REPLY = Reply(
    "Today: reconnect with Zoë Müller & Amélie O'Brien",
    (
        section(Strong("Zoë Müller"), " — “Head of Design” <at> Globex"),
        context("💡 It's about them, not you"),
        section("x", button=Button("Reached out", "card_reached", "7:42", style="primary")),
    ),
)


@pytest.fixture
async def messenger(fake_slack: FakeSlack) -> AsyncIterator[SlackMessenger]:
    messenger = SlackMessenger(web_client(BOT_TOKEN, fake_slack.api_url))
    yield messenger
    await messenger.close()


async def test_the_post_carries_the_rendered_message_the_tag_and_no_unfurling(
    messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    sent = await messenger.post("U1", REPLY, "reconnect-nudge-7")
    assert (sent.channel, sent.message_id) == ("DU1", fake_slack.messages_to("DU1")[0]["ts"])
    [call] = fake_slack.calls_to("chat.postMessage")
    expected: dict[str, Any] = {
        **render.message(REPLY),  # non-ASCII and escaped text arrive as rendered
        "channel": "U1",
        "metadata": {"event_type": EVENT_TYPE, "event_payload": {"key": "reconnect-nudge-7"}},
        "unfurl_links": False,
    }
    assert call.params == expected
    assert call.token == BOT_TOKEN
    # find() sees it by its tag, as a takeover looks for an earlier send.
    found = await messenger.find(
        sent.channel, "reconnect-nudge-7", datetime(2000, 1, 1, tzinfo=UTC)
    )
    assert found == sent.message_id


@pytest.mark.parametrize(
    ("fault", "kind", "code", "retry_after"),
    [
        ({"status": 429, "retry_after": 7}, DeliveryKind.RATELIMITED, "ratelimited", 7.0),
        ({"status": 429}, DeliveryKind.RATELIMITED, "ratelimited", 1.0),
        ({"status": 500}, DeliveryKind.TRANSIENT, "internal_error", None),
        ({"status": 200, "error": "channel_not_found"}, DeliveryKind.PERMANENT, "channel_not_found", None),
        ({"status": 200, "error": "invalid_blocks"}, DeliveryKind.TRANSIENT, "invalid_blocks", None),
    ],
)  # fmt: skip
async def test_slack_errors_map_onto_retry_wait_or_give_up(
    messenger: SlackMessenger,
    fake_slack: FakeSlack,
    fault: dict[str, Any],
    kind: DeliveryKind,
    code: str,
    retry_after: float | None,
) -> None:
    fake_slack.fail("chat.postMessage", **fault)
    with pytest.raises(DeliveryError) as raised:
        await messenger.post("U1", REPLY, "reconnect-nudge-8")
    assert (raised.value.kind, raised.value.code) == (kind, code)
    assert raised.value.retry_after == retry_after
    # The next post goes through: nothing of the failure is kept.
    assert (await messenger.post("U1", REPLY, "reconnect-nudge-8")).channel == "DU1"


async def test_no_debug_text_is_built_for_a_post_unless_debug_logs_are_on(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """slack_sdk formats every request and answer, blocks included, for its DEBUG lines when
    ``logger.level <= DEBUG`` — its logger's own level, 0 when never set — and then drops
    them at INFO: a fifth of a send's CPU. The client's logger must say INFO when logs are
    at INFO, and still let DEBUG lines through when they are at DEBUG."""
    sdk = logging.getLogger("slack_sdk")
    monkeypatch.setattr(sdk, "level", logging.INFO)
    # web_client sets its logger's level: put it back after the test.
    monkeypatch.setattr(logging.getLogger("slack_sdk.web.reconnect_messenger"), "level", 0)
    built: list[str] = []
    quiet = SlackMessenger(web_client(BOT_TOKEN, fake_slack.api_url))
    monkeypatch.setattr(quiet.client.logger, "debug", lambda text, *a, **k: built.append(text))
    try:
        await quiet.post("U1", REPLY, "reconnect-nudge-9")
    finally:
        await quiet.close()
    assert built == []

    monkeypatch.setattr(sdk, "level", logging.DEBUG)
    chatty = SlackMessenger(web_client(BOT_TOKEN, fake_slack.api_url))
    monkeypatch.setattr(chatty.client.logger, "debug", lambda text, *a, **k: built.append(text))
    try:
        await chatty.post("U1", REPLY, "reconnect-nudge-10")
    finally:
        await chatty.close()
    assert any(text.startswith("Sending a request - url: POST") for text in built)


def test_answers_that_are_not_json_fail_as_slack_sdk_expects() -> None:
    """The messenger's answers are decoded with orjson; slack_sdk turns a body that is not
    JSON into a SlackApiError only for ``json.JSONDecodeError``, which orjson's error is."""
    import json

    import orjson

    with pytest.raises(json.JSONDecodeError):
        orjson.loads("<html>502 Bad Gateway</html>")


async def test_the_apps_web_client_builds_no_debug_text_either(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client Bolt's listeners use (users.info, views.publish, chat.postEphemeral…) had
    the same logger with no level of its own: every call formatted its DEBUG text at INFO."""
    from bot.adapters.slack.app import build_web_client
    from bot.settings import Settings

    sdk = logging.getLogger("slack_sdk")
    monkeypatch.setattr(sdk, "level", logging.INFO)
    monkeypatch.setattr(logging.getLogger("slack_sdk.web.reconnect_app"), "level", 0)
    settings = Settings(
        database_url="sqlite:///unused", slack_bot_token=BOT_TOKEN, slack_api_url=fake_slack.api_url
    )
    client = build_web_client(settings)
    built: list[str] = []
    monkeypatch.setattr(client.logger, "debug", lambda text, *a, **k: built.append(text))
    answer = await client.chat_postMessage(channel="U1", text="hi")
    assert answer["ok"] and built == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Slack's answer to chat.postMessage, compact, with a warning after the echo
        (b'{"ok":true,"channel":"D0123ABC","ts":"1764316800.000200","message":{"type":"message",'
         b'"text":"\\"ok\\":false","blocks":[{"type":"divider"}]},"warning":"superfluous_charset",'
         b'"response_metadata":{"warnings":["superfluous_charset"]}}',
         {"ok": True, "channel": "D0123ABC", "ts": "1764316800.000200"}),
        # the fake's (json.dumps with spaces)
        (b'{"ok": true, "channel": "DU1", "ts": "1700000000.000001", "message": {"ts": "1"}}',
         {"ok": True, "channel": "DU1", "ts": "1700000000.000001"}),
        # everything else is decoded in full
        (b'{"ok":false,"error":"channel_not_found"}', None),
        (b'{"ok":true,"no_op":true,"channel":{"id":"D1"}}', None),  # conversations.open
        (b'{"ok":true,"channel":"C1","ts":"1.2","text":"x","message":{}}', None),  # chat.update
        (b'{"ok":true,"channel":"C\\u0031","ts":"1.2","message":{}}', None),  # an escape
        (b'{"ok":true,"channel":"C1","ts":"1.2"}', None),  # no echo: small anyway
        (b'{"ok":true,"messages":[{"ts":"1.2"}]}', None),  # conversations.history
    ],
)  # fmt: skip
def test_a_posted_message_is_read_without_decoding_its_echo(
    body: bytes, expected: dict[str, Any] | None
) -> None:
    import orjson

    assert posted(body) == expected
    if expected is not None:  # what a full decode would have given for what is read
        full = orjson.loads(body)
        assert {key: full[key] for key in expected} == expected


async def test_a_post_reads_its_channel_and_timestamp_from_the_real_answer(
    messenger: SlackMessenger, fake_slack: FakeSlack
) -> None:
    """Through slack_sdk's client and aiohttp, as the pass posts: the answer's fields arrive
    (the echo is skipped), and an answer of another shape is decoded as before."""
    sent = await messenger.post("U2", REPLY, "reconnect-nudge-11")
    assert sent.channel == "DU2" and sent.message_id == fake_slack.messages_to("DU2")[0]["ts"]
    assert await messenger.open_channel(UserRef("slack", "T1", "U2")) == "DU2"
