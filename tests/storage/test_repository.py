"""The SQL store on SQLite and PostgreSQL: scoping, uniqueness, ordering, atomicity."""

from datetime import date

import pytest

from bot.core.cadence import Span, Unit
from bot.core.model import ContactDraft, Conversation, DuplicateContactError, UserRef
from bot.core.ports import DueSummary
from bot.core.service import Reconnect
from storage.repository import SqlStore

ADA = UserRef("slack", "T1", "U1")
BOB = UserRef("slack", "T1", "U2")
ADA_ELSEWHERE = UserRef("slack", "T2", "U1")
TODAY = date(2026, 11, 25)


async def add(store: SqlStore, user: UserRef, name: str, due: date = TODAY, **kw: object) -> int:
    async with store.book(user) as book:
        contact = await book.add(ContactDraft(name=name, **kw), due_on=due, today=TODAY)  # type: ignore[arg-type]
        return contact.id


async def test_contacts_are_scoped_to_their_owner(store: SqlStore) -> None:
    dana = await add(store, ADA, "Dana Whitfield")
    await add(store, BOB, "Dana Whitfield")  # same name, another owner: fine
    await add(store, ADA_ELSEWHERE, "Marcus Chen")  # same user id, another workspace
    async with store.book(BOB) as book:
        assert await book.get(dana) is None
        assert await book.delete(dana) is False
        assert [n for _, n in await book.names()] == ["Dana Whitfield"]
        with pytest.raises(LookupError):
            await book.log(Conversation(dana, TODAY))
    async with store.book(ADA) as book:
        assert [n for _, n in await book.names()] == ["Dana Whitfield"]
        assert (await book.get(dana)) is not None
    async with store.book(ADA_ELSEWHERE) as book:
        assert await book.count() == 1


async def test_duplicate_names_are_refused_ignoring_case_and_accents(store: SqlStore) -> None:
    await add(store, ADA, "Zoë Ó Briain")
    with pytest.raises(DuplicateContactError) as raised:
        await add(store, ADA, "zoe o briain")
    assert raised.value.existing.name == "Zoë Ó Briain"
    async with store.book(ADA) as book:
        assert await book.count() == 1


async def test_renaming_onto_another_contact_is_refused_and_changes_nothing(
    store: SqlStore,
) -> None:
    await add(store, ADA, "Dana Whitfield")
    marcus = await add(store, ADA, "Marcus Chen")
    async with store.book(ADA) as book:
        contact = await book.get(marcus)
        assert contact is not None
        contact.name = "DANA WHITFIELD"
        with pytest.raises(DuplicateContactError):
            await book.save(contact)
    async with store.book(ADA) as book:
        assert sorted(n for _, n in await book.names()) == ["Dana Whitfield", "Marcus Chen"]


async def test_due_is_most_overdue_first_and_excludes_future(store: SqlStore) -> None:
    await add(store, ADA, "Later", due=date(2026, 12, 1))
    await add(store, ADA, "Recent", due=date(2026, 11, 24))
    await add(store, ADA, "Ancient", due=date(2025, 1, 1))
    await add(store, BOB, "Bob's", due=date(2020, 1, 1))
    async with store.book(ADA) as book:
        summary = await book.due_summary(TODAY, limit=10)
        assert [c.name for c in summary.contacts] == ["Ancient", "Recent"]
        assert (summary.total_due, summary.total) == (2, 3)
        assert [c.name for c in await book.upcoming(limit=10)] == ["Ancient", "Recent", "Later"]


async def test_paging_in_name_order(store: SqlStore) -> None:
    for name in ["Cy", "ada", "Bea", "Émile", "Dov"]:
        await add(store, ADA, name)
    async with store.book(ADA) as book:
        first = [c.name for c in await book.page(offset=0, limit=2)]
        rest = [c.name for c in await book.page(offset=2, limit=10)]
    assert first + rest == ["ada", "Bea", "Cy", "Dov", "Émile"]


async def test_delete_removes_conversations(store: SqlStore) -> None:
    dana = await add(store, ADA, "Dana")
    async with store.book(ADA) as book:
        await book.log(Conversation(dana, TODAY, "coffee"))
        assert await book.count_conversations() == 1
    async with store.book(ADA) as book:
        assert await book.delete(dana) is True
    async with store.book(ADA) as book:
        assert await book.count_conversations() == 0
        assert await book.count() == 0


async def test_an_error_rolls_the_whole_transaction_back(store: SqlStore) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with store.book(ADA) as book:
            await book.add(ContactDraft(name="Half"), due_on=TODAY, today=TODAY)
            raise Boom
    async with store.book(ADA) as book:
        assert await book.count() == 0


async def test_fields_round_trip_including_unicode(store: SqlStore) -> None:
    draft = ContactDraft(
        name="李小龍 🚀",
        cadence=Span(2, Unit.MONTHS),
        company_role="CFO — Brightline & Co <EU>",
        how_known="boss 2016–2020",
        notes="loves sailing\nnew boat 🛥️",
    )
    async with store.book(ADA) as book:
        cid = (await book.add(draft, due_on=TODAY, today=TODAY)).id
    async with store.book(ADA) as book:
        contact = await book.get(cid)
    assert contact is not None
    assert (contact.name, contact.cadence, contact.company_role, contact.how_known, contact.notes) == (
        draft.name, draft.cadence, draft.company_role, draft.how_known, draft.notes,
    )  # fmt: skip


async def test_user_rows_are_created_once_and_keep_their_timezone(store: SqlStore) -> None:
    await store.set_timezone(ADA, "Asia/Kolkata")
    async with store.book(ADA) as book:
        assert book.timezone == "Asia/Kolkata"
    async with store.book(BOB) as book:
        assert book.timezone == "UTC"


async def test_ping(store: SqlStore) -> None:
    assert await store.ping() is True


async def test_due_summary_reads_the_first_few_and_the_counts_and_follows_writes(
    store: SqlStore,
) -> None:
    for n in range(4):
        await add(store, ADA, f"Due {n}", due=date(2026, 11, 20 + n))
    await add(store, ADA, "Later", due=date(2026, 12, 25))
    await add(store, BOB, "Bob's contact", due=date(2026, 11, 1))
    async with store.book(ADA, write=False) as book:
        summary = await book.due_summary(TODAY, limit=2)
        assert [c.name for c in summary.contacts] == ["Due 0", "Due 1"]
        assert (summary.total_due, summary.total) == (4, 5)
        earlier = await book.due_summary(date(2026, 11, 21), limit=8)  # another day
        assert ([c.name for c in earlier.contacts], earlier.total_due) == (["Due 0", "Due 1"], 2)
    async with store.book(ADA) as book:
        assert (await book.due_summary(TODAY, limit=8)).contacts[-1].name == "Due 3"
        await book.add(ContactDraft(name="New"), due_on=TODAY, today=TODAY)
        after_add = await book.due_summary(TODAY, limit=8)
        assert (after_add.total_due, after_add.total) == (5, 6)
        await book.delete(summary.contacts[0].id)
        after_delete = await book.due_summary(TODAY, limit=8)
        assert (after_delete.total_due, after_delete.total) == (4, 5)
        assert "Due 0" not in [c.name for c in after_delete.contacts]


async def test_due_with_nobody_due_still_counts(store: SqlStore) -> None:
    async with store.book(ADA, write=False) as book:
        assert await book.due_summary(TODAY, limit=8) == DueSummary([], total_due=0, total=0)
    await add(store, ADA, "Later", due=date(2026, 12, 25))
    async with store.book(ADA, write=False) as book:
        assert await book.due_summary(TODAY, limit=8) == DueSummary([], total_due=0, total=1)


async def test_adding_a_duplicate_leaves_the_transaction_usable(store: SqlStore) -> None:
    await add(store, ADA, "Dana Whitfield")
    async with store.book(ADA) as book:
        with pytest.raises(DuplicateContactError) as raised:
            await book.add(ContactDraft(name="DANA whitfield"), due_on=TODAY, today=TODAY)
        assert raised.value.existing.name == "Dana Whitfield"
        added = await book.add(ContactDraft(name="Marcus Chen"), due_on=TODAY, today=TODAY)
        assert (await book.get(added.id)) == added
    async with store.book(ADA) as book:
        assert sorted(n for _, n in await book.names()) == ["Dana Whitfield", "Marcus Chen"]


async def test_a_conversation_reference_is_never_rebound_to_another_user(store: SqlStore) -> None:
    ada, bob = UserRef("teams", "t", "aad-ada"), UserRef("teams", "t", "aad-bob")
    await store.save_reference(ada, "a:personal-ada", '{"who": "ada"}')
    await store.save_reference(bob, "a:personal-ada", '{"who": "bob"}')
    assert await store.reference_for_user(ada) == ("a:personal-ada", '{"who": "ada"}')
    assert await store.reference_for_user(bob) is None
    assert await store.reference_for_conversation("a:personal-ada") == '{"who": "ada"}'
    await store.save_reference(bob, "a:personal-bob", '{"who": "bob"}')
    await store.save_reference(bob, "a:personal-ada", '{"who": "bob2"}')
    assert await store.reference_for_user(bob) == ("a:personal-bob", '{"who": "bob"}')
    await store.save_reference(ada, "a:personal-ada-new", '{"who": "ada2"}')  # her own moves
    assert await store.reference_for_user(ada) == ("a:personal-ada-new", '{"who": "ada2"}')


async def test_only_a_rename_runs_in_a_savepoint(store: SqlStore) -> None:
    """A save that keeps the name's key (a log, a snooze, a change of case) cannot clash with
    another contact's name, so it skips the savepoint's two round trips; a rename keeps it."""
    from sqlalchemy import event

    dana = await add(store, ADA, "Dana Whitfield")
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        saves = {}
        for new_name in ("Dana Whitfield", "DANA WHITFIELD", "Dana Okafor"):
            async with store.book(ADA) as book:
                contact = await book.get(dana)
                assert contact is not None
                contact.name = new_name
                contact.last_note = f"now {new_name}"
                statements.clear()
                await book.save(contact)
                saves[new_name] = statements.count("SAVEPOINT")
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    assert saves == {"Dana Whitfield": 0, "DANA WHITFIELD": 0, "Dana Okafor": 1}
    async with store.book(ADA) as book:
        saved = await book.get(dana)
        assert saved is not None
        assert (saved.name, saved.last_note) == ("Dana Okafor", "now Dana Okafor")
        assert [n for _, n in await book.names()] == ["Dana Okafor"]


async def test_what_a_writer_read_is_logged_to_and_saved_without_checks(store: SqlStore) -> None:
    """A contact read (``get``, ``named``) or added in a writing transaction exists, with the
    name key it was read with, until this transaction changes it (the owner's writers take
    turns): a log needs no existence check and a save under the same key no look-up. A
    contact not read here, or deleted here, still gets both."""
    from sqlalchemy import event

    dana = await add(store, ADA, "Dana Whitfield")
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()[:2]).upper())

    def ran() -> list[str]:
        done = list(statements)
        statements.clear()
        return done

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with store.book(ADA) as book:
            contact = await book.named("dana whitfield")
            assert contact is not None and contact.id == dana
            ran()
            await book.log(Conversation(dana, TODAY, "coffee"))
            contact.last_note = "coffee"
            await book.save(contact)
            assert ran() == ["INSERT INTO", "UPDATE CONTACTS"]
            contact.name = "Dana Okafor"  # a rename looks, and runs in a savepoint
            await book.save(contact)
            assert ran() == ["SELECT CONTACTS.ID,", "SAVEPOINT SA_SAVEPOINT_1", "UPDATE CONTACTS",
                             "RELEASE SAVEPOINT"]  # fmt: skip
            contact.notes = "now Okafor"  # … and is known under its new key afterwards
            await book.save(contact)
            assert ran() == ["UPDATE CONTACTS"]
            marcus = await book.add(ContactDraft(name="Marcus"), due_on=TODAY, today=TODAY)
            ran()
            await book.log(Conversation(marcus.id, TODAY))
            assert ran() == ["INSERT INTO"]
            assert await book.delete(marcus.id)
            ran()
            with pytest.raises(LookupError):  # deleted here: checked, and gone
                await book.log(Conversation(marcus.id, TODAY))
            assert ran()[0] == "SELECT CONTACTS.ID"
            await book.save(marcus)  # nothing to save, and no error
            assert ran() == ["SELECT CONTACTS.ID,"]
        async with store.book(ADA) as book:  # read in an earlier transaction: checked again
            await book.log(Conversation(dana, TODAY))
            contact.last_note = "later"
            await book.save(contact)
            assert [s for s in ran() if s.startswith(("SELECT CONTACTS", "INSERT", "UPDATE"))] == [
                "SELECT CONTACTS.ID", "INSERT INTO", "SELECT CONTACTS.ID,", "UPDATE CONTACTS"
            ]  # fmt: skip
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    async with store.book(ADA, write=False) as book:
        saved = await book.get(dana)
        assert saved is not None
        assert (saved.name, saved.notes, saved.last_note) == ("Dana Okafor", "now Okafor", "later")
        assert [c.note for c in await book.history(dana, limit=5)] == ["", "coffee"]
        assert await book.names() == [(dana, "Dana Okafor")]


async def test_a_name_key_stored_by_an_older_fold_is_still_found_and_renewed(
    service: Reconnect, store: SqlStore
) -> None:
    """``named`` trusts the stored key only when it is what :func:`fold` makes of the name
    today; otherwise the command falls back to matching every name, as before, and the save
    renews the key. Pool contacts are never found by name for a command."""
    from sqlalchemy import update

    from bot.core.service import Caller
    from storage.models import ContactRow

    dana = await add(store, ADA, "Dana Whitfield")
    pooled = await add(store, ADA, "Pat Pool")
    async with store.engine.begin() as connection:
        await connection.execute(
            update(ContactRow).where(ContactRow.id == dana).values(name_key="dana\u202ewhitfield")
        )
        await connection.execute(
            update(ContactRow).where(ContactRow.id == pooled).values(in_pool=True)
        )
    async with store.book(ADA, write=False) as book:
        assert await book.named("Dana Whitfield") is None
        assert await book.named("dana\u202ewhitfield") is None  # that key, but not that name
        assert await book.named("Pat Pool") is None
    reply = await service.command(Caller(ADA), "log Dana Whitfield -- coffee")
    assert "Dana Whitfield" in reply.summary
    async with store.book(ADA, write=False) as book:
        found = await book.named("dana whitfield")
        assert found is not None and found.id == dana and found.last_note == "coffee"


async def test_contacts_read_by_position_are_the_contacts_read_by_name(store: SqlStore) -> None:
    """The book reads its statements' rows by position (storage.repository._contact_at); every
    field must land where reading by name puts it, including the import and issue-10 ones."""
    from sqlalchemy import select, update

    from storage.models import ContactRow
    from storage.repository import _GET, _contact

    dana = await add(
        store, ADA, "Dana Whitfield", due=date(2026, 11, 20),
        company_role="CFO at Brightline", how_known="my boss", notes="sails",
        preferred_name="Dee", relationship="boss", last_in_touch=date(2019, 3, 1),
        win="got promoted", win_on=date(2026, 11, 1),
    )  # fmt: skip
    async with store.engine.begin() as connection:
        await connection.execute(
            update(ContactRow)
            .where(ContactRow.id == dana)
            .values(
                last_contacted_on=date(2026, 9, 1), last_note="coffee", skipped_on=date(2026, 9, 2),
                reached_out_on=date(2026, 9, 3), follow_up_on=date(2026, 9, 4),
                email="dana@example.com", linkedin_url="https://www.linkedin.com/in/dana",
                connected_on=date(2015, 5, 5), suggested_on=date(2026, 11, 2),
                suggested_before_on=date(2026, 10, 2),
            )
        )  # fmt: skip
    async with store.book(ADA) as book:
        by_position = [
            await book.get(dana),
            *(await book.due_summary(TODAY, limit=5)).contacts,
            *await book.page(offset=0, limit=5),
            *await book.upcoming(limit=5),
            *(await book.get_many([dana])).values(),
            await book.named("Dana Whitfield"),
        ]
    async with store.engine.connect() as connection:
        owner = select(ContactRow.owner_id).where(ContactRow.id == dana)
        params = {"owner": (await connection.execute(owner)).scalar_one(), "id": dana}
        row = (await connection.execute(_GET, params)).first()
    assert row is not None
    by_name = _contact(row)
    assert by_name.email == "dana@example.com" and by_name.suggested_before_on is not None
    assert by_name.relationship == "boss" and by_name.win_on == date(2026, 11, 1)
    assert by_position == [by_name] * 6
