"""bench/results.md's feature cost table: the plain configuration, then each feature off and on, same run."""

from __future__ import annotations

from .features import FEATURES
from .rows import find, ok

# An off row is within noise when its CPU per request is within the larger of the baseline's own round-to-round
# spread and this share of the baseline's.
NOISE_SHARE = 0.03


def status(r) -> str:
    """"ok (200)", or why the row does not count."""
    if ok(r):
        return "ok (200)"
    if r is None:
        return "⚠ not measured"
    return "⚠ " + (r.m.note or f"{r.m.bad} unexpected (e.g. {r.m.bad_status}), {r.m.errors} errors")


def feature_table(rows: list) -> list[str]:
    """The table, its reading and the noise rule, from the `--concurrency 1` rows."""
    base = find(rows, FEATURES[0].key, "RS256", FEATURES[0].workload, 1)
    out = ["Each feature off, then on, in the same run at `--concurrency 1`: jwt-guard with the bench provider "
           "(inline JWKS, default token cache) and one repeated, valid RS256 token carrying ten claims (Auth0's "
           "plus `permissions`, `org_id`, `email`), so every request is a cache hit and what a feature adds per "
           "request shows. Δ is Envoy's CPU time per request minus the baseline's; ÷ baseline is requests/s. "
           "An off row is **within noise** when |Δ| is at most the larger of the baseline's own round-to-round "
           f"spread and {NOISE_SHARE:.0%} of the baseline's CPU per request; an on row's verdict gives its cost "
           "over its own off row.", ""]
    if not ok(base):
        out.append(f"Baseline: {status(base)}; no Δ without it.")
        out.append("")
        base = None
    spread = 0.0
    if base and len(base.samples) > 1:
        cpus = [x.cpu_us for x in base.samples]
        spread = max(cpus) - min(cpus)
    tolerance = max(spread, NOISE_SHARE * base.m.cpu_us) if base else 0.0
    if base:
        out.append(f"Noise tolerance this run: {tolerance:.1f} µs/req (baseline spread {spread:.1f} µs over "
                   f"{len(base.samples)} round(s), {NOISE_SHARE:.0%} = {NOISE_SHARE * base.m.cpu_us:.1f} µs).")
        out.append("")
    out += ["| feature | setting | req/s | CPU µs/req | Δ µs/req vs baseline | ÷ baseline | verdict | status |",
            "|---|---|---:|---:|---:|---:|---|---|"]
    off_cpu: dict[str, float] = {}
    for f in FEATURES:
        r = find(rows, f.key, "RS256", f.workload, 1)
        if not ok(r):
            out.append(f"| {f.feature} | {f.setting} | | | | | | {status(r)} |")
            continue
        delta = r.m.cpu_us - base.m.cpu_us if base else None
        cells = [f"{r.m.rps:,.0f}", f"{r.m.cpu_us:.1f}", "" if delta is None else f"{delta:+.1f}",
                 f"{r.m.rps / base.m.rps:.2f}×" if base else ""]
        judged = ""
        if f.role == "off":
            off_cpu[f.feature] = r.m.cpu_us
            if delta is not None:
                judged = "within noise" if abs(delta) <= tolerance else f"**not within noise** ({delta:+.1f} µs)"
        elif f.role == "on" and f.feature in off_cpu:
            judged = f"{r.m.cpu_us - off_cpu[f.feature]:+.1f} µs over off"
        out.append(f"| {f.feature} | {f.setting} | " + " | ".join(cells) + f" | {judged} | {status(r)} |")
    return out
