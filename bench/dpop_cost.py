"""DPoP's per-request cost next to a bearer token, `python -m bench.dpop_cost` (`make bench-dpop`, and bench/run.sh).

One Envoy per `--concurrency` (1 and 2 workers; jwt-guard with an inline ES256 JWKS, a direct 200 response
instead of an upstream), driven by wrk (bench/dpop.lua, one wrk thread per worker) in alternating rounds of three
workloads: the same ES256 token as `Bearer` (verified once, then cached); a DPoP-bound ES256 token with a fresh
proof per request (proofs are single-use, so each costs a signature check and a compare-and-swap on the
process-wide replay store, which two workers contend for); and a distinct DPoP-bound token with a fresh proof per
request (two signature checks, nothing cached). Proofs and tokens are minted by the harness (harness/dpop.py,
Python `cryptography`). Prints one line per round, the DPoP/Bearer ratio per worker count, and how each workload's
requests per second scale from one worker to two.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.bootstrap import (direct_response_routes, http_connection_manager, jwt_guard_filter, listener,
                               static_bootstrap)
from harness.dpop import DpopKey, bound_token
from harness.envoy import Envoy
from harness.keys import claims, ec_key, jwks, make_token
from harness.wasm import ensure_wasm

BENCH = Path(__file__).resolve().parent
ISSUER, AUDIENCE = "https://bench.tenant.test/", "https://api.example.test"


def envoy_config(plugin: dict) -> dict:
    """jwt-guard in front of a direct 200 from Envoy itself, so no upstream's cost is measured."""
    hcm = http_connection_manager([jwt_guard_filter(ensure_wasm(), plugin)], direct_response_routes("ok"))
    return static_bootstrap([listener(hcm)], [])


def wrk(url: str, lines: Path, seconds: int, connections: int, threads: int) -> dict[str, float]:
    """One wrk run with bench/dpop.lua over the request lines in `lines`; its RESULT figures."""
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(BENCH / "dpop.lua"),
                          url, "--", str(lines), str(threads)], capture_output=True, text=True, check=True).stdout
    [line] = [l for l in out.splitlines() if l.startswith("RESULT ")]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


WORKLOADS = ("bearer", "dpop", "dpop-distinct")
# The repeated bearer line costs nothing to mint: many more of them, since cached requests run faster.
BEARER_LINES = 10


def request_lines(name: str, key, client: DpopKey, url: str, count: int, bearer: str, bound: str) -> str:
    """`count` request lines ("authorization<TAB>dpop") of one workload, every proof fresh."""
    if name == "bearer":
        return f"Bearer {bearer}\t-\n" * count * BEARER_LINES
    if name == "dpop":
        return "".join(f"DPoP {bound}\t{client.proof('GET', url, bound)}\n" for _ in range(count))
    lines = []
    for n in range(count):
        token = bound_token(key, ISSUER, AUDIENCE, jkt=client.jkt, ttl=3600, jti=f"distinct-{n}")
        lines.append(f"DPoP {token}\t{client.proof('GET', url, token)}\n")
    return "".join(lines)


def main() -> int:
    """Alternating rounds per worker count; prints each, the DPoP/Bearer ratios and the scaling (1 on refusals)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2], help="Envoy worker counts")
    parser.add_argument("--proofs", type=int, default=150_000, help="fresh proofs minted per round")
    args = parser.parse_args()
    key, client = ec_key("bench-es256"), DpopKey.generate()
    config = {"providers": [{"name": "bench", "issuer": ISSUER, "audiences": [AUDIENCE],
                             "jwks": json.dumps(jwks(key))}],
              "dpop_proof_window_s": 600}
    work = Path(tempfile.mkdtemp(prefix="jwt-guard-dpop-bench-"))
    bearer = make_token(key, claims(ISSUER, AUDIENCE, ttl=3600))
    bound = bound_token(key, ISSUER, AUDIENCE, jkt=client.jkt, ttl=3600)
    best: dict[tuple[str, int], float] = {}
    for workers in args.concurrency:
        envoy = Envoy(work / f"envoy-{workers}", config=envoy_config(config), concurrency=workers)
        envoy.start()
        url = f"http://127.0.0.1:{envoy.port}/"
        try:
            for n in range(1, args.rounds + 1):
                for name in WORKLOADS:
                    lines = work / f"{name}.txt"
                    lines.write_text(request_lines(name, key, client, url, args.proofs, bearer, bound))
                    r = wrk(url, lines, args.seconds, args.connections, workers)
                    sent = args.proofs * (BEARER_LINES if name == "bearer" else 1)
                    if r["errors_status"] or r["requests"] >= sent:
                        print(f"{workers} worker(s) round {n} {name}: {r} (refusals, or ran out of proofs: "
                              "raise --proofs)")
                        return 1
                    best[(name, workers)] = max(best.get((name, workers), 0.0), r["rps"])
                    print(f"{workers} worker(s) round {n} {name:13}: {r['rps']:8.0f} req/s  "
                          f"p50 {r['p50_us'] / 1000:.2f} ms  p99 {r['p99_us'] / 1000:.2f} ms", flush=True)
        finally:
            envoy.stop()
    for workers in args.concurrency:
        ratio = best[("dpop", workers)] / best[("bearer", workers)]
        print(f"{workers} worker(s): DPoP/Bearer requests per second (best rounds): {ratio:.2f}")
    if len(args.concurrency) > 1:
        low, high = min(args.concurrency), max(args.concurrency)
        for name in WORKLOADS:
            print(f"{name}: {high} workers / {low}: {best[(name, high)] / best[(name, low)]:.2f}x requests per second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
