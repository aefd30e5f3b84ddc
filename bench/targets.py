"""bench/results.md's targets: each measure the filter is held to, with this run's figures and met or missed."""

from __future__ import annotations

from .rows import find, ok
from .scenarios import WORKLOAD_NAMES
from .tokens import ALGS

REFUSALS = ("expired", "badsig", "unknownkid", "junkalg")
# Cookies: a small tolerance for noise, as a share of the plain request's floor (Envoy CPU µs/req).
COOKIE_TOLERANCE = 0.03


def verdict(good: bool) -> str:
    """"met" or a bold "missed"."""
    return "met" if good else "**missed**"


def targets(rows: list, concs: list[int]) -> list[str]:
    """The targets table: one line per measure, algorithm and `--concurrency` measured."""
    out = ["Each line compares rows of this run (the tables above). Ratios are of requests/s unless they say CPU; "
           "\"CPU\" is Envoy's CPU time per request (all threads). A line whose rows failed says so.", "",
           "| measure | target | this run | verdict |", "|---|---|---|---|"]
    add = out.append

    def line(measure: str, target: str, text: str | None, good: bool | None) -> None:
        add(f"| {measure} | {target} | {text or 'not measured (a row failed, see ⚠ above)'} | "
            f"{'–' if text is None or good is None else verdict(good)} |")

    for conc in concs:
        anon, empty = find(rows, "floor", "-", "anonymous", conc), find(rows, "empty", "-", "any", conc)
        if ok(anon) and ok(empty):
            r = anon.m.rps / empty.m.rps
            line(f"anonymous route, no token, c{conc}", "≥ 0.93× the empty wasm filter",
                 f"{anon.m.rps:,.0f} vs {empty.m.rps:,.0f} req/s = **{r:.2f}×**; CPU {anon.m.cpu_us:.1f} vs "
                 f"{empty.m.cpu_us:.1f} µs/req", r >= 0.93)
        else:
            line(f"anonymous route, no token, c{conc}", "≥ 0.93× the empty wasm filter", None, None)
    for alg in ALGS:
        for w in REFUSALS:
            g, n = find(rows, "guard", alg, w, 1), find(rows, "native", alg, w, 1)
            measure = f"refusal {WORKLOAD_NAMES[w].removeprefix('(c) ')}, {alg}, c1"
            if ok(g) and ok(n):
                r = g.m.rps / n.m.rps
                line(measure, "≥ 1.0× native jwt_authn",
                     f"{g.m.rps:,.0f} vs {n.m.rps:,.0f} req/s = **{r:.2f}×**; CPU {g.m.cpu_us:.1f} vs "
                     f"{n.m.cpu_us:.1f} µs/req ({g.m.cpu_us / n.m.cpu_us:.2f}×)", r >= 1.0)
            else:
                line(measure, "≥ 1.0× native jwt_authn", None, None)
    for alg, want in (("RS256", 0.95), ("ES256", 0.90)):
        for conc in concs:
            g, n = find(rows, "guard_off", alg, "distinct", conc), find(rows, "native", alg, "distinct", conc)
            measure = f"distinct {alg} tokens, cache off, c{conc}"
            if ok(g) and ok(n):
                r = g.m.rps / n.m.rps
                line(measure, f"≥ {want:.2f}× native", f"{g.m.rps:,.0f} vs {n.m.rps:,.0f} req/s = **{r:.2f}×**; "
                     f"CPU {g.m.cpu_us:.1f} vs {n.m.cpu_us:.1f} µs/req", r >= want)
            else:
                line(measure, f"≥ {want:.2f}× native", None, None)
    for conc in concs:
        padded = find(rows, "floor", "-", "padded", conc)
        for alg in ALGS:
            g = find(rows, "guard", alg, "repeated", conc)
            measure = f"repeated {alg} token, c{conc}"
            if ok(g) and ok(padded):
                r = g.m.rps / padded.m.rps
                line(measure, "≥ 0.95× the padded floor", f"{g.m.rps:,.0f} vs {padded.m.rps:,.0f} req/s = "
                     f"**{r:.2f}×**; CPU {g.m.cpu_us:.1f} vs {padded.m.cpu_us:.1f} µs/req", r >= 0.95)
            else:
                line(measure, "≥ 0.95× the padded floor", None, None)
    for conc in concs:
        fresh, bearer = find(rows, "dpop", "ES256", "dpop_fresh", conc), find(rows, "dpop_off", "ES256",
                                                                              "bearer_distinct", conc)
        measure = f"DPoP request, fresh ES256 proof, c{conc}"
        target = "CPU ≤ 2× a distinct ES256 bearer token, cache off"
        if ok(fresh) and ok(bearer):
            r = fresh.m.cpu_us / bearer.m.cpu_us
            line(measure, target, f"CPU {fresh.m.cpu_us:.1f} vs {bearer.m.cpu_us:.1f} µs/req = **{r:.2f}×**; "
                 f"{fresh.m.rps:,.0f} vs {bearer.m.rps:,.0f} req/s", r <= 2.0)
        else:
            line(measure, target, None, None)
    gb, fb = find(rows, "guard", "RS256", "browser", 1), find(rows, "floor", "-", "browserpad", 1)
    gp, fp = find(rows, "guard", "RS256", "repeated", 1), find(rows, "floor", "-", "padded", 1)
    target = (f"cost over their own floor ≤ a plain request's (CPU µs/req, {COOKIE_TOLERANCE:.0%} of its floor's "
              "for noise)")
    if ok(gb) and ok(fb) and ok(gp) and ok(fp):
        cookie, plain = gb.m.cpu_us - fb.m.cpu_us, gp.m.cpu_us - fp.m.cpu_us
        line("2 KiB of browser cookies, RS256 repeated, c1", target,
             f"**{cookie:+.1f}** µs/req over their floor ({gb.m.cpu_us:.1f} − {fb.m.cpu_us:.1f}) vs {plain:+.1f} "
             f"for a plain request ({gp.m.cpu_us:.1f} − {fp.m.cpu_us:.1f}); tolerance "
             f"{COOKIE_TOLERANCE * fp.m.cpu_us:.1f} µs", cookie <= plain + COOKIE_TOLERANCE * fp.m.cpu_us)
    else:
        line("2 KiB of browser cookies, RS256 repeated, c1", target, None, None)
    return out
