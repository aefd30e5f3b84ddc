"""Checks of the files users start from: envoy.yaml and the compose demo.

envoy.yaml and the demo's Envoy configs are checked by Envoy itself (--mode validate loads
the real filter, which refuses an invalid plugin configuration); docker-compose.yml by
`docker compose config` when a Compose CLI is there, and always against the Compose
Specification's JSON schema. The running demo is checked by test_demo_answers.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.demo import compose_config

ROOT = Path(__file__).resolve().parents[2]
ENVOY = ROOT / ".venv" / "bin" / "envoy"
WASM = ROOT / "target" / "wasm32-wasip1" / "release" / "jwt_guard.wasm"
COMPOSE_SCHEMA = ROOT / "demo" / "compose-spec.schema.json"


@pytest.fixture(scope="module")
def wasm() -> Path:
    """The release filter module, built when missing (Envoy loads it even to validate)."""
    if not WASM.is_file():
        build = subprocess.run(
            ["cargo", "build", "--release", "--target", "wasm32-wasip1"],
            cwd=ROOT, capture_output=True, text=True, timeout=1200,
        )
        assert build.returncode == 0, build.stderr[-4000:]
    return WASM


def envoy_validate(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(config), "--disable-hot-restart"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_envoy_yaml_is_valid_for_envoy_and_the_filter(wasm):
    result = envoy_validate(ROOT / "envoy.yaml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "envoy.yaml' OK" in output
    # The filter really parsed the plugin JSON (validate mode runs its configure step).
    assert "configured 1 provider(s)" in output


def test_envoy_yaml_auth0_cluster_uses_tls_with_sni_and_the_system_cas():
    config = yaml.safe_load((ROOT / "envoy.yaml").read_text())
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    tenant = clusters["auth0_jwks"]
    assert tenant["type"] in ("LOGICAL_DNS", "STRICT_DNS")
    address = tenant["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert address["socket_address"] == {"address": "YOUR_TENANT.eu.auth0.com", "port_value": 443}
    tls = tenant["transport_socket"]["typed_config"]
    assert tls["sni"] == "YOUR_TENANT.eu.auth0.com"
    validation = tls["common_tls_context"]["validation_context"]
    assert validation["trusted_ca"]["filename"] == "/etc/ssl/certs/ca-certificates.crt"

    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    assert hcm["normalize_path"] is True and hcm["merge_slashes"] is True
    names = [f["name"] for f in hcm["http_filters"]]
    # CORS before jwt-guard: preflights are answered before they would need a token.
    assert names == ["envoy.filters.http.cors", "envoy.filters.http.wasm", "envoy.filters.http.router"]
    cors = hcm["route_config"]["virtual_hosts"][0]["typed_per_filter_config"]["envoy.filters.http.cors"]
    assert cors["allow_origin_string_match"] == [{"exact": "https://YOUR_SPA.example.com"}]
    assert "www-authenticate" in cors["expose_headers"]
    plugin = hcm["http_filters"][1]["typed_config"]["config"]
    assert plugin["vm_config"]["runtime"] == "envoy.wasm.runtime.v8"
    settings = json.loads(plugin["configuration"]["value"])
    provider = settings["providers"][0]
    assert provider["issuer"] == "https://YOUR_TENANT.eu.auth0.com/"
    assert provider["audiences"] == ["https://api.example.com"]
    assert provider["jwks_cluster"] in clusters


def render_compose_config() -> str:
    """What `scripts/demo.sh --render-compose-config` prints."""
    result = subprocess.run(
        ["bash", "scripts/demo.sh", "--render-compose-config"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == compose_config()
    return result.stdout


def test_compose_envoy_config_is_generated_from_the_template():
    committed = (ROOT / "demo" / "envoy-compose.yaml").read_text()
    assert committed == render_compose_config(), (
        "demo/envoy-compose.yaml is stale: scripts/demo.sh --render-compose-config > demo/envoy-compose.yaml"
    )


def test_compose_envoy_config_is_valid_for_envoy_and_the_filter(wasm, tmp_path):
    # The container path of the module does not exist here: point it at the local build.
    text = render_compose_config().replace("/etc/envoy/jwt_guard.wasm", str(wasm))
    config = tmp_path / "envoy-compose.yaml"
    config.write_text(text)
    result = envoy_validate(config)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "configured 1 provider(s)" in output


def compose_cli() -> list[str] | None:
    """`docker compose` or `docker-compose`, when one that can run `config` is installed."""
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(cmd[0]) is None:
            continue
        probe = subprocess.run([*cmd, "version"], capture_output=True, text=True, timeout=60)
        if probe.returncode == 0:
            return cmd
    return None


def compose_validator():
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def test_compose_file_matches_the_compose_specification(wasm):
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in compose_validator().iter_errors(document)]
    assert errors == []

    cli = compose_cli()
    if cli is not None:
        # Parses, interpolates and checks the file the way Docker will (no engine needed).
        # The wasm module (built by the fixture) must exist: its bind mount has
        # create_host_path: false.
        result = subprocess.run([*cli, "-f", "docker-compose.yml", "config", "--quiet"],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr


def test_compose_schema_check_rejects_a_broken_file():
    # The schema validation must be able to fail: a typo in a service key is caught.
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    document["services"]["envoy"]["volume"] = document["services"]["envoy"].pop("volumes")
    assert list(compose_validator().iter_errors(document))


def test_compose_services_are_wired_like_the_demo():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert set(services) == {"dev-idp", "echo", "spa", "envoy"}
    assert services["envoy"]["image"].startswith("envoyproxy/envoy:v1.40")
    for name in ("dev-idp", "echo", "spa"):
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    mounts = {m["target"]: m for m in services["envoy"]["volumes"]}
    wasm_mount = mounts["/etc/envoy/jwt_guard.wasm"]
    assert wasm_mount["read_only"] is True
    assert wasm_mount["source"] == "./target/wasm32-wasip1/release/jwt_guard.wasm"
    config_mount = mounts["/etc/envoy/envoy.yaml"]
    assert config_mount["read_only"] is True
    assert (ROOT / config_mount["source"]).is_file()
    # The filter trusts the issuer the dev IdP puts in its tokens.
    idp_command = services["dev-idp"]["command"]
    assert "--issuer=http://127.0.0.1:9000/" in idp_command
    envoy_config = (ROOT / "demo" / "envoy-compose.yaml").read_text()
    assert '"issuer": "http://127.0.0.1:9000/"' in envoy_config
    # The SPA's origin is the one the IdP and Envoy's CORS policy allow.
    assert "--web-origin=http://127.0.0.1:3000" in idp_command
    assert "--callback-url=http://127.0.0.1:3000/" in idp_command
    assert '- exact: "http://127.0.0.1:3000"' in envoy_config
    assert "127.0.0.1:3000:3000" in services["spa"]["ports"]
    # The images need no base image: everything is built on the host.
    dockerfile = (ROOT / "demo" / "Dockerfile").read_text()
    assert [line for line in dockerfile.splitlines() if line.startswith("FROM")] == ["FROM scratch"]
