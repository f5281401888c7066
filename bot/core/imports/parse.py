"""One entry point for every format: bytes in, people and per-line problems out. No I/O."""

from __future__ import annotations

from datetime import date

from bot.core.imports.decode import decode
from bot.core.imports.people import MAX_BYTES, ImportRefused, Parsed
from bot.core.imports.tables import UNKNOWN_FORMAT, looks_like_table, parse_table
from bot.core.imports.vcards import looks_like_vcard, parse_vcards


def too_big(size: int) -> str:
    """The answer for a file over :data:`MAX_BYTES`."""
    return (
        f"That file is {size / 1_048_576:.1f} MB — more than the {MAX_BYTES // 1_048_576} MB "
        "I import at once, so I imported nothing. Split it into smaller files and send them "
        "one by one."
    )


def parse_file(data: bytes, today: date | None = None) -> Parsed:
    """Read an export, whatever its format (detected from the content, not the file name);
    "last in touch" may not be after ``today`` (by default the system's).

    Raises :class:`ImportRefused` for a file that is too big, empty, not text, or no format
    we know; nothing of it is then imported.
    """
    if len(data) > MAX_BYTES:
        raise ImportRefused(too_big(len(data)))
    text = decode(data)
    if not text.strip():
        raise ImportRefused("That file is empty — there's nobody in it to import.")
    if looks_like_vcard(text):
        return parse_vcards(text, today)
    if looks_like_table(text):
        return parse_table(text, today)
    raise ImportRefused(UNKNOWN_FORMAT)
