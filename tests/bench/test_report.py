"""bench/results.md's rendering from made-up rows (no Envoy, no wrk): every planned row renders, the targets say met or
missed from the figures, and the feature table judges "off" rows against the baseline's noise."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bench.dpop_cost import CACHED, UNCACHED, WORKLOADS
from bench.feature_table import feature_table
from bench.features import FEATURES
from bench.report import render
from bench.runner import Measure, Row
from bench.scaling import workers
from bench.scenarios import build_plan
from bench.targets import targets

META = {"date": "today", "code": "commit abc", "machine": "2 × test CPU", "envoy": "1.40.0", "threads": 2,
        "connections": 16, "duration": 3, "warmup": 1, "rounds": 2, "elapsed": 1.0, "notes": []}


def measured(rps: float, cpu_us: float) -> Measure:
    """A clean measurement: every response as expected."""
    return Measure(rps=rps, cpu_us=cpu_us, p50_us=500, p99_us=900, requests=int(rps * 3))


def planned_rows(rps: float = 10_000.0, cpu_us: float = 50.0) -> list[Row]:
    """One row per planned workload and the DPoP bench's rows, at both concurrencies, all with the same figures."""
    configs, groups = build_plan(SimpleNamespace(concurrency=[1, 2]), '{"keys":[]}', Path("/x/jwt_guard.wasm"), True)
    rows = [Row(g.config, g.alg, w, g.conc) for g in groups for w in g.workloads]
    rows += [Row(UNCACHED if off else CACHED, "ES256", w, c) for w, off in WORKLOADS.items() for c in (1, 2)]
    for r in rows:
        r.m = measured(rps, cpu_us)
        r.samples = [r.m, measured(rps, cpu_us)]
    return rows


def pick(rows: list[Row], key: str, workload: str, conc: int = 1) -> Row:
    """The row of a configuration and workload."""
    return next(r for r in rows if r.config.key == key and r.workload == workload and r.conc == conc)


def test_every_planned_row_renders_with_each_section() -> None:
    """Every planned row and every DPoP row renders, and each section is there."""
    md = render(planned_rows(), [1, 2], META, "")
    for heading in ("## Targets", "## Feature cost", "## Workers", "## Repeated token and memory", "## Latency",
                    "## Cost per verification"):
        assert heading in md
    assert "unknown kid" in md and "DPoP bench" in md
    assert "not measured" not in md.split("## Targets")[1].split("## Feature cost")[0]


def test_targets_say_met_and_missed_from_the_figures() -> None:
    """A target line says met or missed from its rows' figures."""
    rows = planned_rows()
    pick(rows, "guard", "unknownkid").m = measured(9_000, 60)  # 0.90× native: missed
    pick(rows, "dpop", "dpop_fresh").m = measured(4_000, 150)  # 1.5× the distinct bearer token's CPU: met
    pick(rows, "dpop_off", "bearer_distinct").m = measured(8_000, 100)
    lines = {ln.split(" | ")[0].lstrip("| "): ln for ln in targets(rows, [1, 2]) if ln.startswith("| ")}
    assert lines["refusal unknown kid (well signed, kid not in the JWKS), RS256, c1"].endswith("| **missed** |")
    assert lines["refusal expired, RS256, c1"].endswith("| met |")
    assert "**1.50×**" in lines["DPoP request, fresh ES256 proof, c1"]
    assert lines["DPoP request, fresh ES256 proof, c1"].endswith("| met |")


def test_off_rows_are_judged_against_the_baseline_noise() -> None:
    """An off row is within noise inside the baseline's spread (or 3 %), not beyond it."""
    rows = planned_rows()
    base = pick(rows, FEATURES[0].key, FEATURES[0].workload)
    base.samples = [measured(10_000, 50), measured(9_800, 52)]  # spread 2 µs: above 3 % of 50 µs
    pick(rows, "feat_dpop_off", "feature").m = measured(10_000, 51.9)
    pick(rows, "feat_fc0", "feature").m = measured(9_000, 55)
    table = "\n".join(feature_table(rows))
    assert "Noise tolerance this run: 2.0 µs/req" in table
    assert [ln for ln in table.splitlines() if '`"off"`' in ln][0].count("within noise") == 1
    assert "**not within noise** (+5.0 µs)" in table


def test_workers_scale_next_to_no_filter() -> None:
    """c2 ÷ c1 per row, and over no filter's own scaling; one concurrency says why not."""
    rows = planned_rows()
    pick(rows, "nofilter", "any", 2).m = measured(15_000, 50)
    pick(rows, "dpop", "dpop_fresh", 2).m = measured(12_000, 50)
    text = "\n".join(workers(rows, [1, 2]))
    assert "| no auth filter | 10,000 | 15,000 | **1.50×** |" in text
    assert "fresh proof per request | 10,000 | 12,000 | **1.20×** | 50.0 | 50.0 | 0.80 |" in text
    assert workers(rows, [1]) == ["Not measured: this run did not include both `--concurrency 1` and `2`."]
