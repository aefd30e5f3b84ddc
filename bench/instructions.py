"""`make bench-instructions` (`python -m bench.instructions`): Envoy's user-space instructions per request under
callgrind, for the rows whose requests/s a noisy machine cannot compare (refusals against native jwt_authn, the
floors, the feature cost table). An instruction count does not change with other load or a neighbour's CPU steal,
so two configurations measured minutes apart still compare; it leaves out the kernel (loopback TCP), which is the
same for both sides of every comparison here.

Each configuration gets one Envoy under `valgrind --tool=callgrind --instr-atstart=no`; per workload, 20 warm-up
requests, then counting is switched on (callgrind_control) for N requests on one keep-alive connection, dumped,
and divided by N. Writes bench/instructions.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import envoy as envoy_package

import harness.envoy
from harness.envoy import Envoy
from harness.wasm import DEFAULT_WASM

from .features import FEATURES, REQUESTS, feature_plugin
from .runner import BENCH, log
from .scenarios import envoy_config, guard_filter, guard_plugin, native_filter
from .tokens import ALGS, mint

REFUSALS = ("expired", "badsig", "unknownkid", "junkalg")
WORKLOAD_TEXT = {
    "anonymous": "no token", "padded": "no token, same-size X-Pad header", "repeated": "one token repeated",
    "distinct": "distinct tokens (cache off for jwt-guard)", "expired": "expired", "badsig": "bad signature",
    "unknownkid": "unknown kid", "junkalg": "junk, attacker-chosen alg",
}


def wrapper(workdir: Path) -> Path:
    """A script that runs the real Envoy binary under callgrind, counting nothing until told to."""
    real = Path(envoy_package.__file__).parent / "_bin" / "envoy"
    script = workdir / "envoy-callgrind"
    script.write_text("#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file "
                      f"--callgrind-out-file={workdir}/callgrind.%p {real} \"$@\"\n")
    script.chmod(0o755)
    return script


def control(pid: int, *args: str) -> None:
    """callgrind_control on the Envoy process."""
    subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, text=True, timeout=120)


class Counted:
    """One Envoy under callgrind and a keep-alive connection to it."""

    def __init__(self, workdir: Path, filters: list[dict]):
        self.dumps = workdir.parent  # where the wrapper's --callgrind-out-file points
        self.envoy = Envoy(workdir, config=envoy_config(filters), log_level="warn", component_log_level="wasm:warn")

    def __enter__(self) -> Counted:
        self.envoy.start(timeout=900)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.envoy.port, timeout=300)
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()
        self.envoy.stop()

    def send(self, requests: list[tuple[str, dict]]) -> dict[int, int]:
        """Sends each (path, headers) once; the statuses counted."""
        statuses: dict[int, int] = {}
        for path, headers in requests:
            self.conn.request("GET", path, headers=headers)
            answer = self.conn.getresponse()
            answer.read()
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
        return statuses

    def per_request(self, requests: list[tuple[str, dict]], n: int) -> tuple[float, dict[int, int]]:
        """Instructions per request over `n` requests cycling through `requests`, after 20 uncounted ones."""
        self.send([requests[i % len(requests)] for i in range(20)])
        pid = self.envoy._proc.pid
        before = set(self.dumps.glob(f"callgrind.{pid}*"))
        control(pid, "--zero")
        control(pid, "--instr=on")
        statuses = self.send([requests[i % len(requests)] for i in range(n)])
        control(pid, "--instr=off")
        control(pid, "--dump")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for dump in set(self.dumps.glob(f"callgrind.{pid}*")) - before:
                totals = [ln for ln in dump.read_text(errors="replace").splitlines() if ln.startswith("totals:")]
                if totals:
                    return int(totals[-1].split()[1]) / n, statuses
            time.sleep(0.5)
        raise RuntimeError("callgrind wrote no dump")


def token_requests(path: Path, header: str = "Authorization", prefix: str = "Bearer ",
                   url: str = "/") -> list[tuple[str, dict]]:
    """One request per token in the file at `path`."""
    return [(url, {header: prefix + t}) for t in path.read_text().split()]


def main() -> int:
    """Measures every configuration and writes bench/instructions.md; 2 without valgrind."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200, help="counted requests per workload")
    ap.add_argument("--wasm", default=str(DEFAULT_WASM))
    ap.add_argument("--out", default=str(BENCH / "instructions.md"))
    ap.add_argument("--workdir", default=str(BENCH / "out" / "instructions"))
    args = ap.parse_args()
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        log("valgrind (callgrind) not found: apt-get install -y valgrind")
        return 2
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    harness.envoy.ENVOY_BIN = wrapper(workdir)
    wasm = Path(args.wasm).resolve()
    jwks, files = mint(workdir / "tokens")
    n = args.requests
    anonymous = [("/", {})]
    padded = token_requests(files["RS256"]["repeated"], header="X-Pad", prefix="")
    results: dict[tuple[str, str, str], float] = {}

    def run(key: str, filters: list[dict], plan: list[tuple[str, str, list]]) -> None:
        with Counted(workdir / key, filters) as counted:
            for alg, workload, requests in plan:
                ir, statuses = counted.per_request(requests, n)
                results[(key, alg, workload)] = ir
                log(f"{key} {alg} {workload}: {ir / 1000:.1f}k instructions/request {statuses}")

    run("nofilter", [], [("-", "anonymous", anonymous), ("-", "padded", padded)])
    run("empty", [guard_filter(wasm.parent / "empty_filter.wasm", {})], [("-", "anonymous", anonymous)])
    run("floor", [guard_filter(wasm, guard_plugin(jwks, anonymous=True))],
        [("-", "anonymous", anonymous), ("-", "padded", padded)])
    by_alg = [(alg, w, token_requests(files[alg][w])) for alg in ALGS for w in REFUSALS + ("distinct",)]
    run("native", [native_filter(jwks, None)], by_alg)
    run("guard", [guard_filter(wasm, guard_plugin(jwks))],
        [(alg, "repeated", token_requests(files[alg]["repeated"])) for alg in ALGS]
        + [t for t in by_alg if t[1] != "distinct"])
    run("guard_off", [guard_filter(wasm, guard_plugin(jwks, cache_size=0))],
        [t for t in by_alg if t[1] == "distinct"])
    base = guard_plugin(jwks)
    feature = files["RS256"]["feature"]
    for f in FEATURES:
        url, header, prefix = REQUESTS[f.workload]
        run(f"{f.key}:{f.workload}", [guard_filter(wasm, feature_plugin(base, f))],
            [("RS256", f.workload, token_requests(feature, header, prefix, url))])
    Path(args.out).write_text(render(results, n))
    print(Path(args.out).read_text())
    return 0


def render(results: dict[tuple[str, str, str], float], n: int) -> str:
    """bench/instructions.md from the measured counts."""
    k = lambda key, alg, w: results.get((key, alg, w))  # noqa: E731
    fmt = lambda v: f"{v / 1000:,.1f}k" if v is not None else "–"  # noqa: E731
    out = ["# Envoy instructions per request (callgrind)", "",
           f"Generated by `make bench-instructions` (`python -m bench.instructions`) on "
           f"{time.strftime('%Y-%m-%d %H:%M %Z')}: Envoy's user-space instructions per request, {n} counted "
           "requests per row on one keep-alive connection, one worker, `direct_response`. Instruction counts do not "
           "move with other load, so these compare where requests/s on a shared machine cannot; they leave out "
           "the kernel's share (the same on both sides of each comparison).", "",
           "## Floors and refusals", "",
           "| configuration | alg | workload | instructions | ÷ native (lower is cheaper) |", "|---|---|---|---:|---:|"]
    for key, label in (("nofilter", "no filter"), ("empty", "empty wasm filter"), ("floor", "jwt-guard, anonymous rule")):
        for w in ("anonymous", "padded"):
            if k(key, "-", w) is not None:
                out.append(f"| {label} | - | {WORKLOAD_TEXT[w]} | {fmt(k(key, '-', w))} | |")
    for alg in ALGS:
        for w in ("repeated",) + REFUSALS + ("distinct",):
            native = k("native", alg, w)
            guard = k("guard_off" if w == "distinct" else "guard", alg, w)
            if native is not None:
                out.append(f"| native jwt_authn | {alg} | {WORKLOAD_TEXT[w]} | {fmt(native)} | |")
            ratio = f"{guard / native:.2f}×" if guard is not None and native else ""
            out.append(f"| jwt-guard | {alg} | {WORKLOAD_TEXT[w]} | {fmt(guard)} | {ratio} |")
    out += ["", "## Feature cost", "",
            "One repeated ten-claim RS256 token (a cache hit), each feature off, then on (bench/features.py).", "",
            "| feature | setting | instructions | Δ vs baseline |", "|---|---|---:|---:|"]
    baseline = k("feat_base:feature", "RS256", "feature")
    for f in FEATURES:
        v = k(f"{f.key}:{f.workload}", "RS256", f.workload)
        delta = f"{(v - baseline) / 1000:+,.1f}k" if v is not None and baseline is not None else "–"
        out.append(f"| {f.feature} | {f.setting} | {fmt(v)} | {delta} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
