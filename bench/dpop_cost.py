"""DPoP's per-request cost next to a bearer token, `python -m bench.dpop_cost` (`make bench-dpop`, and bench/run.sh).

One Envoy (one worker, jwt-guard with an inline ES256 JWKS, a direct 200 response instead of an
upstream), driven by wrk (bench/dpop.lua) in alternating rounds: the same ES256 token as
`Bearer` (verified once, then cached), then a DPoP-bound ES256 token with a fresh proof per
request (proofs are single-use, so each costs a signature check and a replay-store update).
Proofs and tokens are minted by the harness (harness/dpop.py, Python `cryptography`).
Prints one line per round and the DPoP/Bearer ratio of requests per second.
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


def wrk(url: str, lines: Path, seconds: int, connections: int) -> dict[str, float]:
    """One wrk run with bench/dpop.lua over the request lines in `lines`; its RESULT figures."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(BENCH / "dpop.lua"),
                          url, "--", str(lines)], capture_output=True, text=True, check=True).stdout
    [line] = [l for l in out.splitlines() if l.startswith("RESULT ")]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def main() -> int:
    """Alternating Bearer and DPoP rounds; prints each and the ratio (1 when a round saw refusals)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--proofs", type=int, default=150_000, help="fresh proofs minted per round")
    args = parser.parse_args()
    key, client = ec_key("bench-es256"), DpopKey.generate()
    config = {"providers": [{"name": "bench", "issuer": ISSUER, "audiences": [AUDIENCE],
                             "jwks": json.dumps(jwks(key))}],
              "dpop_proof_window_s": 600}
    work = Path(tempfile.mkdtemp(prefix="jwt-guard-dpop-bench-"))
    envoy = Envoy(work / "envoy", config=envoy_config(config))
    envoy.start()
    url = f"http://127.0.0.1:{envoy.port}/"
    bearer = make_token(key, claims(ISSUER, AUDIENCE, ttl=3600))
    bound = bound_token(key, ISSUER, AUDIENCE, jkt=client.jkt, ttl=3600)
    rps: dict[str, list[float]] = {"bearer": [], "dpop": []}
    try:
        for n in range(1, args.rounds + 1):
            (work / "bearer.txt").write_text(f"Bearer {bearer}\t-\n" * args.proofs)
            (work / "dpop.txt").write_text("".join(f"DPoP {bound}\t{client.proof('GET', url, bound)}\n"
                                                   for _ in range(args.proofs)))
            for name in ("bearer", "dpop"):
                r = wrk(url, work / f"{name}.txt", args.seconds, args.connections)
                if r["errors_status"] or r["requests"] >= args.proofs:
                    print(f"round {n} {name}: {r} (refusals, or ran out of proofs: raise --proofs)")
                    return 1
                rps[name].append(r["rps"])
                print(f"round {n} {name:6}: {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1000:.2f} ms  "
                      f"p99 {r['p99_us'] / 1000:.2f} ms", flush=True)
    finally:
        envoy.stop()
    ratio = sum(rps["dpop"]) / sum(rps["bearer"])
    print(f"DPoP/Bearer requests per second: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
