"""After a conversation: what was learned, and the one question that helps notice it.

Listening is the point of reconnecting (COACHING.md, hurdles 5 and 7): what someone mentions twice
is usually what matters to them. After a log without anything learned, the reply asks that once
and shows how to add it from the command line (``log Dana -- learned: …``); a log that records
something learned is not asked again.
"""

from __future__ import annotations

import re

from bot.core.text import clean

#: The reflection question, asked once after logging a conversation.
QUESTION = "What did they mention twice?"
#: Why the question matters, in a few words.
WHY = "That's usually what matters most to them."

# "learned:", "learnt:", "I learned:" (any case), at the start of the note or after a space or a
# separator; what follows is what was learned.
_LEARNED = re.compile(r"(?:^|[\s,;.])(?:i\s+)?learn(?:ed|t)\s*:\s*", re.IGNORECASE)


def split_learned(note: str) -> tuple[str, str]:
    """``("coffee at Blue Bottle", "daughter started at Michigan")`` from
    ``"coffee at Blue Bottle; learned: daughter started at Michigan"``. Without a ``learned:``
    marker everything is the note."""
    found = _LEARNED.search(note)
    if found is None:
        return note, ""
    before = clean(note[: found.start()]).rstrip(" ,;.-–—")
    after = clean(note[found.end() :])
    return before, after


def log_hint(cmd: str, name: str) -> str:
    """How to record what was learned from the command line."""
    return f"`{cmd}log {name} -- learned: …` adds it to today's conversation."
