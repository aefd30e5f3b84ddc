"""With several workers, the whole Envoy process fetches each JWKS once per refresh interval."""

from __future__ import annotations

import re
import threading
import time

from harness.http_client import request
from harness.keys import claims, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

REFRESH_S = 2
WINDOW_S = 3 * REFRESH_S + 0.5
CLIENTS = 4
WORKER_CONNECTIONS = re.compile(r"^listener\.127\.0\.0\.1_\d+\.worker_\d+\.downstream_cx_total$")


def _hammer(port: int, token: str, until: float, statuses: list[int]) -> None:
    while time.monotonic() < until:
        statuses.append(request(port, "/api", [("authorization", f"Bearer {token}")]).status)


def test_one_fetch_per_refresh_for_two_workers(launch, jwks_server, keys):
    jwks_server.publish(keys.rs256)
    config = plugin(provider("prod", refresh_interval_s=REFRESH_S, refetch_cooldown_s=30))
    envoy = launch(config, clusters={"jwks": jwks_server.port}, concurrency=2)
    token = make_token(keys.rs256, claims(issuer_of("prod"), AUDIENCE))
    assert envoy.get("/api", token=token).status == 200

    before, started = jwks_server.hits(), time.monotonic()
    statuses: list[int] = []
    threads = [threading.Thread(target=_hammer, args=(envoy.port, token, started + WINDOW_S, statuses))
               for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fetches, elapsed = jwks_server.hits() - before, time.monotonic() - started

    assert statuses and set(statuses) == {200}, f"non-200 answers: {sorted(set(statuses))}"
    per_worker = {name: value for name, value in envoy.stats().items() if WORKER_CONNECTIONS.match(name)}
    assert len(per_worker) == 2 and all(per_worker.values()), f"both workers must serve traffic: {per_worker}"
    most = int(elapsed // REFRESH_S) + 1
    assert 1 <= fetches <= most, f"{fetches} JWKS fetches in {elapsed:.1f}s with refresh {REFRESH_S}s (max {most})"
