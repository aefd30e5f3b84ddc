"""`make soak` (`python -m tests.soak`): SOAK_S seconds (default 1800) of steady load on Envoy (--concurrency 2) with
jwt-guard while configurations are pushed, keys rotate and the JWKS endpoint fails; prints a summary and exits 1 on
any violation (see checks.py), 2 when the stack cannot start.

The run is cut into cycles of SOAK_S/10 seconds (20 to 180 s). Each cycle: at its start a configuration push (in
turn: a rule added, the audience changed, an invalid configuration), at a quarter a key rotation step (in turn:
pre-publish the next key, sign with it, retire the old one), from half to 70 % a JWKS outage (in turn: HTTP 500s,
hanging answers). SOAK_RPS (default 150) sets the request rate. Files: .run/soak/ (Envoy's log and config, the
listener file, summary.txt).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time

from harness.envoy import REPO_ROOT, Envoy, EnvoyError
from harness.wasm import ensure_wasm

from .checks import Report, judge_answers, judge_fetches, judge_pushes, judge_rss, judge_upstream
from .configs import PUSH_KINDS, ListenerFile, Versions
from .idp import RotatingIdp
from .traffic import Load, RecordingUpstream

WORKDIR = REPO_ROOT / ".run" / "soak"
RSS_EVERY_S = 5.0
WARMUP_S = 5.0
OUTAGES = ("500", "hang")


def free_port() -> int:
    """A loopback port the kernel reports free (the listener keeps it across configuration versions)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Timeline:
    """Events with their time since the start, for the summary."""

    def __init__(self, t0: float):
        self.t0 = t0
        self.events: list[tuple[float, str]] = []

    def add(self, text: str) -> float:
        """Record `text` now; returns the monotonic time."""
        now = time.monotonic()
        self.events.append((now - self.t0, text))
        print(f"[soak {now - self.t0:7.1f}s] {text}", flush=True)
        return now


def run(duration_s: int, rate: float) -> int:
    """The soak; the exit status."""
    cycle_s = max(20, min(180, duration_s // 10))
    refresh_s = max(3, cycle_s // 4)
    cycles = max(1, duration_s // cycle_s)
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    idp = RotatingIdp(callout_timeout_s=1.0)
    upstream = RecordingUpstream()
    versions = Versions(refresh_s=refresh_s)
    listener_file = ListenerFile(WORKDIR / "lds", free_port(), ensure_wasm())
    listener_file.write(versions.first())
    envoy = Envoy(WORKDIR / "envoy", config=listener_file.bootstrap(upstream.port, idp.server.port), concurrency=2,
                  component_log_level="wasm:info", args=("--drain-time-s", "2"))
    try:
        envoy.start(timeout=60)
    except EnvoyError as e:
        print(f"soak: Envoy did not start: {e}", file=sys.stderr)
        return 2
    print(f"soak: {duration_s} s, {cycles} cycles of {cycle_s} s, {rate:.0f} req/s, Envoy --concurrency 2 on "
          f"127.0.0.1:{envoy.port}, refresh_interval_s {refresh_s}; files in {WORKDIR.relative_to(REPO_ROOT)}/",
          flush=True)
    t0 = time.monotonic()
    timeline = Timeline(t0)
    rss: list[tuple[float, int]] = []
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.wait(RSS_EVERY_S):
            rss.append((time.monotonic(), envoy.rss_kib()))

    sampler = threading.Thread(target=sample, name="soak-rss", daemon=True)
    sampler.start()
    load = Load(envoy.port, idp, versions, rate)
    load.start()
    first_cycle = t0 + WARMUP_S  # the first configuration serves alone for a while
    outages: list[tuple[float, float]] = []
    switches: list[float] = []
    died = False
    try:
        for i in range(cycles):
            start = first_cycle + i * cycle_s
            _sleep_until(start)
            version = versions.push(PUSH_KINDS[i % len(PUSH_KINDS)])
            listener_file.write(version)
            timeline.add(f"pushed v{version.number}: {version.change}")
            _sleep_until(start + 0.25 * cycle_s)
            step = idp.rotate()
            at = timeline.add(f"keys: {step}")
            if step.startswith("signing"):
                switches.append(at)
            _sleep_until(start + 0.5 * cycle_s)
            kind = OUTAGES[i % len(OUTAGES)]
            idp.fail(kind)
            began = timeline.add(f"JWKS outage: {'HTTP 500' if kind == '500' else 'hanging answers'}")
            _sleep_until(start + 0.7 * cycle_s)
            idp.heal()
            outages.append((began, timeline.add("JWKS healed")))
            if envoy.returncode is not None:
                died = True
                break
            print(f"[soak {time.monotonic() - t0:7.1f}s] {load.count():,} answers, RSS {envoy.rss_kib() / 1024:.0f} MiB",
                  flush=True)
        _sleep_until(first_cycle + cycles * cycle_s)
    finally:
        load.stop()
        stop_sampling.set()
        sampler.join(timeout=10)
    end = time.monotonic()
    time.sleep(1.0)  # let the last answers' requests finish at the upstream
    rejected = 0 if died else envoy.metric("listener_manager.lds.update_rejected")
    cpu_s = envoy.cpu_seconds()
    envoy.stop()
    upstream.close()
    idp.server.close()

    report = Report()
    if died:
        report.violate(f"Envoy exited (status {envoy.returncode}): {envoy.log_tail(20)}")
    judge_answers(load.answers, versions, outages, report)
    reached = upstream.snapshot()
    judge_upstream(reached, load.sent, versions, report)
    activated: dict[int, float] = {}
    for answer in load.answers:
        if answer.version is not None and answer.status:
            activated[answer.version] = min(activated.get(answer.version, answer.sent.at), answer.sent.at)
    judge_pushes(versions, activated, rejected, report)
    windows = judge_fetches(idp.server.fetches(), activated, switches, refresh_s, versions.active().cooldown_s, end,
                            report)
    rss_figures = judge_rss(rss, (first_cycle, first_cycle + cycle_s), report)
    summary = _summary(duration_s, end - t0, rate, load, versions, activated, timeline, windows, rss, rss_figures,
                       cpu_s, len(reached), report)
    (WORKDIR / "summary.txt").write_text(summary)
    print(summary, flush=True)
    return 1 if report.violations else 0


def _sleep_until(at: float) -> None:
    pause = at - time.monotonic()
    if pause > 0:
        time.sleep(pause)


def _summary(duration_s, elapsed_s, rate, load, versions, activated, timeline, windows, rss, rss_figures, cpu_s,
             reached, report) -> str:
    answers = load.answers
    lines = ["", f"soak summary: {elapsed_s:.0f} s (SOAK_S={duration_s}), {len(answers):,} requests "
                 f"({len(answers) / max(elapsed_s, 1):.0f}/s, target {rate:.0f}/s), Envoy CPU {cpu_s:.0f} s"]
    took = sorted(a.took_s for a in answers if a.status)
    if took:
        lines.append(f"  latency: p50 {took[len(took) // 2] * 1000:.1f} ms, p99 {took[int(len(took) * 0.99)] * 1000:.1f} ms, "
                     f"max {took[-1] * 1000:.0f} ms")
    kinds = sorted({kind for kind, _ in report.statuses})
    for kind in kinds:
        counts = ", ".join(f"{status or 'none'}: {n:,}" for (k, status), n in sorted(report.statuses.items())
                           if k == kind)
        lines.append(f"  {kind:<13} {counts}")
    lines.append(f"  the upstream received {reached:,} requests")
    if report.tolerated_503:
        lines.append(f"  503 for refused tokens during JWKS outages (tolerated): {report.tolerated_503:,}")
    lines.append("  configurations:")
    for version in versions.history:
        seen = activated.get(version.number)
        state = (f"served from {seen - timeline.t0:.1f} s, {report.by_version[version.number]:,} answers"
                 if seen is not None else "never served")
        lines.append(f"    v{version.number:<3} {version.change:<52} {state}")
    lines.append("  JWKS fetches per configuration (while newest): ok / failed (allowed ok)")
    for w in windows:
        lines.append(f"    v{w.version:<3} {w.start - timeline.t0:7.1f}-{w.end - timeline.t0:7.1f} s: {w.ok} / {w.failed} "
                     f"(≤ {w.allowed})")
    baseline, peak, final = rss_figures
    points = ", ".join(f"{(t - timeline.t0):.0f}s {kib / 1024:.0f}" for t, kib in rss[:: max(1, len(rss) // 12)])
    lines.append(f"  Envoy RSS MiB: first cycle {baseline / 1024:.0f}, peak {peak / 1024:.0f}, end {final / 1024:.0f} "
                 f"(samples: {points})")
    lines.append("  timeline:")
    lines.extend(f"    {t:7.1f} s  {text}" for t, text in timeline.events)
    if report.violations:
        lines.append(f"VIOLATIONS: {len(report.violations)}")
        lines.extend(f"  {v}" for v in report.violations[:40])
        if len(report.violations) > 40:
            lines.append(f"  ... and {len(report.violations) - 40} more")
    else:
        lines.append("soak: no violations")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Read SOAK_S and SOAK_RPS, run."""
    try:
        duration_s = int(os.environ.get("SOAK_S") or "1800")
        rate = float(os.environ.get("SOAK_RPS") or "150")
    except ValueError as e:
        print(f"soak: SOAK_S and SOAK_RPS must be numbers ({e})", file=sys.stderr)
        return 2
    if duration_s < 20 or rate <= 0:
        print("soak: SOAK_S must be at least 20 and SOAK_RPS positive", file=sys.stderr)
        return 2
    return run(duration_s, rate)


if __name__ == "__main__":
    sys.exit(main())
