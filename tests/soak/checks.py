"""What the soak holds jwt-guard to, judged after the run from the generator's and the upstream's records.

- Every answer against the configuration that gave it (its x-soak-config stamp): a valid token for that
  configuration's audience gets 200, or 403 where a rule of that configuration needs a scope the token lacks;
  never 401 or 503. Expired, junk and missing tokens get 401 (503 is tolerated, and counted, while the JWKS
  endpoint is down: the filter may have tried to refetch for them). An answer without a stamp, or no answer, is a
  violation.
- Nothing reaches the upstream that its configuration should have refused.
- Every valid configuration pushed is served (its stamp is seen); no invalid one ever is, and Envoy counts a
  rejected listener update for each.
- JWKS fetches per configuration stay within what the first fetch, refreshes, key switches and the cooldown-limited
  refetches that signature failures ask for explain.
- Envoy's RSS does not keep growing.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from .configs import Version, Versions
from .idp import Fetch
from .traffic import Answer, Sent

RSS_GROWTH_LIMIT_KIB = 64 * 1024
FETCH_SLACK = 3  # a draining configuration's last refresh, a fetch racing a push


def expected(version: Version, sent: Sent) -> int:
    """The status `version` must give the request `sent`."""
    if sent.kind not in ("valid", "valid-scoped") or sent.audience != version.audience:
        return 401
    rule = version.rule_for(sent.path)
    if rule is not None and rule.scope not in sent.scopes:
        return 403
    return 200


@dataclass
class Report:
    """Counts and violations of one run."""

    violations: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> count
    tolerated_503: int = 0
    by_version: Counter = field(default_factory=Counter)

    def violate(self, text: str) -> None:
        """Record one violation."""
        self.violations.append(text)


def judge_answers(answers: list[Answer], versions: Versions, outages: list[tuple[float, float]], report: Report) -> None:
    """Every answer against the configuration that stamped it."""
    for answer in answers:
        sent = answer.sent
        report.statuses[(sent.kind, answer.status)] += 1
        where = f"#{sent.serial} {sent.kind}{'/' + sent.detail if sent.detail else ''} GET {sent.path}"
        if answer.status == 0:
            report.violate(f"{where}: no answer ({answer.error})")
            continue
        version = versions.by_number(answer.version) if answer.version is not None else None
        if version is None:
            report.violate(f"{where}: answer {answer.status} without a configuration stamp")
            continue
        report.by_version[version.number] += 1
        if not version.valid:
            report.violate(f"{where}: answered by v{version.number}, which Envoy should have rejected")
            continue
        want = expected(version, sent)
        if answer.status == want:
            continue
        during_outage = any(start <= sent.at <= end + 2.0 for start, end in outages)
        if want == 401 and answer.status == 503 and during_outage:
            report.tolerated_503 += 1
            continue
        report.violate(f"{where}: v{version.number} answered {answer.status}, expected {want} "
                       f"(aud {sent.audience}, scopes {sorted(sent.scopes)})")


def judge_upstream(reached: list[tuple[int | None, int | None]], sent: dict[int, Sent], versions: Versions,
                   report: Report) -> None:
    """Every request the upstream got must be one its configuration allows."""
    for serial, number in reached:
        request = sent.get(serial) if serial is not None else None
        version = versions.by_number(number) if number is not None else None
        if request is None or version is None:
            report.violate(f"upstream got request #{serial} under configuration {number}: unknown to the soak")
            continue
        if not version.valid or expected(version, request) != 200:
            report.violate(f"upstream got #{serial} ({request.kind}, aud {request.audience}, {request.path}) "
                           f"under v{number}, which must refuse it")


def judge_pushes(versions: Versions, activated: dict[int, float], rejected: int, report: Report) -> None:
    """Valid versions were served, invalid ones never, and each invalid one was rejected by Envoy."""
    for version in versions.history:
        if version.valid and version.number not in activated:
            report.violate(f"v{version.number} ({version.change}) was pushed but never served")
        if not version.valid and version.number in activated:
            report.violate(f"v{version.number} ({version.change}) was served")
    invalid = sum(1 for v in versions.history if not v.valid)
    if rejected != invalid:
        report.violate(f"Envoy rejected {rejected} listener update(s); {invalid} invalid configuration(s) pushed")


@dataclass(frozen=True)
class FetchWindow:
    """JWKS fetches while one configuration was the newest serving."""

    version: int
    start: float
    end: float
    ok: int
    failed: int
    allowed: int


def judge_fetches(fetches: list[Fetch], activated: dict[int, float], switches: list[float], refresh_s: int,
                  cooldown_s: int, end: float, report: Report) -> list[FetchWindow]:
    """Fetches per configuration window: successful ones at most 1 + one per refresh interval + one per key switch +
    one per refetch cooldown (junk signatures under a published kid ask for refetches) + slack; failed ones
    (outages) at most two per second plus a few."""
    starts = sorted(activated.items(), key=lambda item: item[1])
    windows = []
    for i, (number, start) in enumerate(starts):
        stop = starts[i + 1][1] if i + 1 < len(starts) else end
        inside = [f for f in fetches if start - 1.0 <= f.at < stop]
        ok = sum(1 for f in inside if f.outcome == "ok")
        failed = len(inside) - ok
        keys = sum(1 for t in switches if start <= t < stop)
        allowed = 1 + math.ceil((stop - start) / refresh_s) + math.ceil((stop - start) / cooldown_s) + keys + FETCH_SLACK
        windows.append(FetchWindow(number, start, stop, ok, failed, allowed))
        if ok > allowed:
            report.violate(f"v{number}: {ok} successful JWKS fetches in {stop - start:.0f} s, at most {allowed} expected")
        if failed > 2 * (stop - start) + 5:
            report.violate(f"v{number}: {failed} failed JWKS fetches in {stop - start:.0f} s (a retry storm)")
    return windows


def judge_rss(samples: list[tuple[float, int]], baseline_window: tuple[float, float],
              report: Report) -> tuple[int, int, int]:
    """(baseline, peak, final) RSS in KiB: baseline is the median of the samples in `baseline_window` (the first
    cycle, once the first configuration has loaded), final the median of the last three samples; growing by more
    than 64 MiB and by half over the baseline is a violation."""
    if not samples:
        report.violate("no RSS samples")
        return 0, 0, 0
    first = sorted(kib for t, kib in samples if baseline_window[0] <= t <= baseline_window[1])
    first = first or [samples[0][1]]
    baseline = first[len(first) // 2]
    last = sorted(kib for _, kib in samples[-3:])
    final = last[len(last) // 2]
    peak = max(kib for _, kib in samples)
    if final - baseline > RSS_GROWTH_LIMIT_KIB and final > 1.5 * baseline:
        report.violate(f"RSS grew from {baseline / 1024:.0f} MiB to {final / 1024:.0f} MiB")
    return baseline, peak, final
