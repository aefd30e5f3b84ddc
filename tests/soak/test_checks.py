"""The soak's checks can fail: each judge flags the violation it exists for (these run in make test; the soak
itself runs only with `make soak`)."""

from __future__ import annotations

from .checks import Report, expected, judge_answers, judge_fetches, judge_pushes, judge_rss, judge_upstream
from .configs import Versions
from .idp import Fetch
from .traffic import Answer, Sent

AUD = "https://api-1.example.test"


def versions() -> Versions:
    """v1 (audience AUD), v2 (a rule on /r0), v3 (invalid)."""
    history = Versions(refresh_s=10)
    history.first()
    history.push("rule")
    history.push("invalid")
    return history


def sent(serial: int, kind: str = "valid", path: str = "/api/items", audience: str = AUD, scopes=(), at=0.0) -> Sent:
    return Sent(serial, at, kind, "", audience, frozenset(scopes), path)


def test_expected_follows_the_configuration_that_answered():
    v1, v2, _ = versions().history
    assert expected(v1, sent(1, path="/r0/x")) == 200  # no rule yet
    assert expected(v2, sent(1, path="/r0/x")) == 403
    assert expected(v2, sent(1, "valid-scoped", "/r0/x", scopes={"read:r0"})) == 200
    assert expected(v2, sent(1, path="/r0x")) == 200  # a prefix governs whole segments only
    assert expected(v1, sent(1, audience="https://other.example.test")) == 401
    for kind in ("expired", "junk", "none"):
        assert expected(v1, sent(1, kind)) == 401


def test_answers_are_judged_against_their_stamp():
    history, report = versions(), Report()
    answers = [
        Answer(sent(1), 200, 1, 0.01),  # fine
        Answer(sent(2), 401, 1, 0.01),  # valid token refused
        Answer(sent(3), 503, 1, 0.01),  # valid token, keys unavailable
        Answer(sent(4, "junk"), 200, 1, 0.01),  # junk let through
        Answer(sent(5), 200, None, 0.01),  # no stamp
        Answer(sent(6), 200, 3, 0.01),  # the invalid version answered
        Answer(sent(7), 0, None, 0.01, "ConnectionResetError"),
        Answer(sent(8, "junk", at=5.0), 503, 1, 0.01),  # tolerated: during an outage
    ]
    judge_answers(answers, history, [(4.0, 6.0)], report)
    flagged = sorted(int(v.split()[0][1:]) for v in report.violations)
    assert flagged == [2, 3, 4, 5, 6, 7]
    assert report.tolerated_503 == 1


def test_the_upstream_must_only_see_what_its_configuration_allows():
    history, report = versions(), Report()
    requests = {1: sent(1), 2: sent(2, "expired"), 3: sent(3, path="/r0/x")}
    judge_upstream([(1, 1), (2, 1), (3, 2), (3, 1), (None, 1)], requests, history, report)
    assert len(report.violations) == 3  # the expired token, /r0 without its scope under v2, the unknown request


def test_pushes_must_be_served_or_rejected():
    history, report = versions(), Report()
    judge_pushes(history, {1: 0.0, 2: 5.0}, rejected=1, report=report)
    assert report.violations == []
    judge_pushes(history, {1: 0.0, 3: 5.0}, rejected=0, report=report)
    assert len(report.violations) == 3  # v2 never served, v3 served, no rejection counted


def test_a_fetch_storm_and_a_retry_storm_are_flagged():
    report = Report()
    calm = [Fetch(float(t), "ok") for t in range(0, 30, 10)]
    windows = judge_fetches(calm, {1: 0.0}, [], refresh_s=10, cooldown_s=5, end=30.0, report=report)
    assert report.violations == [] and windows[0].ok == 3
    storm = [Fetch(t / 10, "ok") for t in range(300)] + [Fetch(t / 100, "500") for t in range(3000)]
    judge_fetches(storm, {1: 0.0}, [], refresh_s=10, cooldown_s=5, end=30.0, report=report)
    assert len(report.violations) == 2


def test_rss_growth_is_flagged_and_a_plateau_is_not():
    report = Report()
    judge_rss([(float(t), 120_000) for t in range(0, 100, 5)], (0.0, 20.0), report)
    assert report.violations == []
    judge_rss([(float(t), 120_000 + t * 2_000) for t in range(0, 100, 5)], (0.0, 20.0), report)
    assert len(report.violations) == 1
