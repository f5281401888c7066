"""Their news and wins: a dated entry per contact, and the "Congratulate Dana on …" card.

People like to talk about their successes (hurdle 4): a recent win is the easiest reason to get
in touch. The user notes it with ``win <name> -- got promoted to VP`` or in the edit form; for a
few weeks after, the morning nudge offers a congratulations card with a short opener.

The opener here is deliberately simple and conservative (the openers module owns the rich
ones): it only quotes a win that reads as a verb phrase ("got promoted to VP", "launched her
book"), turned to the second person, and otherwise says "your good news" without quoting.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.core.model import Contact
from bot.core.names import address

#: Longest win we keep (one line in a card).
WIN_MAX = 200
#: How long after it was noted a win still makes a congratulations card.
RECENT = timedelta(days=21)

# Past-tense verbs a win usually starts with, and their -ing forms ("on getting promoted").
_GERUNDS = {
    "got": "getting", "became": "becoming", "started": "starting", "joined": "joining",
    "launched": "launching", "won": "winning", "published": "publishing",
    "finished": "finishing", "ran": "running", "completed": "completing", "opened": "opening",
    "raised": "raising", "closed": "closing", "moved": "moving", "sold": "selling",
    "earned": "earning", "received": "receiving", "made": "making", "took": "taking",
    "led": "leading", "built": "building", "passed": "passing", "graduated": "graduating",
    "founded": "founding", "shipped": "shipping", "landed": "landing", "signed": "signing",
    "was": "being", "had": "having", "married": "marrying", "retired": "retiring",
}  # fmt: skip
# The second person of verbs that change ("was promoted" → "you were promoted").
_SECOND_PERSON = {"was": "were", "is": "are", "has": "have"}
# Who a note may start with: "she got promoted", "Dana got promoted".
_SUBJECTS = {"he", "she", "they"}
# News that is not a win: never congratulate on these (and never quote them).
_SENSITIVE = re.compile(
    r"\b(?:pass(?:ed)? away|died|death|funeral|divorc\w*|cancer|ill(?:ness)?|sick|hospital\w*|"
    r"laid off|layoffs?|fired|let go|redundan\w*|lost (?:his|her|their) (?:job|wife|husband)|"
    r"diagnos\w*|surgery|bereave\w*|widow\w*)\b",
    re.IGNORECASE,
)
# Where a note's first sentence ends: a line break, a semicolon, or a full stop after a word in
# lower case or a number ("VP. Also", "J.P. Morgan" and "v2.0" are not ends; a rare miss only
# makes a longer line).
_SENTENCE_END = re.compile(r"\n|;\s|(?<=[a-z0-9])[.!?]+\s+")
#: Longest win quoted in a recap's "Good news you heard" line (longer: "shared some good news").
HEARD_MAX = 100
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TRAILING = ".!?;,:— -"


def is_recent(contact: Contact, today: date) -> bool:
    """Whether ``contact`` has a win noted within :data:`RECENT` that is worth congratulating."""
    return (
        bool(contact.win)
        and contact.win_on is not None
        and contact.win_on <= today
        and today - contact.win_on <= RECENT
        and not _SENSITIVE.search(contact.win)
    )


def _verb_phrase(win: str, first_name: str) -> list[str] | None:
    """The win's words starting at its verb ("she got promoted" → got, promoted), or ``None``
    when it doesn't read as a plain verb phrase (a noun phrase, a URL, a sensitive note)."""
    if _URL.search(win) or _SENSITIVE.search(win):
        return None
    words = win.strip().rstrip(_TRAILING).split()
    if words and words[0].lower() in _SUBJECTS | {first_name.lower()}:
        words = words[1:]
    if not words or words[0].lower() not in _GERUNDS.keys() | _SECOND_PERSON.keys():
        return None
    if any(word.lower() in {"i", "me", "my"} for word in words):
        return None  # "got me a referral": about the user, not a win of theirs
    if win.isupper():
        words = [w.lower() for w in words]  # "GOT PROMOTED": not shouted back at them
    return [words[0].lower(), *words[1:]]


def heard_line(name: str, win: str, preferred_name: str = "") -> str | None:
    """One short sentence for the weekly recap's "Good news you heard": ``"Dana Whitfield got
    promoted to VP."`` when the win reads as a verb phrase, else ``"Dana Whitfield shared some
    good news."`` (nothing quoted). ``None`` for news that is not a win (never quoted, never
    listed) and for an empty note."""
    if not win.strip() or _SENSITIVE.search(win):
        return None
    first = address(name, preferred_name) or name.split(" ", 1)[0]
    # Only the note's first sentence ("launched her book. It's great" → "launched her book").
    words = _verb_phrase(_SENTENCE_END.split(win.strip(), maxsplit=1)[0], first)
    phrase = " ".join(words) if words else ""
    if not phrase or len(phrase) > HEARD_MAX:
        return f"{name} shared some good news."
    return f"{name} {phrase}."


def congratulate_title(contact: Contact) -> str:
    """``"Congratulate Dana on getting promoted to VP"`` (or "on their news")."""
    first = contact.first_name
    words = _verb_phrase(contact.win, first)
    if words is None or words[0] not in _GERUNDS:
        return f"Congratulate {first} on their news"
    return f"Congratulate {first} on {' '.join([_GERUNDS[words[0]], *words[1:]])}"


def congratulate_opener(contact: Contact) -> str:
    """A short, grammatical congratulations message that asks about them (hurdles 4 and 7).

    The integrator may route this through ``bot.core.openers`` later; it only quotes the win
    when it reads as a verb phrase, so no note fragment lands raw in a sentence.
    """
    first = contact.first_name
    words = _verb_phrase(contact.win, first)
    if words is None:
        return (
            f"Hi {first}, I just heard your good news — congratulations! "
            "I'd love to hear how it came about."
        )
    verb = _SECOND_PERSON.get(words[0], words[0])
    phrase = " ".join([verb, *words[1:]])
    return f"Hi {first}, I just heard you {phrase} — congratulations! How did it all come about?"
