"""Building the Bolt ``AsyncApp`` and its listeners.

Every listener turns a Slack payload into a :class:`~bot.core.service.Caller` plus plain text or
values, calls the core, and renders what comes back. No business rules live here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any, NamedTuple

import structlog
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack import acks, coach, commands, files, groups, guards, inflight, render
from bot.adapters.slack.commands import COMMAND, caller_from
from bot.adapters.slack.file_import import FileImports
from bot.adapters.slack.inbound import clean_text, clean_value, response_url_allowed
from bot.adapters.slack.inflight import tracked
from bot.adapters.slack.messenger import sdk_logger
from bot.adapters.slack.pending import PendingCommands
from bot.adapters.slack.profile import TimezoneRefresher
from bot.adapters.slack.uninstall import register_uninstall
from bot.core.actions import Act
from bot.core.ports import Uninstalls
from bot.core.replies import Form, FormErrors, MessageUpdate, Reply
from bot.core.service import Caller, Reconnect
from bot.core.views import SORRY
from bot.settings import Settings
from storage.pending_work import CURRENT, Slot
from storage.replays import Replayed
from storage.repository import SqlStore

log = structlog.get_logger(__name__)

#: Slack drops a slash command not acknowledged within 3 s; leave room for the network.
ACK_BUDGET_SECONDS = 2.0


def build_web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """A Slack Web API client that honours ``Retry-After`` and retries 5xx and lost connections
    (its logger builds no DEBUG text unless DEBUG logs are on: :func:`sdk_logger`)."""
    return AsyncWebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        logger=sdk_logger("slack_sdk.web.reconnect_app"),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def bolt_logger() -> logging.Logger:
    """Bolt's logger, kept at WARNING: at INFO it logs the body of requests with bad signatures."""
    logger = logging.getLogger("slack_bolt")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _SkipClientWarning) for f in logger.filters):
        logger.addFilter(_SkipClientWarning())
    return logger


class _SkipClientWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our configured client wins; it should."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`client` as well" not in str(record.msg)


class SlackParts(NamedTuple):
    """The Bolt app and the helpers that outlive its requests."""

    app: AsyncApp
    #: The background time zone refresher (to :meth:`~TimezoneRefresher.drain` before the
    #: database closes).
    timezones: TimezoneRefresher
    #: The records of commands acknowledged early (``None`` without a SQL store), which
    #: :class:`~bot.adapters.slack.pending.PendingRecovery` takes over from dead processes.
    pending: PendingCommands | None


def build_slack_app(settings: Settings, service: Reconnect) -> SlackParts:
    """The Bolt app with every Reconnect listener registered, and its helpers."""
    app = AsyncApp(
        logger=bolt_logger(),
        client=build_web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        # Over HTTP, bot/web.py verifies the signature over the raw bytes before Bolt sees a
        # request (and it is the only way in), so Bolt need not hash the body a second time;
        # Socket Mode traffic is authenticated by the app-level token, not signed.
        request_verification_enabled=False,
    )
    pending = PendingCommands(service.store) if isinstance(service.store, SqlStore) else None
    timezones = register(app, service, api_url=settings.slack_api_url, pending=pending)
    return SlackParts(app, timezones, pending)


def register(
    app: AsyncApp,
    service: Reconnect,
    *,
    api_url: str | None = None,
    pending: PendingCommands | None = None,
) -> TimezoneRefresher:
    """Register the command, action, view and event listeners; returns the background
    time zone refresher they share. Response URLs read back from a modal's metadata are
    posted to only on Slack's hooks hosts or ``api_url``'s origin. ``pending``: where a
    command acknowledged early is recorded until its work commits (none: not recorded)."""
    timezones = TimezoneRefresher(service)
    acks.install(app)  # answers leave as soon as a listener acks, not at Bolt's next 10 ms poll
    app.use(guards.response_url_guard(api_url))
    app.error(guards.on_listener_error())
    app.command(COMMAND)(tracked(_on_command(service, timezones, pending)))
    app.action(re.compile(r"^rc:"))(tracked(_on_action(service)))
    app.view(re.compile(r"^rc_form:"))(tracked(_on_submit(service, api_url)))
    app.event("app_home_opened")(tracked(_on_home_opened(service, timezones)))
    if isinstance(service.store, Uninstalls):
        register_uninstall(app, service.store)
    groups.register_channel_events(app, service)
    imports = FileImports(service, api_url=api_url)  # contacts files uploaded in the DM
    app.event("message")(tracked(imports.on_message))
    app.event("file_shared")(tracked(imports.on_file_shared))
    return timezones


async def drain_deferred() -> None:
    """Wait for listeners still at work (before the database closes): an orderly shutdown
    must not drop a command Slack was told is on its way ("One moment…"), nor abandon an
    event's or a click's listener mid-transaction (:mod:`bot.adapters.slack.inflight`)."""
    await inflight.drain()


def _on_command(
    service: Reconnect, timezones: TimezoneRefresher, pending: PendingCommands | None
) -> Any:
    async def on_command(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        raw = clean_text(str(body.get("text") or ""))
        caller = replace(caller_from(body), mentions=groups.mentions_in(raw))
        loop = asyncio.get_running_loop()
        started = loop.time()
        # The work's write transaction deletes the command's record, if it gets one: the slot
        # is shared with the work's task, which starts before anyone knows it will be slow.
        slot = Slot() if pending is not None else None
        token = CURRENT.set(slot)
        task = asyncio.ensure_future(commands.run(service, client, caller, body, raw))
        CURRENT.reset(token)
        recording: asyncio.Future[None] | None = None
        if pending is not None and slot is not None:
            await _within(task, ACK_BUDGET_SECONDS * RECORD_AT)
            if not task.done():  # may be acknowledged early: record it durably first
                recording = asyncio.ensure_future(pending.record(slot, caller, body))
        await _within(task, started + ACK_BUDGET_SECONDS - loop.time())
        if not task.done() and recording is not None:
            await _within(recording, started + ACK_BUDGET_SECONDS + RECORD_GRACE - loop.time())
        if not task.done():
            # Slow database or Slack: the answer goes through response_url when ready. Bolt
            # finishes this listener after the HTTP answer, untracked: remember the work so
            # that shutting down waits for it instead of abandoning it mid-transaction.
            inflight.track(task)
            if pending is None or _recorded(recording, slot):
                await ack(response_type="ephemeral", text="One moment…")
            else:
                # The record could not be committed in time (the database is locked or
                # overwhelmed): no "One moment…", a promise a crash now could break. Slack
                # tells the user it failed; the work goes on, and still answers when done.
                log.warning("slack.pending_not_recorded_in_time")
            await _finish_late(client, respond, caller, task, pending, slot, recording)
            return
        try:
            outcome = task.result()
            if isinstance(outcome, Form):
                await ack()
                await _open_form(client, body.get("trigger_id"), outcome, body.get("response_url"))
            else:
                shown = files.with_files_note(outcome) if isinstance(outcome, Reply) else outcome
                await ack(response_type="ephemeral", **render.message(shown))
                if isinstance(outcome, Reply):
                    await commands.deliver_files(client, respond, caller, outcome)
                    await groups.post_in_channel(client, respond, caller, outcome)
        finally:
            if pending is not None and slot is not None and recording is not None:
                await _landed(recording)  # the work was done before the ack after all
                await pending.finish(slot)
        log.info("slack.command", user=caller.user.user_id, team=caller.user.workspace_id)
        timezones.touch(client, caller)

    return on_command


#: When a command is still at work after this share of the ack budget, it is recorded
#: (``storage/pending_work.py``), so that the record is committed by the time the budget is
#: spent and "One moment…" goes out (only then: it promises an answer a crash cannot lose).
RECORD_AT = 0.5
#: How much longer than the budget the ack may wait for that record (Slack allows 3 s).
RECORD_GRACE = 0.5


async def _within(future: asyncio.Future[Any], seconds: float) -> None:
    """Wait until ``future`` is done or ``seconds`` have passed (it is never cancelled)."""
    if not future.done():
        await asyncio.wait({future}, timeout=max(seconds, 0.0))


def _recorded(recording: asyncio.Future[None] | None, slot: Slot | None) -> bool:
    """Whether the command's record is committed."""
    if recording is None or slot is None or not recording.done() or recording.cancelled():
        return False
    return recording.exception() is None and slot.record_id is not None


async def _landed(recording: asyncio.Future[None]) -> None:
    """Wait for the record to be made; a failure leaves the command unrecorded, as before
    records existed (it is logged, never raised)."""
    try:
        await recording
    except Exception as exc:
        log.warning("slack.pending_not_recorded", error=type(exc).__name__)


async def _finish_late(
    client: AsyncWebClient,
    respond: Any,
    caller: Caller,
    task: asyncio.Future[Any],
    pending: PendingCommands | None,
    slot: Slot | None,
    recording: asyncio.Future[None] | None,
) -> None:
    """Once the ack budget is spent: wait for the work (keeping its record fresh), answer
    through the response URL, then delete the record (if the work's own transaction did not)."""
    if recording is not None:
        await _landed(recording)
    try:
        if pending is not None and slot is not None:
            async with pending.heartbeats(slot):
                outcome = await task
        else:
            outcome = await task
    except Replayed:
        log.info("slack.replay_ignored", kind="command")
        outcome = None
    except Exception as exc:
        log.warning("slack.command_failed", error=type(exc).__name__)
        if pending is not None and slot is not None and await pending.failed(slot, exc):
            return  # the database was unavailable: run again shortly, answered then
        # Acked already: Slack shows nothing more, so say so in plain words.
        await commands.say_sorry(respond)
        outcome = None
    if outcome is not None:
        try:
            await commands.answer_late(client, respond, caller, outcome)
        except Exception as exc:
            log.warning("slack.late_answer_failed", error=type(exc).__name__)
    if pending is not None and slot is not None:
        await pending.finish(slot)


def _on_action(service: Reconnect) -> Any:
    async def on_action(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        caller = caller_from(body)
        name = render.parse_action_id(str(action.get("action_id", "")))
        try:
            await _act(service, body, action, client, respond, caller, name)
        except Replayed:
            log.info("slack.replay_ignored", kind="block_actions")
        except Exception as exc:
            # Acked already: Slack shows nothing, so say so in plain words.
            log.warning("slack.action_failed", action=name, error=type(exc).__name__)
            await _say_sorry(client, respond, body, caller)

    return on_action


async def _act(
    service: Reconnect,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: Any,
    caller: Caller,
    name: str | None,
) -> None:
    if name == Act.OPEN_LINK:
        return  # a link button: Slack opened its url; there is nothing to answer
    value = clean_value(str(action.get("value") or ""))
    coaching = coach.coaching_of(service)
    ours = coaching is not None and coaching.owns_action(name or "")
    if coaching is not None and ours:
        outcome = await coach.finish(
            coaching, client, await coaching.action(caller, name or "", value)
        )
    else:
        if name == Act.GROUP_LEVEL:  # joining: the coach's view names members as Slack does
            shown_as = await coach.display_name(client, caller.user.user_id)
            caller = replace(caller, display_name=shown_as or "")
        outcome = await service.action(caller, name or "", value)
    container = body.get("container") or {}
    if isinstance(outcome, Form):
        await _open_form(client, body.get("trigger_id"), outcome, body.get("response_url"))
    elif isinstance(outcome, MessageUpdate):
        await _update_message(client, outcome)
    elif container.get("type") == "view":
        await _publish_home(service, client, caller, notice=outcome)
    else:
        shown = files.with_files_note(outcome)
        # A public message in a channel (a group's welcome, its weekly posts) stays as it is
        # for everyone; our coach buttons answer below the message they are on (a log, the
        # coach view).
        replace_it = not ours and not groups.in_public_message(body)
        await respond(
            replace_original=replace_it, response_type="ephemeral", **render.message(shown)
        )
    if isinstance(outcome, Reply):
        await commands.deliver_files(client, respond, caller, outcome)
    log.info("slack.action", action=name, user=caller.user.user_id)


async def _say_sorry(
    client: AsyncWebClient, respond: Any, body: dict[str, Any], caller: Caller
) -> None:
    """Tell the user their action failed: in place (response_url) or, from the Home tab, by DM."""
    try:
        if body.get("response_url"):
            await respond(replace_original=False, response_type="ephemeral", text=SORRY)
        else:
            await client.chat_postMessage(channel=caller.user.user_id, text=SORRY)
    except Exception as exc:
        log.warning("slack.sorry_failed", error=type(exc).__name__)


def _on_submit(service: Reconnect, api_url: str | None) -> Any:
    async def on_submit(
        ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        caller = caller_from(body)
        kind = str(view.get("callback_id", "")).removeprefix(render.FORM_PREFIX)
        context, response_url = render.read_metadata(view.get("private_metadata"))
        values = render.read_values(view.get("state") or {})
        coaching = coach.coaching_of(service)
        result: Any
        if coaching is not None and coaching.owns_form(kind):
            result = await coach.submit(coaching, client, caller, kind, context, values)
        else:
            result = await service.submit(caller, kind, context, values)
        if isinstance(result, FormErrors):
            await ack(response_action="errors", errors=result.errors)
            log.info("slack.form_errors", form=kind, fields=sorted(result.errors))
            return
        await ack()
        log.info("slack.form", form=kind, user=caller.user.user_id)
        if coaching is not None:
            result = await coach.finish(coaching, client, result)
        if isinstance(result, MessageUpdate):
            await _update_message(client, result)
            return
        if response_url is not None and not response_url_allowed(response_url, api_url=api_url):
            log.warning("slack.response_url_refused", form=kind)
            response_url = None
        if response_url is not None:
            try:
                webhook = AsyncWebhookClient(response_url, timeout=10)
                sent = await webhook.send(
                    response_type="ephemeral", replace_original=False, **render.message(result)
                )
                if sent.status_code == 200:
                    return
            except Exception:
                log.warning("slack.response_url_failed", form=kind)
        await _publish_home(service, client, caller, notice=result)

    return on_submit


def _on_home_opened(service: Reconnect, timezones: TimezoneRefresher) -> Any:
    async def on_home_opened(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab") != "home":
            return
        caller = caller_from(body)
        timezones.touch(client, caller)
        await _publish_home(service, client, caller)

    return on_home_opened


async def _publish_home(
    service: Reconnect, client: AsyncWebClient, caller: Caller, notice: Reply | None = None
) -> None:
    home = await service.home(caller, notice=notice)
    coaching = coach.coaching_of(service)
    if coaching is not None:  # a coach's groups, at the end of their Home tab
        home = await coaching.with_home(caller, home)
    view = render.home_view(home)
    try:
        await client.views_publish(user_id=caller.user.user_id, view=view)
    except SlackApiError as exc:
        log.warning("slack.views_publish_failed", error=exc.response.get("error"))


async def _update_message(client: AsyncWebClient, update: MessageUpdate) -> None:
    try:
        await client.chat_update(
            channel=update.channel, ts=update.message_id, **render.message(update.message)
        )
    except SlackApiError as exc:
        log.warning("slack.chat_update_failed", error=exc.response.get("error"))


async def _open_form(
    client: AsyncWebClient, trigger_id: Any, form: Form, response_url: Any
) -> None:
    if not trigger_id:
        return
    try:
        await client.views_open(
            trigger_id=str(trigger_id),
            view=render.modal(form, response_url=str(response_url) if response_url else None),
        )
    except SlackApiError as exc:
        log.warning("slack.views_open_failed", error=exc.response.get("error"))
