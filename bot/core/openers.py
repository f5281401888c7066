"""Draft a few conversation openers for a contact, from what the user knows about them.

Openers are short, curious questions about the other person (coaching hurdles 3, 4, 5 and 7):
their wins and interests, their work, the last conversation, the time they shared with the user.
They never pitch, ask for a favour or talk about the user's search. Wording is pronoun-free
because we don't know the contact's pronouns.

The user's notes are free text, so everything taken from them is tidied first: split into
fragments, stray punctuation, unbalanced quotes and braces dropped, and long fragments cut at a
sensible boundary.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import date

from bot.core.model import Contact
from bot.core.text import clean, one_line

#: The longest opener we produce: short enough to paste into any chat or text message.
OPENER_MAX = 280
#: The longest note fragment quoted in an opener.
FRAGMENT_MAX = 80
#: Longest first name used in the greeting; longer ones get a plain "Hi,".
_GREETING_NAME_MAX = 30
#: Longest company name quoted from ``company_role`` or ``how_known``.
_COMPANY_MAX = 50

# Fragment separators: semicolons, newlines, bullets, bars, CJK punctuation, commas that are not
# thousands separators, and sentence ends after a word of four or more characters (so "St. Louis"
# and "Dr. Ortiz" stay whole).
_SPLIT = re.compile(r"[;\n•·|；，、。]+|(?<!\d),|,(?!\d)|(?<=\w{4}[.!?])\s+")
_EDGE_JUNK = " \t-–—*•·>:,.;!?"
_BRACES = re.compile(r"[{}]")
_SPACES = re.compile(r"\s+")
# Places to cut a long fragment, best first: a dash, a bracket, a colon, a conjunction.
_CLAUSE_BREAKS = (" - ", " – ", " — ", " (", ": ", " and ", " but ", " because ", " which ")
# A clause break must leave at least this many characters before it.
_CLAUSE_MIN = 15
# What people type when there is nothing to say.
_PLACEHOLDERS = frozenset(("none", "n/a", "na", "nil", "null", "tbd", "unknown", "nothing", "-"))
_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("«", "»"), ("„", "“"), ("「", "」"))
_PROMOTED = re.compile(
    r"^(?:just |recently |finally )?(?:got |been |was )?promoted\s+(?:to|as)\s+(?P<role>.+)$",
    re.IGNORECASE,
)
# "at Brightline 2016–2020", "@ Acme": the place is the run of capitalised words after "at", up to
# a year, a linking word or punctuation.
_AT = re.compile(r"(?:^|(?<=\s))(?:at|@)\s+", re.IGNORECASE)
_STOP_TEXT = (
    "in from during between until till for when where while and or but before after back since "
    "as with years year"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def interest_fragments(notes: str) -> list[str]:
    """Split free-text notes into short fragments that can be quoted in a message.

    ``"just promoted to COO; sails every summer, two kids in college"`` gives three fragments.
    Each is tidied (no edge punctuation, bullets, braces or unbalanced quotes) and at most
    :data:`FRAGMENT_MAX` characters; fragments without letters or digits and duplicates (ignoring
    case) are dropped. Order is kept.
    """
    fragments: list[str] = []
    seen: set[str] = set()
    for fragment in _fragments(notes):
        key = fragment.casefold()
        if key not in seen:
            seen.add(key)
            fragments.append(fragment)
    return fragments


def first_interest(notes: str) -> str | None:
    """The first of :func:`interest_fragments`, without tidying the rest (the morning pass
    asks this of tens of thousands of contacts)."""
    return next(_fragments(notes), None) if notes else None


def _fragments(notes: str) -> Iterator[str]:
    for raw in _SPLIT.split(clean(notes)):
        fragment = _cut(_tidy(raw), FRAGMENT_MAX)
        if _says_something(fragment):
            yield fragment


def openers(contact: Contact, *, today: date, seed: int = 0) -> list[str]:
    """Two or three short openers for ``contact``, each ready to paste into a message.

    Openers built from the contact's notes, last conversation, company and shared history come
    first (up to three); generic curious questions fill up to three when something is known and
    to two when nothing is. The result depends only on the contact, ``today`` and ``seed``.
    """
    greeting = _greeting(contact)
    since = _since_last_talk(contact.last_contacted_on, today)
    interests = _rank(interest_fragments(contact.notes), seed)
    last_talk = interest_fragments(contact.last_note)
    company, role = _company_and_role(contact.company_role)
    shared_place = _place_after_at(contact.how_known)

    # Each entry lists alternative bodies, best first; the first that fits is used.
    specific: list[tuple[str, ...]] = []
    if interests:
        specific.append((_about_interest(interests[0], since, seed), _about_interest(interests[0])))
    if last_talk:
        specific.append((_about_last_talk(last_talk[0]),))
    if company or role:
        specific.append((_about_work(company, role, seed),))
    if shared_place:
        specific.append((_about_shared_past(shared_place, seed),))
    if len(interests) > 1:
        specific.append((_about_interest(interests[1], "", seed + 1),))

    drafts: list[str] = []
    for bodies in specific:
        if len(drafts) == 3:
            break
        _add_first_fitting(drafts, greeting, bodies)

    wanted = 3 if drafts else 2
    leads = _rotate(_WARM_LEADS, seed)
    if not interests:  # the time since the last talk hasn't been used yet
        leads.insert(0, since or _DEFAULT_LEAD)
    for lead, question in zip(leads, _rotate(_GENERIC_QUESTIONS, seed), strict=False):
        if len(drafts) >= wanted:
            break
        _add_first_fitting(drafts, greeting, (_join(lead, question), question))
    return drafts


def _add_first_fitting(drafts: list[str], greeting: str, bodies: Sequence[str]) -> None:
    """Append the first of ``bodies`` that fits :data:`OPENER_MAX`, unless already there."""
    for body in bodies:
        text = _SPACES.sub(" ", f"{greeting} {body}").strip()
        if len(text) <= OPENER_MAX:
            if text not in drafts:
                drafts.append(text)
            return


def _join(lead: str, body: str) -> str:
    """``lead`` then ``body`` as a new sentence; just ``body`` when there is no lead."""
    return f"{lead} {_capitalise(body)}" if lead else body


# --- Building blocks ------------------------------------------------------------------------

# Generic questions start in lower case: they follow the greeting ("Hi Dana, what's ...") or are
# capitalised after a lead sentence.
_GENERIC_QUESTIONS = (
    "what's been keeping you busy lately? I'd love to hear how things are going.",
    "what's the most interesting thing you're working on these days?",
    "what's been the highlight of your year so far? I'd love to hear about it.",
    "what's something you've learned this year that surprised you?",
    "how are things, really? What's been the best part of the last few months?",
)
_DEFAULT_LEAD = "you came to mind today."
_WARM_LEADS = (
    "I was thinking about people whose judgement I've always valued, and you came to mind.",
    "I've been meaning to get in touch for a while.",
    "I was remembering some of the good conversations we used to have.",
)


def _about_interest(fragment: str, since: str = "", seed: int = 0) -> str:
    """An opener body about one of the contact's wins or interests, after an optional lead."""
    promoted = _PROMOTED.match(fragment)
    if promoted and not fragment.endswith("…"):
        body = (
            f"congratulations on the move to {promoted['role']}, if I heard right. What has "
            "surprised you most about the new role?"
        )
    elif fragment.endswith("…"):
        body = f"last I heard: {fragment} How's that going? I'd love to hear the latest."
    elif seed % 2 and since:
        body = f"{fragment}, if I remember right. What's been the best part of that lately?"
    elif seed % 2:
        body = (
            f"I was thinking of you and remembered this: {fragment}. What's been the best part "
            "of that lately?"
        )
    else:
        body = f"last I heard: {fragment}. How's that going? I'd love to hear the latest."
    return _join(since, body)


def _about_last_talk(fragment: str) -> str:
    """An opener body that picks up the thread of the last logged conversation."""
    return f"I've been thinking about our last conversation ({fragment}). How did it all turn out?"


def _about_work(company: str, role: str, seed: int) -> str:
    """An opener body about the contact's work, from "CFO at Brightline" or just "Brightline"."""
    if company:
        questions = (
            f"how are things at {company} these days? What's the most interesting thing on "
            "your plate right now?",
            f"what's been the biggest change at {company} since we last spoke? I'd love to hear "
            "how you're finding it.",
        )
        return questions[seed % 2]
    return (
        f"I was thinking about your work ({role}). What's been the most interesting part of it "
        "lately?"
    )


def _about_shared_past(place: str, seed: int) -> str:
    """An opener body that recalls the time the user and the contact shared."""
    questions = (
        f"I was remembering our time at {place} the other day. What's something from those "
        "years that you still find yourself using?",
        f"something reminded me of our days at {place}. Who from back then do you still keep up "
        "with? I'd love to hear how you're doing.",
    )
    return questions[seed % 2]


def _greeting(contact: Contact) -> str:
    """The greeting: "Hi Dana," or a plain "Hi," when the first name is missing, odd or long."""
    first = _BRACES.sub("", one_line(contact.name)).split(" ", 1)[0]
    if not first or len(first) > _GREETING_NAME_MAX or not any(ch.isalnum() for ch in first):
        return "Hi,"
    return f"Hi {first},"


def _since_last_talk(last: date | None, today: date) -> str:
    """A lowercase opening clause about how long it's been, or ``""`` when unknown."""
    if last is None or last > today:
        return ""
    days = (today - last).days
    if days < 21:
        return "it was good to catch up recently."
    if days < 60:
        return "it was good to catch up a few weeks ago."
    if days < 365:
        return "it's been a few months since we talked, and you came to mind today."
    if days < 730:
        return "it's been over a year since we talked, and you came to mind today."
    return "it's been a few years since we talked, and you came to mind today."


def _company_and_role(company_role: str) -> tuple[str, str]:
    """``("Brightline", "CFO")`` from "CFO at Brightline"; ``("", text)`` when there is no "at"."""
    text = _tidy(one_line(company_role))
    if not _says_something(text):
        return "", ""
    company = _place_after_at(text)
    if company:
        return company, ""
    return "", _cut(text, _COMPANY_MAX)


def _place_after_at(text: str) -> str:
    """The first capitalised name after "at": "Brightline" from "my boss at Brightline 2016"."""
    text = _BRACES.sub("", one_line(text))
    for match in _AT.finditer(text):
        words: list[str] = []
        for word in text[match.end() :].split():
            bare = word.strip(_EDGE_JUNK + "()[]\"'“”")
            if not bare or bare[0].isdigit() or bare.casefold() in _STOP_WORDS:
                break
            if not words and not bare[0].isupper():
                break
            words.append(bare)
            if word != word.rstrip(",.;:!?()") or len(words) == 5:
                break
        place = " ".join(words)
        if _usable(place) and len(place) <= _COMPANY_MAX:
            return place
    return ""


def _tidy(fragment: str) -> str:
    """Drop braces, edge punctuation and bullets, and quotes or brackets that don't pair up."""
    text = _SPACES.sub(" ", _BRACES.sub("", fragment)).strip(_EDGE_JUNK)
    for opening, closing in _QUOTE_PAIRS:
        if opening == closing:
            unbalanced = text.count(opening) % 2 == 1
        else:
            unbalanced = text.count(opening) != text.count(closing)
        if unbalanced:
            text = text.replace(opening, "").replace(closing, "")
        elif (
            len(text) > 2
            and text.startswith(opening)
            and text.endswith(closing)
            and text.count(opening) == 1 + (opening == closing)
        ):
            text = text[1:-1]
    for opening, closing in (("(", ")"), ("[", "]")):
        if text.count(opening) != text.count(closing):
            text = text.replace(opening, "").replace(closing, "")
    return _SPACES.sub(" ", text).strip(_EDGE_JUNK)


def _cut(text: str, limit: int) -> str:
    """``text`` if short enough, else cut at the first clause break that leaves a useful
    fragment, or else between words (or anywhere, for scripts without spaces) ending with "…".
    """
    if len(text) <= limit:
        return text
    window = text[:limit]
    for separator in _CLAUSE_BREAKS:
        at = window.find(separator, _CLAUSE_MIN)
        if at != -1:
            return _tidy(window[:at])
    head = text[: limit - 1]
    if " " in head[limit // 2 :]:
        head = head.rsplit(" ", 1)[0]
    return _tidy(head) + "…"


def _says_something(fragment: str) -> bool:
    """Whether a note fragment is usable and not a placeholder such as "None" or "n/a"."""
    return _usable(fragment) and fragment.casefold() not in _PLACEHOLDERS


def _usable(text: str) -> bool:
    """Whether ``text`` says something: two letters or digits, or one outside ASCII (e.g. 猫)."""
    alnum = [ch for ch in text if ch.isalnum()]
    return len(alnum) >= 2 or any(not ch.isascii() for ch in alnum)


def _capitalise(text: str) -> str:
    """Upper-case the first letter unless the word is already mixed-case ("iPhone", "eBay")."""
    first_word = text.split(" ", 1)[0]
    if first_word[:1].islower() and first_word == first_word.lower():
        return text[0].upper() + text[1:]
    return text


def _stable(seed: int, text: str) -> int:
    digest = hashlib.blake2b(f"{seed}\x1f{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _rank(fragments: Sequence[str], seed: int) -> list[str]:
    """Whole fragments before cut ones. Seed 0 keeps the notes' order (people tend to write the
    most notable thing first); other seeds give other stable orders.
    """
    if seed == 0:
        return sorted(fragments, key=lambda f: f.endswith("…"))
    return sorted(fragments, key=lambda f: (f.endswith("…"), _stable(seed, f)))


def _rotate[T](items: Sequence[T], seed: int) -> list[T]:
    """``items`` rotated by ``seed``: the same seed always starts at the same item."""
    start = seed % len(items)
    return [*items[start:], *items[:start]]
