"""How to address someone: "Dana", "Dr. Okafor", "Li" for "WANG Li", "李小龍" as written.

A contact's name is typed by the user as they know it, which mixes conventions: titles ("Dr.",
"Prof."), family-name-first names written with the family name in capitals ("WANG Li",
"NAKAMURA Yui"), CJK names written without spaces, "Okafor, Amara", nicknames in quotes
("Robert “Bob” Smith") and letters after the name ("PhD", "Jr."). :func:`address` picks what a
warm message would say after "Hi"; a **preferred name** the user typed always wins.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from bot.core.text import one_line

#: Longest name used in a greeting; anything longer gets a plain "Hi,".
ADDRESS_MAX = 30
#: Longest preferred name (a first name or a nickname, not a full name).
PREFERRED_MAX = 40

# Titles kept in the address ("Dr. Okafor"): people who use them professionally expect them
# from someone they haven't spoken to in a while.
_KEPT_TITLES = {
    "dr": "Dr.",
    "doctor": "Dr.",
    "prof": "Prof.",
    "professor": "Prof.",
}
# Titles dropped: a first name reads warmer than "Mr. Smith" between former colleagues.
_DROPPED_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "sir",
        "dame",
        "lord",
        "lady",
        "rev",
        "revd",
        "fr",
        "hon",
        "herr",
        "frau",
        "mme",
        "mlle",
        "sr",
        "sra",
        "srta",
    ]
)
# Letters and generations after a name.
#: Every title we recognise, kept or dropped (built once: names are read on every nudge).
_ANY_TITLE = frozenset(_KEPT_TITLES) | _DROPPED_TITLES
_SUFFIXES = frozenset(
    [
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
        "phd",
        "md",
        "mba",
        "cpa",
        "cfa",
        "esq",
        "dds",
        "dvm",
        "jd",
        "llm",
        "msc",
        "bsc",
        "ba",
        "ma",
        "mph",
        "rn",
        "pe",
        "pmp",
        "obe",
        "mbe",
        "cbe",
        "frs",
    ]
)
# Lower-case particles that belong to a family name ("van der Berg", "de la Cruz").
_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "la",
        "le",
        "dos",
        "das",
        "bin",
        "al",
        "ter",
        "ten",
    ]
)
# A nickname in quotes: Robert "Bob" Smith. (Brackets more often hold a company: not a nickname.)
_NICKNAME = re.compile(r"[\"“”„«»]\s*(?P<nick>[^\"“”„«»]{1,40}?)\s*[\"“”„«»]")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_INITIAL = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]?\.?$|^[^\W\d_]$")
# "Dana Whitfield called Dee", "Robert Smith aka Bob": the preferred name typed after the name.
_CALLED = re.compile(r"\s+(?:called|aka|a\.k\.a\.?|goes by)\s+(?P<preferred>\S.*)$", re.IGNORECASE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _bare(word: str) -> str:
    """A word without the punctuation around it and its trailing full stop."""
    return word.strip(".,;:!?()[]{}\"'“”«»").casefold()


def _usable(word: str) -> bool:
    return bool(word) and any(ch.isalpha() for ch in word)


def _all_caps(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def _proper(word: str) -> str:
    """ "WANG" → "Wang", "O'BRIEN" → "O'Brien"; mixed-case words are kept as typed."""
    if not _all_caps(word):
        return word
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), word.lower())


def clean_preferred(text: str) -> str:
    """A typed preferred name, tidied: one line, no braces or edge punctuation; ``""`` if it has
    no letters."""
    name = one_line(text).strip(" .,;:!?-–—\"'“”()[]{}")
    name = re.sub(r"[{}<>]", "", name).strip()
    return name if _usable(name) else ""


@functools.lru_cache(maxsize=8192)  # one contact's name is addressed several times per nudge
def address(name: str, preferred: str = "") -> str:
    """What to call someone after "Hi": the preferred name if given, else worked out from the
    name (see the module docstring). ``""`` when nothing usable is left (the caller then says a
    plain "Hi,")."""
    chosen = clean_preferred(preferred) if preferred else ""
    if not chosen:
        chosen = _from_name(name)
    if not chosen or len(chosen) > ADDRESS_MAX:
        return ""
    return chosen


def default_preferred(name: str) -> str:
    """The preferred name a contact gets when none is typed (shown as the form's hint)."""
    return _from_name(name)


def _from_name(name: str) -> str:
    plain = _plain_given(name)
    if plain:
        return plain
    return _read_name(name)


def _plain_given(name: str) -> str:
    """The given name of a plain name such as "Dana Whitfield" or "Jean-Luc Picard", or ``""``
    when the name needs :func:`_read_name`, which would give the same answer for these.

    Plain: two to four words of letters (inner hyphens allowed) in NFC, single spaces, scripts
    before U+1100 (no CJK, no Hangul fillers), the first word neither a title, an initial nor in
    capitals, the last not letters after a name. Most names are plain, and the morning pass
    addresses every card's contact: the full reading costs ~20 times as much.
    """
    words = name.split(" ")
    if not 2 <= len(words) <= 4 or max(name) >= "\u1100":
        return ""
    for word in words:
        if not word.replace("-", "").isalpha() or word[0] == "-" or word[-1] == "-":
            return ""
    first = words[0]
    if (
        len(first) < 2
        or _all_caps(first)
        or first.casefold() in _ANY_TITLE
        or words[-1].casefold() in _SUFFIXES
        or not unicodedata.is_normalized("NFC", name)
    ):
        return ""
    return first


def _read_name(name: str) -> str:
    """The address worked out from any name (see the module docstring)."""
    text = unicodedata.normalize("NFC", one_line(name))
    text = re.sub(r"[{}<>@#*_`|~]", "", text).strip()
    if not text:
        return ""
    nick = _NICKNAME.search(text)
    if nick is not None:
        found = nick.group("nick").strip()
        if _usable(found) and " " not in found and not _all_caps(found):
            return found
        text = (text[: nick.start()] + " " + text[nick.end() :]).strip()
    text = _BRACKETED.sub(" ", text).strip()
    if _CJK.search(text):
        # Chinese, Japanese and Korean names put the family name first and are addressed whole
        # (a given name alone is too familiar from someone writing out of the blue).
        return "".join(text.split()) if len(text.split()) <= 2 else ""
    # "Okafor, Amara" → "Amara Okafor"; "Okafor, Amara, PhD" keeps only the first two parts.
    if "," in text:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        parts = [p for p in parts if _bare(p) not in _SUFFIXES]
        if len(parts) >= 2:
            text = f"{parts[1]} {parts[0]}"
        elif parts:
            text = parts[0]
    words = [w for w in text.split() if _usable(w)]
    title = ""
    while words and _bare(words[0]) in _ANY_TITLE:
        title = title or _KEPT_TITLES.get(_bare(words[0]), "")
        words.pop(0)
    while words and _bare(words[-1]) in _SUFFIXES:
        words.pop()
    words = [w.strip(".,;:!?\"'“”()[]") for w in words]
    words = [w for w in words if _usable(w)]
    if not words:
        return ""
    family_first = len(words) >= 2 and _all_caps(words[0]) and not _all_caps(words[-1])
    if title:
        return f"{title} {_proper(_family(words, family_first=family_first))}"
    if family_first:
        return _proper(words[1])
    return _given(words)


def _given(words: list[str]) -> str:
    """The first given name that is not an initial ("Robert" from "J. Robert Smith");
    all-capitals typing ("DANA WHITFIELD") is shown as "Dana"."""
    for word in words:
        if not _INITIAL.match(word):
            return _proper(word)
    return ""


def _family(words: list[str], *, family_first: bool) -> str:
    """The family name, with its particles: "van der Berg" from "Maria van der Berg"."""
    if family_first or len(words) == 1:
        return words[0]
    start = len(words) - 1
    while start > 1 and words[start - 1].casefold() in _PARTICLES:
        start -= 1
    return " ".join(words[start:])


def split_preferred(head: str) -> tuple[str, str]:
    """``("Dana Whitfield", "Dee")`` from "Dana Whitfield called Dee" (also "aka", "goes by");
    ``(head, "")`` when no preferred name is typed."""
    found = _CALLED.search(head)
    if found is None:
        return head, ""
    return head[: found.start()].strip(), clean_preferred(found.group("preferred"))
