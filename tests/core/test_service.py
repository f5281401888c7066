"""The core service's behaviour, on the in-memory store: fast, no database, no platform.

``tests/core/test_store_contract.py`` checks that the in-memory store behaves like the SQL one
(and runs a few of these journeys on both); the adapters' tests run the service on SQL.
"""

import json
from datetime import UTC, date, datetime

import pytest

from bot.core import forms
from bot.core.actions import Act
from bot.core.model import UserRef
from bot.core.nudges import Card, CardState, FollowUp, FollowUpState, NudgeContent
from bot.core.replies import (
    Actions,
    Button,
    Context,
    Form,
    FormErrors,
    FormKind,
    Header,
    MessageUpdate,
    Outcome,
    Reply,
    Section,
    plain,
)
from bot.core.service import GONE, Caller, Reconnect
from tests.fakes.memory_store import MemoryStore
from tests.support import Clock

ADA = Caller(UserRef("slack", "T1", "U1"))
BOB = Caller(UserRef("slack", "T1", "U2"))
TODAY = date(2026, 11, 25)


@pytest.fixture
def store() -> MemoryStore:
    """The in-memory store (instead of the SQL one from conftest)."""
    return MemoryStore()


@pytest.fixture
def service(store: MemoryStore, clock: Clock) -> Reconnect:
    """The core service on the in-memory store and the test clock."""
    return Reconnect(store, clock=clock)


def text(outcome: Outcome | FormErrors) -> str:
    """All visible text of a reply, buttons included."""
    assert isinstance(outcome, Reply), outcome
    out: list[str] = []
    for block in outcome.blocks:
        match block:
            case Header(text=t):
                out.append(t)
            case Section(parts=parts, button=button):
                out.append(plain(parts))
                if button:
                    out.append(button.label)
            case Context(parts=parts):
                out.append(plain(parts))
            case Actions(buttons=buttons):
                out.extend(b.label for b in buttons)
    return "\n".join(out)


def buttons(outcome: Outcome) -> list[Button]:
    assert isinstance(outcome, Reply)
    found: list[Button] = []
    for block in outcome.blocks:
        if isinstance(block, Actions):
            found.extend(block.buttons)
        elif isinstance(block, Section) and block.button:
            found.append(block.button)
    return found


async def contact_named(store: MemoryStore, caller: Caller, name: str):
    async with store.book(caller.user) as book:
        for cid, n in await book.names():
            if n == name:
                return await book.get(cid)
    return None


async def count(store: MemoryStore, caller: Caller = ADA) -> int:
    async with store.book(caller.user) as book:
        return await book.count()


async def test_add_then_due(service: Reconnect, store: MemoryStore) -> None:
    reply = await service.command(
        ADA, "add Dana Whitfield every 2 months -- former CFO, loves sailing"
    )
    assert "Added Dana Whitfield" in text(reply)
    assert "every 2 months" in text(reply)
    due = text(await service.command(ADA, "due"))
    assert "1 person is due" in due
    assert "former CFO, loves sailing" in due
    assert "No conversation logged yet" in due


async def test_adding_an_existing_contact_says_so_and_does_not_duplicate(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    reply = await service.command(ADA, "add dana WHITFIELD every 3 weeks")
    assert "You already have Dana Whitfield" in text(reply)
    assert await count(store) == 1
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert dana.cadence.describe() == "6 weeks"  # unchanged


async def test_too_long_input_changes_nothing(service: Reconnect, store: MemoryStore) -> None:
    assert "too long" in text(await service.command(ADA, "add " + "N" * 81))
    assert "more than I can take" in text(await service.command(ADA, "add Dana -- " + "x" * 4000))
    assert "the most I keep" in text(await service.command(ADA, "add Dana -- " + "x" * 1600))
    assert await count(store) == 0


async def test_unknown_command_suggests_and_changes_nothing(
    service: Reconnect, store: MemoryStore
) -> None:
    reply = text(await service.command(ADA, "ad Dana"))
    assert "Did you mean `/reconnect add`?" in reply
    assert await count(store) == 0


async def test_log_by_first_name_restarts_the_cadence(
    service: Reconnect, store: MemoryStore, clock: Clock
) -> None:
    await service.command(ADA, "add Dana Whitfield every 2 months")
    reply = await service.command(ADA, "log dana -- coffee; she's hiring in Q3")
    assert "Logged your conversation with Dana Whitfield" in text(reply)
    assert "25 Jan 2027" in text(reply)
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert (dana.last_contacted_on, dana.next_due_on) == (TODAY, date(2027, 1, 25))
    assert dana.last_note == "coffee; she's hiring in Q3"
    assert "Nobody is due" in text(await service.command(ADA, "due"))


async def test_several_matches_offer_buttons_that_finish_the_command(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    await service.command(ADA, "add Dana Scully")
    reply = await service.command(ADA, "log dana -- lunch")
    assert "Which one did you mean?" in text(reply)
    choices = {b.label: b for b in buttons(reply)}
    assert set(choices) == {"Dana Whitfield", "Dana Scully"}
    await service.action(ADA, choices["Dana Scully"].action, choices["Dana Scully"].value)
    scully = await contact_named(store, ADA, "Dana Scully")
    whitfield = await contact_named(store, ADA, "Dana Whitfield")
    assert scully.last_note == "lunch"
    assert whitfield.last_contacted_on is None


async def test_buttons_naming_another_users_contact_are_refused(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(BOB, "add Secret Person -- bob's private notes")
    secret = await contact_named(store, BOB, "Secret Person")
    sid = str(secret.id)
    for action, value in [
        (Act.LOG_FORM, sid),
        (Act.EDIT_FORM, sid),
        (Act.SNOOZE, sid),
        (Act.REMOVE_ASK, sid),
        (Act.REMOVE_CONFIRM, sid),
        (Act.PICK, json.dumps({"op": "log", "id": secret.id, "note": "x"})),
        (Act.PICK, json.dumps({"op": "remove", "id": secret.id})),
    ]:
        outcome = await service.action(ADA, action, value)
        assert text(outcome) == GONE, action
        assert "Secret" not in text(outcome)
    after = await contact_named(store, BOB, "Secret Person")
    assert after == secret
    async with store.book(BOB.user) as book:
        assert await book.count_conversations() == 0


async def test_malformed_button_values_are_refused(service: Reconnect) -> None:
    await service.command(ADA, "add Dana")
    for action, value in [
        (Act.SNOOZE, "abc"),
        (Act.SNOOZE, "-1"),
        (Act.SNOOZE, "9" * 40),
        (Act.EDIT_FORM, ""),
        (Act.PICK, "not json"),
        (Act.PICK, json.dumps({"op": "log", "id": "1"})),
        (Act.PICK, json.dumps([1, 2])),
        (Act.PICK, json.dumps({"op": "log", "id": True})),
        (Act.PICK, json.dumps({"op": "log", "id": 2**70})),
        (Act.PICK, json.dumps({"op": "log", "id": -1})),
        (Act.PICK, json.dumps({"op": "nuke", "id": 1})),
        (Act.SNOOZE, "²"),
        (Act.SNOOZE, "١"),
        (Act.SNOOZE, "1:banana"),
        (Act.LIST_PAGE, "²"),
        (Act.LIST_PAGE, "9" * 30),
        ("no.such.action", "1"),
    ]:
        outcome = await service.action(ADA, action, value)
        assert isinstance(outcome, Reply), (action, value)


async def test_malformed_form_submissions_are_refused(
    service: Reconnect, store: MemoryStore
) -> None:
    for contact in ("²", "9" * 30, "-3", "1.5", "", "0"):
        result = await service.submit(
            ADA, FormKind.LOG_CONVERSATION, "", {forms.CONTACT: contact, forms.DATE: "2026-11-01"}
        )
        assert isinstance(result, FormErrors) and forms.CONTACT in result.errors, contact
    bad_date = await service.submit(
        ADA, FormKind.LOG_CONVERSATION, "", {forms.CONTACT: "1", forms.DATE: "yesterday"}
    )
    assert isinstance(bad_date, FormErrors) and forms.DATE in bad_date.errors
    for context in ("²", "9" * 30, "abc"):
        edit = await service.submit(ADA, FormKind.EDIT_CONTACT, context, {forms.NAME: "X"})
        assert isinstance(edit, FormErrors)
    assert "expired" in text(await service.submit(ADA, "no_such_form", "", {}))
    assert await count(store) == 0


async def test_remove_asks_first_and_a_double_click_removes_once(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    ask = await service.command(ADA, "remove dana")
    assert "Remove Dana Whitfield" in text(ask)
    assert await count(store) == 1
    confirm = next(b for b in buttons(ask) if b.action == Act.REMOVE_CONFIRM)
    first = await service.action(ADA, confirm.action, confirm.value)
    second = await service.action(ADA, confirm.action, confirm.value)
    assert "Removed Dana Whitfield" in text(first)
    assert text(second) == GONE
    assert await count(store) == 0


async def test_keep_cancels_removal(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield")
    keep = next(b for b in buttons(await service.command(ADA, "remove Dana")) if b.label == "Keep")
    assert "Kept Dana Whitfield" in text(await service.action(ADA, keep.action, keep.value))
    assert await count(store) == 1


async def test_snooze_pushes_the_due_date(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield")
    reply = await service.command(ADA, "snooze dana 2 weeks")
    assert "Snoozed Dana Whitfield for 2 weeks" in text(reply)
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert dana.next_due_on == date(2026, 12, 9)
    again = await service.action(ADA, Act.SNOOZE, str(dana.id))  # a week more, from 9 Dec
    assert "Snoozed Dana Whitfield for a week" in text(again)
    assert (await contact_named(store, ADA, "Dana Whitfield")).next_due_on == date(2026, 12, 16)


async def test_add_form_and_field_errors(service: Reconnect, store: MemoryStore) -> None:
    form = await service.command(ADA, "add")
    assert isinstance(form, Form) and form.kind == FormKind.ADD_CONTACT
    missing = await service.submit(ADA, FormKind.ADD_CONTACT, "", {forms.NAME: "   "})
    assert isinstance(missing, FormErrors) and forms.NAME in missing.errors
    bad = await service.submit(
        ADA, FormKind.ADD_CONTACT, "", {forms.NAME: "Dana", forms.CADENCE: "banana"}
    )
    assert isinstance(bad, FormErrors) and forms.CADENCE in bad.errors
    assert await count(store) == 0
    ok = await service.submit(
        ADA, FormKind.ADD_CONTACT, "",
        {forms.NAME: "Dana Whitfield", forms.ROLE: "CFO", forms.NOTES: "sails", forms.CADENCE: "2 months"},
    )  # fmt: skip
    assert "Added Dana Whitfield" in text(ok)
    dup = await service.submit(ADA, FormKind.ADD_CONTACT, "", {forms.NAME: "dana whitfield"})
    assert isinstance(dup, FormErrors) and "already have" in dup.errors[forms.NAME]
    assert await count(store) == 1


async def test_edit_form_is_prefilled_and_saves(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield -- sails")
    form = await service.command(ADA, "edit dana")
    assert isinstance(form, Form) and form.kind == FormKind.EDIT_CONTACT
    initial = {f.id: getattr(f, "initial", None) for f in form.fields}
    assert initial[forms.NAME] == "Dana Whitfield" and initial[forms.NOTES] == "sails"
    values = {
        forms.NAME: "Dana W. Whitfield",
        forms.NOTES: "sails; new boat",
        forms.CADENCE: "1 months",
    }
    reply = await service.submit(ADA, form.kind, form.context, values)
    assert "Saved Dana W. Whitfield" in text(reply)
    dana = await contact_named(store, ADA, "Dana W. Whitfield")
    assert dana.notes == "sails; new boat" and dana.cadence.describe() == "month"


async def test_edit_submission_for_another_users_contact_is_refused(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(BOB, "add Secret Person")
    secret = await contact_named(store, BOB, "Secret Person")
    result = await service.submit(
        ADA, FormKind.EDIT_CONTACT, str(secret.id), {forms.NAME: "Hijacked"}
    )
    assert isinstance(result, FormErrors)
    assert await contact_named(store, BOB, "Secret Person") == secret


async def test_log_form(service: Reconnect, store: MemoryStore) -> None:
    assert "haven't added anyone" in text(await service.command(ADA, "log"))
    await service.command(ADA, "add Dana Whitfield")
    dana = await contact_named(store, ADA, "Dana Whitfield")
    form = await service.action(ADA, Act.LOG_FORM, str(dana.id))
    assert isinstance(form, Form)
    picker = next(f for f in form.fields if f.id == forms.CONTACT)
    assert picker.initial == str(dana.id)
    future = await service.submit(
        ADA, form.kind, "", {forms.CONTACT: str(dana.id), forms.DATE: "2026-12-01"}
    )
    assert isinstance(future, FormErrors) and forms.DATE in future.errors
    nobody = await service.submit(ADA, form.kind, "", {forms.CONTACT: None})
    assert isinstance(nobody, FormErrors) and forms.CONTACT in nobody.errors
    reply = await service.submit(
        ADA, form.kind, "",
        {forms.CONTACT: str(dana.id), forms.DATE: "2026-11-20", forms.NOTE: "call",
         forms.LEARNED: "daughter at Michigan"},
    )  # fmt: skip
    assert "Logged your conversation with Dana Whitfield (20 Nov)" in text(reply)
    assert (await contact_named(store, ADA, "Dana Whitfield")).last_contacted_on == date(
        2026, 11, 20
    )
    async with store.book(ADA.user) as book:
        assert await book.count_conversations() == 1


async def test_logging_an_older_conversation_keeps_the_newer_date(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana")
    await service.command(ADA, "log Dana -- today")
    dana = await contact_named(store, ADA, "Dana")
    await service.submit(
        ADA, FormKind.LOG_CONVERSATION, "", {forms.CONTACT: str(dana.id), forms.DATE: "2026-10-01"}
    )
    after = await contact_named(store, ADA, "Dana")
    assert after.last_contacted_on == TODAY and after.last_note == "today"


async def test_list_pages(service: Reconnect) -> None:
    for i in range(23):
        await service.command(ADA, f"add Person {i:02d}")
    first = await service.command(ADA, "list")
    assert "Your contacts (23)" in text(first) and "Page 1 of 3" in text(first)
    nxt = next(b for b in buttons(first) if b.action == Act.LIST_PAGE)
    third = await service.action(ADA, nxt.action, "3")
    assert "Person 22" in text(third) and "Person 00" not in text(third)
    assert "There is no page 9" in text(await service.command(ADA, "list 9"))


async def test_home_counts_and_due(service: Reconnect) -> None:
    empty = text(await service.home(ADA))
    assert "0 people in your network" in empty and "haven't added anyone" in empty
    for name in ["Ann", "Ben", "Cat", "Dov", "Eve", "Fay", "Gus"]:
        await service.command(ADA, f"add {name}")
    await service.command(ADA, "log Ann")
    home = text(await service.home(ADA))
    assert "7 people in your network" in home and "6 due now" in home
    assert "1 conversation logged" in home and "…and 1 more" in home
    assert "Nudges come Mon–Fri at 08:30 (UTC)." in home and "Nudge settings" in home


async def test_today_is_the_users_local_date(store: MemoryStore) -> None:
    """Kiritimati is UTC+14: at 14:00 UTC on the 25th it is already the 26th there."""
    clock = Clock(datetime(2026, 11, 25, 14, 0, tzinfo=UTC))
    service = Reconnect(store, clock=clock)
    await store.set_timezone(ADA.user, "Pacific/Kiritimati")
    await service.command(ADA, "add Dana")
    await service.command(ADA, "log Dana")
    assert (await contact_named(store, ADA, "Dana")).last_contacted_on == date(2026, 11, 26)
    await service.command(BOB, "add Dana")
    await service.command(BOB, "log Dana")
    assert (await contact_named(store, BOB, "Dana")).last_contacted_on == date(2026, 11, 25)


async def test_help_lists_every_command(service: Reconnect) -> None:
    reply = text(await service.command(ADA, "help"))
    for word in (
        "add",
        "log",
        "due",
        "list",
        "snooze",
        "edit",
        "remove",
        "help",
        "settings",
        "pause",
        "resume",
    ):
        assert f"/reconnect {word}" in reply


async def test_every_button_has_a_handler(service: Reconnect) -> None:
    old = "older version of Reconnect"
    assert old in text(await service.action(ADA, "no.such.action", ""))
    for act in Act:
        outcome = await service.action(ADA, act, "")
        assert not isinstance(outcome, Reply) or old not in text(outcome), act


async def test_read_only_requests_run_in_read_only_books(
    service: Reconnect, store: MemoryStore
) -> None:
    """The in-memory book refuses writes when opened read-only, so a request declared
    read-only that writes fails here."""
    await service.command(ADA, "add Dana Whitfield")
    sid = str((await contact_named(store, ADA, "Dana Whitfield")).id)
    store.opened.clear()
    for command in ("add", "log", "due", "list", "edit dana", "remove dana", "settings"):
        await service.command(ADA, command)
    for act, value in [
        (Act.LOG_FORM, sid), (Act.LOG_FORM, ""), (Act.EDIT_FORM, sid), (Act.REMOVE_ASK, sid),
        (Act.REMOVE_CANCEL, sid), (Act.HELP, ""), (Act.DUE, ""), (Act.ADD_FORM, ""),
        (Act.SETTINGS_FORM, ""), (Act.LIST_PAGE, "1"),
    ]:  # fmt: skip
        outcome = await service.action(ADA, act, value)
        assert isinstance(outcome, Form) or GONE not in text(outcome), act
    await service.home(ADA)
    await service.form(ADA, FormKind.LOG_CONVERSATION, "")
    assert store.opened == [False] * 19
    await service.command(ADA, "log dana")
    await service.command(ADA, "snooze dana")
    await service.action(ADA, Act.SNOOZE, sid)
    await service.command(ADA, "pause")
    await service.action(ADA, Act.RESUME, "")
    assert store.opened[19:] == [True] * 5


async def test_a_failed_request_changes_nothing(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield")
    await service.command(ADA, "add Dana Scully")
    dana = await contact_named(store, ADA, "Dana Whitfield")
    renamed = {forms.NAME: "dana scully"}
    result = await service.submit(ADA, FormKind.EDIT_CONTACT, str(dana.id), renamed)
    assert (
        isinstance(result, FormErrors) and "already have Dana Scully" in result.errors[forms.NAME]
    )
    assert await contact_named(store, ADA, "Dana Whitfield") == dana


# --- morning nudge buttons ---------------------------------------------------------------------


def nudge(store: MemoryStore, *contact_ids: int, follow: int | None = None) -> int:
    """A nudge for Ada with a card for each contact (and a follow-up question), as sent."""
    content = NudgeContent(
        day=TODAY.isoformat(),
        cards=[Card(cid, "Due") for cid in contact_ids],
        followups=[FollowUp(follow, "2026-11-22")] if follow is not None else [],
    )
    return store.add_nudge(ADA.user, TODAY, content.to_json(), "D1", "1700000000.000100")


async def stored_content(store: MemoryStore, nudge_id: int) -> NudgeContent:
    async with store.book(ADA.user, write=False) as book:
        record = await book.nudge(nudge_id)
        assert record is not None
        return NudgeContent.from_json(record.content)


async def test_reached_out_counts_once_and_updates_the_card(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield every 2 months")
    dana = await contact_named(store, ADA, "Dana Whitfield")
    nudge_id = nudge(store, dana.id)
    first = await service.action(ADA, Act.CARD_REACHED, f"{nudge_id}:{dana.id}")
    second = await service.action(ADA, Act.CARD_REACHED, f"{nudge_id}:{dana.id}")
    assert isinstance(first, MessageUpdate) and first.message_id == "1700000000.000100"
    assert isinstance(second, MessageUpdate)
    after = await contact_named(store, ADA, "Dana Whitfield")
    assert (after.last_contacted_on, after.next_due_on) == (TODAY, date(2027, 1, 25))
    assert (after.reached_out_on, after.follow_up_on) == (TODAY, date(2026, 11, 28))
    async with store.book(ADA.user, write=False) as book:
        assert [c.kind for c in book.conversations] == ["outreach"]
    card = (await stored_content(store, nudge_id)).card(dana.id)
    assert card is not None and card.state is CardState.REACHED


async def test_card_snooze_and_skip(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana")
    await service.command(ADA, "add Marcus")
    dana = await contact_named(store, ADA, "Dana")
    marcus = await contact_named(store, ADA, "Marcus")
    nudge_id = nudge(store, dana.id, marcus.id)
    await service.action(ADA, Act.CARD_SNOOZE_MONTH, f"{nudge_id}:{dana.id}")
    await service.action(ADA, Act.CARD_SKIP, f"{nudge_id}:{marcus.id}")
    await service.action(ADA, Act.CARD_SNOOZE_WEEK, f"{nudge_id}:{dana.id}")  # not open: no-op
    assert (await contact_named(store, ADA, "Dana")).next_due_on == date(2026, 12, 25)
    assert (await contact_named(store, ADA, "Marcus")).skipped_on == TODAY
    content = await stored_content(store, nudge_id)
    snoozed, skipped = content.card(dana.id), content.card(marcus.id)
    assert snoozed is not None and (snoozed.state, snoozed.until) == (
        CardState.SNOOZED,
        "2026-12-25",
    )
    assert skipped is not None and skipped.state is CardState.SKIPPED


async def test_follow_up_later_then_drop(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana")
    dana = await contact_named(store, ADA, "Dana")
    nudge_id = nudge(store, follow=dana.id)
    await service.action(ADA, Act.FOLLOW_LATER, f"{nudge_id}:{dana.id}")
    assert (await contact_named(store, ADA, "Dana")).follow_up_on == date(2026, 11, 28)
    question = (await stored_content(store, nudge_id)).followup(dana.id)
    assert question is not None and (question.state, question.until) == (
        FollowUpState.LATER,
        "2026-11-28",
    )
    other = nudge(store, follow=dana.id)
    await service.action(ADA, Act.FOLLOW_DROP, f"{other}:{dana.id}")
    assert (await contact_named(store, ADA, "Dana")).follow_up_on is None
    dropped = (await stored_content(store, other)).followup(dana.id)
    assert dropped is not None and dropped.state is FollowUpState.DROPPED


async def test_logging_from_a_card_marks_it_logged(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana")
    dana = await contact_named(store, ADA, "Dana")
    nudge_id = nudge(store, dana.id)
    form = await service.action(ADA, Act.CARD_LOG, f"{nudge_id}:{dana.id}")
    assert isinstance(form, Form) and form.context == f"card:{nudge_id}:{dana.id}"
    values = {forms.CONTACT: str(dana.id), forms.DATE: TODAY.isoformat(), forms.NOTE: "call"}
    result = await service.submit(ADA, form.kind, form.context, values)
    assert isinstance(result, MessageUpdate) and result.notice is not None
    assert "Logged your conversation with Dana" in text(result.notice)
    card = (await stored_content(store, nudge_id)).card(dana.id)
    assert card is not None and card.state is CardState.LOGGED


async def test_card_buttons_for_another_users_nudge_are_refused(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana")
    dana = await contact_named(store, ADA, "Dana")
    nudge_id = nudge(store, dana.id)
    for act in (Act.CARD_REACHED, Act.CARD_SKIP, Act.CARD_LOG):
        assert "no longer active" in text(await service.action(BOB, act, f"{nudge_id}:{dana.id}"))
    assert "no longer active" in text(await service.action(ADA, Act.CARD_SKIP, f"{nudge_id}:999"))
    assert await contact_named(store, ADA, "Dana") == dana


# --- hardening: time zones -----------------------------------------------------------------


def settings_values(timezone: str) -> dict[str, str | None]:
    return {"nudge_time": "08:30", "nudge_days": "0,1,2,3,4", "timezone": timezone, "cards": "3"}


@pytest.mark.parametrize("typed", ["America", "Europe", "x" * 300, "Mars/Olympus"])
async def test_settings_refuse_a_time_zone_that_is_not_one_kindly(
    service: Reconnect, store: MemoryStore, typed: str
) -> None:
    result = await service.submit(ADA, FormKind.SETTINGS, "", settings_values(typed))
    assert isinstance(result, FormErrors)
    assert "try a city" in result.errors["timezone"] or "add a city" in result.errors["timezone"]
    async with store.book(ADA.user, write=False) as book:
        assert book.timezone == "UTC"


async def test_settings_read_a_time_zone_typed_loosely(
    service: Reconnect, store: MemoryStore
) -> None:
    result = await service.submit(ADA, FormKind.SETTINGS, "", settings_values("europe/paris"))
    assert not isinstance(result, FormErrors)
    async with store.book(ADA.user, write=False) as book:
        assert book.timezone == "Europe/Paris"


@pytest.mark.parametrize("profile_zone", ["America", "Europe", "x" * 300, "localtime"])
async def test_an_unknown_platform_time_zone_keeps_the_current_one(
    service: Reconnect, store: MemoryStore, profile_zone: str
) -> None:
    assert await service.set_timezone(ADA, "Asia/Tokyo") is True
    assert await service.set_timezone(ADA, profile_zone) is False
    async with store.book(ADA.user, write=False) as book:
        assert book.timezone == "Asia/Tokyo"
    assert "Added Dana" in text(await service.command(ADA, "add Dana"))


async def test_a_stored_zone_that_is_not_one_still_answers(
    service: Reconnect, store: MemoryStore
) -> None:
    await store.set_timezone(ADA.user, "America")  # e.g. saved before zones were checked
    assert "Added Dana" in text(await service.command(ADA, "add Dana"))
    assert "Nudges come" in text(await service.home(ADA))


# --- hardening: text that storage refuses, and names nobody could find again ---------------


async def test_nul_and_lone_surrogates_are_removed_everywhere(
    service: Reconnect, store: MemoryStore
) -> None:
    reply = await service.command(ADA, "add Da\x00na Whit\ud800field -- sails\x00 \udc00a lot")
    assert "Added Dana Whitfield" in text(reply)
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert dana.notes == "sails a lot"
    await service.command(ADA, "log dana -- coffee\x00\ud83d")
    values = {forms.CONTACT: str(dana.id), forms.NOTE: "lunch\x00", forms.LEARNED: "\udfffboat"}
    assert not isinstance(
        await service.submit(ADA, FormKind.LOG_CONVERSATION, "", values), FormErrors
    )
    await service.command(ADA, "add Dana Scully")
    pick = json.dumps({"op": "log", "id": dana.id, "note": "tea\x00 \ud800time"})
    assert "Logged" in text(await service.action(ADA, Act.PICK, pick))
    async with store.book(ADA.user, write=False) as book:
        logged = [(c.note, c.learned) for c in book.conversations]
    assert logged == [("coffee", ""), ("lunch", "boat"), ("tea time", "")]


@pytest.mark.parametrize("name", ["\ufdfa" * 14, "\ufdfa " * 14])
async def test_a_name_whose_search_key_is_too_long_is_refused_clearly(
    service: Reconnect, store: MemoryStore, name: str
) -> None:
    reply = text(await service.command(ADA, f"add {name}"))
    assert "too long for me to search by" in reply
    result = await service.submit(ADA, FormKind.ADD_CONTACT, "", {forms.NAME: name})
    assert isinstance(result, FormErrors) and "shorten" in result.errors[forms.NAME]
    assert await count(store) == 0


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u3164", "\u115f", "\u1160", "\uffa0"])
async def test_names_lose_bidi_controls_and_hangul_fillers(
    service: Reconnect, store: MemoryStore, control: str
) -> None:
    await service.command(ADA, f"add {control}Dana{control} Whitfield{control}")
    assert await contact_named(store, ADA, "Dana Whitfield") is not None
    only = await service.submit(ADA, FormKind.ADD_CONTACT, "", {forms.NAME: control * 3})
    assert isinstance(only, FormErrors) and only.errors[forms.NAME] == "Please enter their name."
    assert await count(store) == 1


@pytest.mark.parametrize("name", ["\u0301\u0301\u0301", "\u200d", "\u034f\u200c", "\ufe0f"])
async def test_a_name_with_nothing_to_see_or_type_is_refused(
    service: Reconnect, store: MemoryStore, name: str
) -> None:
    assert "no letters or numbers" in text(await service.command(ADA, f"add {name}"))
    result = await service.submit(ADA, FormKind.ADD_CONTACT, "", {forms.NAME: name})
    assert isinstance(result, FormErrors) and "Please type their name" in result.errors[forms.NAME]
    await service.command(ADA, "add Dana")
    dana = await contact_named(store, ADA, "Dana")
    edit = {forms.NAME: name, forms.CADENCE: "6 weeks"}
    result = await service.submit(ADA, FormKind.EDIT_CONTACT, str(dana.id), edit)
    assert isinstance(result, FormErrors) and forms.NAME in result.errors
    assert await count(store) == 1


# --- hardening: dates at the edge ----------------------------------------------------------


async def test_snoozes_do_not_stack_past_two_years(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield")
    first = text(await service.command(ADA, "snooze dana 2 years"))
    assert "for 24 months" in first and "25 Nov 2028" in first
    for _ in range(9):
        reply = text(await service.command(ADA, "snooze dana 2 years"))
    assert "until 25 Nov 2028" in reply and "two years from today" in reply
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert dana.next_due_on == date(2028, 11, 25)


async def test_dates_near_the_end_of_the_calendar_do_not_fail(store: MemoryStore) -> None:
    service = Reconnect(store, clock=Clock(datetime(9999, 12, 1, 12, 0, tzinfo=UTC)))
    await service.command(ADA, "add Dana Whitfield every 2 months")
    assert "Snoozed Dana Whitfield" in text(await service.command(ADA, "snooze dana 2 months"))
    assert "Logged" in text(await service.command(ADA, "log dana"))
    assert "Nudges are paused" in text(await service.command(ADA, "pause for 2 weeks"))
    reply = text(await service.command(ADA, "pause until 1 Jan"))
    assert "couldn't read" in reply or "already passed" in reply or "paused" in reply


# --- hardening: the first hour -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "every"),
    [("every 3 weeks", "3 weeks"), ("Every 10 days", "10 days"), ("2 months", "2 months")],
)
async def test_the_contact_form_takes_the_cadences_its_message_suggests(
    service: Reconnect, store: MemoryStore, typed: str, every: str
) -> None:
    bad = await service.submit(
        ADA, FormKind.ADD_CONTACT, "", {forms.NAME: "Dana", forms.CADENCE: "banana"}
    )
    assert isinstance(bad, FormErrors) and "every 3 weeks" in bad.errors[forms.CADENCE]
    odd = await service.submit(
        ADA, FormKind.ADD_CONTACT, "", {forms.NAME: "Dana", forms.CADENCE: "ba\ud800na\x00na"}
    )
    assert isinstance(odd, FormErrors) and "“banana”" in odd.errors[forms.CADENCE]
    ok = await service.submit(
        ADA, FormKind.ADD_CONTACT, "", {forms.NAME: "Dana", forms.CADENCE: typed}
    )
    assert not isinstance(ok, FormErrors), ok
    assert (await contact_named(store, ADA, "Dana")).cadence.describe() == every


async def test_resume_when_not_paused_says_nudges_are_already_on(
    service: Reconnect, clock: Clock
) -> None:
    reply = text(await service.command(ADA, "resume"))
    assert "already on" in reply and "Welcome back" not in reply
    await service.command(ADA, "pause for 1 week")
    assert "Welcome back" in text(await service.command(ADA, "resume"))
    assert "already on" in text(await service.command(ADA, "resume"))
    await service.command(ADA, "pause until tomorrow")
    clock.advance(days=2)  # the pause has ended by itself
    assert "already on" in text(await service.command(ADA, "resume"))


async def test_untrusted_text_quoted_back_in_a_reply_is_cleaned(
    service: Reconnect, store: MemoryStore
) -> None:
    values = settings_values("Amer\ud800ica\x00")
    result = await service.submit(ADA, FormKind.SETTINGS, "", values)
    assert isinstance(result, FormErrors)
    assert "“America” is a region" in result.errors["timezone"]
    await service.command(ADA, "add Dana")
    dana = await contact_named(store, ADA, "Dana")
    reply = text(await service.action(ADA, Act.SNOOZE, f"{dana.id}:ba\ud800nana"))
    assert "“banana”" in reply
    reply.encode("utf-8")


async def test_the_settings_form_pauses_at_most_two_years_ahead(
    service: Reconnect, store: MemoryStore
) -> None:
    values = {**settings_values(""), "paused_until": "2030-01-01"}
    result = await service.submit(ADA, FormKind.SETTINGS, "", values)
    assert isinstance(result, FormErrors) and "two years" in result.errors["paused_until"]
    values["paused_until"] = "2028-11-25"
    assert not isinstance(await service.submit(ADA, FormKind.SETTINGS, "", values), FormErrors)
