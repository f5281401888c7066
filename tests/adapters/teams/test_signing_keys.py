"""Microsoft's signing keys: forged tokens cost no fetch each, a slow key server queues nothing.

A local key server (port 0) stands in for Microsoft's: it counts requests and can be slow or
failing. Tokens are RS256 JWTs signed by a key it publishes (genuine) or by another (forged).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.teams.signing_keys import SigningKeys
from bot.app import build_app
from bot.settings import Settings, TeamsSettings
from tests.adapters.teams.conftest import TeamsClient
from tests.adapters.teams.test_teams_auth import CREDENTIALS

CLIENT_ID = CREDENTIALS["CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"]
ISSUER = "https://api.botframework.com"
GENUINE_KID = "genuine-key"
_genuine = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class KeyServer:
    """Serves a JWK set holding the genuine public key; ``mode`` is ok, slow or failing."""

    url: str = ""
    requests: int = 0
    mode: str = "ok"
    delay: float = 2.0
    _runner: web.AppRunner | None = field(default=None, repr=False)

    async def keys(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "failing":
            return web.Response(status=503)
        jwk = json.loads(RSAAlgorithm.to_jwk(_genuine.public_key()))
        jwk.update(kid=GENUINE_KID, use="sig", alg="RS256")
        return web.json_response({"keys": [jwk]})


@pytest.fixture
async def key_server() -> AsyncIterator[KeyServer]:
    server = KeyServer()
    app = web.Application()
    app.router.add_get("/keys", server.keys)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}/keys"
    yield server
    await runner.cleanup()


def token(*, kid: str = GENUINE_KID, forged: bool = False) -> str:
    """An RS256 token as the Bot Connector sends, signed by the genuine key or a forger's."""
    now = int(time.time())
    claims = {"aud": CLIENT_ID, "iss": ISSUER, "iat": now, "nbf": now, "exp": now + 600}
    key = _forger if forged else _genuine
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
async def authenticated(
    engine: AsyncEngine, database_url: URL, key_server: KeyServer
) -> AsyncIterator[tuple[TeamsClient, SigningKeys]]:
    """The app with an Entra app configured; its key set URLs all lead to ``key_server``.

    Activities name a service URL outside the allow-list, so a request whose token passes is
    answered 403 by the next check (and nothing tries to reach Microsoft to reply)."""
    settings = Settings(
        database_url=database_url, teams=TeamsSettings(client_id=CLIENT_ID, anonymous=False)
    )
    app = build_app(settings, engine=engine, env=CREDENTIALS)
    assert app.teams is not None
    keys = SigningKeys(timeout=0.5, failure_ttl=30.0, url_for=lambda _: key_server.url)
    app.teams.signing_keys = keys
    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    try:
        async with aiohttp.ClientSession() as http:
            yield TeamsClient(http, url, "https://elsewhere.example"), keys
    finally:
        await runner.cleanup()


async def test_forged_tokens_fetch_the_keys_once_and_a_genuine_one_passes(
    authenticated: tuple[TeamsClient, SigningKeys], key_server: KeyServer
) -> None:
    client, _ = authenticated
    activity = client.activity(text="due")
    forged = [bearer(token(kid=uuid.uuid4().hex, forged=True)) for _ in range(40)]
    statuses = await asyncio.gather(*(client.post(activity, headers=h) for h in forged))
    assert set(statuses) == {401}
    assert key_server.requests == 1  # one shared fetch, then unknown key ids are refused
    # A forged token naming the genuine key id fails on its signature, with no fetch.
    assert await client.post(activity, headers=bearer(token(forged=True))) == 401
    # The genuine token passes authentication (403: its service URL is not allowed).
    assert await client.post(activity, headers=bearer(token())) == 403
    assert key_server.requests == 1


async def test_a_slow_key_server_times_out_once_and_queues_nobody(
    authenticated: tuple[TeamsClient, SigningKeys], key_server: KeyServer
) -> None:
    client, _ = authenticated
    key_server.mode = "slow"
    activity = client.activity(text="due")
    started = time.monotonic()
    statuses = await asyncio.gather(
        *(client.post(activity, headers=bearer(token(kid=f"k{n}"))) for n in range(20))
    )
    assert set(statuses) == {401}
    assert time.monotonic() - started < 1.5  # the 0.5 s timeout, not 20 × 2 s behind a lock
    assert key_server.requests == 1
    # The failure is remembered: the next tokens are refused at once, without a fetch.
    started = time.monotonic()
    assert await client.post(activity, headers=bearer(token())) == 401
    assert time.monotonic() - started < 0.3
    assert key_server.requests == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_key_sets_expire_refresh_rarely_and_outlive_an_outage(key_server: KeyServer) -> None:
    clock = Clock()
    keys = SigningKeys(
        timeout=0.5,
        lifespan=3600,
        refresh_interval=60,
        failure_ttl=30,
        url_for=lambda _: key_server.url,
        clock=clock,
    )
    uri = "https://login.botframework.com/v1/.well-known/keys"
    header: dict[str, Any] = {"kid": GENUINE_KID, "alg": "RS256"}
    assert (await keys.get_signing_key(uri, header)).key_id == GENUINE_KID
    await keys.get_signing_key(uri, header)
    assert key_server.requests == 1
    with pytest.raises(jwt.PyJWKClientError):
        await keys.get_signing_key(uri, {"kid": "rotated"})
    assert key_server.requests == 1  # fetched moments ago: no refetch for an unknown key id
    clock.now += 61
    with pytest.raises(jwt.PyJWKClientError):
        await keys.get_signing_key(uri, {"kid": "rotated"})
    assert key_server.requests == 2  # a minute later one refetch may find a new key
    # The set expires while the key server is down: its keys still verify, fetched once.
    key_server.mode = "failing"
    clock.now += 3600
    assert (await keys.get_signing_key(uri, header)).key_id == GENUINE_KID
    assert (await keys.get_signing_key(uri, header)).key_id == GENUINE_KID
    assert key_server.requests == 3
    # The server is back after the failure is forgotten: a fresh set.
    key_server.mode = "ok"
    clock.now += 31
    await keys.get_signing_key(uri, header)
    assert key_server.requests == 4
    with pytest.raises(jwt.PyJWKClientError):
        await keys.get_signing_key(uri, {})
