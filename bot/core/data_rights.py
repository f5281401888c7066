"""Your data: ``export`` (a copy of everything we keep) and ``delete my data`` (erase it all).

Deleting asks first, saying exactly what goes. The confirmation button carries a token made
from the user's identity and the day it was shown, so a confirmation button pressed by anyone
else (a forwarded or forged payload) deletes nothing, and an old one has expired.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

from bot.core.actions import Act
from bot.core.data_export import ALL_FORMATS, Format, export_files
from bot.core.model import UserRef
from bot.core.ports import ContactBook, Erased
from bot.core.replies import Actions, Button, Header, Reply, context, section

#: How each section of the export is described in the deletion warning (singular, plural).
SECTION_WORDS: dict[str, tuple[str, str]] = {
    "contacts": ("contact, with everything you noted", "contacts, with everything you noted"),
    "conversations": ("logged conversation", "logged conversations"),
    "outreach": (
        "time you reached out, with what you expected",
        "times you reached out, with what you expected",
    ),
    "next_steps": ("next step", "next steps"),
    "weekly_goals": ("weekly goal", "weekly goals"),
    "recap_settings": ("weekly recap setting", "weekly recap settings"),
    "nudges": ("morning message in your history", "morning messages in your history"),
    "prompts_seen": ("record of the prompts you've seen", "records of the prompts you've seen"),
    "teams_chat": ("Teams chat reference (how I reach you)", "Teams chat references"),
}

EXPIRED_CONFIRMATION = (
    "That confirmation has expired or isn't yours, so nothing was deleted. "
    "To delete your data, type `{cmd}delete my data` again."
)
KEPT = "Nothing was deleted — your contacts and history are just as they were."


async def export_reply(book: ContactBook, formats: tuple[Format, ...], today: date) -> Reply:
    """The export files, with a message that says what they hold."""
    data = await book.export_data()
    chosen = formats or ALL_FORMATS
    files = export_files(data, chosen, today=today)
    contacts = len(data.sections.get("contacts", []))
    conversations = len(data.sections.get("conversations", []))
    names = ", ".join(f.filename for f in files)
    what = {
        Format.CSV: "a spreadsheet of your contacts (CSV)",
        Format.JSON: "everything I keep about you (JSON)",
        Format.VCARD: "your contacts for an address book (vCard)",
    }
    listing = _join([what[f] for f in dict.fromkeys(chosen)])
    summary = (
        f"Your export: {listing} — {_count(contacts, 'contact')} and "
        f"{_count(conversations, 'logged conversation')}."
    )
    return Reply(
        summary=summary,
        blocks=(
            Header("Your data"),
            section(summary),
            context(f"Files: {names}"),
        ),
        files=files,
    )


async def confirm_erase_reply(book: ContactBook, user: UserRef, today: date, cmd: str) -> Reply:
    """The question before deleting: exactly what goes, and two buttons."""
    data = await book.export_data()
    lines = []
    for name, records in data.sections.items():
        if not records:
            continue
        one, many = SECTION_WORDS.get(name, (f"{name} record", f"{name} records"))
        lines.append(f"• {len(records):,} {one if len(records) == 1 else many}")
    lines.append("• your settings (nudge time, days, time zone, pause)")
    text = "This deletes, for good:\n" + "\n".join(lines)
    return Reply(
        summary="Delete all your Reconnect data? This can't be undone.",
        blocks=(
            Header("Delete all your data?"),
            section(text),
            context(
                f"It can't be undone. Want a copy first? Type `{cmd}export`. "
                "If you use Reconnect again afterwards, you start with an empty list."
            ),
            Actions(
                (
                    Button(
                        "Delete everything", Act.ERASE_CONFIRM, erase_token(user, today), "danger"
                    ),
                    Button("Keep my data", Act.ERASE_CANCEL),
                )
            ),
        ),
    )


async def erase(book: ContactBook, user: UserRef, value: str, today: date, cmd: str) -> Reply:
    """Delete everything of ``user`` if ``value`` is their own, current confirmation token."""
    if not token_valid(user, value, today):
        return _message(EXPIRED_CONFIRMATION.format(cmd=cmd))
    erased = await book.erase_all()
    return erased_reply(erased)


def erased_reply(erased: Erased) -> Reply:
    """What was deleted."""
    parts = [
        _count(erased.contacts, "contact"),
        _count(erased.conversations, "logged conversation"),
        _count(erased.nudges, "morning message"),
    ]
    text = (
        f"Done — I deleted everything I kept about you: {_join(parts)}, and your settings. "
        "If you use Reconnect again, you'll start with an empty list."
    )
    return _message(text)


def kept_reply() -> Reply:
    """The user chose not to delete."""
    return _message(KEPT)


def erase_token(user: UserRef, day: date) -> str:
    """``"<day>:<digest>"``: the confirmation for ``user``, shown on ``day``."""
    return f"{day.isoformat()}:{_digest(user, day)}"


def token_valid(user: UserRef, value: str, today: date) -> bool:
    """Whether ``value`` is ``user``'s confirmation from today or yesterday."""
    stamp, _, digest = value.partition(":")
    try:
        day = date.fromisoformat(stamp)
    except ValueError:
        return False
    if not today - timedelta(days=1) <= day <= today:
        return False
    return hmac.compare_digest(digest, _digest(user, day))


def _digest(user: UserRef, day: date) -> str:
    identity = "\x1f".join((user.platform, user.workspace_id, user.user_id, day.isoformat()))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]


def _message(text: str) -> Reply:
    return Reply(summary=text, blocks=(section(text),))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
