"""Malformed, oversized and hostile requests on /api/messages: refused before the SDK or the
database sees them, with a 4xx and never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams.inbound import service_url_allowed
from bot.app import build_app
from bot.core.views import SORRY
from bot.settings import ConfigError, Settings, TeamsSettings, service_url_origins
from storage.models import ContactRow, ConversationRef, User
from tests.adapters.teams.conftest import TeamsClient
from tests.adapters.teams.test_teams_auth import CREDENTIALS
from tests.adapters.teams.test_teams_http import card_text
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.support import contacts_table_gone

CLIENT_ID = CREDENTIALS["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def token(header: dict[str, Any]) -> str:
    payload = {"iss": "https://api.botframework.com", "aud": CLIENT_ID, "exp": 4102444800}
    return f"{_b64(header)}.{_b64(payload)}.c2lnbmF0dXJl"


@pytest.fixture
async def signed(
    engine: AsyncEngine, database_url: URL, connector: FakeTeamsConnector
) -> AsyncIterator[TeamsClient]:
    """The app with an Entra app configured: every request needs a valid token."""
    allowed = service_url_origins(connector.base_url)
    teams = TeamsSettings(client_id=CLIENT_ID, anonymous=False, allowed_service_urls=allowed)
    settings = Settings(database_url=database_url, teams=teams)
    app = build_app(settings, engine=engine, env=CREDENTIALS)
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
            yield TeamsClient(http, url, connector.service_url)
    finally:
        await runner.cleanup()


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_token_without_kid_or_not_rs256_is_401_not_500(
    signed: TeamsClient, connector: FakeTeamsConnector
) -> None:
    activity = signed.activity(text="due")
    for header in ({"alg": "RS256", "typ": "JWT"}, {"alg": "RS256", "kid": 7}):
        bearer = {"Authorization": f"Bearer {token(header)}"}
        assert await signed.post(activity, headers=bearer) == 401, header
    hs256 = {"Authorization": f"Bearer {token({'alg': 'HS256', 'kid': 'k'})}"}
    assert await signed.post(activity, headers=hs256) == 401
    assert connector.calls == []


@pytest.mark.parametrize(
    "service_url",
    [None, "", "not a url", "ftp://127.0.0.1/", "http://[::1", 42],
)
async def test_a_missing_or_invalid_service_url_is_400(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine, service_url: Any
) -> None:
    activity = teams.activity(text="add Dana")
    if service_url is None:
        del activity["serviceUrl"]
    else:
        activity["serviceUrl"] = service_url
    assert await teams.post(activity) == 400
    assert connector.calls == []
    assert await count(engine, User) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"conversation": {"conversationType": "personal", "id": "a:" + "x" * 254}},
        {"from": {"id": "29:ada", "aadObjectId": "a" * 256}},
        {"from": {"id": "29:" + "x" * 253}},
        {"conversation": {"conversationType": "personal", "id": "a:1", "tenantId": "t" * 65}},
        {"channelData": {"tenant": {"id": "t" * 65}}},
        {"conversation": {"conversationType": "personal"}},
    ],
)
async def test_ids_longer_than_the_columns_are_400_before_storage(
    teams: TeamsClient,
    connector: FakeTeamsConnector,
    engine: AsyncEngine,
    change: dict[str, Any],
) -> None:
    activity = teams.activity(text="add Dana", **change)
    assert await teams.post(activity) == 400
    assert connector.calls == []
    assert await count(engine, User) == 0
    assert await count(engine, ConversationRef) == 0


async def test_a_user_known_only_by_a_long_channel_account_id_is_answered_and_stored(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    # No Entra object id (the Emulator, some channels): Teams' 29:… account ids run to 80+.
    account = (
        "29:1" + "bSnHZ7Js2STWrgk6ScEErLk1Lp2zQuD5H2qQ960rtvstKp8tHVhNvc93BJvVKkLJn6fGVhfD" * 2
    )
    activity = teams.activity(text="add Dana", **{"from": {"id": account, "name": "Ada"}})
    assert await teams.post(activity) in (200, 202)
    [reply] = await connector.async_wait_for("reply")
    assert "Added **Dana**" in card_text(reply.card)
    async with engine.connect() as connection:
        ids = (await connection.execute(select(User.external_id))).scalars().all()
    assert ids == [account]


@pytest.mark.parametrize("zone", ["America", "Europe", "x" * 300, "../../etc/passwd", "Mars/Base"])
async def test_a_time_zone_that_is_not_an_iana_zone_is_ignored_and_the_user_answered(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine, zone: str
) -> None:
    assert await teams.say("add Dana") in (200, 202)
    await connector.async_wait_for("reply")
    entities = [{"type": "clientInfo", "locale": "en-US", "timezone": zone}]
    activity = teams.activity(text="due", localTimezone=zone, entities=entities)
    assert await teams.post(activity) in (200, 202)
    replies = await connector.async_wait_for("reply", 2)
    assert replies[1].text != SORRY and replies[1].card  # the due list, not an error
    async with engine.connect() as connection:
        zones = (await connection.execute(select(User.timezone))).scalars().all()
    assert zones == ["Europe/Berlin"]  # the zone it had stays


@pytest.mark.parametrize(
    "bad",
    [
        {"name": {"first": "Dana"}},
        {"name": ["Dana"]},
        {"name": 42},
        {"notes": True},
        {"cadence": {"$gt": ""}},
        {"ctx": ["x"]},
    ],
)
async def test_a_submission_with_non_text_fields_gets_a_friendly_reply(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine, bad: dict[str, Any]
) -> None:
    await teams.say("add")
    [form] = await connector.async_wait_for("reply")
    submit = form.card["actions"][0]["data"]
    value = {**submit, "name": "Dana", "cadence": "2 months", **bad}
    assert await teams.submit(value, reply_to="form-1") in (200, 202)
    replies = await connector.async_wait_for("reply", 2)
    assert "couldn't read that form" in card_text(replies[1].card)
    assert await count(engine, ContactRow) == 0


async def test_nul_bytes_and_lone_surrogates_are_stripped_not_stored(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add")
    [form] = await connector.async_wait_for("reply")
    submit = form.card["actions"][0]["data"]
    value = {**submit, "name": "Da\x00na\ud800", "notes": "sails\udfff\x00", "cadence": "2 months"}
    assert await teams.submit(value, reply_to="form-1") in (200, 202)
    [update] = await connector.async_wait_for("update")
    assert "Added **Dana**" in card_text(update.card)
    assert await teams.say("add Zo\x00ë\ud83d Ó Briain") in (200, 202)
    replies = await connector.async_wait_for("reply", 2)
    assert "Added **Zoë Ó Briain**" in card_text(replies[1].card)
    async with engine.connect() as connection:
        names = sorted(r.name for r in (await connection.execute(select(ContactRow))).all())
    assert names == ["Dana", "Zoë Ó Briain"]


@pytest.mark.parametrize(
    "service_url",
    [
        "https://attacker.example/",
        "http://smba.trafficmanager.net/teams/",  # Microsoft's host, but not over https
        "https://smba.trafficmanager.net.attacker.example/",
        "https://botframework.com.attacker.example/",
        "http://10.0.0.5:3978/",
    ],
)
async def test_a_service_url_outside_microsoft_and_the_setting_is_403_and_stores_nothing(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine, service_url: str
) -> None:
    activity = teams.activity(text="add Dana", serviceUrl=service_url)
    assert await teams.post(activity) == 403
    install = teams.activity(type="installationUpdate", action="add", serviceUrl=service_url)
    assert await teams.post(install) == 403
    assert await count(engine, User) == 0
    assert await count(engine, ConversationRef) == 0
    assert connector.calls == []


def test_microsoft_hosts_the_setting_and_anonymous_loopback_are_allowed() -> None:
    allowed = ("http://emulator.test:3978",)
    for url in (
        "https://smba.trafficmanager.net/teams/",
        "https://smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net/emea/",
        "https://europe.webchat.botframework.com/",
        "https://SMBA.infra.gcc.teams.microsoft.com/teams",
        "https://smba.infra.gov.teams.microsoft.us/teams",
        "http://emulator.test:3978/",
    ):
        assert service_url_allowed(url, allowed, anonymous=False), url
    for url in ("http://127.0.0.1:1234/", "http://localhost:3978/", "http://[::1]:80/"):
        assert service_url_allowed(url, allowed, anonymous=True), url
        assert not service_url_allowed(url, allowed, anonymous=False), url
    for url in (
        "http://emulator.test:3979/",
        "https://emulator.test:3978/",
        "https://evil.example/smba.trafficmanager.net",
        "https://user@attacker.example/",
        "https://botframework.com.evil.example/",
        "https://smba.trafficmanager.net:8443/teams/",
        "https://botframework.com/",
    ):
        assert not service_url_allowed(url, allowed, anonymous=True), url


def test_the_allowed_service_urls_setting_is_validated() -> None:
    base = {"DATABASE_URL": "sqlite:///data/reconnect.sqlite3", **CREDENTIALS}
    raw = " http://LOCALHOST:3978 , https://emulator.test/ "
    settings = Settings.from_env({**base, "TEAMS_ALLOWED_SERVICE_URLS": raw})
    assert settings.teams is not None
    assert settings.teams.allowed_service_urls == ("http://localhost:3978", "https://emulator.test")
    for bad in ("localhost:3978", "ftp://x", "https://x/path", "http://x:port"):
        with pytest.raises(ConfigError, match="TEAMS_ALLOWED_SERVICE_URLS"):
            Settings.from_env({**base, "TEAMS_ALLOWED_SERVICE_URLS": bad})


@pytest.mark.parametrize(
    "change",
    [
        {"from": {"id": "29:ada", "aadObjectId": "aad-ada", "name": "Ada\ud800"}},
        {"conversation": {"conversationType": "personal", "id": "a:personal-ada\x00"}},
        {"from": {"id": "29:ada", "aadObjectId": "aad-\x00ada"}},
    ],
)
async def test_nul_or_lone_surrogates_in_ids_and_names_are_400(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine, change: dict[str, Any]
) -> None:
    assert await teams.post(teams.activity(text="add Dana", **change)) == 400
    assert await count(engine, User) == 0
    assert connector.calls == []


# --- a turn that fails on our side ---------------------------------------------------------------


async def test_a_message_whose_turn_fails_gets_a_sorry_and_one_log_line(
    teams: TeamsClient,
    connector: FakeTeamsConnector,
    engine: AsyncEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await teams.say("add Dana Whitfield")
    await connector.async_wait_for("reply")
    capsys.readouterr()
    async with contacts_table_gone(engine):
        assert await teams.say("due") in (200, 202)
        replies = await connector.async_wait_for("reply", 2)
    assert replies[1].text == SORRY
    assert "Traceback" not in (replies[1].text or "")
    lines = [line for line in capsys.readouterr().out.splitlines() if "turn_error" in line]
    assert len(lines) == 1 and "error=" in lines[0], lines


async def test_a_card_submission_whose_turn_fails_gets_a_sorry(
    teams: TeamsClient, connector: FakeTeamsConnector, engine: AsyncEngine
) -> None:
    await teams.say("add")
    [form] = await connector.async_wait_for("reply")
    value = {**form.card["actions"][0]["data"], "name": "Dana", "cadence": "2 months"}
    async with contacts_table_gone(engine):
        assert await teams.submit(value, reply_to="form-1") in (200, 202)
        replies = await connector.async_wait_for("reply", 2)
    assert replies[1].text == SORRY
    assert await count(engine, ContactRow) == 0


async def test_each_refusal_logs_one_line_with_its_reason_and_no_traceback(
    signed: TeamsClient, teams: TeamsClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    no_kid = {"Authorization": f"Bearer {token({'alg': 'RS256', 'typ': 'JWT'})}"}
    assert await signed.post(signed.activity(text="due"), headers=no_kid) == 401
    assert await teams.post(teams.activity(text="due", serviceUrl="not a url")) == 400
    long_id = {"conversation": {"conversationType": "personal", "id": "a:" + "x" * 300}}
    assert await teams.post(teams.activity(text="due", **long_id)) == 400
    out = capsys.readouterr().out
    assert "Traceback" not in out
    refusals = [line for line in out.splitlines() if "teams.refused" in line]
    assert len(refusals) == 3, out
    assert all("reason=" in line for line in refusals)
    assert "x" * 40 not in out  # the refused id itself is not logged
