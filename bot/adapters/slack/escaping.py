"""Slack's text escaping: reading command text, and writing mrkdwn safely."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

# <@U123|dana>, <#C123|general>, <!here>, <!subteam^S1|@team>, <mailto:a@b.c|a@b.c>, <https://x|y>
# Only these are Slack's tokens; anything else in angle brackets is left as typed.
_ANGLE = re.compile(r"<([@#!][^<>|\s]*|[a-zA-Z][a-zA-Z0-9+.-]*:[^<>|\s]*)(?:\|([^<>]*))?>")

UserNamer = Callable[[str], Awaitable[str | None]]


async def read_command_text(text: str, name_of: UserNamer | None = None) -> str:
    """Turn Slack-escaped command text into what the user typed.

    ``<@U123|dana>`` becomes ``dana`` (a bare ``<@U123>`` is looked up with ``name_of``, e.g.
    ``users.info``), links become their label or URL, and ``&amp;`` ``&lt;`` ``&gt;`` are decoded.
    """
    pieces: list[str] = []
    position = 0
    for found in _ANGLE.finditer(text):
        pieces.append(text[position : found.start()])
        pieces.append(await _angle(found.group(1), found.group(2), name_of))
        position = found.end()
    pieces.append(text[position:])
    return _unescape("".join(pieces))


async def _angle(target: str, label: str | None, name_of: UserNamer | None) -> str:
    if target.startswith("@"):
        if label:
            return label.lstrip("@")
        name = await name_of(target[1:]) if name_of else None
        return name or target
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        if label:
            return label
        return "@" + target[1:].split("^", 1)[0]
    if target.startswith("mailto:"):
        return _unescape(label or target.removeprefix("mailto:"))
    url = _unescape(target)
    if not label or label in (url, url.split("://", 1)[-1]):
        return url
    return f"{_unescape(label)} ({url})"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack reserves, exactly once."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
