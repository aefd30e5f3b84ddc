"""Running the plan: one harness Envoy per group, wrk (bench/tokens.lua) runs in interleaved rounds, cache priming,
Envoy's CPU per request, the load other processes put on the shared machine, and perf samples."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

from harness.envoy import Envoy

from .scenarios import EXPECTED, LATENCY, Config, Group, envoy_config, request_shape, tokens_for, wrk_args
from .tokens import DISTINCT

BENCH = Path(__file__).resolve().parent
ENVOY_READY_S = 60.0


def log(msg: str) -> None:
    """A timestamped progress line."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Measure:
    """One wrk run's figures (or a row's best run)."""

    rps: float = 0.0
    p50_us: int = 0
    p99_us: int = 0
    requests: int = 0
    bad: int = 0
    bad_status: int = 0
    errors: int = 0
    hit_ratio: float | None = None
    rss_kib: int = 0
    other_cpu: float = 0.0
    cpu_us: float = 0.0  # Envoy CPU time per request (all threads)
    note: str = ""




@dataclass
class Row:
    """One line of the results table: a configuration, algorithm, workload and concurrency, with its samples."""

    config: Config
    alg: str  # RS256 / ES256 / "-"
    workload: str
    conc: int
    m: Measure = field(default_factory=Measure)
    samples: list[Measure] = field(default_factory=list)
    perf: dict | None = None


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (all threads)."""
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def wrk(url: str, script_args: list[str], seconds: float, out: Path | None,
        threads: int, connections: int) -> dict | None:
    """One wrk run with bench/tokens.lua; its JSON result when `out` is given (a warm-up gives none)."""
    env = dict(os.environ)
    env["WRK_OUT"] = str(out) if out else ""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
           "-s", str(BENCH / "tokens.lua"), url, "--"] + script_args
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"wrk failed: {res.stderr.strip() or res.stdout.strip()}")
    if out is None:
        return None
    return json.loads(out.read_text())


def prime(envoy: Envoy, tokens: list[str], workers: int) -> float:
    """Puts every token into every worker's cache: with exact_balance, connections opened
    together land on distinct workers, so one connection per worker sends the whole list
    (one worker: two connections share the list to keep the worker busy)."""
    t0 = time.time()
    conns = [HTTPConnection("127.0.0.1", envoy.port, timeout=30) for _ in range(max(2, workers))]
    for c in conns:
        c.connect()
    time.sleep(0.2)
    per_worker = envoy.stats(r"^listener\.127\.0\.0\.1_\d+\.worker_\d+\.downstream_cx_active$")
    if workers > 1 and sorted(per_worker.values()) != [1] * workers:
        log(f"  warning: primer connections per worker: {per_worker}")
    if workers == 1:
        plans = [tokens[0::2], tokens[1::2]]
    else:
        plans = [tokens] * workers
    failures: list[str] = []

    def send(conn: HTTPConnection, plan: list[str]) -> None:
        for t in plan:
            conn.request("GET", "/", headers={"Authorization": f"Bearer {t}"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                failures.append(str(r.status))
                return

    ths = [threading.Thread(target=send, args=(c, p)) for c, p in zip(conns, plans)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    for c in conns:
        c.close()
    if failures:
        log(f"  warning: primer got statuses {failures[:5]}")
    return time.time() - t0



def run_phase(args, groups: list[Group], files: dict, workdir: Path, rows: list[Row], quiet: Quiet) -> None:
    """Runs every group of one --concurrency: all Envoys are started first, then the rows are
    measured in interleaved rounds (each round visits every row once) and each row keeps its
    best round. The machine is shared: a burst of foreign load then spoils one sample of a
    row, not the comparison."""
    started = time.time()
    envoys: dict[int, Envoy] = {}
    phase_rows: list[tuple[Group, Row, Envoy | None]] = []
    names = {id(g): f"{g.config.key}-{g.alg.lower()}-c{g.conc}".replace("--", "-") for g in groups}
    pending = []
    for g in groups:
        envoy = Envoy(workdir / names[id(g)], config=envoy_config(g.config.filters), concurrency=g.conc,
                      log_level="warning", component_log_level="wasm:info")
        envoy.launch()
        pending.append((g, envoy))
    for g, envoy in pending:
        outcome = envoy.wait_ready(ENVOY_READY_S)
        if outcome == "ready":
            envoys[id(g)] = envoy
        else:
            log(f"{names[id(g)]}: FAILED to start ({outcome}): {envoy.log_tail(15)}")
            envoy.stop()
    log(f"c{groups[0].conc}: {len(envoys)} Envoys ready in {time.time() - started:.1f}s")
    try:
        for g in groups:
            envoy = envoys.get(id(g))
            for w in g.workloads:
                row = Row(g.config, g.alg, w, g.conc)
                rows.append(row)
                phase_rows.append((g, row, envoy))
                if envoy is None:
                    row.m.note = "Envoy did not start"
                    continue
                tokens = tokens_for(files, g.alg, w)
                first = tokens.read_text().split("\n", 1)[0] if tokens else None
                path, header, prefix = request_shape(w)
                status = envoy.get(path, {header: f"{prefix}{first}"} if first else None).status
                if status != EXPECTED[w]:
                    row.m.note = f"sanity request got {status}, expected {EXPECTED[w]}"
                    log(f"{names[id(g)]} {w}: {row.m.note}")
                if g.prime and w == "distinct":
                    took = prime(envoy, tokens.read_text().split(), g.conc)
                    log(f"{names[id(g)]}: primed {DISTINCT} tokens per worker in {took:.1f}s")
        pids = [e.pid for e in envoys.values()]
        quiet.pids = pids
        for rnd in range(args.rounds):
            last = rnd == args.rounds - 1
            for g, row, envoy in phase_rows:
                if envoy is None:
                    continue
                # One warm-up per Envoy (its wasm code tiers up and connections settle); the
                # state a workload needs (cache contents) comes from the primer or its own run.
                warm = rnd == 0 and row is next(r for gg, r, _ in phase_rows if gg is g)
                quiet.before_run()
                sample = measure(args, envoy, g, row.workload, files, warm=warm,
                                 hits=last and g.config.cache is not None, pids=pids,
                                 out=workdir / f"{names[id(g)]}-{row.workload}-{rnd}.json")
                row.samples.append(sample)
                quiet.last = sample.other_cpu
                hits = "" if sample.hit_ratio is None else f" hits {sample.hit_ratio:.1%}"
                flag = ("" if sample.bad == 0 and sample.errors == 0
                        else f"  !! {sample.bad} unexpected (e.g. {sample.bad_status}), {sample.errors} errors")
                other = f" other load {sample.other_cpu:.2f} CPU" if sample.other_cpu >= 0.05 else ""
                log(f"round {rnd + 1} {names[id(g)]} {row.workload}: {sample.rps:,.0f} req/s "
                    f"p50 {sample.p50_us / 1000:.2f} ms p99 {sample.p99_us / 1000:.2f} ms{hits}{other}{flag}")
        for g, row, envoy in phase_rows:
            if envoy is None or not row.samples:
                continue
            good = [x for x in row.samples if x.bad == 0 and x.errors == 0] or row.samples[-1:]
            best = max(good, key=lambda x: x.rps)
            hit = next((x.hit_ratio for x in reversed(row.samples) if x.hit_ratio is not None), None)
            note = row.m.note
            row.m = best
            row.m.note = note
            row.m.hit_ratio = hit
            row.m.rss_kib = envoy.peak_rss_kib()
        if args.perf and groups[0].conc == 1 and perf_works():
            for key, alg, workload in PERF_ROWS:
                for g, row, envoy in phase_rows:
                    if envoy and g.config.key == key and g.alg == alg and row.workload == workload:
                        row.perf = perf_split(args, envoy, g, workload, files,
                                              workdir / f"perf-{key}-{alg}-{workload}.data")
                        if row.perf:
                            log(f"perf {key} {alg} {workload}: " +
                                ", ".join(f"{k} {v:.0f}%" for k, v in row.perf.items()))
        for g in groups:
            envoy = envoys.get(id(g))
            if envoy is None:
                continue
            lines = [ln for ln in envoy.log_path.read_text(errors="replace").splitlines()
                     if "jwt_guard" in ln and "signatures" in ln]
            if lines:
                g.config.log_lines.add(lines[0].split("]")[-1].strip())
    finally:
        for envoy in envoys.values():
            envoy.stop()
    log(f"c{groups[0].conc}: done in {time.time() - started:.0f}s")


def measure(args, envoy: Envoy, g: Group, workload: str, files: dict, warm: bool, hits: bool,
            pids: list[int], out: Path) -> Measure:
    """One measured run of `workload` (after a warm-up when `warm`; cache hit ratio when `hits`)."""
    url = f"http://127.0.0.1:{envoy.port}/"
    script_args = wrk_args(files, g.alg, workload)
    if warm and args.warmup > 0:
        wrk(url, script_args, args.warmup, None, args.threads, args.connections)
    hit0 = miss0 = 0
    if hits:
        hit0, miss0 = cache_counts(envoy, g.config.cache)
    meter = CpuMeter(pids)
    cpu0 = envoy.cpu_seconds()
    threads, conns = (1, 1) if workload in LATENCY else (args.threads, args.connections)
    res = wrk(url, script_args, args.duration, out, threads, conns)
    m = Measure()
    m.other_cpu = meter.other_cpus()
    m.cpu_us = (envoy.cpu_seconds() - cpu0) * 1e6 / max(res["requests"], 1)
    m.requests = res["requests"]
    m.rps = res["requests"] / (res["duration_us"] / 1e6)
    m.p50_us, m.p99_us = res["p50_us"], res["p99_us"]
    m.bad, m.bad_status = res["bad"], res["bad_status"]
    m.errors = res["connect_errors"] + res["read_errors"] + res["write_errors"] + res["timeouts"]
    if hits:
        # jwt-guard publishes its cache counters on its 1 s tick: wait for this run's counts.
        # Its next run starts after this, so that run's starting snapshot is settled too.
        time.sleep(1.1 if g.config.cache == "guard" else 0)
        hit1, miss1 = cache_counts(envoy, g.config.cache)
        looked = (hit1 - hit0) + (miss1 - miss0)
        m.hit_ratio = (hit1 - hit0) / looked if looked else None
    return m


# The rows perf samples at --concurrency 1: (config key, alg, workload).
PERF_ROWS = (("nofilter", "-", "any"), ("floor", "-", "padded"), ("guard", "RS256", "repeated"),
             ("guard_off", "RS256", "distinct"), ("guard_off_js", "RS256", "distinct"))


def perf_works() -> bool:
    """Whether `perf record` may sample processes here."""
    if not shutil.which("perf"):
        return False
    res = subprocess.run(["perf", "record", "-q", "-o", "/dev/null", "--", "true"], capture_output=True)
    return res.returncode == 0


def perf_split(args, envoy: Envoy, g: Group, workload: str, files: dict, out: Path, seconds: int = 2) -> dict | None:
    """Samples the Envoy process under load and splits its CPU time by where the code lives:
    V8-compiled wasm (perf's [JIT] map), the Envoy binary (stripped: C++ including the host
    side of every proxy-wasm call and BoringSSL), the kernel (loopback TCP) and libraries."""
    url = f"http://127.0.0.1:{envoy.port}/"
    env = dict(os.environ, WRK_OUT="")
    load = subprocess.Popen(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds + 2}s",
                             "-s", str(BENCH / "tokens.lua"), url, "--"] + wrk_args(files, g.alg, workload),
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        rec = subprocess.run(["perf", "record", "-q", "-F", "999", "-p", str(envoy.pid), "-o", str(out),
                              "--", "sleep", str(seconds)], capture_output=True, text=True)
    finally:
        load.wait()
    if rec.returncode != 0 or not out.exists():
        return None
    rep = subprocess.run(["perf", "report", "-i", str(out), "--no-children", "--sort", "dso", "--stdio", "-g", "none"],
                         capture_output=True, text=True).stdout
    split = {"wasm": 0.0, "envoy": 0.0, "kernel": 0.0, "other": 0.0}
    for line in rep.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+(.+?)\s*$", line)
        if not m:
            continue
        pct, dso = float(m.group(1)), m.group(2)
        key = ("wasm" if dso.startswith("[JIT]") else "kernel" if dso.startswith("[kernel") else
               "envoy" if dso == "envoy" else "other")
        split[key] += pct
    return split


class Quiet:
    """Pauses before a run while other processes keep a CPU busy (after a run that saw
    them), within a total budget, so short bursts of foreign load pass unmeasured."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.waited_s = 0.0
        self.last = 0.0
        self.pids: list[int] = []

    def before_run(self) -> None:
        """Wait while the last run saw other load, within the budget."""
        announced = False
        while self.last >= 0.3 and self.waited_s < self.budget_s:
            if not announced:
                log(f"other processes used {self.last:.1f} CPU; pausing until they stop "
                    f"({self.budget_s - self.waited_s:.0f} s of waiting left)")
                announced = True
            t0 = time.time()
            meter = CpuMeter(self.pids)
            time.sleep(1)
            self.last = meter.other_cpus()
            self.waited_s += time.time() - t0


class CpuMeter:
    """CPU used by processes other than this driver, its children (wrk) and the benchmark's
    Envoys since creation, in CPUs: the machine is shared, and other load skews the figures."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.wall = time.time()
        self.busy = self._busy_s()
        self.own = self._own_s()

    @staticmethod
    def _busy_s() -> float:
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
            return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return 0.0

    def _own_s(self) -> float:
        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
        return total + sum(proc_cpu_s(pid) for pid in self.pids)

    def other_cpus(self) -> float:
        """CPUs used by other processes since the meter was made."""
        wall = max(time.time() - self.wall, 1e-6)
        other = (self._busy_s() - self.busy) - (self._own_s() - self.own)
        return max(other, 0.0) / wall


def cache_counts(envoy: Envoy, kind: str) -> tuple[int, int]:
    """Token cache (hits, misses) of jwt-guard ("guard") or jwt_authn ("native"), summed over workers."""
    if kind == "guard":
        return (envoy.stat_sum(r"jwt_guard\.token_cache\.hit$"), envoy.stat_sum(r"jwt_guard\.token_cache\.miss$"))
    return (envoy.stat_sum(r"jwt_authn\.jwt_cache_hit$"), envoy.stat_sum(r"jwt_authn\.jwt_cache_miss$"))




def wait_for_quiet(limit_s: float) -> str:
    """Waits (up to limit_s) until other processes use under 0.3 CPU, so the benchmark does
    not start in the middle of someone else's build; returns a note when it had to wait."""
    t0 = time.time()
    while True:
        meter = CpuMeter([])
        time.sleep(2)
        load = meter.other_cpus()
        if load < 0.3:
            waited = time.time() - t0
            return f"Waited {waited:.0f} s for other processes to go quiet before starting." if waited > 3 else ""
        if time.time() - t0 >= limit_s:
            log(f"other processes still use {load:.1f} CPU; starting anyway")
            return f"Other processes used {load:.1f} CPU when the benchmark started (waited {limit_s:.0f} s)."
        log(f"other processes use {load:.1f} CPU; waiting for them to finish")

