"""jwt-guard benchmark driver, `python -m bench` (run by bench/run.sh, i.e. `make bench`).

Mints RS256 and ES256 tokens, starts a fresh Envoy per configuration (no auth filter,
native jwt_authn with and without its token cache, jwt-guard with several settings, and
the "wasm floor": the same jwt_guard.wasm admitting anonymous requests), drives each with
wrk (bench/tokens.lua), reads Envoy's peak RSS (VmHWM) and cache stats, and writes
bench/results.md. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness.envoy import ENVOY_BIN, REPO_ROOT
from harness.wasm import DEFAULT_WASM

from . import dpop_cost
from .profiling import run_profile
from .report import render
from .rows import ok
from .runner import BENCH, Quiet, Row, log, run_phase, wait_for_quiet
from .scenarios import build_plan
from .tokens import mint


def main() -> int:
    """Run the plan and write the results; 2 when the module or wrk is missing."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--wasm", default=str(DEFAULT_WASM))
    ap.add_argument("--duration", type=int, default=3, help="seconds per measured run")
    ap.add_argument("--rounds", type=int, default=2, help="measured runs per row; the best counts")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--wait-quiet", type=float, default=30,
                    help="seconds to wait at most for other CPU load to stop before starting")
    ap.add_argument("--busy-wait", type=float, default=30,
                    help="seconds in total to pause runs while other processes load the CPU")
    ap.add_argument("--only", default="", help="comma-separated config keys to run (debugging); `dpop`: the DPoP rows")
    ap.add_argument("--dpop", action=argparse.BooleanOptionalAction, default=True,
                    help="measure DPoP next to bearer tokens (bench/dpop_cost.py) at each --concurrency")
    ap.add_argument("--profile-bin", default="")
    ap.add_argument("--profile-wasm", default="", help="wasm32-wasip1 build of bench/profile, run with node")
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--perf", action=argparse.BooleanOptionalAction, default=True,
                    help="sample Envoy with perf on a few --concurrency 1 rows (if perf works)")
    ap.add_argument("--out", default=str(BENCH / "results.md"))
    ap.add_argument("--workdir", default=str(BENCH / "out"))
    args = ap.parse_args()

    started = time.time()
    workdir = Path(args.workdir)
    wasm = Path(args.wasm).resolve()
    if not wasm.exists():
        log(f"missing {wasm}: build it first (cargo build --release --target wasm32-wasip1)")
        return 2
    if not shutil.which("wrk"):
        log("wrk not found: run scripts/bootstrap.sh --with-wrk")
        return 2
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "code": code_version(),
        "envoy": envoy_version(ENVOY_BIN),
        "threads": args.threads, "connections": args.connections,
        "duration": args.duration, "warmup": args.warmup, "rounds": args.rounds,
        "notes": [],
    }
    waited = wait_for_quiet(args.wait_quiet)
    if waited:
        meta["notes"].append(waited)
    log("minting tokens")
    jwks, files = mint(workdir / "tokens")
    backend_key = any("signature_backend" in p.read_text() for p in (REPO_ROOT / "src").rglob("*.rs"))
    configs, groups = build_plan(args, jwks, wasm, backend_key)
    if args.only:
        keep = set(args.only.split(","))
        groups = [g for g in groups if g.config.key in keep]
    shutil.rmtree(workdir / "envoy", ignore_errors=True)
    rows: list[Row] = []
    quiet = Quiet(args.busy_wait)
    for conc in args.concurrency:
        phase = [g for g in groups if g.conc == conc]
        if phase:
            run_phase(args, phase, files, workdir / "envoy", rows, quiet)
    if args.dpop and (not args.only or "dpop" in args.only.split(",")):
        log("DPoP rows")
        try:
            rows.extend(dpop_cost.measure(wasm, args.duration, args.rounds, args.concurrency, log=log))
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            meta["notes"].append(f"The DPoP rows failed: {e}.")
    if quiet.waited_s >= 1:
        meta["notes"].append(f"Paused {quiet.waited_s:.0f} s in total while other processes were busy.")
    log("profiling")
    profile_md = run_profile(args, workdir / "tokens")
    said: dict[str, list[str]] = {}
    for c in configs.values():
        for ln in sorted(c.log_lines):
            said.setdefault(re.sub(r"^.*?jwt_guard_bench: ", "", ln), []).append(c.label)
    for ln, labels in said.items():
        meta["notes"].append(f"Envoy log of {'; '.join(labels)}: “{ln}”.")
    if not backend_key:
        meta["notes"].append("`signature_backend` is not in src/config.rs yet: the jwt-simple vs auto rows are skipped.")
    meta["elapsed"] = time.time() - started
    md = render(rows, args.concurrency, meta, profile_md)
    Path(args.out).write_text(md)
    print()
    print(md)
    bad = [r for r in rows if not ok(r)]
    if bad:
        log(f"{len(bad)} row(s) did not answer as expected; see ⚠ in {args.out}")
    return 0



def code_version() -> str:
    """The commit measured, and whether the filter's sources differ from it."""
    try:
        head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "src", "Cargo.toml",
                                "Cargo.lock"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown commit"
    if not head:
        return "unknown commit"
    return f"commit {head}" + (" with uncommitted changes to the filter" if dirty else "")


def machine() -> str:
    """CPU count and model, kernel release."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {cpu}, Linux {os.uname().release}"


def envoy_version(envoy_bin: Path) -> str:
    """Envoy's version number (from --version)."""
    try:
        out = subprocess.run([str(envoy_bin), "--version"], capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"/(\d+\.\d+\.\d+)/", out)
        return m.group(1) if m else out.strip()[:60]
    except (OSError, subprocess.TimeoutExpired):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
