"""Builders for the core's replies: help, contact cards, the due list, the home view, and the
answers to commands, buttons and forms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core import dates, preferences, reflection
from bot.core.actions import Act
from bot.core.cadence import Span
from bot.core.model import NAME_MAX, NOTES_MAX, Contact
from bot.core.opener_views import opener_line
from bot.core.ranking_views import added_prompt, tie_lines
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Divider,
    Em,
    Header,
    Inline,
    Reply,
    Strong,
    context,
    message,
    section,
)
from bot.core.schedule import NudgePrefs
from bot.core.text import shorten

DUE_SHOWN = 8
HOME_DUE_SHOWN = 5
PAGE_SIZE = 10

GONE = "That contact isn't in your list — it may have been removed."
OLD_BUTTON = "That button is from an older version of Reconnect. Please try again."
EXPIRED_BUTTON = "That button has expired. Please run the command again."
EXPIRED_FORM = "That form has expired. Please open it again."
CHOOSE_CONTACT = "Please choose one of your contacts."
#: What a person reads when their request failed on our side (every platform says the same).
SORRY = "Sorry — something went wrong on our side, so that didn't go through. Please try again."


def help_reply(cmd: str) -> Reply:
    """What the bot does and every command, with examples."""
    rows: list[tuple[str, str]] = [
        (
            "add <full name> [called <name>] [as <relationship>] [last <when>] "
            "[every <N> days|weeks|months] [-- <notes>]",
            f"Add someone to keep in touch with. `{cmd}add Dana Whitfield called Dee as former "
            "boss last March 2019 every 2 months -- CFO at Brightline, loves sailing`. "
            "`called` sets what they like to be called; relationship: former boss, peer, "
            "report, mentor, client, friend or other; last in touch: a month and year, a year, "
            "or `years ago`. Without a name it opens a form. Default: every 6 weeks.",
        ),
        (
            "log <name> [-- <what you talked about>] [learned: <what you learned>]",
            f"Record a conversation today and restart their cadence. `{cmd}log Dana -- coffee, "
            "learned: her daughter started at Michigan`. Only `learned: …` after today's log "
            "adds it to that conversation. Without a name it opens a form.",
        ),
        (
            "opener <name>",
            f"Two or three openers to send them, each a question about them. `{cmd}opener Dana`",
        ),
        (
            "prep <name>",
            "Before a call: what you know, what you learned last time, three questions to ask "
            "and one listening cue.",
        ),
        (
            "log <name> [went well|went great|brushed me off] [-- <note>] [next: <step> by <when>]",
            f"Say how it went and what came of it: `{cmd}log Dana went well -- referral to Acme "
            "next: intro to the CFO by friday`. Outcomes (advice, info, intro, referral, "
            "interview, offer, caught up) are picked up from the note.",
        ),
        (
            "reached <name>",
            "You reached out today: I'll ask in 3 days whether they replied. One tap to guess "
            "how they'll respond first — then find out.",
        ),
        (
            "win <name> -- <their news>",
            f"Note their latest news or win: `{cmd}win Dana -- got promoted to VP`. I'll help "
            "you congratulate them.",
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
        (
            "export [csv|json|vcard]",
            "A copy of everything I keep about you, as files: a spreadsheet, JSON and vCards.",
        ),
        ("delete my data", "Delete everything I keep about you, for good (asks first)."),
        (
            "import",
            "Bring in your LinkedIn connections, Google contacts or a vCard file: send me the "
            f"file here. They wait in your pool — `{cmd}list pool` shows them, `{cmd}triage` "
            "picks who matters.",
        ),
        (
            "goal [<N> | off]",
            f"A weekly goal: how many people to reach each week. `{cmd}goal 3` is a good start; "
            "the morning nudge and Home show how it's going, and a streak counts weeks met.",
        ),
        (
            "recap",
            "Your week so far: who you reached, fears vs facts, next steps. It also comes by "
            "itself on Fridays at 16:00 (change or turn off in settings).",
        ),
        (
            "evidence",
            "Fears vs facts: what you expected, what happened, reply rate, dormant ties, "
            "outcomes — this week, the last 4 weeks and all time, with a chart. Also `stats`.",
        ),
        (
            "group",
            f"A coaching group in a channel: `{cmd}group join` there to join and choose what "
            f"you share (never your contacts or notes), `{cmd}group privacy` to change it, "
            f"`{cmd}group leave` to leave. `{cmd}group help` for coaches' commands.",
        ),
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
    blocks.append(context(status_line(contact, today), *opener_line(contact, today)))
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
    if days < 0:
        due = f"next {dates.until(contact.next_due_on, today)}"
    elif contact.last_contacted_on is None:
        # Nobody is "19 days overdue" for a first message: there is no rhythm to be late on yet.
        due = "ready for a first message"
    else:
        due = dates.overdue(days)
    return f"{last} · {contact.cadence.every()} · {due}"


def knowledge_lines(contact: Contact) -> list[Inline]:
    """What the user knows about the contact, as labelled lines."""
    parts: list[Inline] = []
    for label, value in (
        *tie_lines(contact),
        ("How you know them", contact.how_known),
        ("Wins & interests", contact.notes),
        ("Latest news", contact.win),
        ("Last note", contact.last_note),
    ):
        if value:
            if parts:
                parts.append("\n")
            parts.extend((Strong(f"{label}: "), shorten(value, 600)))
    return parts


def contact_actions(contact: Contact) -> Actions:
    """The quick actions on a contact card: six, the most Teams shows in one row. Openers are
    one tap further, on *Prepare* (and the card already shows one opener)."""
    cid = str(contact.id)
    return Actions(
        (
            Button("Log conversation", Act.LOG_FORM, cid, style="primary"),
            Button("Reached out", Act.REACHED, cid),
            Button("Prepare", Act.PREP, cid),
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
        blocks.append(context(status_line(contact, today), *opener_line(contact, today)))
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


# --- answers to commands, buttons and forms --------------------------------------------------


def unknown_command_reply(word: str, suggestion: str | None, cmd: str) -> Reply:
    """A command word we don't know, with the closest one if any is close."""
    hint = f" Did you mean `{cmd}{suggestion}`?" if suggestion else ""
    return message(
        f"I don't know the command “{word}”.{hint} Type `{cmd}help` to see everything I can do."
    )


def name_too_long_reply() -> Reply:
    """A typed name over :data:`~bot.core.model.NAME_MAX`."""
    return message(f"That name is too long — names can be at most {NAME_MAX} characters.")


def notes_too_long_reply(length: int, cmd: str) -> Reply:
    """``add`` with notes over :data:`~bot.core.model.NOTES_MAX`."""
    return message(
        f"Those notes are {length:,} characters; the most I keep is {NOTES_MAX:,}. "
        f"Shorten them, or use `{cmd}add` for the form."
    )


def note_too_long_reply(length: int, cmd: str) -> Reply:
    """``log`` with a note over :data:`~bot.core.model.NOTES_MAX`."""
    return message(
        f"That note is {length:,} characters; the most I keep is {NOTES_MAX:,}. "
        f"Use `{cmd}log` for the form."
    )


def duplicate_name(existing: Contact, cmd: str) -> str:
    """The field error for adding someone already in the list."""
    return (
        f"You already have {existing.name} in your list — "
        f"`{cmd}edit {existing.name}` changes their details."
    )


def renamed_to_existing(existing: Contact) -> str:
    """The field error for renaming someone to a name already in the list."""
    return f"You already have {existing.name} in your list."


def added_reply(contact: Contact) -> Reply:
    """A contact was added."""
    cid = str(contact.id)
    blocks: list[Block] = [
        section("Added ", Strong(contact.name), f" — I'll remind you {contact.cadence.every()}."),
        context(added_prompt(contact)),
        Actions(
            (
                Button("Log a conversation", Act.LOG_FORM, cid),
                Button("Edit details", Act.EDIT_FORM, cid),
            )
        ),
    ]
    return Reply(summary=f"Added {contact.name}", blocks=tuple(blocks))


def saved_reply(contact: Contact, today: date) -> Reply:
    """An edit was saved."""
    due = (
        "due today."
        if contact.next_due_on <= today
        else f"next due {dates.show(contact.next_due_on, today)}."
    )
    return message(f"Saved {contact.name} — {contact.cadence.every()}, {due}")


def logged_reply(contact: Contact, on: date, learned: str, today: date, cmd: str) -> Reply:
    """A conversation on ``on`` was logged; without ``learned``, a hint to note something."""
    when = "today" if on == today else dates.show(on, today)
    blocks: list[Block] = [
        section(
            "Logged your conversation with ",
            Strong(contact.name),
            f" ({when}). ",
            f"Next reminder: {dates.show(contact.next_due_on, today)} ({contact.cadence.every()}).",
        )
    ]
    if not learned:
        # The reflection question, once: a log that already says what was learned isn't asked.
        blocks.append(
            context(
                Em(f"{reflection.QUESTION} "),
                f"{reflection.WHY} ",
                reflection.log_hint(cmd, contact.name)
                if on == today
                else f"Add it in the log form (`{cmd}log`) next time.",
            )
        )
    else:
        blocks.append(
            context(f"Noted what you learned — `{cmd}prep {contact.name}` shows it next time.")
        )
    return Reply(summary=f"Logged a conversation with {contact.name}", blocks=tuple(blocks))


def learned_added_reply(contact: Contact) -> Reply:
    """``log <name> -- learned: …`` added what was learned to today's conversation."""
    return message(
        f"Added what you learned to today's conversation with {contact.name}. It'll be there "
        "when you prepare for the next one."
    )


def snoozed_reply(contact: Contact, span: Span, today: date, *, capped: bool = False) -> Reply:
    """A contact was snoozed (``capped``: only as far as the two-year horizon)."""
    again = dates.show(contact.next_due_on, today)
    if capped:
        return message(
            f"Snoozed {contact.name} until {again}: that's two years from today, the furthest "
            f"ahead I schedule anyone, so {span.duration()} on top of their later due date "
            "stops there."
        )
    return message(
        f"Snoozed {contact.name} for {span.duration()} — I'll bring them up again {again}."
    )


def confirm_remove_reply(contact: Contact) -> Reply:
    """Ask before removing a contact."""
    cid = str(contact.id)
    return Reply(
        summary=f"Remove {contact.name}?",
        blocks=(
            section(
                "Remove ",
                Strong(contact.name),
                " and everything you noted about them? This can't be undone.",
            ),
            Actions(
                (
                    Button("Remove", Act.REMOVE_CONFIRM, cid, style="danger"),
                    Button("Keep", Act.REMOVE_CANCEL, cid),
                )
            ),
        ),
    )


def removed_reply(contact: Contact) -> Reply:
    """A contact was removed."""
    return message(f"Removed {contact.name}. Their notes and conversations are gone.")


def just_removed_reply(name: str | None) -> Reply:
    """The contact a request was about was removed meanwhile (by another request)."""
    if name is None:
        return message(GONE)
    return message(f"{name} was just removed from your list, so nothing was changed.")


def kept_reply(contact: Contact) -> Reply:
    """Removal was cancelled."""
    return message(f"Kept {contact.name}.")


def not_found_reply(name: str, cmd: str) -> Reply:
    """No contact matches a typed name."""
    return message(
        f"I couldn't find anyone called “{name}” in your list. "
        f"`{cmd}list` shows everyone; `{cmd}add {name}` adds them."
    )


def choose_reply(name: str, choices: Sequence[Button]) -> Reply:
    """Several contacts match a typed name: one button each, to finish the command."""
    return Reply(
        summary=f"Several contacts match “{name}”",
        blocks=(
            section(f"Several contacts match “{name}”. Which one did you mean?"),
            Actions(tuple(choices)),
        ),
    )


def ambiguous_reply(name: str, names: Sequence[str]) -> Reply:
    """Several contacts match, and they can't all be offered as buttons."""
    return message(
        f"Several contacts match “{name}”: {', '.join(names)}. Please use the full name."
    )


def paused_reply(prefs: NudgePrefs, today: date) -> Reply:
    """Nudges were paused."""
    return Reply(
        summary="Nudges paused",
        blocks=(
            section(preferences.describe(prefs, today)),
            Actions((Button("Resume now", Act.RESUME),)),
        ),
    )


def resumed_reply(prefs: NudgePrefs, today: date, *, was_paused: bool = True) -> Reply:
    """Nudges were resumed (or, ``was_paused`` false, were never paused)."""
    if not was_paused:
        return message(
            "Your nudges are already on — nothing was paused. " + preferences.describe(prefs, today)
        )
    return message("Welcome back. " + preferences.describe(prefs, today))


def settings_saved_reply(prefs: NudgePrefs, today: date) -> Reply:
    """The settings form was saved."""
    return message("Saved. " + preferences.describe(prefs, today))
