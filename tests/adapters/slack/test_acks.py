"""bot/adapters/slack/acks.py: answers leave when the listener acks (no 10 ms poll), and the
JSON of an ack is what Bolt's own ack would have sent."""

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.models.blocks import SectionBlock

from bot.adapters.slack import acks

BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Zoë Ó Briain* — due 🙂"}},
    {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text",
     "text": "Snooze"}, "action_id": "rc:snooze", "value": "12"}]},
]  # fmt: skip

CALLS: list[dict[str, Any]] = [
    {},
    {"text": "plain"},
    {"response_type": "ephemeral", "text": "One moment…"},
    {"response_type": "ephemeral", "text": "Your due list", "blocks": BLOCKS},
    {"text": "", "blocks": BLOCKS},
    {"text": "with an object block", "blocks": [SectionBlock(text="hi")]},  # Bolt's way
    {"response_action": "errors", "errors": {"name": "Needed"}},  # Bolt's way
    {"text": {"text": "a whole response", "response_type": "in_channel"}},  # Bolt's way
    {"text": "lone \ud800 surrogate", "blocks": BLOCKS},  # orjson refuses it: Bolt's way
]


@pytest.mark.parametrize("call", CALLS)
async def test_an_ack_answers_what_bolts_ack_answers(call: dict[str, Any]) -> None:
    ours, bolts = acks.SignalledAck(), AsyncAck()
    mine = await ours(**call)
    theirs = await bolts(**call)
    assert ours.response is mine
    assert mine.status == theirs.status
    assert mine.headers == theirs.headers
    if theirs.body.startswith("{"):
        assert json.loads(mine.body) == json.loads(theirs.body)
    else:
        assert mine.body == theirs.body


def _app(listener: Any, *, ack_timeout: float | None = None) -> AsyncApp:
    async def authorize(**_: Any) -> AuthorizeResult:  # no auth.test call
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test")

    app = AsyncApp(authorize=authorize, signing_secret="secret", request_verification_enabled=False)
    acks.install(app)
    app.command("/reconnect")(listener)
    if ack_timeout is not None:
        for registered in app._async_listeners:
            registered.ack_timeout = ack_timeout  # type: ignore[assignment]
    return app


def _command() -> AsyncBoltRequest:
    body = urlencode(
        {"command": "/reconnect", "text": "due", "user_id": "U1", "team_id": "T1",
         "channel_id": "D1", "response_url": "https://hooks.slack.com/commands/1"}
    )  # fmt: skip
    return AsyncBoltRequest(
        body=body, headers={"content-type": ["application/x-www-form-urlencoded"]}
    )


async def test_the_answer_leaves_when_the_listener_acks_not_at_a_poll() -> None:
    done: list[str] = []

    async def listener(ack: Any) -> None:
        await ack(response_type="ephemeral", text="Here", blocks=BLOCKS)
        for _ in range(3):  # goes on working after its ack, a few steps of the event loop
            await asyncio.sleep(0)
        done.append("finished")

    app = _app(listener)
    assert isinstance(app._async_listener_runner, acks.AckRunner)
    response = await asyncio.wait_for(app.async_dispatch(_command()), 5)
    assert response.status == 200
    assert json.loads(response.body)["blocks"] == BLOCKS
    # The answer came back on the event loop's next step after the ack, while the listener
    # was still at work; Bolt's runner sleeps 10 ms between looks, by which time it is done.
    assert done == []
    for _ in range(5):
        await asyncio.sleep(0)
    assert done == ["finished"]


async def test_a_listener_failing_before_its_ack_gets_the_error_handlers_answer() -> None:
    async def listener(ack: Any) -> None:
        raise RuntimeError("boom")

    response = await asyncio.wait_for(_app(listener).async_dispatch(_command()), 5)
    assert response.status == 500  # Bolt's default error handler


async def test_a_listener_that_never_acks_times_out_as_in_bolt() -> None:
    started = asyncio.Event()

    async def listener(ack: Any) -> None:
        started.set()
        await asyncio.sleep(3600)

    app = _app(listener, ack_timeout=0.2)
    response = await asyncio.wait_for(app.async_dispatch(_command()), 5)
    assert started.is_set()
    assert response.status == 404  # nothing acked: Bolt's unhandled answer


async def test_our_listeners_get_the_arguments_bolt_would_give_them(
    engine: Any, database_url: Any, fake_slack: Any, clock: Any
) -> None:
    from slack_bolt.kwargs_injection.async_utils import build_async_required_kwargs

    from bot.app import build_app
    from tests.conftest import slack_settings
    from tests.fakes import slack_requests as sr

    app = build_app(slack_settings(database_url, fake_slack.api_url), clock=clock, engine=engine)
    bolt = app.slack
    url = fake_slack.response_url("args")
    requests = [
        sr.slash_command("due", user="U1", response_url=url, trigger_id="T.1"),
        sr.block_action("rc:snooze:1.1", "12", user="U1", response_url=url),
    ]
    covered = 0
    for raw in requests:
        for listener in bolt._async_listeners:
            request = AsyncBoltRequest(
                body=raw, headers={"content-type": ["application/x-www-form-urlencoded"]}
            )
            bolt._init_context(request)
            ours = acks.listener_arguments(listener, request)
            if ours is None:
                continue
            covered += 1
            theirs = build_async_required_kwargs(
                logger=listener.logger,
                required_arg_names=list(listener.arg_names),
                request=request,
                response=None,
                this_func=listener.ack_function,  # type: ignore[attr-defined]
            )
            assert ours.keys() == theirs.keys()
            for name, value in ours.items():
                assert value is theirs[name] or value == theirs[name], name
    # the command's and the buttons' listeners (the ack path) among them
    names = {tuple(listener.arg_names) for listener in bolt._async_listeners}
    assert ("ack", "body", "client", "respond") in names
    assert ("ack", "body", "action", "client", "respond") in names
    assert all(
        acks.listener_arguments(listener, AsyncBoltRequest(body=requests[0], headers={}))
        is not None
        for listener in bolt._async_listeners
        if tuple(listener.arg_names)
        in {("ack", "body", "client", "respond"), ("ack", "body", "action", "client", "respond")}
    )
    # all but the bound methods (``self`` first: Bolt's own code runs those)
    bound = sum(tuple(listener.arg_names)[:1] == ("self",) for listener in bolt._async_listeners)
    assert covered == 2 * (len(bolt._async_listeners) - bound)
    await app.close()
