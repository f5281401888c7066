"""Cleaning and normalising text that users type."""

from __future__ import annotations

import re
import unicodedata

#: Removed from everything users type: control characters (NUL among them: PostgreSQL refuses it
#: in text), zero-width and direction marks, bidi embeddings, overrides and isolates (they can
#: make a name display as something else), Hangul fillers (blank "letters"), invisible operators,
#: the soft hyphen, and lone surrogates (they cannot be encoded, so cannot be stored or sent).
_CONTROL = re.compile(
    "["
    "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u00ad\u115f\u1160\u180e\u200b\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0"
    "\ud800-\udfff"
    "]"
)
#: Kinds of character (Unicode general category, first letter) that make a name something a
#: person can see and type: letters, digits, symbols (emoji) and punctuation.
_VISIBLE = frozenset("LNSP")
_SPACES = re.compile(r"[^\S\n]+")
#: What no database column or UTF-8 encoder takes: NUL (PostgreSQL refuses it in text) and lone
#: surrogates. Adapters strip these from whatever they pass on, even text :func:`clean` never sees.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean(text: str) -> str:
    """Return ``text`` in NFC with control and invisible characters removed and spaces collapsed.

    Newlines survive (notes may have several lines); runs of other whitespace become one space.
    """
    # Controls go first, so what is left is in NFC (a removed mark cannot split it).
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
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
    text = one_line(text)
    if text.isascii():
        # NFKD and NFKC leave ASCII as it is and no ASCII character is combining: only the
        # case fold is left (a typed name is matched against every contact's, so it pays).
        return text.casefold()
    return _fold_unicode(text)


def _fold_unicode(text: str) -> str:
    """:func:`fold` of a line already cleaned, for any text."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", stripped).casefold()


def storable(text: str) -> str:
    """``text`` without NUL characters and lone surrogates (see :data:`UNSTORABLE`)."""
    return UNSTORABLE.sub("", text) if UNSTORABLE.search(text) else text


def visible(text: str) -> bool:
    """Whether ``text`` has a character one can see and type (not only marks or spaces)."""
    return any(unicodedata.category(ch)[0] in _VISIBLE for ch in fold(text))


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
