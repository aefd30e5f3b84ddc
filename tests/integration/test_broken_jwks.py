"""Broken key sets: every way a JWKS endpoint can fail or serve garbage (harness/faults.py).

One Envoy per scenario, with one provider per fault (each with its own JWKS path on one server), so all faults run
side by side:
- with good keys cached: valid tokens keep working during the fault, each failed fetch is counted
  (jwks_fetch_failure.<provider>) and logged exactly once, however many requests arrive, and the provider recovers;
- with no good keys ever: requests get 503 + Retry-After (never more than refresh_interval_s), requests do not cause
  extra fetches, retries back off (1 s, doubling, capped by refresh_interval_s), and service recovers by itself once
  the endpoint heals.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from harness.faults import RecordingJwksServer, all_faults, fault_names
from harness.keys import claims, make_token
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

TIMEOUT_MS = 500
REQUESTS_DURING_FAULT = 12
COLD_REFRESH_S = 3
# The filter ticks just in time for a scheduled retry (it used to wait for its 1 s idle
# tick): allow for timer jitter and a loaded machine only.
TICK_SLACK_S = 0.6
FAULT_IDS = fault_names()


def path_of(name: str) -> str:
    return f"/{name}/jwks.json"


def providers_for(names, **fields) -> dict:
    return plugin(*[provider(n, jwks_uri=f"https://{n}.tenant.test{path_of(n)}", jwks_timeout_ms=TIMEOUT_MS, **fields)
                    for n in names])


def token_for(key, name: str) -> str:
    return make_token(key, claims(issuer_of(name), AUDIENCE))


def failure_lines(log: str, name: str) -> int:
    """Non-debug log lines reporting a failed JWKS fetch of provider `name`."""
    pattern = re.compile(rf"provider {re.escape(name)}: JWKS fetch failed")
    return sum(1 for line in log.splitlines() if "[debug]" not in line and pattern.search(line))


def wait_all(envoy, metric: str, targets: dict[str, int], timeout: float) -> None:
    """Poll until every provider's `metric.<name>` reaches its target."""
    deadline = time.monotonic() + timeout
    while True:
        stats = envoy.stats()
        late = {n: stats.get(f"{metric}.{n}", 0) for n, want in targets.items() if stats.get(f"{metric}.{n}", 0) < want}
        if not late:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{metric} below target after {timeout}s for {late}")
        time.sleep(0.1)


def in_parallel(jobs: dict[str, callable]) -> dict:
    results: dict = {}

    def run(key, job):
        try:
            results[key] = job()
        except Exception as exc:  # reported by the test that reads it
            results[key] = exc

    threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture(scope="module")
def faults(keys):
    faults = all_faults(keys.rs256)
    assert list(faults) == FAULT_IDS
    return faults


@pytest.fixture(scope="module")
def server():
    server = RecordingJwksServer()
    yield server
    server.close()


# ---- good keys cached, then the endpoint breaks ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def warm_outage(module_launch, server, keys, faults):
    """Runs every fault at once against providers that hold good keys; returns what each provider went through."""
    names = [f"warm-{n}" for n in faults]
    for name in names:
        server.publish(keys.rs256, keys.es256, path=path_of(name))
    envoy = module_launch(providers_for(names, refresh_interval_s=1), clusters={"jwks": server.port})
    wait_all(envoy, "jwt_guard.jwks_fetch_success", {n: 1 for n in names}, timeout=20)
    before = envoy.stats()
    log_before = envoy.log()
    for fault, name in zip(faults, names):
        faults[fault](server, path_of(name), TIMEOUT_MS / 1000)
    wait_all(envoy, "jwt_guard.jwks_fetch_failure",
             {n: before.get(f"jwt_guard.jwks_fetch_failure.{n}", 0) + 2 for n in names}, timeout=30)
    answers = in_parallel({
        name: lambda name=name: [envoy.get("/api", token=token_for(key, name))
                                 for _ in range(REQUESTS_DURING_FAULT // 2) for key in (keys.rs256, keys.es256)]
        for name in names
    })
    listed = {name: a if isinstance(a, list) else [] for name, a in answers.items()}
    statuses = {name: [r.status for r in listed[name]] if listed[name] else answers[name] for name in names}
    # Who answered a non-200: jwt-guard (a JSON body with "error") or Envoy's router ("upstream connect error ...").
    others = {name: [(r.status, r.body[:160]) for r in listed[name] if r.status != 200] for name in names}
    during = envoy.stats()
    for name in names:
        server.heal(path_of(name))
        server.publish(keys.rs256, keys.es256, path=path_of(name))
    wait_all(envoy, "jwt_guard.jwks_fetch_success",
             {n: during.get(f"jwt_guard.jwks_fetch_success.{n}", 0) + 1 for n in names}, timeout=30)
    after = envoy.stats()
    log_after = envoy.log()
    recovered = {name: envoy.get("/api", token=token_for(keys.rs256, name)).status for name in names}
    return {
        fault: {
            "statuses": statuses[name],
            "non_200_bodies": others[name],
            "keys_during": during.get(f"jwt_guard.jwks_keys.{name}"),
            "failures": after.get(f"jwt_guard.jwks_fetch_failure.{name}", 0)
            - before.get(f"jwt_guard.jwks_fetch_failure.{name}", 0),
            "logged": failure_lines(log_after, name) - failure_lines(log_before, name),
            "recovered": recovered[name],
        }
        for fault, name in zip(faults, names)
    }




@pytest.mark.parametrize("fault", FAULT_IDS)
def test_cached_keys_survive_the_fault(warm_outage, fault):
    seen = warm_outage[fault]
    assert seen["statuses"] == [200] * REQUESTS_DURING_FAULT, f"valid tokens refused during {fault}: {seen}"
    assert seen["keys_during"] == 2, f"the cached key set changed during {fault}: {seen}"
    assert seen["recovered"] == 200, seen


@pytest.mark.parametrize("fault", FAULT_IDS)
def test_each_failed_fetch_is_counted_and_logged_once(warm_outage, fault):
    seen = warm_outage[fault]
    assert seen["failures"] >= 2, f"{fault}: failures not counted: {seen}"
    assert seen["logged"] == seen["failures"], (
        f"{fault}: {seen['logged']} failure log lines for {seen['failures']} failed fetches "
        f"and {REQUESTS_DURING_FAULT} requests")


# ---- no good keys from the start, then the endpoint heals -----------------------------------------------------------
@pytest.fixture(scope="module")
def cold_outage(module_launch, server, keys, faults):
    """Every fault from the very first fetch; requests meanwhile; then heal and watch recovery without traffic."""
    names = [f"cold-{n}" for n in faults]
    for fault, name in zip(faults, names):
        faults[fault](server, path_of(name), TIMEOUT_MS / 1000)
    envoy = module_launch(providers_for(names, refresh_interval_s=COLD_REFRESH_S), clusters={"jwks": server.port})
    wait_all(envoy, "jwt_guard.jwks_fetch_failure", {n: 1 for n in names}, timeout=20)
    first = in_parallel({name: lambda name=name: envoy.get("/api", token=token_for(keys.rs256, name)) for name in names})
    # A burst of requests must not cause fetches beyond the backoff schedule.
    hits_before = {n: server.hits(path_of(n)) for n in names}
    burst_started = time.monotonic()
    burst = in_parallel({name: lambda name=name: [envoy.get("/api", token=token_for(keys.es256, name)).status
                                                  for _ in range(10)] for name in names})
    burst_s = time.monotonic() - burst_started
    burst_hits = {n: server.hits(path_of(n)) - hits_before[n] for n in names}
    # Let the backoff run for a while, then heal everything and stay away.
    time.sleep(max(0.0, 8.5 - (time.monotonic() - burst_started)))
    healed_at = time.monotonic()
    arrivals = {n: [t for t in server.arrivals(path_of(n)) if t < healed_at] for n in names}
    before_heal = envoy.stats()
    for name in names:
        server.heal(path_of(name))
        server.publish(keys.rs256, keys.es256, path=path_of(name))
    wait_all(envoy, "jwt_guard.jwks_fetch_success", {n: 1 for n in names}, timeout=COLD_REFRESH_S + 10)
    recovery_s = time.monotonic() - healed_at
    after = {name: envoy.get("/api", token=token_for(keys.rs256, name)) for name in names}
    log = envoy.log()
    stats = envoy.stats()
    return {
        fault: {
            "first": first[name], "burst": burst[name], "burst_hits": burst_hits[name], "burst_s": burst_s,
            "arrivals": arrivals[name], "recovery_s": recovery_s, "after": after[name],
            "failures": stats.get(f"jwt_guard.jwks_fetch_failure.{name}", 0),
            "requests_before_heal": before_heal.get("jwt_guard.denied.keys_unavailable", 0),
            "logged": failure_lines(log, name),
        }
        for fault, name in zip(faults, names)
    }


@pytest.mark.parametrize("fault", FAULT_IDS)
def test_without_keys_requests_get_503_with_retry_after(cold_outage, fault):
    seen = cold_outage[fault]
    resp = seen["first"]
    assert resp.status == 503, f"{fault}: {resp.status} {resp.body[:200]!r}"
    assert resp.json()["error"] == "temporarily_unavailable"
    assert (resp.header("content-type") or "").startswith("application/json")
    retry_after = resp.header("retry-after")
    assert retry_after is not None and retry_after.isdigit(), resp.headers
    assert 1 <= int(retry_after) <= COLD_REFRESH_S, f"Retry-After {retry_after} beyond refresh_interval_s"
    assert seen["burst"] == [503] * 10, seen["burst"]


@pytest.mark.parametrize("fault", FAULT_IDS)
def test_requests_do_not_cause_extra_fetches(cold_outage, fault):
    seen = cold_outage[fault]
    # 10 requests in `burst_s` seconds: at most the scheduled retries (one per second at best) may happen.
    allowed = int(seen["burst_s"]) + 2
    assert seen["burst_hits"] <= allowed, f"{fault}: {seen['burst_hits']} fetches during a {seen['burst_s']:.1f}s burst"
    assert seen["logged"] == seen["failures"], f"{fault}: {seen['logged']} log lines for {seen['failures']} failures"


@pytest.mark.parametrize("fault", FAULT_IDS)
def test_service_recovers_by_itself(cold_outage, fault):
    seen = cold_outage[fault]
    assert seen["recovery_s"] <= COLD_REFRESH_S + TICK_SLACK_S + 1.0, f"recovery took {seen['recovery_s']:.1f}s"
    assert seen["after"].status == 200, f"{fault}: {seen['after'].status} {seen['after'].body[:200]!r}"


@pytest.mark.parametrize("fault", ["status-500", "doc-keys-empty", "timeout"])
def test_retries_back_off_from_one_second_capped_by_the_refresh_interval(cold_outage, fault):
    arrivals = cold_outage[fault]["arrivals"]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    print(f"{fault}: retry gaps {[round(g, 2) for g in gaps]}")
    assert len(gaps) >= (2 if fault == "timeout" else 3), f"{fault}: only {len(arrivals)} fetches in the outage: {gaps}"
    # Backoff after the k-th consecutive failure: min(2^(k-1) s, 30 s, refresh_interval_s), plus the idle tick.
    for k, gap in enumerate(gaps, start=1):
        due = min(2 ** (k - 1), 30, COLD_REFRESH_S)
        assert due - 0.2 <= gap <= due + TICK_SLACK_S + (TIMEOUT_MS / 1000 if fault == "timeout" else 0), (
            f"{fault}: retry {k} came after {gap:.2f}s, due after {due}s (gaps {[round(g, 2) for g in gaps]})")
    assert max(gaps) <= COLD_REFRESH_S + TICK_SLACK_S + TIMEOUT_MS / 1000, gaps
