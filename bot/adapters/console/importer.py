"""The console's ``import <path>``: read a contacts file from disk and hand its bytes over."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.core.imports.parse import too_big
from bot.core.imports.people import MAX_BYTES
from bot.core.replies import Reply, message
from bot.core.service import Caller, Reconnect

_IMPORT = re.compile(r"^import(?:\s+(?P<path>.+))?$", re.IGNORECASE | re.DOTALL)

HOW = message(
    "Type `import` and the path of the file, e.g. `import ~/Downloads/Connections.csv`. "
    "I read LinkedIn's Connections.csv, Google Contacts CSV exports and vCard files (.vcf), "
    "up to 5 MB and 20,000 people. Imported people go into your pool: `list pool` shows "
    "them, `triage` picks who matters."
)


def import_path(text: str) -> str | None:
    """The path of ``import <path>`` (``""`` for ``import`` alone), ``None`` for other text."""
    found = _IMPORT.match(text.strip())
    if found is None:
        return None
    return (found["path"] or "").strip().strip("'\"")


async def import_from_disk(service: Reconnect, caller: Caller, path_text: str) -> Reply:
    """Import the file at ``path_text``; a friendly answer for a path that is not a file."""
    if not path_text:
        return HOW
    read = await asyncio.to_thread(_read, path_text)
    if isinstance(read, Reply):
        return read
    return await service.import_file(caller, read)


def _read(path_text: str) -> bytes | Reply:
    """The file's bytes, or why not (checked before reading: no 5 GB read to refuse it)."""
    path = Path(path_text).expanduser()
    try:
        if path.is_dir():
            return message(f"{path_text} is a folder, not a file. {HOW.summary}")
        size = path.stat().st_size
        if size > MAX_BYTES:
            return message(too_big(size))
        return path.read_bytes()
    except FileNotFoundError:
        return message(f"There's no file at {path_text}.")
    except OSError as exc:
        return message(f"I couldn't read {path_text} ({exc.strerror or 'unreadable'}).")
