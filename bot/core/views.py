"""Builders for the core's replies: help, contact cards, the due list, the home view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core import dates
from bot.core.actions import Act
from bot.core.model import Contact
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Divider,
    Header,
    Inline,
    Reply,
    Strong,
    context,
    section,
)
from bot.core.text import shorten

DUE_SHOWN = 8
HOME_DUE_SHOWN = 5
PAGE_SIZE = 10


def help_reply(cmd: str) -> Reply:
    """What the bot does and every command, with examples."""
    rows: list[tuple[str, str]] = [
        (
            "add <full name> [every <N> days|weeks|months] [-- <notes>]",
            f"Add someone to keep in touch with. `{cmd}add Dana Whitfield every 2 months -- former "
            "CFO at Brightline, loves sailing`. Without a name it opens a form. Default: every 6 "
            "weeks.",
        ),
        (
            "log <name> [-- <what you talked about>]",
            f"Record a conversation today and restart their cadence. `{cmd}log Dana -- she's "
            "hiring in Q3`. Without a name it opens a form.",
        ),
        ("due", "Who is due or overdue now, most overdue first."),
        ("list [<page>]", "Everyone you keep in touch with, 10 at a time."),
        (
            "snooze <name> [<N> days|weeks|months]",
            f"Not now — ask again later. `{cmd}snooze Dana 2 weeks` (default: a week).",
        ),
        ("edit <name>", "Change their details, notes or cadence."),
        ("remove <name>", "Stop keeping in touch (asks first)."),
        (
            "settings",
            "When your morning nudge comes: time, days, time zone, how many people to suggest.",
        ),
        (
            "pause [until <date> | for <N> days|weeks]",
            f"Away for a while? `{cmd}pause until 5 Jan` or `{cmd}pause for 2 weeks`. "
            f"Just `{cmd}pause` pauses until you type `{cmd}resume`.",
        ),
        ("resume", "Start the morning nudges again."),
        ("help", "This message."),
    ]
    blocks: list[Block] = [
        Header("Reconnect — keep in touch, one conversation at a time"),
        section(
            "Most people find their next role through someone they already know — often a "
            "former colleague they haven't spoken to in years, who would be glad to hear from "
            "them. Add the people you'd like to reconnect with; I'll keep track of who is due."
        ),
        Divider(),
    ]
    for syntax, text in rows:
        blocks.append(section(Strong(f"{cmd}{syntax}"), "\n", text))
    blocks.append(
        context(
            "Names can be partial or misspelled: “dana” or “dnaa whitfeld” find Dana Whitfield."
        )
    )
    return Reply(summary="Reconnect commands", blocks=tuple(blocks))


def contact_blocks(contact: Contact, today: date, *, actions: bool = True) -> list[Block]:
    """A contact as a card: name and role, when you last talked, what you know, buttons."""
    title: list[Inline] = [Strong(contact.name)]
    if contact.company_role:
        title.append(f" — {contact.company_role}")
    blocks: list[Block] = [section(*title)]
    blocks.append(context(status_line(contact, today)))
    known = knowledge_lines(contact)
    if known:
        blocks.append(section(*known))
    if actions:
        blocks.append(contact_actions(contact))
    return blocks


def status_line(contact: Contact, today: date) -> str:
    """ "Last talked 3 Oct (8 weeks ago) · every 6 weeks · 12 days overdue"."""
    if contact.last_contacted_on is None:
        last = "No conversation logged yet"
    else:
        when = contact.last_contacted_on
        last = f"Last talked {dates.show(when, today)} ({dates.ago(when, today)})"
    days = contact.days_overdue(today)
    due = dates.overdue(days) if days >= 0 else f"next {dates.until(contact.next_due_on, today)}"
    return f"{last} · {contact.cadence.every()} · {due}"


def knowledge_lines(contact: Contact) -> list[Inline]:
    """What the user knows about the contact, as labelled lines."""
    parts: list[Inline] = []
    for label, value in (
        ("How you know them", contact.how_known),
        ("Wins & interests", contact.notes),
        ("Last note", contact.last_note),
    ):
        if value:
            if parts:
                parts.append("\n")
            parts.extend((Strong(f"{label}: "), shorten(value, 600)))
    return parts


def contact_actions(contact: Contact) -> Actions:
    """The quick actions on a contact card."""
    cid = str(contact.id)
    return Actions(
        (
            Button("Log conversation", Act.LOG_FORM, cid, style="primary"),
            Button("Snooze a week", Act.SNOOZE, cid),
            Button("Edit", Act.EDIT_FORM, cid),
            Button("Remove", Act.REMOVE_ASK, cid),
        )
    )


def due_reply(
    due: Sequence[Contact],
    total_due: int,
    total: int,
    next_up: Contact | None,
    today: date,
    cmd: str,
) -> Reply:
    """The answer to ``due``."""
    if total == 0:
        return no_contacts_reply(cmd)
    if total_due == 0:
        text = "Nobody is due right now — nice work keeping in touch."
        if next_up is not None:
            text += f" Next up: {next_up.name}, {dates.until(next_up.next_due_on, today)}."
        return Reply(summary=text, blocks=(section(text),))
    people = "person is" if total_due == 1 else "people are"
    blocks: list[Block] = [Header(f"{total_due} {people} due")]
    for contact in due:
        blocks.append(Divider())
        blocks.extend(contact_blocks(contact, today))
    if total_due > len(due):
        blocks.append(context(f"…and {total_due - len(due)} more. `{cmd}list` shows everyone."))
    return Reply(summary=f"{total_due} {people} due", blocks=tuple(blocks))


def list_reply(contacts: Sequence[Contact], page: int, total: int, today: date, cmd: str) -> Reply:
    """One page of everyone, with paging buttons."""
    if total == 0:
        return no_contacts_reply(cmd)
    pages = max(1, -(-total // PAGE_SIZE))
    if not contacts:
        text = f"There is no page {page}: your {total} contacts fit on {pages} page(s)."
        return Reply(summary=text, blocks=(section(text),))
    blocks: list[Block] = [Header(f"Your contacts ({total})")]
    for contact in contacts:
        line: list[Inline] = [Strong(contact.name)]
        if contact.company_role:
            line.append(f" — {contact.company_role}")
        blocks.append(section(*line, button=Button("Open", Act.EDIT_FORM, str(contact.id))))
        blocks.append(context(status_line(contact, today)))
    buttons = []
    if page > 1:
        buttons.append(Button("◀ Previous", Act.LIST_PAGE, str(page - 1)))
    if page < pages:
        buttons.append(Button("Next ▶", Act.LIST_PAGE, str(page + 1)))
    blocks.append(context(f"Page {page} of {pages}"))
    if buttons:
        blocks.append(Actions(tuple(buttons)))
    return Reply(summary=f"Your contacts, page {page} of {pages}", blocks=tuple(blocks))


def no_contacts_reply(cmd: str) -> Reply:
    """What to say to someone with no contacts yet."""
    text = (
        "You haven't added anyone yet. Start with three people you'd be glad to hear from — "
        "a former boss, a colleague you liked working with, someone you mentored. "
        f"`{cmd}add Dana Whitfield every 2 months -- former CFO, loves sailing`"
    )
    return Reply(
        summary="You haven't added anyone yet.",
        blocks=(section(text), Actions((Button("Add a contact", Act.ADD_FORM, style="primary"),))),
    )


def home_reply(
    *,
    due: Sequence[Contact],
    total_due: int,
    total: int,
    conversations: int,
    today: date,
    cmd: str,
    notice: Reply | None = None,
    schedule: str = "",
) -> Reply:
    """The App Home: counts, who is due (top 5) with quick actions, add and log buttons."""
    blocks: list[Block] = []
    if notice is not None:
        blocks.extend(notice.blocks)
        blocks.append(Divider())
    blocks.append(Header("Reconnect"))
    blocks.append(
        section(
            Strong(str(total)),
            f" {'person' if total == 1 else 'people'} in your network · ",
            Strong(str(total_due)),
            " due now · ",
            Strong(str(conversations)),
            f" conversation{'' if conversations == 1 else 's'} logged",
        )
    )
    blocks.append(
        Actions(
            (
                Button("Add a contact", Act.ADD_FORM, style="primary"),
                Button("Log a conversation", Act.LOG_FORM),
                Button("Nudge settings", Act.SETTINGS_FORM),
            )
        )
    )
    if schedule:
        blocks.append(context(f"☀️ {schedule}"))
    blocks.append(Divider())
    if total == 0:
        blocks.extend(no_contacts_reply(cmd).blocks[:1])
    elif total_due == 0:
        blocks.append(section("Nobody is due right now — nice work keeping in touch."))
    else:
        blocks.append(Header("Due now"))
        for contact in due:
            blocks.extend(contact_blocks(contact, today))
            blocks.append(Divider())
        if total_due > len(due):
            blocks.append(context(f"…and {total_due - len(due)} more: `{cmd}due` lists them."))
    blocks.append(context(f"Type `{cmd}help` for every command."))
    return Reply(summary="Reconnect home", blocks=tuple(blocks))
