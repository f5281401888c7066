"""The HTTP answer of a command or click, ready the moment the listener acknowledges it.

Bolt's asyncio runner starts a listener in a task of its own and then *polls* ``ack.response``
every 10 ms (``AsyncioListenerRunner.run``) until the listener has called ``ack()``: up to
10 ms (5 ms on average) of latency on every answer, and a timer and a task wake-up per poll.
:class:`AckRunner` runs listeners exactly as Bolt's runner does, except that it sleeps until
:class:`SignalledAck` says the answer is set (or the ack timeout passes).

:class:`SignalledAck` is Bolt's ``ack()`` whose JSON answer (a ``due`` list is ~12 KB of
blocks) is written by orjson instead of ``json.dumps``, for the shapes this app sends (text,
blocks, ``response_type``); any other call goes through Bolt's own code unchanged. And the
runner hands a listener its arguments directly (:func:`listener_arguments`) when it takes
only the usual ones, instead of Bolt building all thirty on every request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import orjson
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncCustomListener, AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import to_action, to_command, to_event, to_view
from slack_bolt.response import BoltResponse


class SignalledAck(AsyncAck):
    """Bolt's ``ack``, which wakes whoever waits in :meth:`answered` once the answer is set."""

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None
        self._response: BoltResponse | None = None
        super().__init__()  # type: ignore[no-untyped-call]

    @property
    def response(self) -> BoltResponse | None:
        return self._response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        # Bolt sets it in ack() and, for a listener that failed, in its runner.
        self._response = value
        waiter = self._waiter
        if value is not None and waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def answered(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for the answer; whether it is set."""
        if self._response is None and seconds > 0:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(seconds, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._response is not None

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        response_type: str | None = None,
        options: Sequence[Any] | None = None,
        option_groups: Sequence[Any] | None = None,
        response_action: str | None = None,
        errors: Any = None,
        view: Any = None,
    ) -> BoltResponse:
        body = None
        if isinstance(text, str) and _is_simple(
            blocks, attachments, unfurl_links, unfurl_media, options, option_groups,
            response_action, errors, view,
        ):  # fmt: skip
            body = _simple_body(text, blocks, response_type)
        if body is not None:
            if len(body) == 1:  # text alone: Bolt answers the bare text
                self.response = BoltResponse(status=200, body=body["text"])
                return self.response
            try:
                encoded = orjson.dumps(body).decode()
            except TypeError:  # something orjson refuses (e.g. a lone surrogate): Bolt's way
                pass
            else:
                self.response = BoltResponse(status=200, body=encoded)
                return self.response
        return await super().__call__(
            text,
            blocks=blocks,
            attachments=attachments,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
            response_type=response_type,
            options=options,
            option_groups=option_groups,
            response_action=response_action,
            errors=errors,
            view=view,
        )


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _is_simple(blocks: Any, *others: Any) -> bool:
    """Blocks, if any, given as plain dicts, and nothing else (the text is checked apart)."""
    if any(other is not None for other in others):
        return False
    return blocks is None or all(type(block) is dict for block in blocks)


def _simple_body(
    text: str, blocks: Sequence[dict[str, Any]] | None, response_type: str | None
) -> dict[str, Any]:
    """What Bolt's ``_set_response`` builds for these arguments, keys in its order."""
    body: dict[str, Any] = {"text": text}
    if response_type:
        body["response_type"] = response_type
    if blocks:
        body["blocks"] = list(blocks)
    return body


class AckRunner(AsyncioListenerRunner):
    """Bolt's asyncio listener runner, waiting for the ack instead of polling for it.

    Only the common case is its own: an HTTP request (not ``process_before_response``) for a
    listener without lazy functions. Everything else runs Bolt's own code.
    """

    @classmethod
    def replacing(cls, runner: AsyncioListenerRunner) -> AckRunner:
        return cls(
            logger=runner.logger,
            process_before_response=runner.process_before_response,
            listener_error_handler=runner.listener_error_handler,
            listener_start_handler=runner.listener_start_handler,
            listener_completion_handler=runner.listener_completion_handler,
            lazy_listener_runner=runner.lazy_listener_runner,
        )

    async def run(
        self,
        request: AsyncBoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: AsyncListener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        ack = request.context.ack
        if (
            self.process_before_response
            or request.lazy_only
            or listener.lazy_functions
            or ack.response is not None
        ):
            return await super().run(request, response, listener_name, listener, starting_time)
        if not isinstance(ack, SignalledAck):
            # Nobody has answered yet, so a fresh ack loses nothing; the listener gets this one.
            ack = SignalledAck()
            request.context["ack"] = ack
        starting_time = starting_time if starting_time is not None else time.time()
        if listener.auto_acknowledgement:
            await ack()  # acknowledge immediately, as Bolt does for events
        # As in Bolt's runner: the listener runs in a task of its own (it may go on working
        # after its ack), errors go to the error handler and become a 500 unless acked.
        self._start(ack, request, response, listener)
        await ack.answered(listener.ack_timeout - (time.time() - starting_time))
        # Bolt's answer, in Bolt's order (a middleware that calls next() leaves no response).
        if response is None and ack.response is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
            return None
        if response is None and ack.response is not None:
            self._debug_log_completion(starting_time, ack.response)
            return ack.response
        return response

    def _start(
        self,
        ack: SignalledAck,
        request: AsyncBoltRequest,
        response: BoltResponse,
        listener: AsyncListener,
    ) -> None:
        async def run_ack_function_asynchronously() -> None:
            outcome: BoltResponse | None = response
            try:
                await self.listener_start_handler.handle(request=request, response=outcome)
                await _run_listener(listener, request, outcome)
            except Exception as e:
                if outcome is None:
                    outcome = BoltResponse(status=500)
                outcome.status = 500
                if ack.response is not None:  # already acknowledged
                    outcome = None
                await self.listener_error_handler.handle(
                    error=e,
                    request=request,
                    response=outcome,
                )
                ack.response = outcome
            finally:
                await self.listener_completion_handler.handle(request=request, response=outcome)

        # Bolt keeps no reference either: the listener registers itself (inflight.tracked).
        asyncio.ensure_future(run_ack_function_asynchronously())  # noqa: RUF006


#: The arguments our listeners take, as Bolt's ``build_async_required_kwargs`` gives them.
_ARGUMENTS: dict[str, Callable[[AsyncBoltRequest], Any]] = {
    "ack": lambda request: request.context.ack,
    "body": lambda request: request.body,
    "client": lambda request: request.context.client,
    "respond": lambda request: request.context.respond,
    "context": lambda request: request.context,
    "action": lambda request: to_action(request.body),
    "command": lambda request: to_command(request.body),
    "view": lambda request: to_view(request.body),
    "event": lambda request: to_event(request.body),
}


def listener_arguments(listener: AsyncListener, request: AsyncBoltRequest) -> dict[str, Any] | None:
    """The keyword arguments of ``listener`` for ``request``, or ``None`` when it takes one
    this module does not know (then Bolt builds them).

    Bolt's ``build_async_required_kwargs`` builds every argument any listener could take
    (~30, some of them objects made on first use: ``say``, ``complete``, ``set_status``…) on
    every request and picks the listener's few: ~0.3 M instructions per request.
    """
    if type(listener) is not AsyncCustomListener:
        return None
    names = listener.arg_names
    if not names or any(name not in _ARGUMENTS for name in names):
        return None
    return {name: _ARGUMENTS[name](request) for name in names}


async def _run_listener(
    listener: AsyncListener, request: AsyncBoltRequest, response: BoltResponse | None
) -> Any:
    arguments = listener_arguments(listener, request)
    if arguments is None:
        return await listener.run_ack_function(request=request, response=response)  # type: ignore[arg-type]
    return await cast(AsyncCustomListener, listener).ack_function(**arguments)


def install(app: AsyncApp) -> None:
    """Make ``app`` run its listeners with :class:`AckRunner` (Bolt builds its runner in the
    app's constructor and has no option for another; its dispatch reads this attribute)."""
    current = app._async_listener_runner
    if not isinstance(current, AckRunner):
        app._async_listener_runner = AckRunner.replacing(current)
