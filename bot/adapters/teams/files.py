"""Delivering a reply's files (:attr:`bot.core.replies.Reply.files`) on Teams.

* An image (``image/*``, a chart) is shown in the card itself, as a ``data:`` URI, when it fits
  the card's size budget (:data:`bot.adapters.teams.cards.CARD_BUDGET`; Teams refuses
  messages over about 28 KB). One that does not fit is said so in the card, and offered as a
  file like any other.
* Any other file (an export) is offered with a file-consent card. Teams uploads nothing by
  itself: when the user clicks *Allow*, Teams sends a ``fileConsent/invoke`` with an
  ``uploadUrl`` (their OneDrive); the bot PUTs the bytes there and posts a file card. The file
  waits in the database until then (:class:`FileHold`), for that user only; *Decline* drops it.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import structlog
from microsoft_agents.activity import Activity, ActivityTypes, Attachment
from microsoft_agents.activity.invoke_response import InvokeResponse
from microsoft_agents.hosting.core import TurnContext

from bot.adapters.teams import cards
from bot.core.model import UserRef
from bot.core.replies import FileOut, Reply, message

log = structlog.get_logger(__name__)

CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
#: The invoke Teams sends when the user answers a file-consent card.
CONSENT_INVOKE = "fileConsent/invoke"
UPLOAD_TIMEOUT_SECONDS = 30

EXPIRED = message(
    "That file is no longer waiting for you (files are kept for a day). Type `export` to get "
    "a fresh copy."
)
DECLINED = message("OK — I didn't send the file.")
UPLOAD_FAILED = message(
    "Sorry — I couldn't save the file to your OneDrive just now. Type `export` to try again."
)


SAVE_HINT = "Each file comes below: choose Allow to save it to your OneDrive."
SAVE_HINT_ONE = "The file comes below: choose Allow to save it to your OneDrive."


class FileHold(Protocol):
    """Where offered files wait for the user's answer (``storage.held_files.HeldFiles``)."""

    async def hold(self, user: UserRef, file: FileOut) -> str | None:
        """Keep ``file`` for ``user``; a token to take it back, or ``None``."""
        ...

    async def take(self, user: UserRef, token: str) -> FileOut | None:
        """The file held for ``user`` under ``token`` (and no longer held), or ``None``."""
        ...


def card(reply: Reply) -> tuple[cards.JsonDict, list[FileOut]]:
    """The reply's card with its images inside, and the files still to offer."""
    content = cards.card(reply)
    offered: list[FileOut] = []
    for file in reply.files:
        if not file.media_type.startswith("image/"):
            offered.append(file)
            continue
        trial = copy.deepcopy(content)
        trial["body"].append(_image(file))
        if cards.size(trial) <= cards.CARD_BUDGET:
            content = trial
            continue
        offered.append(file)
        name = file.title or file.filename
        content["body"].append(
            {
                "type": "TextBlock",
                "text": cards._escape(
                    f"“{name}” is too big to show here, so it comes as a file to save."
                ),
                "wrap": True,
                "isSubtle": True,
                "size": "Small",
            }
        )
    if offered:
        content["body"].append(
            {
                "type": "TextBlock",
                "text": cards._escape(SAVE_HINT if len(offered) > 1 else SAVE_HINT_ONE),
                "wrap": True,
                "isSubtle": True,
                "size": "Small",
            }
        )
    return content, offered


def consent_attachment(file: FileOut, token: str) -> Attachment:
    """A file-consent card offering ``file``; both answers carry ``token``."""
    answer = {"rc": "file", "token": token}
    return Attachment(
        content_type=CONSENT,
        name=file.filename,
        content={
            "description": file.title or file.filename,
            "sizeInBytes": len(file.content),
            "acceptContext": answer,
            "declineContext": answer,
        },
    )


async def offer(
    context: TurnContext, hold: FileHold | None, user: UserRef, files: Sequence[FileOut]
) -> None:
    """Send a file-consent card for each of ``files`` (held for ``user`` meanwhile)."""
    for activity in await consent_activities(hold, user, files):
        await context.send_activity(activity)


async def consent_activities(
    hold: FileHold | None, user: UserRef, files: Sequence[FileOut]
) -> list[Activity]:
    """The messages offering ``files``: one file-consent card each."""
    if hold is None or not files:
        return []
    activities = []
    for file in files:
        token = await hold.hold(user, file)
        if token is None:
            continue
        activities.append(
            Activity(
                type=ActivityTypes.message,
                summary=f"File: {file.filename}"[:200],
                attachments=[consent_attachment(file, token)],
            )
        )
    return activities


async def on_consent(
    context: TurnContext, hold: FileHold | None, user: UserRef, *, allow_http: bool
) -> None:
    """Answer a ``fileConsent/invoke``: upload on *Allow*, drop on *Decline*; always 200."""
    value = _dict(context.activity.value)
    answer = _dict(value.get("context"))
    token = str(answer.get("token") or "")[:64]
    action = value.get("action")
    answered = action in ("accept", "decline") and hold is not None and token
    held = await hold.take(user, token) if answered and hold is not None else None
    if action == "decline":
        await _say(context, DECLINED)
    elif action == "accept" and held is None:
        await _say(context, EXPIRED)
    elif action == "accept" and held is not None:
        info = _dict(value.get("uploadInfo"))
        if await _upload(info, held, allow_http=allow_http):
            await context.send_activity(_file_card(info, held))
            log.info("teams.file_uploaded", bytes=len(held.content))
        else:
            await _say(context, UPLOAD_FAILED)
    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
    )


async def _upload(info: dict[str, Any], file: FileOut, *, allow_http: bool) -> bool:
    url = str(info.get("uploadUrl") or "")
    scheme = urlsplit(url).scheme if url else ""
    if scheme != "https" and not (allow_http and scheme == "http"):
        log.warning("teams.upload_refused", reason="not_https")
        return False
    size = len(file.content)
    headers = {"Content-Range": f"bytes 0-{max(size - 1, 0)}/{size}"}
    try:
        timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_SECONDS)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.put(url, data=file.content, headers=headers) as response,
        ):
            ok = 200 <= response.status < 300
            if not ok:
                log.warning("teams.upload_failed", status=response.status)
            return ok
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("teams.upload_failed", error=type(exc).__name__)
        return False


def _file_card(info: dict[str, Any], file: FileOut) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        attachments=[
            Attachment(
                content_type=FILE_INFO,
                name=str(info.get("name") or file.filename),
                content_url=str(info.get("contentUrl") or ""),
                content={
                    "uniqueId": str(info.get("uniqueId") or ""),
                    "fileType": str(info.get("fileType") or file.filename.rpartition(".")[2]),
                },
            )
        ],
    )


async def _say(context: TurnContext, reply: Reply) -> None:
    await context.send_activity(
        Activity(
            type=ActivityTypes.message,
            summary=reply.summary[:200],
            attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=cards.card(reply))],
        )
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _image(file: FileOut) -> cards.JsonDict:
    data = base64.b64encode(file.content).decode("ascii")
    element: cards.JsonDict = {
        "type": "Image",
        "url": f"data:{file.media_type};base64,{data}",
        "size": "Stretch",
    }
    if file.alt_text:
        element["altText"] = file.alt_text[:500]
    return element
