"""Fetching a platform's public keys (its JWKS URL) with a short time-out, cached per URL.

A launch signed with a ``kid`` the cached set lacks fetches the set again once (the platform
rotated its key); a failed fetch is a :class:`PlatformCallFailed` naming the URL and the cause.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from microcred.lti.errors import PlatformCallFailed
from microcred.lti.tokens import KeySet

FETCH_TIMEOUT_SECONDS = 5.0
CACHE_SECONDS = 300.0
MAX_JWKS_BYTES = 256 * 1024


@dataclass(frozen=True)
class _Cached:
    keys: KeySet
    fetched_at: float


class JwksCache:
    """Key sets by URL, kept ``ttl`` seconds; thread-safe (web workers share one)."""

    def __init__(
        self,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self.ttl, self.clock, self.timeout = ttl, clock, timeout
        self._sets: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def keys(self, url: str, *, kid: str | None = None) -> KeySet:
        """The key set at ``url``: from the cache while fresh and, when ``kid`` is given, while
        it holds that key; fetched otherwise."""
        with self._lock:
            cached = self._sets.get(url)
        if (
            cached is not None
            and self.clock() - cached.fetched_at < self.ttl
            and (kid is None or kid in cached.keys.keys)
        ):
            return cached.keys
        keys = fetch(url, self.timeout)
        with self._lock:
            self._sets[url] = _Cached(keys, self.clock())
        return keys

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()


def fetch(url: str, timeout: float = FETCH_TIMEOUT_SECONDS) -> KeySet:
    try:
        response = httpx.get(url, timeout=timeout, headers={"Accept": "application/json"})
    except httpx.TimeoutException:
        raise PlatformCallFailed(
            f"The platform's JWKS at {url} did not answer within {timeout:g} seconds."
        ) from None
    except httpx.HTTPError as error:
        raise PlatformCallFailed(
            f"The platform's JWKS at {url} could not be fetched: {error}."
        ) from None
    if response.status_code != 200:
        raise PlatformCallFailed(
            f"The platform's JWKS at {url} answered HTTP {response.status_code}."
        )
    if len(response.content) > MAX_JWKS_BYTES:
        raise PlatformCallFailed(f"The platform's JWKS at {url} is larger than 256 KiB.")
    try:
        document = response.json()
    except ValueError:
        raise PlatformCallFailed(f"The platform's JWKS at {url} is not JSON.") from None
    return KeySet.from_jwks(document)


JWKS_CACHE = JwksCache()
"""The process's cache (tests clear it)."""
