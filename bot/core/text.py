"""Cleaning and normalising text that users type."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u200e\u200f\u2028\u2029\ufeff]"
)
_SPACES = re.compile(r"[^\S\n]+")


def clean(text: str) -> str:
    """Return ``text`` in NFC with control and invisible characters removed and spaces collapsed.

    Newlines survive (notes may have several lines); runs of other whitespace become one space.
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def one_line(text: str) -> str:
    """Like :func:`clean`, but folds newlines into spaces (for names and short fields)."""
    return _SPACES.sub(" ", clean(text).replace("\n", " ")).strip()


def fold(text: str) -> str:
    """Return a key for comparing names: accents stripped, case folded, spaces collapsed.

    ``"  Zoë  O'Brien"`` and ``"zoe o'brien"`` fold to the same key; non-Latin scripts and emoji
    are kept as they are (after NFKC) so ``"李小龍"`` still matches itself.
    """
    decomposed = unicodedata.normalize("NFKD", one_line(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped).casefold()


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def parse_count(text: str, *, below: int) -> int | None:
    """``text`` as a positive integer below ``below``, or ``None``.

    Only ASCII digits count: ``str.isdigit`` accepts "²", which ``int()`` then rejects.
    """
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value < below else None
