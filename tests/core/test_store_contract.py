"""The store contract: the same expectations on the in-memory store and on the SQL store
(SQLite and PostgreSQL), so the fake the service tests use cannot drift from the real one.

Also a few service journeys on all three, and the number of statements the SQL store runs for
the commands on the ack path (docs/benchmarks.md): a refactoring must not add round trips.
"""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.actions import Act
from bot.core.cadence import Span, Unit
from bot.core.model import ContactDraft, ContactGone, Conversation, DuplicateContactError, UserRef
from bot.core.nudges import Card, CardState, NudgeContent
from bot.core.ports import Store
from bot.core.replies import Context, Header, MessageUpdate, Reply, Section, plain
from bot.core.schedule import NudgePrefs
from bot.core.service import Caller, Reconnect
from storage import db
from storage.models import Nudge, User
from storage.repository import SqlStore
from tests.fakes.memory_store import MemoryStore, Unstorable
from tests.support import Clock, empty_tables, postgres_schema

ADA = UserRef("slack", "T1", "U1")
BOB = UserRef("slack", "T1", "U2")
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> URL:
    url = db.normalise_url(f"sqlite:///{tmp_path_factory.mktemp('contract') / 'c.sqlite3'}")
    db.upgrade(url)
    return url


@pytest.fixture(scope="module")
def postgresql_url() -> Iterator[URL]:
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def any_store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """Each store: the in-memory fake, and the SQL store on an empty database of each kind."""
    if request.param == "memory":
        yield MemoryStore()
        return
    engine = db.create_engine(request.getfixturevalue(f"{request.param}_url"))
    await empty_tables(engine)
    yield SqlStore(engine)
    await engine.dispose()


async def add(store: Store, user: UserRef, name: str, due: date = TODAY, **kw: Any) -> int:
    async with store.book(user) as book:
        return (await book.add(ContactDraft(name=name, **kw), due_on=due, today=TODAY)).id


async def seed_nudge(store: Store, user: UserRef, content: NudgeContent) -> int:
    """A sent morning nudge for ``user``, stored the way each store keeps one."""
    if isinstance(store, MemoryStore):
        return store.add_nudge(user, TODAY, content.to_json(), "D1", "1.0001")
    assert isinstance(store, SqlStore)
    async with store.book(user):
        pass  # creates the user row
    async with store.engine.begin() as connection:
        owner = await connection.scalar(select(User.id).where(User.external_id == user.user_id))
        values = {
            "user_id": owner, "kind": "morning", "local_date": TODAY, "status": "sent",
            "worker": "test", "claimed_at": datetime.now(UTC), "content": content.to_json(),
            "channel": "D1", "message_id": "1.0001",
        }  # fmt: skip
        result = await connection.execute(insert(Nudge).values(values).returning(Nudge.id))
        return int(result.scalar_one())


# --- the contact book -------------------------------------------------------------------------


async def test_added_contacts_read_back(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana Whitfield", cadence=Span(2, Unit.MONTHS), notes="x")
    async with any_store.book(ADA, write=False) as book:
        contact = await book.get(dana)
        assert contact is not None
        assert (contact.name, contact.cadence, contact.notes) == (
            "Dana Whitfield",
            Span(2, Unit.MONTHS),
            "x",
        )
        assert (contact.next_due_on, contact.created_on, contact.last_contacted_on) == (
            TODAY,
            TODAY,
            None,
        )
        assert await book.names() == [(dana, "Dana Whitfield")]
        assert await book.count() == 1
        assert await book.get_many([dana, dana + 1000]) == {dana: contact}


async def test_names_are_unique_per_owner_ignoring_case_and_accents(any_store: Store) -> None:
    await add(any_store, ADA, "Zoë Ó Briain")
    await add(any_store, BOB, "Zoë Ó Briain")  # another owner: fine
    async with any_store.book(ADA) as book:
        with pytest.raises(DuplicateContactError) as raised:
            await book.add(ContactDraft(name="zoe o briain"), due_on=TODAY, today=TODAY)
        assert raised.value.existing.name == "Zoë Ó Briain"
        other = await book.add(ContactDraft(name="Marcus"), due_on=TODAY, today=TODAY)
        other.name = "ZOË Ó BRIAIN"
        with pytest.raises(DuplicateContactError):
            await book.save(other)
        assert await book.count() == 2  # the book is still usable
    async with any_store.book(ADA, write=False) as book:
        assert sorted(n for _, n in await book.names()) == ["Marcus", "Zoë Ó Briain"]


async def test_a_contact_is_found_by_its_whole_name(any_store: Store) -> None:
    """``named``: the owner's contact whose whole name is the one typed, ignoring case, accents
    and spacing, with every field; not a part of a name, not another owner's contact."""
    zoe = await add(any_store, ADA, "Zoë Ó Briain", company_role="CFO", notes="sails")
    await add(any_store, BOB, "Marcus Chen")
    async with any_store.book(ADA, write=False) as book:
        found = await book.named("  ZOE   o briain ")
        assert found is not None and found == await book.get(zoe)
        assert (found.name, found.company_role, found.notes) == ("Zoë Ó Briain", "CFO", "sails")
        for other in ("Zoë", "Zoe O", "Marcus Chen", "", "  "):
            assert await book.named(other) is None


async def test_everything_is_scoped_to_the_owner(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    async with any_store.book(BOB) as book:
        assert await book.get(dana) is None
        assert await book.get_many([dana]) == {}
        assert await book.delete(dana) is False
        with pytest.raises(ContactGone):
            await book.log(Conversation(dana, TODAY))
    async with any_store.book(ADA) as book:
        stolen = await book.get(dana)
    assert stolen is not None
    stolen.notes = "written by Bob"
    async with any_store.book(BOB) as book:
        await book.save(stolen)  # not Bob's: nothing happens
        assert await book.count() == 0
    async with any_store.book(ADA, write=False) as book:
        kept = await book.get(dana)
        assert kept is not None and kept.notes == ""


async def test_a_change_counts_once_saved_and_a_failed_transaction_keeps_nothing(
    any_store: Store,
) -> None:
    dana = await add(any_store, ADA, "Dana")
    async with any_store.book(ADA) as book:
        contact = await book.get(dana)
        assert contact is not None
        contact.notes = "not saved"
        assert (await book.get(dana)) != contact
        contact.notes = "saved"
        contact.log_conversation(date(2026, 11, 20), "coffee")
        await book.save(contact)
        assert await book.get(dana) == contact
    with pytest.raises(RuntimeError):
        async with any_store.book(ADA) as book:
            await book.add(ContactDraft(name="Marcus"), due_on=TODAY, today=TODAY)
            await book.log(Conversation(dana, TODAY))
            raise RuntimeError("boom")
    async with any_store.book(ADA, write=False) as book:
        assert await book.count() == 1
        assert await book.count_conversations() == 0
        after = await book.get(dana)
        assert after is not None and (after.notes, after.last_note) == ("saved", "coffee")
        assert after.next_due_on == date(2027, 1, 1)


async def test_delete_takes_the_conversations_too(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    marcus = await add(any_store, ADA, "Marcus")
    async with any_store.book(ADA) as book:
        await book.log(Conversation(dana, TODAY, "a"))
        await book.log(Conversation(marcus, TODAY, kind="outreach"))
        assert await book.count_conversations() == 2
        assert await book.delete(dana) is True
        assert await book.delete(dana) is False
        assert await book.count_conversations() == 1
        assert await book.get(dana) is None


async def test_orderings(any_store: Store) -> None:
    for name, due in [
        ("bea", date(2026, 11, 20)),
        ("Ádám", date(2026, 11, 20)),
        ("Carl", date(2026, 11, 1)),
        ("dora", date(2026, 12, 25)),
        ("Eve", TODAY),
    ]:
        await add(any_store, ADA, name, due=due)
    async with any_store.book(ADA, write=False) as book:
        assert [c.name for c in await book.page(offset=0, limit=10)] == [
            "Ádám",
            "bea",
            "Carl",
            "dora",
            "Eve",
        ]
        assert [c.name for c in await book.page(offset=3, limit=10)] == ["dora", "Eve"]
        assert [c.name for c in await book.upcoming(limit=4)] == ["Carl", "Ádám", "bea", "Eve"]
        summary = await book.due_summary(TODAY, limit=3)
        assert [c.name for c in summary.contacts] == ["Carl", "Ádám", "bea"]


async def test_due_summary_lists_the_most_overdue_and_counts_everything(
    any_store: Store,
) -> None:
    for n in range(4):
        await add(any_store, ADA, f"Due {n}", due=date(2026, 11, 20 + n))
    await add(any_store, ADA, "Later", due=date(2026, 12, 25))
    await add(any_store, BOB, "Bob's contact", due=date(2026, 11, 1))
    async with any_store.book(ADA, write=False) as book:
        summary = await book.due_summary(TODAY, limit=2)
        assert [c.name for c in summary.contacts] == ["Due 0", "Due 1"]
        assert (summary.total_due, summary.total) == (4, 5)
        earlier = await book.due_summary(date(2026, 11, 21), limit=8)
        assert ([c.name for c in earlier.contacts], earlier.total_due) == (["Due 0", "Due 1"], 2)
    async with any_store.book(ADA) as book:
        await book.add(ContactDraft(name="New"), due_on=TODAY, today=TODAY)
        summary = await book.due_summary(TODAY, limit=8)
        assert [c.name for c in summary.contacts][-2:] == ["Due 3", "New"]
        assert (summary.total_due, summary.total) == (5, 6)


async def test_due_summary_with_nobody_due_still_counts(any_store: Store) -> None:
    async with any_store.book(ADA, write=False) as book:
        summary = await book.due_summary(TODAY, limit=8)
        assert (summary.contacts, summary.total_due, summary.total) == ([], 0, 0)
    await add(any_store, ADA, "Later", due=date(2026, 12, 25))
    async with any_store.book(ADA, write=False) as book:
        summary = await book.due_summary(TODAY, limit=8)
        assert (summary.contacts, summary.total_due, summary.total) == ([], 0, 1)


async def test_settings_and_the_platform_time_zone(any_store: Store) -> None:
    async with any_store.book(ADA, write=False) as book:
        assert await book.prefs() == NudgePrefs()
        assert book.timezone == "UTC"
    await any_store.set_timezone(ADA, "Europe/London")
    async with any_store.book(ADA) as book:
        assert book.timezone == "Europe/London"
        chosen = NudgePrefs(timezone="Asia/Tokyo", days=0b1111111, cards=5)
        await book.save_prefs(chosen, timezone_from_user=True)
        assert book.timezone == "Asia/Tokyo"
    await any_store.set_timezone(ADA, "America/New_York")  # the user's choice wins
    async with any_store.book(ADA, write=False) as book:
        prefs = await book.prefs()
        assert (prefs.timezone, prefs.days, prefs.cards, prefs.timezone_locked) == (
            "Asia/Tokyo",
            0b1111111,
            5,
            True,
        )
    assert await any_store.ping() is True


async def test_nudges_are_scoped_and_their_content_saved(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    content = NudgeContent(day=TODAY.isoformat(), cards=[Card(dana, "Due")])
    nudge_id = await seed_nudge(any_store, ADA, content)
    async with any_store.book(BOB) as book:
        assert await book.nudge(nudge_id) is None
    async with any_store.book(ADA) as book:
        record = await book.nudge(nudge_id)
        assert record is not None
        assert (record.day, record.channel, record.message_id) == (TODAY, "D1", "1.0001")
        assert NudgeContent.from_json(record.content) == content
        await book.save_nudge_content(nudge_id, '{"day": "x"}')
    async with any_store.book(ADA, write=False) as book:
        saved = await book.nudge(nudge_id)
        assert saved is not None and saved.content == '{"day": "x"}'


# --- service journeys on every store -----------------------------------------------------------


def texts(reply: object) -> str:
    """The text of a reply's paragraphs, headers and small print."""
    assert isinstance(reply, Reply), reply
    out = []
    for block in reply.blocks:
        if isinstance(block, Section | Context):
            out.append(plain(block.parts))
        elif isinstance(block, Header):
            out.append(block.text)
    return "\n".join(out)


async def test_add_log_due_and_home(any_store: Store) -> None:
    service = Reconnect(any_store, clock=Clock())
    ada = Caller(ADA)
    for name in ("Dana Whitfield", "Marcus Chen", "Zoë"):
        await service.command(ada, f"add {name} every 2 months")
    assert "3 people are due" in texts(await service.command(ada, "due"))
    assert "Next reminder: 25 Jan 2027" in texts(await service.command(ada, "log dana -- lunch"))
    home = texts(await service.home(ada))
    assert "3 people in your network · 2 due now · 1 conversation logged" in home
    assert "2 people are due" in texts(await service.command(ada, "due"))
    async with any_store.book(ADA, write=False) as book:
        summary = await book.due_summary(TODAY, limit=8)
        assert [c.name for c in summary.contacts] == ["Marcus Chen", "Zoë"]


async def test_reached_out_on_a_card(any_store: Store) -> None:
    service = Reconnect(any_store, clock=Clock())
    dana = await add(any_store, ADA, "Dana", cadence=Span(2, Unit.MONTHS))
    content = NudgeContent(day=TODAY.isoformat(), cards=[Card(dana, "Due")])
    nudge_id = await seed_nudge(any_store, ADA, content)
    for _ in range(2):  # a double click counts once
        update = await service.action(Caller(ADA), Act.CARD_REACHED, f"{nudge_id}:{dana}")
        assert isinstance(update, MessageUpdate) and update.channel == "D1"
    async with any_store.book(ADA, write=False) as book:
        assert await book.count_conversations() == 1
        contact = await book.get(dana)
        assert contact is not None
        assert (contact.next_due_on, contact.follow_up_on) == (
            date(2027, 1, 25),
            date(2026, 11, 28),
        )
        record = await book.nudge(nudge_id)
        assert record is not None
        card = NudgeContent.from_json(record.content).card(dana)
        assert card is not None and card.state is CardState.REACHED


async def test_text_postgresql_refuses_is_cleaned_or_refused_before_any_store(
    any_store: Store,
) -> None:
    service = Reconnect(any_store, clock=Clock())
    ada = Caller(ADA)
    refused = texts(await service.command(ada, "add " + "\ufdfa" * 14))  # its key is 252 long
    assert "too long for me to search by" in refused
    added = await service.command(ada, "add Da\x00na \u202eWhit\ud800field -- sails\x00 a lot")
    assert "Added Dana Whitfield" in texts(added)
    await service.command(ada, "log dana -- coffee\x00 \udc00today")
    async with any_store.book(ADA, write=False) as book:
        [(dana_id, name)] = await book.names()
        dana = await book.get(dana_id)
        assert name == "Dana Whitfield" and dana is not None and dana.notes == "sails a lot"
        assert dana.last_note == "coffee today"


@pytest.mark.parametrize(
    "draft",
    [
        ContactDraft(name="Da\x00na"),
        ContactDraft(name="Dana", notes="a\ud800b"),
        ContactDraft(name="\ufdfa" * 14),
    ],
    ids=["nul", "lone-surrogate", "long-name-key"],
)
async def test_the_memory_store_refuses_what_postgresql_refuses(
    any_store: Store, draft: ContactDraft
) -> None:
    if isinstance(any_store, SqlStore) and any_store.engine.dialect.name == "sqlite":
        pytest.skip("SQLite stores all of these")
    with pytest.raises((Unstorable, DBAPIError, UnicodeEncodeError)):
        await add(any_store, ADA, draft.name, notes=draft.notes)


# --- round trips on the ack path ---------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql_engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(request.getfixturevalue(f"{request.param}_url"))
    await empty_tables(engine)
    yield engine
    await engine.dispose()


async def test_commands_on_the_ack_path_run_few_statements(sql_engine: AsyncEngine) -> None:
    """As many statements as before the service became a dispatcher (measured on bd320a8).

    Every request reads the user's row first (the id is looked up once per process); ``due``
    then needs one statement, ``home`` three (the weekly goal's progress is one); a savepoint guards
    only a rename, which may race another.
    SQLite's BEGIN IMMEDIATE for writers is left out: PostgreSQL's BEGIN is implicit.
    """
    service = Reconnect(SqlStore(sql_engine), clock=Clock())
    ada = Caller(ADA)
    await service.command(ada, "add Dana")
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.split(None, 1)[0].upper() != "BEGIN":
            statements.append(statement)

    event.listen(sql_engine.sync_engine, "before_cursor_execute", record)
    try:
        runs, locks = {}, {}
        for request in ("due", "home", "list", "add Marcus", "log Marcus", "snooze dana"):
            statements.clear()
            if request == "home":
                await service.home(ada)
            else:
                await service.command(ada, request)
            runs[request] = len(statements)
            locks[request] = sum(" FOR " in statement.upper() for statement in statements)
    finally:
        event.remove(sql_engine.sync_engine, "before_cursor_execute", record)
    assert runs == {
        "due": 2,  # user row, due summary
        "home": 5,  # user row, due summary, conversation count, week's goal and reach, evidence
        "list": 3,  # user row, page, count
        "add Marcus": 2,  # user row, insert
        # A full name is found by its key, with the contact; what the transaction read is
        # known to exist under that key, so logging needs no check and saving no look-up or
        # savepoint (a rename has them: see tests/storage/test_repository.py).
        "log Marcus": 4,  # user row, contact by name key, conversation insert, contact update
        "snooze dana": 3,  # user row, contact by name key, update
    }
    # The lock order on PostgreSQL: a writer locks its user row (that first read), nothing else;
    # readers lock nothing. SQLite's writers take turns in the process instead.
    writes = ("add Marcus", "log Marcus", "snooze dana")
    one_lock = 1 if sql_engine.dialect.name == "postgresql" else 0
    assert locks == {request: one_lock if request in writes else 0 for request in runs}


async def test_relationship_last_in_touch_and_wins_round_trip(any_store: Store) -> None:
    """Issue 10's fields are kept as given, by add and by save, for their owner only."""
    dana = await add(
        any_store, ADA, "Dana Whitfield", relationship="boss", last_in_touch=date(2019, 3, 1),
        win="got promoted to VP", win_on=date(2026, 11, 20),
    )  # fmt: skip
    async with any_store.book(ADA) as book:
        contact = await book.get(dana)
        assert contact is not None
        assert (contact.relationship, contact.last_in_touch) == ("boss", date(2019, 3, 1))
        assert (contact.win, contact.win_on) == ("got promoted to VP", date(2026, 11, 20))
        assert (contact.suggested_on, contact.suggested_before_on) == (None, None)
        contact.record_win("launched her book", TODAY)
        contact.relationship, contact.last_in_touch = "mentor", None
        await book.save(contact)
    async with any_store.book(ADA, write=False) as book:
        saved = await book.get(dana)
        assert saved is not None
        assert (saved.win, saved.win_on, saved.relationship) == (
            "launched her book", TODAY, "mentor",
        )  # fmt: skip
        assert saved.last_in_touch is None
    async with any_store.book(BOB, write=False) as book:
        assert await book.get(dana) is None
