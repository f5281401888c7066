"""``opener``, ``prep``, preferred names and the reflection after logging, on the in-memory
store (the adapters' tests run the same commands over HTTP on SQLite and PostgreSQL)."""

from datetime import timedelta
from urllib.parse import unquote

import pytest

from bot.core import forms
from bot.core.actions import Act
from bot.core.model import Contact
from bot.core.replies import Form, FormKind, Reply
from bot.core.service import GONE, Reconnect
from tests.core.test_service import ADA, BOB, TODAY, buttons, text
from tests.fakes.memory_store import MemoryStore
from tests.support import Clock


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(store: MemoryStore, clock: Clock) -> Reconnect:
    return Reconnect(store, clock=clock)


async def contact(store: MemoryStore, name: str) -> Contact:
    async with store.book(ADA.user, write=False) as book:
        cid = next(i for i, n in await book.names() if n == name)
        found = await book.get(cid)
        assert found is not None
        return found


async def test_add_called_sets_the_preferred_name(service: Reconnect, store: MemoryStore) -> None:
    reply = await service.command(ADA, "add Dr. Amara Okafor called Amara every 2 months -- jazz")
    assert "Added Dr. Amara Okafor" in text(reply)
    okafor = await contact(store, "Dr. Amara Okafor")
    assert okafor.preferred_name == "Amara" and okafor.notes == "jazz"
    await service.command(ADA, "add WANG Li")
    assert (await contact(store, "WANG Li")).first_name == "Li"


async def test_the_forms_take_the_preferred_name(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dr. Amara Okafor")
    form = await service.command(ADA, "edit okafor")
    assert isinstance(form, Form)
    field = next(f for f in form.fields if f.id == forms.PREFERRED)
    assert "Dr. Okafor" in getattr(field, "placeholder", "")
    okafor = await contact(store, "Dr. Amara Okafor")
    values = {forms.NAME: okafor.name, forms.PREFERRED: "  Amara  ", forms.CADENCE: "6 weeks"}
    await service.submit(ADA, FormKind.EDIT_CONTACT, str(okafor.id), values)
    assert (await contact(store, "Dr. Amara Okafor")).preferred_name == "Amara"
    too_long = {**values, forms.PREFERRED: "A" * 60}
    errors = await service.submit(ADA, FormKind.EDIT_CONTACT, str(okafor.id), too_long)
    assert forms.PREFERRED in getattr(errors, "errors", {})


async def test_opener_command_gives_copy_ready_drafts(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Raj Patel -- his wife passed away last year; loves jazz")
    reply = await service.command(ADA, "opener raj")
    assert isinstance(reply, Reply)
    drafts = reply.summary.split("\n\n")
    assert 2 <= len(drafts) <= 3 and all(d.startswith("Hi Raj, ") for d in drafts)
    assert all(d in text(reply) for d in drafts)  # each draft is also its own paragraph
    assert "wife" not in text(reply) and "passed" not in text(reply)
    labels = [b.label for b in buttons(reply)]
    assert labels == ["Prepare", "Log conversation"]  # no email known: no email link
    assert store.opened[-1] is False  # read-only


async def test_opener_with_an_email_has_a_mailto_link(store: MemoryStore) -> None:
    from bot.core.opener_views import opener_reply

    dana = Contact(id=5, name="Dana Whitfield", notes="sails every summer")
    reply = opener_reply(dana, TODAY, email="dana@brightline.com")
    link = buttons(reply)[0]
    assert link.action == Act.OPEN_LINK and link.url.startswith("mailto:dana@brightline.com?")
    assert unquote(link.url.split("&body=")[1]) == reply.summary.split("\n\n")[0]


async def test_opener_and_prep_for_unknown_or_ambiguous_names(service: Reconnect) -> None:
    assert "couldn't find anyone" in text(await service.command(ADA, "opener nobody"))
    assert "Whom do you mean?" in text(await service.command(ADA, "prep"))
    await service.command(ADA, "add Dana Whitfield")
    await service.command(ADA, "add Dana Scully")
    choose = await service.command(ADA, "prep dana")
    picks = buttons(choose)
    assert len(picks) == 2 and all(b.action == Act.PICK for b in picks)
    prepared = await service.action(ADA, Act.PICK, picks[0].value)
    assert "Three curious questions" in text(prepared)
    opener = await service.command(ADA, "openers dana")
    drafted = await service.action(ADA, Act.PICK, buttons(opener)[1].value)
    assert text(drafted).startswith("Openers for Dana")


async def test_prep_shows_what_you_know_last_time_questions_and_a_cue(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield -- just promoted to COO; sails every summer")
    first = text(await service.command(ADA, "prep dana"))
    assert "No conversation logged yet" in first
    await service.command(ADA, "log dana -- coffee at Blue Bottle learned: training for a regatta")
    prep = await service.command(ADA, "prep Dana")
    shown = text(prep)
    assert "What you know" in shown and "sails every summer" in shown
    assert "You talked about: coffee at Blue Bottle" in shown
    assert "You learned: training for a regatta" in shown
    questions = [line for line in shown.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(questions) == 3 and all(q.endswith("?") for q in questions)
    assert "👂" in shown
    assert [b.label for b in buttons(prep)] == ["Openers", "Log conversation"]


async def test_log_learned_and_the_reflection_question_asked_once(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    logged = text(await service.command(ADA, "log dana -- coffee"))
    assert logged.count("What did they mention twice?") == 1
    assert "/reconnect log Dana Whitfield -- learned: …" in logged
    assert "edit" not in logged  # the old hint that changed nothing
    added = text(await service.command(ADA, "log dana -- learned: her daughter started at Yale"))
    assert "Added what you learned" in added and "mention twice" not in added
    async with store.book(ADA.user, write=False) as book:
        dana = await contact(store, "Dana Whitfield")
        history = await book.history(dana.id, limit=5)
    assert [(c.note, c.learned) for c in history] == [("coffee", "her daughter started at Yale")]
    # A second "learned:" the same day logs a conversation of its own (the first has one).
    again = text(await service.command(ADA, "log dana -- learned: loves opera"))
    assert "Logged your conversation" in again and "mention twice" not in again
    assert "prep Dana Whitfield" in again


async def test_the_log_form_reflection_is_also_asked_once(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana")
    dana = await contact(store, "Dana")
    values = {forms.CONTACT: str(dana.id), forms.DATE: TODAY.isoformat(), forms.NOTE: "lunch"}
    reply = await service.submit(ADA, FormKind.LOG_CONVERSATION, "", values)
    assert text(reply).count("mention twice") == 1
    learned = {**values, forms.LEARNED: "new boat"}
    assert "mention twice" not in text(
        await service.submit(ADA, FormKind.LOG_CONVERSATION, "", learned)
    )
    earlier = {**values, forms.DATE: (TODAY - timedelta(days=3)).isoformat()}
    assert "learned: …" not in text(
        await service.submit(ADA, FormKind.LOG_CONVERSATION, "", earlier)
    )


async def test_openers_appear_wherever_the_contact_does(service: Reconnect) -> None:
    await service.command(ADA, "add Dana Whitfield -- sails every summer")
    for command in ("due", "list"):
        shown = text(await service.command(ADA, command))
        assert "💬 Hi Dana, " in shown, command
    home = await service.home(ADA)
    assert "💬 Hi Dana, " in text(home)
    due = await service.command(ADA, "due")
    labels = [b.label for b in buttons(due)]
    assert "Prepare" in labels and len(labels) <= 6  # Teams shows six in a row
    prep = next(b for b in buttons(due) if b.label == "Prepare")
    prepared = await service.action(ADA, prep.action, prep.value)
    assert "Three curious questions" in text(prepared)
    opener = next(b for b in buttons(prepared) if b.label == "Openers")  # one tap further
    assert text(await service.action(ADA, opener.action, opener.value)).startswith("Openers for")


async def test_buttons_cannot_reach_another_users_contact(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(BOB, "add Secret Person -- private notes")
    async with store.book(BOB.user, write=False) as book:
        secret = (await book.names())[0][0]
    for act in (Act.OPENERS, Act.PREP):
        reply = await service.action(ADA, act, str(secret))
        assert text(reply) == GONE
    for bad in ("", "x", "-1", "99999999999999999999999"):
        assert text(await service.action(ADA, Act.PREP, bad)) == GONE
    link = await service.action(ADA, Act.OPEN_LINK, "")
    assert "link" in text(link)
