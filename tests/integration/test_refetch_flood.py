"""A sustained flood of tokens with forged `kid`s, in real Envoy: each refetch that finds no new key doubles the
provider's refetch cooldown up to refresh_interval_s, so the JWKS fetches stay bounded (counted at the JWKS server);
and a rotation the IdP pre-publishes (the next key in the JWKS before any token uses it, as Auth0 does) is picked up
by the scheduled refresh and never answered 401, even during the flood."""

from __future__ import annotations

import threading
import time
import uuid

from harness.keys import claims, ec_key, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

ISSUER = issuer_of("prod")
COOLDOWN_S = 1
REFRESH_S = 8
FLOOD_S = 20


def token(key, **header) -> str:
    return make_token(key, claims(ISSUER, AUDIENCE), header or None)


def most_refetches(elapsed_s: float) -> int:
    """Refetches the doubling allows in `elapsed_s`: one at once (which finds nothing new, so the cooldown doubles
    at once), then after 2, 4, 8, 8, ... seconds."""
    count, at, cooldown = 1, 0.0, min(2 * COOLDOWN_S, REFRESH_S)
    while at + cooldown <= elapsed_s:
        at += cooldown
        count += 1
        cooldown = min(cooldown * 2, REFRESH_S)
    return count


class Flood:
    """Forged tokens (a key the IdP never published, a fresh kid each time), about 50 a second from a thread."""

    def __init__(self, envoy):
        self.envoy = envoy
        self.forger = ec_key("forged")
        self.sent = 0
        self.unexpected: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            status = self.envoy.get("/api", token=token(self.forger, kid=uuid.uuid4().hex)).status
            self.sent += 1
            if status != 401:
                self.unexpected.append(status)
            time.sleep(0.02)

    def __enter__(self) -> Flood:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_forged_kid_flood_fetches_are_bounded_and_a_prepublished_rotation_gives_no_401(launch, fresh_jwks, keys):
    current, upcoming = keys.rs256, keys.rs256_next
    fresh_jwks.publish(current)
    envoy = launch(plugin(provider("prod", refresh_interval_s=REFRESH_S, refetch_cooldown_s=COOLDOWN_S)),
                   clusters={"jwks": fresh_jwks.port})
    assert envoy.get("/api", token=token(current)).status == 200
    fresh_jwks.wait_quiet(1.5)

    before = fresh_jwks.hits()
    started = time.monotonic()
    legit: list[int] = []
    with Flood(envoy) as flood:
        while time.monotonic() - started < FLOOD_S:
            legit.append(envoy.get("/api", token=token(current)).status)
            time.sleep(0.2)
    elapsed = time.monotonic() - started
    fetches = fresh_jwks.hits() - before

    assert flood.sent >= 2 * FLOOD_S, f"precondition: a sustained flood ({flood.sent} forged requests)"
    assert flood.unexpected == [], "forged tokens must get 401"
    assert set(legit) == {200}, "tokens of the published key are served throughout"
    # Refetches by the doubling, plus scheduled refreshes (every REFRESH_S - 10 % at the soonest), plus one for a
    # fetch that straddles the start. With a fixed cooldown it would be one refetch per second: about FLOOD_S.
    bound = most_refetches(elapsed) + int(elapsed / (REFRESH_S * 0.9)) + 1
    assert 3 <= fetches <= bound, f"{fetches} JWKS fetches in {elapsed:.1f} s of flood, want 3..{bound}"
    assert fetches < elapsed / COOLDOWN_S / 2

    # The IdP publishes its next key before signing with it; the flood goes on.
    with Flood(envoy) as flood:
        fetched = envoy.metric("jwt_guard.jwks_fetch_success.prod")
        fresh_jwks.publish(current, upcoming)
        envoy.wait_metric("jwt_guard.jwks_fetch_success.prod", fetched + 1, timeout=REFRESH_S * 3)
        deadline = time.monotonic() + 5
        while envoy.metric("jwt_guard.jwks_keys.prod") != 2:  # every worker holds the new set
            assert time.monotonic() < deadline, "the refreshed key set did not reach the workers"
            time.sleep(0.1)
        # Then the IdP starts signing with it.
        statuses = [envoy.get("/api", token=token(upcoming)).status for _ in range(20)]
        statuses += [envoy.get("/api", token=token(current)).status for _ in range(5)]
    assert statuses == [200] * 25, statuses
    assert flood.unexpected == []
