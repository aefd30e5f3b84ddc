"""DPoP's per-request cost next to bearer tokens, `python -m bench.dpop_cost` (`make bench-dpop`); `make bench` runs
the same measurement through `measure()` and renders its rows with the others.

Per `--concurrency` (1 and 2 workers) two Envoys, each jwt-guard with an inline ES256 JWKS in front of a direct 200
response (the bench's listener: connections spread evenly over the workers): one with the default token cache, one
with `token_cache_size` 0. wrk (bench/dpop.lua, one wrk thread per worker) drives them in alternating rounds of four
workloads: the same ES256 token as `Bearer` (verified once, then cached); a DPoP-bound ES256 token with a fresh proof
per request (proofs are single-use, so each costs a signature check and a compare-and-swap on the process-wide replay
store, which two workers contend for); a distinct DPoP-bound token with a fresh proof per request (two signature
checks); and, on the cache-off Envoy, distinct ES256 `Bearer` tokens (one signature check each), the yardstick of a
fresh proof's cost. Each run records requests/s, latency and Envoy's CPU time per request. Proofs and tokens are
minted by the harness (harness/dpop.py, Python `cryptography`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.dpop import DpopKey, bound_token
from harness.envoy import Envoy
from harness.keys import claims, ec_key, jwks, make_token
from harness.wasm import ensure_wasm

from .runner import CpuMeter, Measure, Row
from .scenarios import Config, envoy_config, guard_filter

BENCH = Path(__file__).resolve().parent
ISSUER, AUDIENCE = "https://bench.tenant.test/", "https://api.example.test"
# Workload -> whether it runs on the cache-off Envoy.
WORKLOADS = {"dpop_bearer": False, "dpop_fresh": False, "dpop_distinct": False, "bearer_distinct": True}
# Fresh proofs minted per second of a run (each is sent once); the repeated bearer line costs nothing to mint, so it
# gets more lines (cached requests run faster), and distinct bearer tokens may repeat (their Envoy caches nothing).
PROOFS_PER_S = 15_000
BEARER_LINES = 4
DISTINCT_BEARERS = 10_000
CACHED = Config("dpop", "jwt-guard, DPoP bench (default cache)", "dpop", [])
UNCACHED = Config("dpop_off", "jwt-guard, DPoP bench, token_cache_size 0 (cache off)", "dpop", [])


def wrk(url: str, lines: Path, seconds: int, connections: int, threads: int) -> dict[str, float]:
    """One wrk run with bench/dpop.lua over the request lines in `lines`; its RESULT figures."""
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(BENCH / "dpop.lua"),
                          url, "--", str(lines), str(threads)], capture_output=True, text=True, check=True).stdout
    [line] = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


class Lines:
    """The request lines ("authorization<TAB>dpop") of each workload, every proof fresh."""

    def __init__(self, proofs: int) -> None:
        self.key, self.client, self.proofs = ec_key("bench-es256"), DpopKey.generate(), proofs
        self.bearer = make_token(self.key, claims(ISSUER, AUDIENCE, ttl=3600))
        self.bound = bound_token(self.key, ISSUER, AUDIENCE, jkt=self.client.jkt, ttl=3600)
        self.distinct = [make_token(self.key, claims(ISSUER, AUDIENCE, ttl=3600, jti=f"bearer-{n}"))
                         for n in range(min(proofs, DISTINCT_BEARERS))]

    def text(self, name: str, url: str) -> str:
        """One run's lines of workload `name`."""
        if name == "dpop_bearer":
            return f"Bearer {self.bearer}\t-\n" * self.proofs * BEARER_LINES
        if name == "bearer_distinct":
            per = "".join(f"Bearer {t}\t-\n" for t in self.distinct)
            return per * -(-2 * self.proofs // len(self.distinct))
        if name == "dpop_fresh":
            return "".join(f"DPoP {self.bound}\t{self.client.proof('GET', url, self.bound)}\n"
                           for _ in range(self.proofs))
        out = []
        for n in range(self.proofs // 2):  # two signature checks each: half the rate
            token = bound_token(self.key, ISSUER, AUDIENCE, jkt=self.client.jkt, ttl=3600, jti=f"distinct-{n}")
            out.append(f"DPoP {token}\t{self.client.proof('GET', url, token)}\n")
        return "".join(out)

    def sent(self, name: str) -> int:
        """How many lines one run of `name` has: a run that sends them all ran out."""
        return {"dpop_bearer": self.proofs * BEARER_LINES, "dpop_fresh": self.proofs,
                "dpop_distinct": self.proofs // 2}.get(name, 1 << 62)


def measure(wasm: Path, seconds: int, rounds: int, concurrency: list[int], connections: int = 8,
            proofs_per_s: int = PROOFS_PER_S, log=print) -> list[Row]:
    """Alternating rounds per worker count; one Row per workload and worker count, keeping its best round."""
    lines = Lines(proofs_per_s * seconds)
    plugin = {"providers": [{"name": "bench", "issuer": ISSUER, "audiences": [AUDIENCE],
                             "jwks": json.dumps(jwks(lines.key))}], "dpop_proof_window_s": 600}
    work = Path(tempfile.mkdtemp(prefix="jwt-guard-dpop-bench-"))
    rows: list[Row] = []
    for workers in concurrency:
        envoys = {off: Envoy(work / f"envoy-{workers}-{'off' if off else 'on'}", concurrency=workers,
                             config=envoy_config([guard_filter(wasm, {**plugin, "token_cache_size": 0} if off
                                                               else plugin)]))
                  for off in (False, True)}
        mine = {name: Row(UNCACHED if off else CACHED, "ES256", name, workers) for name, off in WORKLOADS.items()}
        try:
            for envoy in envoys.values():
                envoy.start()
            for n in range(1, rounds + 1):
                for name, off in WORKLOADS.items():
                    envoy, row = envoys[off], mine[name]
                    url = f"http://127.0.0.1:{envoy.port}/"
                    path = work / f"{name}.txt"
                    path.write_text(lines.text(name, url))
                    cpu0, meter = envoy.cpu_seconds(), CpuMeter([e.pid for e in envoys.values()])
                    r = wrk(url, path, seconds, connections, workers)
                    m = Measure(rps=r["rps"], p50_us=int(r["p50_us"]), p99_us=int(r["p99_us"]),
                                requests=int(r["requests"]), bad=int(r["errors_status"]),
                                cpu_us=(envoy.cpu_seconds() - cpu0) * 1e6 / max(r["requests"], 1),
                                other_cpu=meter.other_cpus())
                    if m.requests >= lines.sent(name):
                        m.note = "ran out of fresh proofs (raise the proofs per second)"
                    row.samples.append(m)
                    log(f"{workers} worker(s) round {n} {name:15}: {m.rps:8.0f} req/s  p50 {m.p50_us / 1000:.2f} ms"
                        f"  p99 {m.p99_us / 1000:.2f} ms  CPU {m.cpu_us:.1f} µs/req"
                        + (f"  !! {m.bad} refused" if m.bad else "") + (f"  !! {m.note}" if m.note else ""))
            for row in mine.values():
                good = [x for x in row.samples if not x.bad and not x.note] or row.samples[-1:]
                row.m = max(good, key=lambda x: x.rps)
                row.m.rss_kib = envoys[WORKLOADS[row.workload]].peak_rss_kib()
        finally:
            for envoy in envoys.values():
                envoy.stop()
        rows.extend(mine.values())
    return rows


def main() -> int:
    """Prints each round, the DPoP/Bearer ratios, a fresh proof's CPU next to a distinct bearer token's, and the
    scaling from one worker to two; 1 when a run was refused or ran out of proofs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2], help="Envoy worker counts")
    parser.add_argument("--proofs-per-s", type=int, default=PROOFS_PER_S, help="fresh proofs minted per second of run")
    args = parser.parse_args()
    rows = measure(ensure_wasm(), args.seconds, args.rounds, args.concurrency, args.connections, args.proofs_per_s)
    best = {(r.workload, r.conc): r.m for r in rows}
    for workers in args.concurrency:
        fresh, bearer, distinct = (best[(w, workers)] for w in ("dpop_fresh", "dpop_bearer", "bearer_distinct"))
        print(f"{workers} worker(s): DPoP/Bearer requests per second (best rounds): {fresh.rps / bearer.rps:.2f}; "
              f"CPU per request, fresh proof / distinct ES256 bearer token (cache off): "
              f"{fresh.cpu_us / distinct.cpu_us:.2f}x")
    if len(args.concurrency) > 1:
        low, high = min(args.concurrency), max(args.concurrency)
        for name in WORKLOADS:
            print(f"{name}: {high} workers / {low}: {best[(name, high)].rps / best[(name, low)].rps:.2f}x "
                  "requests per second")
    return 1 if any(r.m.bad or r.m.note for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
