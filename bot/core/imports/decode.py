"""Bytes to text: UTF-8 with or without a BOM, UTF-16 (what Excel's "Unicode Text" writes),
else Windows-1252 / Latin-1 (older Excel and Outlook exports)."""

from __future__ import annotations

import codecs

from bot.core.imports.people import ImportRefused


def decode(data: bytes) -> str:
    """The text of ``data``; raises :class:`ImportRefused` for what is not text at all."""
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8) :], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16")
    if _looks_utf16(data):
        # No BOM, but every other byte is NUL: UTF-16 of mostly ASCII text.
        return _strict(data, "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
    if b"\x00" in data:
        raise ImportRefused(_NOT_TEXT)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


_NOT_TEXT = (
    "That file isn't text I can read — it looks like a spreadsheet or an image. Export your "
    "contacts as CSV (LinkedIn's Connections.csv, Google Contacts' CSV) or as a vCard (.vcf)."
)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:512]
    if len(sample) < 4:
        return False
    odd, even = sample[1::2], sample[0::2]
    return odd.count(0) > len(odd) * 0.6 or even.count(0) > len(even) * 0.6


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise ImportRefused(
            "I couldn't read the characters in that file (it says it's Unicode but isn't "
            "quite). Export it again as CSV UTF-8 and send me the new file."
        ) from None
