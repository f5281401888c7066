"""The store contract for openers, prep and reflection: preferred names, a contact's history and
"learned:" added to today's conversation — on memory, SQLite and PostgreSQL."""

from datetime import timedelta

from bot.core.model import ContactDraft, Conversation
from bot.core.ports import Store
from tests.core import test_store_contract as contract
from tests.core.test_store_contract import ADA, BOB, TODAY, add

# The contract's fixtures: each store, and a database of each kind for this module.
any_store = contract.any_store
sqlite_url = contract.sqlite_url
postgresql_url = contract.postgresql_url


async def test_the_preferred_name_is_kept_and_edited(any_store: Store) -> None:
    okafor = await add(any_store, ADA, "Dr. Amara Okafor", preferred_name="Amara")
    async with any_store.book(ADA) as book:
        contact = await book.get(okafor)
        assert contact is not None and contact.preferred_name == "Amara"
        assert contact.first_name == "Amara"
        contact.apply(ContactDraft(name=contact.name, preferred_name=""))
        await book.save(contact)
    async with any_store.book(ADA, write=False) as book:
        again = await book.get(okafor)
        assert again is not None and again.preferred_name == ""
        assert again.first_name == "Dr. Okafor"
        assert [c.preferred_name for c in await book.page(offset=0, limit=5)] == [""]


async def test_history_is_newest_first_and_the_owners_only(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    secret = await add(any_store, BOB, "Dana")
    async with any_store.book(ADA) as book:
        await book.log(Conversation(dana, TODAY - timedelta(days=30), "old", "kids"))
        await book.log(Conversation(dana, TODAY, "new"))
        await book.log(Conversation(dana, TODAY - timedelta(days=2), kind="outreach"))
    async with any_store.book(BOB) as book:
        await book.log(Conversation(secret, TODAY, "bob's"))
    async with any_store.book(ADA, write=False) as book:
        history = await book.history(dana, limit=5)
        assert [(c.note, c.kind) for c in history] == [
            ("new", "conversation"),
            ("", "outreach"),
            ("old", "conversation"),
        ]
        assert history[2].learned == "kids"
        assert len(await book.history(dana, limit=1)) == 1
        assert await book.history(secret, limit=5) == []  # another owner's contact


async def test_learned_goes_to_todays_latest_conversation_once(any_store: Store) -> None:
    dana = await add(any_store, ADA, "Dana")
    secret = await add(any_store, BOB, "Sam")
    async with any_store.book(ADA) as book:
        assert await book.add_learned(dana, TODAY, "nothing to add to") is False
        await book.log(Conversation(dana, TODAY - timedelta(days=1), "yesterday"))
        await book.log(Conversation(dana, TODAY, kind="outreach"))
        assert await book.add_learned(dana, TODAY, "not an outreach") is False
        await book.log(Conversation(dana, TODAY, "coffee"))
        assert await book.add_learned(dana, TODAY, "training for a regatta") is True
        assert await book.add_learned(dana, TODAY, "a second time") is False
    async with any_store.book(BOB) as book:
        await book.log(Conversation(secret, TODAY, "lunch"))
    async with any_store.book(ADA) as book:
        assert await book.add_learned(secret, TODAY, "not mine") is False
        history = await book.history(dana, limit=5)
        assert [c.learned for c in history if c.note == "coffee"] == ["training for a regatta"]
        assert [c.learned for c in history if c.note == "yesterday"] == [""]
        assert await book.count_conversations() == 3
    async with any_store.book(BOB, write=False) as book:
        assert [c.learned for c in await book.history(secret, limit=5)] == [""]
