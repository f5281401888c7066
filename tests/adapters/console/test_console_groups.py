"""The console has no channels: ``group`` lists the console user's groups (a group made in a
channel elsewhere, on the same database), with its buttons; creating and joining say where
they happen."""

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups.levels import SharingLevel
from bot.core.model import UserRef
from bot.core.service import Reconnect
from storage.groups import SqlGroups
from storage.repository import SqlStore
from tests.adapters.console.test_console import run
from tests.support import Clock


async def test_group_in_the_console(engine: AsyncEngine) -> None:
    groups = SqlGroups(engine)
    service = Reconnect(SqlStore(engine), clock=Clock(), groups=groups)
    group, _ = await groups.create("C1", "Spring cohort", UserRef("console", "local", "coach"))
    ada = UserRef("console", "local", "ada")
    await groups.join(group.id, ada, SharingLevel.NAMES)
    output = await run(service, ["group create X", "group", "2", "group", "quit"])
    assert "Groups live in channels" in output
    assert "Spring cohort — you share: numbers and names." in output
    assert "You left Spring cohort" in output  # button 2: Leave the group
    assert "You're not in any group" in output
    assert await groups.places(ada) == []


async def test_practice_buddies_in_the_console(engine: AsyncEngine) -> None:
    groups = SqlGroups(engine)
    service = Reconnect(SqlStore(engine), clock=Clock(), groups=groups)
    group, _ = await groups.create("C1", "Spring cohort", UserRef("console", "local", "coach"))
    ada = UserRef("console", "local", "ada")
    await groups.join(group.id, ada, SharingLevel.NUMBERS)
    output = await run(service, ["group", "3", "group buddies", "group buddies off", "quit"])
    assert "You're in for practice buddies in Spring cohort" in output  # button 3
    assert "Practice buddies: you're in, in Spring cohort" in output
    assert "Practice buddies are off for you in Spring cohort" in output
    [place] = await groups.places(ada)
    assert not place.buddies
