"""The operations chapter against what the built filter exports: every refusal reason Envoy
counts has its row in the reasons table of docs/src/operations.md, and every metric Envoy
lists for jwt-guard is named in its metrics table (`<provider>` and `<reason>` standing for
the variable part)."""

from __future__ import annotations

import re
from pathlib import Path

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "src" / "operations.md"


def first_cells(text: str, header: str) -> set[str]:
    """The backticked names in the first cell of each row of the table whose header row
    starts with `header`."""
    names: set[str] = set()
    inside = False
    for line in text.splitlines():
        if line.startswith(header):
            inside = True
        elif inside and line.startswith("|"):
            names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
        elif inside:
            break
    return names


def test_every_refusal_reason_has_its_row(guard):
    reasons = {
        name.removeprefix("jwt_guard.denied.")
        for name in guard.envoy.stats()
        if name.startswith("jwt_guard.denied.")
    }
    assert len(reasons) > 20, "Envoy should list one denied counter per reason from the start"
    documented = first_cells(OPERATIONS.read_text(), "| reason ")
    assert sorted(reasons - documented) == []


def test_every_metric_is_documented(guard):
    rows = first_cells(OPERATIONS.read_text(), "| metric ")
    patterns = [
        re.compile("^" + re.escape(row).replace(re.escape("<provider>"), r"[A-Za-z0-9_-]+")
                   .replace(re.escape("<reason>"), r"[a-z0-9_]+") + "$")
        for row in rows
        if row.startswith("jwt_guard.")
    ]
    metrics = [name for name in guard.envoy.stats() if name.startswith("jwt_guard.")]
    undocumented = [m for m in metrics if not any(p.match(m) for p in patterns)]
    assert undocumented == []
