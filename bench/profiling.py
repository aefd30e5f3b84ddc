"""bench/profile's section of the results: the filter's own steps timed natively and as wasm in V8 (Node), and the
heaviest functions under callgrind."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from .runner import BENCH, log
from .tokens import ALGS

CALLGRIND_DECISIONS = 200  # bench/profile/src/main.rs runs this many decisions under callgrind


def run_profile(args, tokens_dir: Path) -> str:
    """The profiler's Markdown section for the tokens in `tokens_dir` ("" when there is no profiler build)."""
    if not args.profile_bin or not Path(args.profile_bin).exists():
        return ""
    md = ["## Where the time goes (`bench/profile`)", ""]
    res = subprocess.run([args.profile_bin, str(tokens_dir)], capture_output=True, text=True)
    if res.returncode != 0:
        log(f"profile failed: {res.stderr.strip()[-500:]}")
        return ""
    native = parse_md_table(res.stdout)
    wasm: dict[str, list[str]] = {}
    node = shutil.which("node")
    if args.profile_wasm and Path(args.profile_wasm).exists() and node:
        t0 = time.time()
        w = subprocess.run([node, "--no-warnings", "--no-liftoff", str(BENCH / "profile/run-wasm.mjs"),
                            args.profile_wasm, str(tokens_dir), "--quick"], capture_output=True, text=True)
        if w.returncode == 0:
            wasm = parse_md_table(w.stdout)
            log(f"wasm profile under node took {time.time() - t0:.1f}s")
        else:
            log(f"wasm profile failed: {w.stderr.strip()[-300:]}")
    md.append("The filter's own code paths (jwt-guard's modules, jwt-simple backend), timed per step "
              "per token, median of 5 rounds after a warm-up: natively (release, 1,000 distinct tokens) "
              "and as wasm32-wasip1 in V8" + (" (Node's V8 with `--no-liftoff`, i.e. optimised code; "
              "150 tokens)" if wasm else " (skipped: no `node` or no wasm build)") + ". µs per token.")
    md.append("")
    md.append("| step | RS256 native | RS256 wasm (V8) | ES256 native | ES256 wasm (V8) |")
    md.append("|---|---:|---:|---:|---:|")
    for step, vals in native.items():
        wv = wasm.get(step, ["–", "–"])
        md.append(f"| {step} | {vals[0]} | {wv[0]} | {vals[1]} | {wv[1]} |")
    if args.callgrind and shutil.which("valgrind"):
        for alg in ALGS:
            cg_out = tokens_dir.parent / f"callgrind.{alg.lower()}.out"
            t0 = time.time()
            cg = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg_out}",
                                 args.profile_bin, str(tokens_dir), "--callgrind", alg],
                                capture_output=True, text=True)
            if cg.returncode != 0 or not cg_out.exists():
                log(f"callgrind {alg} failed: {cg.stderr.strip()[-300:]}")
                continue
            ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(cg_out)],
                                 capture_output=True, text=True).stdout
            md.append("")
            md.append(f"callgrind, {alg}: 200 full `authz::decide` calls with the cache off "
                      f"(instructions, inclusive; top entries below `decide`, ran in {time.time() - t0:.0f} s):")
            md.append("")
            md.append("| Ir (inclusive) | % | function |")
            md.append("|---:|---:|---|")
            md.extend(callgrind_top(ann))
            tree = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=calling", str(cg_out)],
                                  capture_output=True, text=True).stdout
            calls = [int(c.replace(",", "")) for c in re.findall(r">\s+\S*monty::montgomery \(([\d,]+)x\)", tree)]
            if calls:
                md.append("")
                md.append(f"RSA: `num_bigint_dig` runs {max(calls) / CALLGRIND_DECISIONS:.0f} Montgomery "
                          "multiplications per signature check (`modpow` walks the whole 64-bit limb of "
                          "e = 65537 in 4-bit windows after precomputing 16 powers); a square-and-multiply "
                          "over e's 17 bits needs 17.")
    return "\n".join(md)


def parse_md_table(text: str) -> dict[str, list[str]]:
    """Rows of the profiler's Markdown table: step -> [RS256 value, ES256 value]."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.match(r"^-?[\d.]+$", cells[1]):
            rows[cells[0]] = cells[1:]
    return rows


def callgrind_top(annotate: str, n: int = 14) -> list[str]:
    """The heaviest functions (inclusive instructions) under the profiler's own frames."""
    skip = ("PROGRAM TOTALS", "std::rt", "lang_start", "__libc", "(below main)", "0x", "backtrace",
            "jwt_guard_profile::main", "jwt_guard_profile::run", "???:main")
    seen: set[str] = set()
    keep = []
    for line in annotate.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*)$", line)
        if not m or any(s in m.group(3) for s in skip):
            continue
        fn = re.sub(r"\s*\[[^\]]*\]\s*$", "", m.group(3))
        fn = fn.split(":", 1)[1] if re.match(r"^(/|\?\?\?|src/|bench/)", fn) and ":" in fn else fn
        if fn in seen:
            continue
        seen.add(fn)
        short = fn if len(fn) <= 110 else fn[:107] + "..."
        keep.append(f"| {int(m.group(1).replace(',', '')):,} | {float(m.group(2)):.1f} | `{short}` |")
        if len(keep) >= n:
            break
    return keep

