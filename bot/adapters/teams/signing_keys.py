"""Microsoft's token signing keys, fetched rarely, with a timeout, and never in a queue.

The Agents SDK's validator asks a ``PyJWKClient`` per key set URL for each token, behind one
thread lock per URL. A token naming a key id the client has not seen makes it fetch the whole
key set again, so every well-formed forged token (any ``kid`` will do) cost a fetch from
Microsoft, failures were not remembered, and all Teams traffic waited behind the lock while a
slow key server answered. :class:`SigningKeys` takes the SDK's place (same
``get_signing_key(jwks_uri, header)`` shape, handed to the validator in
:mod:`bot.adapters.teams.web`):

- a key set is kept for :attr:`lifespan` seconds; a known key id is answered from memory, with
  no lock and no thread;
- an unknown key id refetches the set at most once per :attr:`refresh_interval` (Microsoft
  rotates keys rarely and publishes new ones well before use); within that interval it is
  refused at once;
- a fetch has a :attr:`timeout`; a failed fetch is remembered for :attr:`failure_ttl` seconds
  (during which tokens are refused without a fetch), and a set that went stale while the key
  server is down is still used for the key ids it holds;
- concurrent callers that need the same fetch share it (one request to the key server), and
  callers whose key is cached never wait for it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from jwt import PyJWK, PyJWKClientError, PyJWKSet
from jwt.exceptions import PyJWKSetError

log = structlog.get_logger(__name__)

#: Microsoft's key sets are a few KB; refuse to buffer anything much larger.
MAX_KEY_SET_BYTES = 512 * 1024


@dataclass(slots=True)
class _KeySet:
    keys: dict[str, PyJWK]
    fetched_at: float


@dataclass
class SigningKeys:
    """A cache of JSON Web Key sets by URL; see the module docstring for the rules."""

    #: Seconds a fetch may take before it counts as failed.
    timeout: float = 5.0
    #: Seconds a fetched key set is used before it is fetched again.
    lifespan: float = 3600.0
    #: Least seconds between two fetches of one set for key ids it does not hold.
    refresh_interval: float = 60.0
    #: Seconds a failed fetch is remembered (tokens needing a fetch are refused meanwhile).
    failure_ttl: float = 30.0
    #: Where to fetch a key set URL from (tests point Microsoft's URLs at a local server).
    url_for: Callable[[str], str] = field(default=lambda url: url)
    clock: Callable[[], float] = field(default=time.monotonic)
    _sets: dict[str, _KeySet] = field(default_factory=dict, init=False, repr=False)
    _failed_at: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _fetching: dict[str, asyncio.Task[dict[str, PyJWK]]] = field(
        default_factory=dict, init=False, repr=False
    )

    async def get_signing_key(self, jwks_uri: str, header: Mapping[str, Any]) -> PyJWK:
        """The key ``header["kid"]`` names in the set at ``jwks_uri``; raises
        :class:`jwt.PyJWKClientError` (the validator answers 401) when there is none."""
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise PyJWKClientError("token has no key id")
        now = self.clock()
        cached = self._sets.get(jwks_uri)
        if cached is not None and now - cached.fetched_at < self.lifespan:
            key = cached.keys.get(kid)
            if key is not None:
                return key
            if now - cached.fetched_at < self.refresh_interval:
                # Fetched moments ago and the key isn't there: a forged or foreign token.
                raise PyJWKClientError("unknown key id")
        failed_at = self._failed_at.get(jwks_uri)
        if failed_at is not None and now - failed_at < self.failure_ttl:
            return self._stale(cached, kid)
        try:
            keys = await self._fetch_once(jwks_uri)
        except PyJWKClientError:
            return self._stale(cached, kid)
        key = keys.get(kid)
        if key is None:
            raise PyJWKClientError("unknown key id")
        return key

    def _stale(self, cached: _KeySet | None, kid: str) -> PyJWK:
        """While the key server fails, keys from an expired set still verify (Microsoft
        announces a key long before it signs with it, and keeps it long after)."""
        key = cached.keys.get(kid) if cached is not None else None
        if key is None:
            raise PyJWKClientError("signing keys unavailable")
        return key

    async def _fetch_once(self, jwks_uri: str) -> dict[str, PyJWK]:
        """Fetch ``jwks_uri``, sharing one fetch among concurrent callers."""
        task = self._fetching.get(jwks_uri)
        if task is None or task.done():
            task = asyncio.ensure_future(self._fetch(jwks_uri))
            self._fetching[jwks_uri] = task
            task.add_done_callback(lambda done: self._forget(jwks_uri, done))
        # shield: one caller giving up (its request cancelled) must not cancel the others' fetch.
        return await asyncio.shield(task)

    def _forget(self, jwks_uri: str, task: asyncio.Task[dict[str, PyJWK]]) -> None:
        if self._fetching.get(jwks_uri) is task:
            del self._fetching[jwks_uri]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is not logged as lost

    async def _fetch(self, jwks_uri: str) -> dict[str, PyJWK]:
        started = self.clock()
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.get(self.url_for(jwks_uri), allow_redirects=False) as response,
            ):
                if response.status != 200:
                    raise ValueError(f"status {response.status}")
                raw = await response.content.read(MAX_KEY_SET_BYTES + 1)
                if len(raw) > MAX_KEY_SET_BYTES:
                    raise ValueError("key set too large")
            data = _json(raw)
            key_set = PyJWKSet.from_dict(data)
        except (TimeoutError, aiohttp.ClientError, ValueError, PyJWKSetError) as exc:
            self._failed_at[jwks_uri] = self.clock()
            log.warning("teams.signing_keys_failed", error=type(exc).__name__)
            raise PyJWKClientError("signing keys unavailable") from exc
        keys = {key.key_id: key for key in key_set.keys if key.key_id}
        self._sets[jwks_uri] = _KeySet(keys, self.clock())
        self._failed_at.pop(jwks_uri, None)
        log.info("teams.signing_keys_fetched", keys=len(keys), ms=_ms(self.clock() - started))
        return keys


def _json(raw: bytes) -> dict[str, Any]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("key set is not an object")
    return data


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
