"""The soak's identity provider: a JWKS server whose key set rotates the way Auth0's does, and that fails on demand.

A rotation is three steps, each a separate event of the schedule: the next key is published beside the signing key
(pre-publish), tokens are then signed with it (switch), and the previous key leaves the set (retire). Tokens of a
key are only minted while it signs, so a valid token's key is always published. Outages are HTTP 500s or hangs
(answers held past the filter's callout timeout). Every fetch is recorded with its arrival time and outcome.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from harness.jwks_server import JwksServer
from harness.keys import SigningKey, claims, make_token, rsa_key

ISSUER = "https://soak.tenant.test/"
ROTATION_STEPS = ("prepublish", "switch", "retire")


@dataclass(frozen=True, slots=True)
class Fetch:
    """One JWKS request: when it arrived (time.monotonic()) and how it was answered ("ok", "500" or "hang")."""

    at: float
    outcome: str


class RecordingJwks(JwksServer):
    """A JwksServer that remembers every fetch and the outage it met."""

    def __init__(self):
        self._fetch_lock = threading.Lock()
        self._fetches: list[Fetch] = []
        self.outage: str | None = None  # "500", "hang" or None
        super().__init__()

    def _on_request(self, path: str, host: str):
        with self._fetch_lock:
            self._fetches.append(Fetch(time.monotonic(), self.outage or "ok"))
        return super()._on_request(path, host)

    def fetches(self) -> list[Fetch]:
        """Every fetch so far, oldest first."""
        with self._fetch_lock:
            return list(self._fetches)


class RotatingIdp:
    """The key set and token minting of one Auth0-like tenant. Tokens are RS256 (Auth0's default), minted in pools per
    (key, audience, scope) and handed out round-robin, so the filter's token cache sees a few hundred distinct
    tokens rather than one or a new one per request."""

    def __init__(self, callout_timeout_s: float, pool_size: int = 24, ttl_s: int = 7200):
        self.server = RecordingJwks()
        self._timeout_s = callout_timeout_s
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        self.signing: SigningKey = self._new_key()
        self.next: SigningKey | None = None
        self._pools: dict[tuple, itertools.cycle] = {}
        self._pool_size = pool_size
        self._ttl_s = ttl_s
        self._step = itertools.cycle(ROTATION_STEPS)
        self._publish()

    def _new_key(self) -> SigningKey:
        return rsa_key(f"soak-key-{next(self._serial)}")

    def _publish(self) -> None:
        self.server.publish(*[k for k in (self.signing, self.next) if k is not None])

    def rotate(self) -> str:
        """The next rotation step; returns a line describing it."""
        step = next(self._step)
        with self._lock:
            if step == "prepublish":
                self.next = self._new_key()
                self._publish()
                return f"pre-published {self.next.kid} beside {self.signing.kid}"
            if step == "switch":
                old = self.signing
                self.signing, self.next = self.next, old
                return f"signing with {self.signing.kid} ({old.kid} still published)"
            old, self.next = self.next, None
            self._publish()
            return f"retired {old.kid}"

    def token(self, audience: str, scope: str = "") -> tuple[str, str]:
        """A valid token (kid, token) of the signing key for `audience` with `scope` ("" for none)."""
        with self._lock:
            key = self.signing
        pool_key = (key.kid, audience, scope)
        pool = self._pools.get(pool_key)
        if pool is None:
            tokens = [make_token(key, claims(ISSUER, audience, ttl=self._ttl_s, sub=f"auth0|soak-{i}",
                                             scope=scope or None)) for i in range(self._pool_size)]
            pool = self._pools.setdefault(pool_key, itertools.cycle(tokens))
        return key.kid, next(pool)

    def expired_token(self, audience: str) -> str:
        """A token of the signing key that expired an hour ago."""
        with self._lock:
            key = self.signing
        now = int(time.time())
        return make_token(key, claims(ISSUER, audience, iat=now - 7200, exp=now - 3600))

    def fail(self, kind: str) -> None:
        """Start an outage: "500" (every fetch answered 500) or "hang" (answers held past the callout timeout)."""
        self.server.outage = kind
        if kind == "500":
            self.server.fail("status", status=500)
        else:
            self.server.delay(self._timeout_s + 2.0)

    def heal(self) -> None:
        """End the outage."""
        self.server.heal()
        self.server.outage = None
