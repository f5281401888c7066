"""vCard files (``.vcf``, 3.0 and 4.0, several cards per file), read with ``vobject``.

The file is cut into cards at their ``BEGIN:VCARD`` lines first, so one broken card is
reported by its line and skipped while the others are read; ``vobject`` does the rest (folded
lines, quoted-printable, parameters, escapes).

``NICKNAME`` is the preferred name. Our own export (:mod:`bot.core.data_export`) writes the
relationship and when you were last in touch as ``X-RECONNECT-RELATIONSHIP`` and
``X-RECONNECT-LAST-IN-TOUCH`` (address books keep ``X-`` properties they don't know, RFC 6350
§6.10); they are read back as the add/edit form reads them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import vobject

from bot.core.imports import clean as c
from bot.core.imports.people import MAX_ROWS, Format, ImportRefused, Parsed, Person, Problem

_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.IGNORECASE)
_END = re.compile(r"^END:VCARD\s*$", re.IGNORECASE)


def looks_like_vcard(text: str) -> bool:
    """Whether ``text`` starts (after blank lines) with a vCard."""
    return bool(_BEGIN.match(text.lstrip().split("\n", 1)[0].strip()))


#: The ``X-`` properties of our export (lower case, as ``vobject`` keys them).
RELATIONSHIP = "x-reconnect-relationship"
LAST_IN_TOUCH = "x-reconnect-last-in-touch"


def parse_vcards(text: str, today: date | None = None) -> Parsed:
    """Every card in ``text`` ("last in touch" may not be after ``today``, by default the
    system's); raises :class:`ImportRefused` past :data:`MAX_ROWS` cards."""
    parsed = Parsed(Format.VCARD)
    today = today or date.today()
    cards = list(_cards(text))
    if len(cards) > MAX_ROWS:
        from bot.core.imports.tables import too_many_rows

        raise ImportRefused(too_many_rows())
    for line, card_text, complete in cards:
        if not complete:
            parsed.problems.append(Problem(line, "the card has no END:VCARD"))
            continue
        try:
            card = vobject.readOne(card_text)
        except Exception:  # vobject raises several kinds (ParseError, ValueError, …)
            parsed.problems.append(Problem(line, "I couldn't read this card"))
            continue
        result = _person(line, card, today, parsed.left_out)
        parsed.add(result)
    return parsed


def _cards(text: str) -> list[tuple[int, str, bool]]:
    """``(first line, text, whether it ended)`` of each card."""
    out: list[tuple[int, str, bool]] = []
    current: list[str] | None = None
    begins = 0
    for number, line in enumerate(text.splitlines(), 1):
        if _BEGIN.match(line.strip()):
            if current is not None:
                out.append((begins, "\n".join(current), False))
            current, begins = [line.strip()], number
        elif current is not None:
            current.append(line)
            if _END.match(line.strip()):
                out.append((begins, "\n".join(current) + "\n", True))
                current = None
    if current is not None:
        out.append((begins, "\n".join(current), False))
    return out


def _person(line: int, card: Any, today: date, left_out: list[Problem]) -> Person | Problem:
    name = _value(card, "fn") or _structured_name(card)
    org = _value(card, "org")
    return c.person(
        line,
        name,
        company_role=c.role(_value(card, "title"), org),
        how_known=_value(card, "categories"),
        notes=_notes(card),
        email=_value(card, "email"),
        linkedin_url=next((url for url in _values(card, "url") if c.linkedin_profile(url)), ""),
        preferred_name=_value(card, "nickname").split(",")[0],
        relationship=_value(card, RELATIONSHIP),
        last_in_touch=_value(card, LAST_IN_TOUCH),
        today=today,
        left_out=left_out,
    )


def _values(card: Any, key: str) -> list[str]:
    out = []
    for item in card.contents.get(key, []):
        value = item.value
        if isinstance(value, list | tuple):  # ORG and CATEGORIES are lists
            value = ", ".join(str(v) for v in value if str(v).strip())
        out.append(str(value))
    return out


def _value(card: Any, key: str) -> str:
    return next((v for v in _values(card, key) if v.strip()), "")


def _structured_name(card: Any) -> str:
    n = card.contents.get("n")
    if not n:
        return ""
    name = n[0].value
    if isinstance(name, str):
        return name.replace(";", " ")
    return c.joined(
        *(
            " ".join(p) if isinstance(p, list) else p
            for p in (name.given, name.additional, name.family)
        )
    )


def _notes(card: Any) -> str:
    phone = _value(card, "tel")
    parts = [_value(card, "note"), f"Phone: {phone}" if phone else ""]
    return "\n".join(part for part in parts if part.strip())
