"""deploy/prometheus/jwt-guard.rules.yaml: accepted by promtool, behaving as its unit tests say, and written against
metric names real Envoy exports for jwt-guard on /stats/prometheus."""

from __future__ import annotations

import json
import re
import subprocess

import yaml
from artifacts import ROOT
from harness.envoy import Envoy
from harness.http_client import request
from harness.keys import claims, make_token

RULES = ROOT / "deploy" / "prometheus" / "jwt-guard.rules.yaml"
RULE_TESTS = ROOT / "tests" / "deploy" / "jwt-guard.rules.test.yaml"


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_rules():
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alerts_fire_per_provider_as_specified():
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def selectors() -> tuple[set[str], set[str]]:
    """(metric-name regexes, plain metric names) the rules read from Envoy (recorded series excluded)."""
    patterns, names = set(), set()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            expr = rule["expr"]
            patterns.update(re.findall(r'__name__=~"([^"]+)"', expr))
            unquoted = re.sub(r'"[^"]*"', "", expr)
            words = re.findall(r"\b[a-z][a-z0-9_]*\b", unquoted)
            names.update(w for w in words if w.startswith(("jwt_guard_", "envoy_")))
    return patterns, names


def test_rules_read_metrics_envoy_exports(tmp_path, dist, upstream, jwks, signing_key):
    provider = {"name": "auth0", "issuer": "https://tenant.example.test/", "audiences": ["https://api.example.test"],
                "jwks_cluster": "jwks"}
    envoy = Envoy(tmp_path / "envoy", json.dumps({"providers": [provider]}), wasm_path=dist.wasm,
                  upstream_port=upstream.port, clusters={"jwks": jwks.port})
    try:
        envoy.start()
        token = make_token(signing_key, claims(provider["issuer"], provider["audiences"][0]))
        assert envoy.get("/", token=token).status == 200
        envoy.wait_metric("jwt_guard.jwks_fetch_success.auth0", 1)
        exported = request(envoy.admin_port, "/stats/prometheus").body.decode()
    finally:
        envoy.stop()
    series = {line.split("{", 1)[0].split(" ", 1)[0] for line in exported.splitlines() if line and line[0] != "#"}
    patterns, names = selectors()
    assert len(patterns) == 5
    assert names == {"jwt_guard_denied_keys_unavailable", "envoy_wasm_remote_load_fetch_failures"}
    for pattern in patterns:
        matched = {s for s in series if re.fullmatch(pattern, s)}
        assert matched, f"no exported series matches {pattern}"
        assert all(s.endswith("_auth0") for s in matched), matched  # the suffix is the provider's name
    # envoy_wasm_remote_load_fetch_failures exists only with the remote code source: test_remote_code.py checks it.
    for name in names - {"envoy_wasm_remote_load_fetch_failures"}:
        assert name in series, f"{name} is not exported by Envoy"


def test_thresholds_match_the_settings_the_manifests_ship():
    """The age alerts are written for refresh_interval_s and max_stale_s; every deploy/ manifest uses those values."""
    rules = {r.get("alert"): r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    [refresh] = map(int, re.findall(r"> 3 \* (\d+)$", rules["JwtGuardJwksStale"]))
    [max_stale] = map(int, re.findall(r"> 0\.5 \* (\d+)$", rules["JwtGuardJwksNearMaxStale"]))
    carriers = 0
    for path in sorted((ROOT / "deploy").rglob("*.yaml")):
        text = path.read_text()
        refreshes = [int(v) for v in re.findall(r'"?refresh_interval_s"?: (\d+)', text)]
        max_stales = [int(v) for v in re.findall(r'"?max_stale_s"?: (\d+)', text)]
        assert refreshes == [refresh] * len(refreshes) and max_stales == [max_stale] * len(refreshes), path
        carriers += len(refreshes)
    assert carriers == 4  # envoy-remote, WasmPlugin, TrafficExtension, EnvoyExtensionPolicy
