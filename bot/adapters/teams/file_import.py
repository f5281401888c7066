"""Contacts files attached in the personal chat: downloaded, imported, answered with the report.

Teams delivers a file the user attaches (the manifest's bot has ``supportsFiles``) as an
attachment of content type :data:`FILE_DOWNLOAD` whose ``content.downloadUrl`` is a short-lived,
pre-authorised link on the tenant's SharePoint/OneDrive. It is fetched only from there (or from
an origin the operator allowed for local trials, ``TEAMS_ALLOWED_SERVICE_URLS``), without
following redirects, and no more than 5 MB of it is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import structlog
from microsoft_agents.activity import Activity

from bot.adapters.teams.inbound import origin
from bot.core.imports.parse import too_big
from bot.core.imports.people import MAX_BYTES
from bot.core.replies import Reply, message
from bot.core.service import Caller, Reconnect

log = structlog.get_logger(__name__)

FILE_DOWNLOAD = "application/vnd.microsoft.teams.file.download.info"
#: Where Teams keeps files attached in chats (SharePoint and OneDrive for Business).
FILE_HOST_SUFFIXES = (".sharepoint.com", ".sharepoint.us", ".sharepoint-mil.us")
#: Files per message: Teams attaches one at a time; a crafted activity gets no more.
MAX_FILES = 3

DOWNLOAD_FAILED = message(
    "Sorry — I couldn't download that file from Teams, so I imported nothing. Please attach "
    "it again in a minute."
)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file attached to a message."""

    name: str
    url: str


def uploads(activity: Activity) -> list[Upload]:
    """The files attached to ``activity`` (file download info attachments)."""
    found = []
    for attachment in activity.attachments or []:
        if getattr(attachment, "content_type", None) != FILE_DOWNLOAD:
            continue
        content = getattr(attachment, "content", None)
        url = content.get("downloadUrl") if isinstance(content, dict) else None
        if isinstance(url, str) and url:
            found.append(Upload(str(getattr(attachment, "name", "") or ""), url))
    return found[:MAX_FILES]


class TeamsFileImports:
    """Imports attached files for the caller."""

    def __init__(self, service: Reconnect, extra_origins: Iterable[str] = ()) -> None:
        self.service = service
        self._origins = {o for o in (origin(x) for x in extra_origins) if o}

    async def reply_for(self, caller: Caller, upload: Upload) -> Reply:
        """The import's report, or why nothing was imported."""
        if not self.allowed(upload.url):
            log.warning("teams.import_refused", reason="download_host")
            return DOWNLOAD_FAILED
        try:
            data = await _download(upload.url)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("teams.import_failed", error=type(exc).__name__)
            return DOWNLOAD_FAILED
        if data is None:
            return message(too_big(MAX_BYTES + 1))
        reply = await self.service.import_file(caller, data)
        log.info("teams.import", user=caller.user.user_id, tenant=caller.user.workspace_id)
        return reply

    def allowed(self, url: str) -> bool:
        """Whether ``url`` is on Teams' file hosts (https), or an allowed local origin."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and host.endswith(FILE_HOST_SUFFIXES):
            return True
        return origin(url) in self._origins


async def _download(url: str) -> bytes | None:
    """The file's bytes; ``None`` past :data:`MAX_BYTES` (reading stops there)."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(url, allow_redirects=False) as response,
    ):
        if response.status != 200:
            raise aiohttp.ClientError(f"download answered {response.status}")
        length = response.content_length
        if length is not None and length > MAX_BYTES:
            return None
        data = await response.content.read(MAX_BYTES + 1)
    return None if len(data) > MAX_BYTES else data
