"""Running a ``/reconnect`` command, and answering it through its response URL when it was
acknowledged early ("One moment…").

Shared by the slash command listener (``bot/adapters/slack/app.py``) and by the recovery of
commands whose process died after that early ack (``bot/adapters/slack/pending.py``), so a
command run again is run exactly as the first time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import coach, files, groups, render
from bot.adapters.slack.escaping import read_command_text
from bot.core.model import UserRef
from bot.core.replies import Reply
from bot.core.service import Caller, Reconnect
from bot.core.views import SORRY

log = structlog.get_logger(__name__)

COMMAND = "/reconnect"
#: What the user reads when a command that opens a form took too long (the trigger expired).
FORM_TOO_LATE = "Sorry, that took too long to open the form — please try again."
#: What the user reads when a command acknowledged early then failed.


def caller_from(body: dict[str, Any]) -> Caller:
    """The Reconnect caller for a slash command, interaction or event payload."""
    user = body.get("user")
    event = body.get("event") or {}
    if isinstance(user, dict):
        user_id = user.get("id", "")
        team_id = user.get("team_id") or (body.get("team") or {}).get("id")
    else:
        user_id = body.get("user_id") or event.get("user") or ""
        team_id = body.get("team_id")
    if not team_id:
        team_id = (body.get("team") or {}).get("id") or body.get("enterprise_id") or "unknown"
    return Caller(
        UserRef("slack", str(team_id), str(user_id)),
        command=COMMAND + " ",
        channel=groups.channel_of(body),
    )


async def run(
    service: Reconnect, client: AsyncWebClient, caller: Caller, body: dict[str, Any], raw: str
) -> Any:
    """The outcome of the command ``raw`` (its text, cleaned but still Slack-escaped) typed by
    ``caller``; ``body`` is the slash command's payload (its channel is read from it)."""

    async def name_of(user_id: str) -> str | None:
        try:
            info = await client.users_info(user=user_id)
        except SlackApiError:
            return None
        profile = (info.get("user") or {}).get("profile") or {}
        return profile.get("real_name") or (info.get("user") or {}).get("real_name")

    text = await read_command_text(raw, name_of)
    coaching = coach.coaching_of(service)
    if coaching is not None and coaching.owns_command(text):
        return await coach.command(coaching, client, caller, body, text)
    if groups.is_join(text):  # the coach's view names members as Slack shows them
        name = await coach.display_name(client, caller.user.user_id)
        return await service.command(replace(caller, display_name=name or ""), text)
    return await service.command(caller, text)


async def answer_late(client: AsyncWebClient, respond: Any, caller: Caller, outcome: Any) -> None:
    """Answer a command acknowledged early, through ``respond`` (its response URL)."""
    if isinstance(outcome, Reply):
        shown = files.with_files_note(outcome)
        await respond(response_type="ephemeral", **render.message(shown))
        await deliver_files(client, respond, caller, outcome)
        await groups.post_in_channel(client, respond, caller, outcome)
    else:  # a form: its trigger id has expired by now
        await respond(response_type="ephemeral", text=FORM_TOO_LATE)


async def say_sorry(respond: Any) -> None:
    """Tell the user (through ``respond``) that their command failed after its early ack."""
    try:
        await respond(replace_original=False, response_type="ephemeral", text=SORRY)
    except Exception as exc:
        log.warning("slack.sorry_failed", error=type(exc).__name__)


async def deliver_files(
    client: AsyncWebClient, respond: Any, caller: Caller, outcome: Reply
) -> None:
    """Upload a reply's files to the user's DM; say so (ephemerally) if that failed."""
    if not outcome.files:
        return
    if await files.to_direct_messages(client, caller.user.user_id, outcome.files):
        return
    try:
        await respond(replace_original=False, response_type="ephemeral", text=files.UPLOAD_FAILED)
    except Exception as exc:
        log.warning("slack.sorry_failed", error=type(exc).__name__)
