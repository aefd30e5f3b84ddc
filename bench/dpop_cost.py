#!/usr/bin/env python3
"""DPoP's per-request cost next to a bearer token (issue 12), `make bench-dpop`.

One Envoy (one worker, jwt-guard with an inline ES256 JWKS, a direct 200 response instead of an
upstream), driven by wrk (bench/dpop.lua) in alternating rounds: the same ES256 token as
`Bearer` (verified once, then cached), then a DPoP-bound ES256 token with a fresh proof per
request (proofs are single-use, so each costs a signature check and a replay-store update).
Proofs and tokens are minted with Python `cryptography` (tests/integration/support/dpop.py).
Prints one line per round and the DPoP/Bearer ratio of requests per second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from support.dpop import DpopKey, bound_token  # noqa: E402
from support.envoy import Envoy  # noqa: E402
from support.keys import claims, ec_key, jwks, make_token  # noqa: E402
from support.wasm import ensure_wasm  # noqa: E402

ISSUER, AUDIENCE = "https://bench.tenant.test/", "https://api.example.test"


def direct_response(bootstrap: dict) -> None:
    """Answer 200 from Envoy itself, so the upstream's cost is not measured."""
    hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    for route in hcm["route_config"]["virtual_hosts"][0]["routes"]:
        route.pop("route", None)
        route["direct_response"] = {"status": 200, "body": {"inline_string": "ok"}}


def wrk(url: str, lines: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(ROOT / "bench" / "dpop.lua"),
                          url, "--", str(lines)], capture_output=True, text=True, check=True).stdout
    [line] = [l for l in out.splitlines() if l.startswith("RESULT ")]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def main() -> int:
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
    envoy = Envoy(work / "envoy", config, wasm_path=ensure_wasm(), upstream_port=1, clusters={},
                  customize=direct_response)
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
