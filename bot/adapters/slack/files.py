"""Delivering a reply's files (:attr:`bot.core.replies.Reply.files`) on Slack.

Files go to the user's direct messages with the app, uploaded with ``files_upload_v2``
(``files.getUploadURLExternal`` → the bytes to the returned URL →
``files.completeUploadExternal`` with the DM's channel id; scope ``files:write``). An
ephemeral reply to a slash command cannot carry files, so its text says where they went.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import structlog
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.replies import FileOut, Reply, context

log = structlog.get_logger(__name__)

#: Shown under an ephemeral reply whose files went to the DM.
IN_YOUR_DMS = "The files are in your direct messages with Reconnect."
#: Shown (ephemerally) when the upload failed; nothing else changed.
UPLOAD_FAILED = (
    "Sorry — I couldn't put the files in your direct messages just now. Please try again in "
    "a minute."
)


class FileDeliveryError(Exception):
    """Slack refused or failed an upload; ``code`` is Slack's error word (logged, never shown)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def with_files_note(reply: Reply) -> Reply:
    """``reply`` with a line saying its files are in the DM (when it has files)."""
    if not reply.files:
        return reply
    return replace(reply, blocks=(*reply.blocks, context(IN_YOUR_DMS)))


async def upload(client: AsyncWebClient, channel: str, files: Sequence[FileOut]) -> list[str]:
    """Upload ``files`` into the conversation ``channel`` (a channel id); their file ids.

    Raises :class:`FileDeliveryError` when Slack refuses (e.g. ``missing_scope``).
    """
    if not files:
        return []
    uploads = []
    for file in files:
        item: dict[str, object] = {
            "content": file.content,
            "filename": file.filename,
            "title": file.title or file.filename,
        }
        if file.alt_text and file.media_type.startswith("image/"):
            item["alt_txt"] = file.alt_text[:1000]
        uploads.append(item)
    try:
        response = await client.files_upload_v2(channel=channel, file_uploads=uploads)
    except SlackApiError as exc:
        raise FileDeliveryError(str(exc.response.get("error") or "slack_error")) from None
    except SlackRequestError as exc:  # the upload URL answered other than 200
        raise FileDeliveryError(type(exc).__name__) from None
    found = response.get("files") or []
    ids = [str(f.get("id")) for f in found if isinstance(f, dict)]
    log.info("slack.files_uploaded", count=len(ids), bytes=sum(len(f.content) for f in files))
    return ids


async def to_direct_messages(
    client: AsyncWebClient, user_id: str, files: Sequence[FileOut]
) -> bool:
    """Upload ``files`` to the app's DM with ``user_id``; ``False`` (logged) when that failed."""
    if not files:
        return True
    try:
        opened = await client.conversations_open(users=user_id)
        channel = (opened.get("channel") or {}).get("id")
        if not isinstance(channel, str) or not channel:
            raise FileDeliveryError("no_channel")
        await upload(client, channel, files)
    except SlackApiError as exc:
        log.warning("slack.files_failed", error=str(exc.response.get("error")))
        return False
    except FileDeliveryError as exc:
        log.warning("slack.files_failed", error=exc.code)
        return False
    except Exception as exc:  # a lost connection: the user is told, the request still ends well
        log.warning("slack.files_failed", error=type(exc).__name__)
        return False
    return True
