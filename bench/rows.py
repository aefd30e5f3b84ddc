"""Looking up the measured rows the report compares: one by its configuration, algorithm, workload and concurrency,
and whether it answered as expected."""

from __future__ import annotations

from .runner import Row


def find(rows: list[Row], key: str, alg: str, workload: str, conc: int) -> Row | None:
    """The measured row of a configuration, algorithm, workload and concurrency."""
    for r in rows:
        if r.config.key == key and r.alg == alg and r.workload == workload and r.conc == conc and r.m.rps:
            return r
    return None


def ok(r: Row | None) -> bool:
    """Measured, and every response had the expected status."""
    return r is not None and r.m.rps > 0 and r.m.bad == 0 and r.m.errors == 0 and not r.m.note


def ratio(a: Row | None, b: Row | None) -> str:
    """a's requests/s over b's, or "–" when either row failed."""
    if not (ok(a) and ok(b)):
        return "–"
    return f"{a.m.rps / b.m.rps:.2f}×"
