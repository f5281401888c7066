"""Two Bolt hooks every request passes: the response_url allow-list, and a friendly failure.

- Bolt builds ``respond()`` from whatever ``response_url`` a payload names and posts there.
  :func:`response_url_guard` (a global middleware) lets ``respond()`` post only to Slack's hooks
  hosts or the configured API origin (the same rule as :func:`inbound.response_url_allowed`,
  which the modal submission path applies to its metadata); anything else gets a ``respond``
  that refuses, and one log line. An allowed one gets Bolt's ``respond()`` over a kept-alive
  connection (:mod:`bot.adapters.slack.responses`).
- A listener that fails *before* it acknowledges used to end in Bolt's bare 500 (Slack then
  shows "/reconnect failed with the error …", or a modal says nothing useful) and a traceback.
  :func:`on_listener_error` answers such a command with a friendly ephemeral message, such a
  form with that message under its first field (what was typed stays), logs one line, and lets
  failures after the ack (which the listeners report themselves) pass with a log line.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.slack.inbound import response_url_allowed
from bot.adapters.slack.responses import SharedRespond
from bot.core.views import SORRY
from storage.replays import Replayed

log = structlog.get_logger(__name__)

#: What a person reads when their command or form failed on our side before it was answered.

ErrorHandler = Callable[..., Awaitable[BoltResponse | None]]


def response_url_guard(api_url: str | None) -> AsyncMiddleware:
    """A global Bolt middleware: ``respond()`` posts only to allowed response URLs; for any
    other URL it sends the same message to the user by direct message instead."""
    return _ResponseUrlGuard(api_url)


class _ResponseUrlGuard(AsyncMiddleware):
    """:func:`response_url_guard`. A middleware object rather than a function: Bolt calls a
    function middleware through its argument injection (inspecting and building its keyword
    arguments on every request), this one directly."""

    def __init__(self, api_url: str | None) -> None:
        self._api_url = api_url

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        context = req.context
        url = context.response_url
        if url is not None and not response_url_allowed(url, api_url=self._api_url):
            log.warning("slack.response_url_refused", where="respond")
            context["response_url"] = None
            context["respond"] = _direct_message(context)
        elif url is not None:  # Bolt's, but on a kept-alive connection (responses.py)
            client = context.client
            context["respond"] = SharedRespond(response_url=url, proxy=client.proxy, ssl=client.ssl)
        return await next()


def _direct_message(context: AsyncBoltContext) -> Callable[..., Awaitable[None]]:
    """A ``respond()`` that DMs the user (what a refused response URL would have shown)."""

    async def respond(text: str | None = None, blocks: list[Any] | None = None, **_: Any) -> None:
        if not context.user_id:
            return
        await context.client.chat_postMessage(
            channel=context.user_id, text=text or "", blocks=blocks
        )

    return respond


def on_listener_error() -> ErrorHandler:
    """Bolt's error handler: one log line, and a friendly answer if the request isn't acked."""

    async def handle(
        error: Exception, body: dict[str, Any], response: BoltResponse | None
    ) -> BoltResponse | None:
        kind = "command" if "command" in body else str(body.get("type") or "event")[:40]
        if isinstance(error, Replayed):
            # Taken in before (a replay, or Slack retrying what we handled): no second effect,
            # and nothing to tell anyone.
            log.info("slack.replay_ignored", kind=kind)
            return None if response is None else BoltResponse(status=200, body="")
        log.warning("slack.listener_failed", kind=kind, error=type(error).__name__)
        if response is None:
            return None  # acknowledged already: the listener told the user itself
        if "command" in body:
            return _json({"response_type": "ephemeral", "text": SORRY})
        if body.get("type") == "view_submission":
            block_id = _first_input(body.get("view"))
            if block_id is not None:
                return _json({"response_action": "errors", "errors": {block_id: SORRY}})
        # Anything else: acknowledge, so Slack neither shows an error nor retries.
        return BoltResponse(status=200, body="")

    return handle


def _first_input(view: Any) -> str | None:
    """The block id of a modal's first input block (where Slack can show an error)."""
    if not isinstance(view, dict):
        return None
    blocks = view.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "input":
            block_id = block.get("block_id")
            if isinstance(block_id, str) and block_id:
                return block_id
    # The submitted state is keyed by the input blocks' ids too.
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if isinstance(values, dict):
        return next((key for key in values if isinstance(key, str) and key), None)
    return None


def _json(data: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(data),
        headers={"content-type": "application/json;charset=utf-8"},
    )
