"""``export`` and ``delete my data`` on every store (memory, SQLite, PostgreSQL): the files hold
everything of the caller and nothing of anyone else; deleting asks first, takes everything of
the caller in one go, and a confirmation pressed by someone else deletes nothing."""

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
import vobject  # type: ignore[import-untyped]
from sqlalchemy import func, select

from bot.core import commands as c
from bot.core.actions import Act
from bot.core.data_export import csv_text, safe_cell
from bot.core.data_rights import erase_token
from bot.core.nudges import Card, CardState, NudgeContent
from bot.core.ports import Store
from bot.core.replies import Actions, Reply, plain
from bot.core.service import Caller, Reconnect
from storage.models import Base
from storage.repository import SqlStore
from storage.user_data import NOT_EXPORTED, SECTIONS, owned_tables
from tests.core import test_store_contract as contract
from tests.core.test_store_contract import ADA, BOB, TODAY, seed_nudge
from tests.fakes.memory_store import MemoryStore
from tests.support import Clock

# The contract's stores: memory, SQLite and PostgreSQL.
any_store = contract.any_store
sqlite_url = contract.sqlite_url
postgresql_url = contract.postgresql_url

ADA_CALLER = Caller(ADA)
BOB_CALLER = Caller(BOB)


def reply(outcome: Any) -> Reply:
    assert isinstance(outcome, Reply), outcome
    return outcome


def texts(outcome: Any) -> str:
    r = reply(outcome)
    parts = [r.summary]
    for block in r.blocks:
        if hasattr(block, "parts"):
            parts.append(plain(block.parts))
        elif hasattr(block, "text"):
            parts.append(block.text)
    return "\n".join(parts)


def buttons(outcome: Any) -> dict[str, Any]:
    found = {}
    for block in reply(outcome).blocks:
        if isinstance(block, Actions):
            for b in block.buttons:
                found[b.label] = b
    return found


async def seed(service: Reconnect) -> None:
    await service.command(ADA_CALLER, "add Dana Whitfield every 2 months -- loves sailing")
    await service.command(ADA_CALLER, "add =HYPERLINK(evil) -- @SUM(A1)")
    await service.command(ADA_CALLER, "log Dana -- coffee at the marina")
    await service.command(BOB_CALLER, "add Bob's Secret Friend -- bob only")


async def test_export_gives_three_files_with_only_the_callers_data(any_store: Store) -> None:
    service = Reconnect(any_store, clock=Clock())
    await seed(service)
    out = reply(await service.command(ADA_CALLER, "export"))
    assert [f.filename for f in out.files] == [
        "reconnect-contacts-2026-11-25.csv",
        "reconnect-data-2026-11-25.json",
        "reconnect-contacts-2026-11-25.vcf",
    ]
    assert "2 contacts and 1 logged conversation" in out.summary
    csv_file, json_file, vcard_file = out.files
    everything = b"".join(f.content for f in out.files).decode()
    assert "Bob" not in everything and "bob only" not in everything

    rows = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Name", "Company and role", "How you know them", "Notes"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Dana Whitfield"][3] == "loves sailing"
    assert by_name["Dana Whitfield"][4] == "2 months"
    # Formula-looking cells are text: a leading apostrophe.
    assert by_name["'=HYPERLINK(evil)"][3] == "'@SUM(A1)"

    data = json.loads(json_file.content)
    assert data["format"] == "reconnect-export" and data["version"] == 1
    assert data["profile"]["user_id"] == "U1" and data["profile"]["nudge_time"] == "08:30"
    assert [x["name"] for x in data["contacts"]] == ["=HYPERLINK(evil)", "Dana Whitfield"]
    assert data["conversations"][0]["note"] == "coffee at the marina"
    assert data["conversations"][0]["contact_name"] == "Dana Whitfield"

    cards = list(vobject.readComponents(vcard_file.content.decode()))
    assert sorted(card.fn.value for card in cards) == ["=HYPERLINK(evil)", "Dana Whitfield"]
    dana = next(card for card in cards if card.fn.value == "Dana Whitfield")
    assert dana.version.value == "4.0"
    assert dana.n.value.family == "Whitfield" and dana.n.value.given == "Dana"
    assert "loves sailing" in dana.note.value


async def test_export_one_format_and_a_wrong_one(any_store: Store) -> None:
    service = Reconnect(any_store, clock=Clock())
    await seed(service)
    out = reply(await service.command(ADA_CALLER, "export vcf"))
    assert [f.media_type for f in out.files] == ["text/vcard"]
    wrong = reply(await service.command(ADA_CALLER, "export pdf"))
    assert wrong.files == () and "CSV, JSON or vCard" in wrong.summary
    empty = reply(await service.command(Caller(ADA.__class__("slack", "T1", "U9")), "export"))
    assert "0 contacts and 0 logged conversations" in empty.summary


async def test_delete_my_data_asks_then_deletes_everything_of_the_caller_only(
    any_store: Store,
) -> None:
    clock = Clock()
    service = Reconnect(any_store, clock=clock)
    await seed(service)
    await seed_nudge(any_store, ADA, NudgeContent(day=TODAY.isoformat()))
    question = await service.command(ADA_CALLER, "delete my data")
    shown = texts(question)
    assert "• 2 contacts, with everything you noted" in shown
    assert "• 1 logged conversation" in shown
    assert "• 1 morning message in your history" in shown
    assert "your settings" in shown and "group" not in shown  # no groups yet (issue 11)
    confirm = buttons(question)["Delete everything"]
    assert confirm.action == Act.ERASE_CONFIRM and confirm.style == "danger"

    # Bob presses Ada's button (a forged or forwarded payload): nothing of anyone goes.
    forged = await service.action(BOB_CALLER, confirm.action, confirm.value)
    assert "nothing was deleted" in texts(forged)
    assert "2 contacts" in reply(await service.command(ADA_CALLER, "export json")).summary
    assert "1 contact " in reply(await service.command(BOB_CALLER, "export json")).summary

    # "Keep my data" keeps it.
    kept = await service.action(ADA_CALLER, Act.ERASE_CANCEL, "")
    assert "Nothing was deleted" in texts(kept)

    done = await service.action(ADA_CALLER, confirm.action, confirm.value)
    assert "2 contacts, 1 logged conversation and 1 morning message" in texts(done)
    after = reply(await service.command(ADA_CALLER, "export json"))
    data = json.loads(after.files[0].content)
    assert data["contacts"] == [] and data["conversations"] == [] and data["nudges"] == []
    assert data["profile"]["nudge_time"] == "08:30"  # a fresh start, with default settings
    assert "1 contact " in reply(await service.command(BOB_CALLER, "export json")).summary


async def test_an_old_confirmation_has_expired(any_store: Store) -> None:
    clock = Clock()
    service = Reconnect(any_store, clock=clock)
    await seed(service)
    stale = erase_token(ADA, TODAY - timedelta(days=2))
    outcome = await service.action(ADA_CALLER, Act.ERASE_CONFIRM, stale)
    assert "expired" in texts(outcome)
    for junk in ("", "nonsense", "2026-11-25:", "9999-99-99:abc", erase_token(BOB, TODAY)):
        assert "expired" in texts(await service.action(ADA_CALLER, Act.ERASE_CONFIRM, junk))
    assert "2 contacts" in reply(await service.command(ADA_CALLER, "export csv")).summary


async def test_removing_a_contact_takes_them_out_of_stored_nudges(any_store: Store) -> None:
    service = Reconnect(any_store, clock=Clock())
    await seed(service)
    async with any_store.book(ADA) as book:
        ids = dict((n, i) for i, n in await book.names())
    dana, other = ids["Dana Whitfield"], ids["=HYPERLINK(evil)"]
    content = NudgeContent(
        day=TODAY.isoformat(),
        cards=[
            Card(dana, "Ask Dana about sailing.", CardState.OPEN),
            Card(other, "New on your list.", CardState.OPEN),
        ],
    )
    nudge_id = await seed_nudge(any_store, ADA, content)
    async with any_store.book(ADA) as book:
        assert await book.delete(dana)
    async with any_store.book(ADA, write=False) as book:
        record = await book.nudge(nudge_id)
    assert record is not None
    assert "sailing" not in record.content and "Dana" not in record.content
    assert NudgeContent.from_json(record.content).contact_ids() == [other]
    # A button of the old message for the removed contact is refused.
    outcome = await service.action(ADA_CALLER, Act.CARD_REACHED, f"{nudge_id}:{dana}")
    assert "no longer active" in texts(outcome)


async def test_erase_leaves_no_row_of_the_user_in_any_table(any_store: Store) -> None:
    if isinstance(any_store, MemoryStore):
        pytest.skip("the schema check is about the SQL tables")
    assert isinstance(any_store, SqlStore)
    service = Reconnect(any_store, clock=Clock())
    await seed(service)
    await seed_nudge(any_store, ADA, NudgeContent(day=TODAY.isoformat()))
    await any_store.save_reference(ADA, "a:conv-ada", '{"conversation": {"id": "a:conv-ada"}}')
    confirm = buttons(await service.command(ADA_CALLER, "delete my data"))["Delete everything"]
    await service.action(ADA_CALLER, confirm.action, confirm.value)
    async with any_store.engine.connect() as connection:
        users = (await connection.execute(select(Base.metadata.tables["users"]))).all()
        assert [u.external_id for u in users] == ["U2"]
        bob_id = users[0].id
        for table, where in owned_tables():
            total = await connection.scalar(select(func.count()).select_from(table))
            bobs = await connection.scalar(
                select(func.count()).select_from(table).where(where(bob_id))
            )
            assert total == bobs, table.name


def test_every_table_of_user_data_is_erased_and_exported_or_excused() -> None:
    erased = {table.name for table, _ in owned_tables()}
    assert {"contacts", "conversations", "nudges", "delivery_attempts"} <= erased
    exported = {section.table for section in SECTIONS.values()}
    assert erased == exported | set(NOT_EXPORTED), "add a section or a reason for new tables"


def test_parsing() -> None:
    assert c.parse("delete my data") == c.DeleteMyData()
    assert c.parse("Delete  my DATA.") == c.DeleteMyData()
    assert c.parse("delete Dana") == c.Remove("Dana")
    assert c.parse("export") == c.Export()
    assert c.parse("export vcf and csv") == c.Export(("vcard", "csv"))
    assert c.parse("download json") == c.Export(("json",))
    with pytest.raises(c.CommandError):
        c.parse("export pdf")
    assert c.suggest("exprot") == "export"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Dana", "Dana"),
        ("", ""),
        (None, ""),
    ],
)
def test_formula_cells_are_escaped(cell: str | None, safe: str) -> None:
    assert safe_cell(cell) == safe


def test_csv_quotes_commas_and_newlines() -> None:
    text = csv_text([{"name": "Doe, Jane", "notes": 'said "hi"\nthen left'}])
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[0] == "Doe, Jane" and row[3] == 'said "hi"\nthen left'


# --- the wording, over counts and sections (a small corpus) ------------------------------------


class _Book:
    """Just enough of a ContactBook for the replies: fixed export data."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    async def export_data(self) -> Any:
        from bot.core.ports import UserData

        return UserData({}, {k: [{"n": i} for i in range(n)] for k, n in self.counts.items()})


@pytest.mark.parametrize("n", [0, 1, 2, 1234])
async def test_wording_is_grammatical_for_every_count(n: int) -> None:
    from bot.core import data_rights
    from bot.core.ports import Erased

    counts = {"contacts": n, "conversations": n, "nudges": n, "prompts_seen": n, "new_table": n}
    book: Any = _Book(counts)
    texts_seen = [
        texts(await data_rights.confirm_erase_reply(book, ADA, TODAY, "/reconnect ")),
        texts(await data_rights.export_reply(book, (), TODAY)),
        texts(data_rights.erased_reply(Erased(n, n, n))),
    ]
    for text in texts_seen:
        assert "1 contacts" not in text and "1 logged conversations" not in text
        assert "  " not in text.replace("\n", " ") and " ," not in text and ".." not in text
        assert "{" not in text and "None" not in text
        if n == 1:
            assert "1 contact" in text or "Delete all" in text
        if n == 1234:
            assert "1,234" in text
    confirm = texts_seen[0]
    if n == 0:
        assert "•" in confirm and "0 " not in confirm  # empty sections are not listed
    else:
        assert f"{n:,} new_table record" in confirm
    assert "settings" in confirm


async def test_another_process_erasing_the_user_is_survived(any_store: Store) -> None:
    """A second web process cached the user's row id; after the first erased the user, the
    second's next request starts afresh instead of failing."""
    if isinstance(any_store, MemoryStore):
        pytest.skip("one process only")
    assert isinstance(any_store, SqlStore)
    other = SqlStore(any_store.engine)
    first, second = Reconnect(any_store, clock=Clock()), Reconnect(other, clock=Clock())
    await first.command(ADA_CALLER, "add Dana Whitfield")
    assert "Dana" in texts(await second.command(ADA_CALLER, "list"))  # caches the row id
    confirm = buttons(await first.command(ADA_CALLER, "delete my data"))["Delete everything"]
    await first.action(ADA_CALLER, confirm.action, confirm.value)
    listing = texts(await second.command(ADA_CALLER, "list"))
    assert "You haven't added anyone yet" in listing
    added = texts(await second.command(ADA_CALLER, "add Marcus Chen"))
    assert "Added" in added


async def test_group_roles_are_exported_and_erased_but_the_group_stays(any_store: Store) -> None:
    """A coach or member who deletes their data leaves their groups; the group goes on for
    everyone else, and the export lists the groups joined, coached and wins shared."""
    if isinstance(any_store, MemoryStore):
        pytest.skip("group rows are SQL tables")
    assert isinstance(any_store, SqlStore)
    service = Reconnect(any_store, clock=Clock())
    await seed(service)  # makes both users' rows
    tables = Base.metadata.tables
    async with any_store.engine.begin() as connection:
        ids = dict(
            (
                await connection.execute(
                    select(tables["users"].c.external_id, tables["users"].c.id)
                )
            ).all()
        )
        group = (
            await connection.execute(
                tables["groups"].insert().returning(tables["groups"].c.id),
                {"platform": "slack", "workspace_id": "T1", "channel_id": "C1", "name": "Cohort 7"},
            )
        ).scalar_one()
        await connection.execute(
            tables["group_coaches"].insert(), {"group_id": group, "user_id": ids["U1"]}
        )
        for user in ("U1", "U2"):
            await connection.execute(
                tables["group_members"].insert(),
                {"group_id": group, "user_id": ids[user], "level": "names"},
            )
        await connection.execute(
            tables["group_wins"].insert(),
            {"group_id": group, "user_id": ids["U1"], "week_start": TODAY, "text": "An interview!"},
        )
    async with any_store.book(ADA, write=False) as book:
        data = (await book.export_data()).sections
    assert [g["group"] for g in data["group_memberships"]] == ["Cohort 7"]
    assert data["group_memberships"][0]["sharing_level"] == "names"
    assert [g["group"] for g in data["groups_coached"]] == ["Cohort 7"]
    assert [w["text"] for w in data["group_wins"]] == ["An interview!"]
    async with any_store.book(BOB, write=False) as book:
        bobs = (await book.export_data()).sections
    assert bobs["groups_coached"] == [] and bobs["group_wins"] == []

    confirm = buttons(await service.command(ADA_CALLER, "delete my data"))["Delete everything"]
    await service.action(ADA_CALLER, confirm.action, confirm.value)
    async with any_store.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(tables["groups"])) == 1
        members = (await connection.execute(select(tables["group_members"].c.user_id))).all()
        assert [m.user_id for m in members] == [ids["U2"]]
        for name in ("group_coaches", "group_wins"):
            assert await connection.scalar(select(func.count()).select_from(tables[name])) == 0
