"""bench/results.md's Workers section: how throughput scales from one Envoy worker to two, next to Envoy itself."""

from __future__ import annotations

import os

from .rows import find, ok

# (label, config key, alg, workload), each measured at --concurrency 1 and 2.
SCALED = (
    ("no auth filter", "nofilter", "-", "any"),
    ("native jwt_authn, distinct RS256 tokens", "native", "RS256", "distinct"),
    ("native jwt_authn, distinct ES256 tokens", "native", "ES256", "distinct"),
    ("jwt-guard cache off, distinct RS256 tokens", "guard_off", "RS256", "distinct"),
    ("jwt-guard cache off, distinct ES256 tokens", "guard_off", "ES256", "distinct"),
    ("jwt-guard (DPoP bench), distinct ES256 Bearer tokens, cache off", "dpop_off", "ES256", "bearer_distinct"),
    ("jwt-guard (DPoP bench), DPoP-bound token, fresh proof per request", "dpop", "ES256", "dpop_fresh"),
    ("jwt-guard (DPoP bench), distinct bound token and fresh proof", "dpop", "ES256", "dpop_distinct"),
)


def workers(rows: list, concs: list[int]) -> list[str]:
    """The scaling table (two worker counts needed), or a line saying why it is missing."""
    if not {1, 2} <= set(concs):
        return ["Not measured: this run did not include both `--concurrency 1` and `2`."]
    out = ["Requests/s at `--concurrency 2` over `--concurrency 1`, best rounds. The machine has "
           f"{os.cpu_count()} cores and wrk runs on them too, so two workers cannot double throughput here; what "
           "matters is whether jwt-guard scales like Envoy without a filter (the last column: its scaling over "
           "no filter's; 1.00 = the same). The DPoP bench's rows use its own wrk settings (`-c8`, one wrk thread "
           "per worker); with two workers the fresh-proof rows contend for the process-wide replay store's "
           "compare-and-swap.", "",
           "| rows | c1 req/s | c2 req/s | **c2 ÷ c1** | CPU µs/req c1 | CPU µs/req c2 | ÷ no filter's scaling |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    base = None
    nf1, nf2 = find(rows, "nofilter", "-", "any", 1), find(rows, "nofilter", "-", "any", 2)
    if ok(nf1) and ok(nf2):
        base = nf2.m.rps / nf1.m.rps
    for label, key, alg, w in SCALED:
        one, two = find(rows, key, alg, w, 1), find(rows, key, alg, w, 2)
        if not (ok(one) and ok(two)):
            out.append(f"| {label} | | | not measured | | | |")
            continue
        s = two.m.rps / one.m.rps
        out.append(f"| {label} | {one.m.rps:,.0f} | {two.m.rps:,.0f} | **{s:.2f}×** | {one.m.cpu_us:.1f} | "
                   f"{two.m.cpu_us:.1f} | {'' if base is None else f'{s / base:.2f}'} |")
    return out

