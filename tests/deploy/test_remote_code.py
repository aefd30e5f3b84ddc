"""deploy/envoy/envoy-remote.yaml in real Envoy: the module comes from an HTTP server by URL + sha256.

The shipped file is loaded as it is, except that its three clusters (module server, tenant, backend) point at local
stand-ins, its ports are chosen by the kernel, the sha256 is the hash under test and the retry back-off is short.
With the right hash Envoy validates tokens with the downloaded module; with a wrong one Envoy 1.40 gives up after
1 + num_retries fetches, never fetches again, and failure_policy decides: FAIL_CLOSED answers 503, FAIL_OPEN lets
requests through unauthenticated (which is why the file and the README say to stay fail-closed).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from artifacts import ROOT
from harness.envoy import ENVOY_BIN, Envoy, static_cluster
from harness.http_client import request
from harness.keys import claims, make_token
from harness.local_server import LocalServer, QuietHandler

SHIPPED = ROOT / "deploy" / "envoy" / "envoy-remote.yaml"


class _ModuleHandler(QuietHandler):
    def handle_any(self) -> None:
        owner: ModuleServer = self.server.owner
        with owner.lock:
            owner.fetches.append(self.path)
        if self.path == owner.path:
            self.reply(200, owner.body, "application/wasm")
        else:
            self.reply(404, b"not found", "text/plain")


class ModuleServer(LocalServer):
    """Serves one file at one path and records every request."""

    def __init__(self, path: str, body: bytes):
        self.path, self.body = path, body
        self.lock = threading.Lock()
        self.fetches: list[str] = []
        super().__init__(_ModuleHandler)

    def count(self) -> int:
        with self.lock:
            return len(self.fetches)


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text())


def wasm_plugin(config: dict) -> dict:
    """The wasm filter's PluginConfig in a bootstrap shaped like the shipped file."""
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    [wasm] = [f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.wasm"]
    return wasm["typed_config"]["config"]


def settings() -> dict:
    """The plugin JSON the shipped file carries."""
    return json.loads(wasm_plugin(shipped())["configuration"]["value"])


@pytest.fixture(scope="module")
def stand_ins(dist, upstream, jwks):
    """Module server (serving dist/jwt_guard.wasm at the shipped URL's path), JWKS server, echo upstream."""
    uri = wasm_plugin(shipped())["vm_config"]["code"]["remote"]["http_uri"]["uri"]
    server = ModuleServer(urlsplit(uri).path, dist.wasm.read_bytes())
    yield server, jwks, upstream
    server.close()


def launch(tmp_path: Path, stand_ins, sha256: str, failure_policy: str | None = None) -> tuple[Envoy, dict]:
    """Envoy running the shipped file against the stand-ins (not waited for)."""
    module, jwks, upstream = stand_ins
    config = shipped()
    config["admin"]["address"]["socket_address"]["port_value"] = 0
    config["static_resources"]["listeners"][0]["address"]["socket_address"].update(address="127.0.0.1",
                                                                                   port_value=0)
    ports = {"jwt_guard_module": module.port, "auth0_jwks": jwks.port, "backend": upstream.port}
    assert {c["name"] for c in config["static_resources"]["clusters"]} == set(ports)
    config["static_resources"]["clusters"] = [static_cluster(name, port) for name, port in ports.items()]
    plugin = wasm_plugin(config)
    remote = plugin["vm_config"]["code"]["remote"]
    remote["http_uri"]["uri"] = f"http://127.0.0.1:{module.port}{module.path}"
    remote["sha256"] = sha256
    remote["retry_policy"]["retry_back_off"] = {"base_interval": "0.1s", "max_interval": "0.2s"}
    if failure_policy is not None:
        plugin["failure_policy"] = failure_policy

    def replace(bootstrap: dict) -> None:
        bootstrap.clear()
        bootstrap.update(config)

    envoy = Envoy(tmp_path / "envoy", None, wasm_path=None, upstream_port=upstream.port, clusters={},
                  customize=replace)
    return envoy, remote


def token(signing_key, **overrides) -> str:
    provider = settings()["providers"][0]
    return make_token(signing_key, claims(provider["issuer"], provider["audiences"][0], **overrides))


def test_shipped_file_is_fail_closed_with_retries():
    plugin = wasm_plugin(shipped())
    assert plugin["failure_policy"] == "FAIL_CLOSED"
    assert "fail_open" not in plugin
    remote = plugin["vm_config"]["code"]["remote"]
    assert remote["retry_policy"]["num_retries"] >= 3
    assert remote["http_uri"]["cluster"] == "jwt_guard_module"
    assert remote["http_uri"]["uri"].startswith("https://")


def hcm(config: dict) -> dict:
    return config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]


def test_shipped_file_keeps_envoy_yaml_security_settings():
    """The parts of the repository's envoy.yaml that decide what is admitted are the same here: the HCM path
    options, the filter JSON (plus max_stale_s written out), the order wasm -> router, and the TLS cluster to the
    tenant. When this fails after an envoy.yaml change, port the change to deploy/envoy/envoy-remote.yaml."""
    local, remote = yaml.safe_load((ROOT / "envoy.yaml").read_text()), shipped()
    for option in ("normalize_path", "merge_slashes", "path_with_escaped_slashes_action"):
        assert hcm(remote)[option] == hcm(local)[option], option
    names = [f["name"] for f in hcm(remote)["http_filters"]]
    assert names[-2:] == ["envoy.filters.http.wasm", "envoy.filters.http.router"]
    settings = json.loads(wasm_plugin(remote)["configuration"]["value"])
    for provider in settings["providers"]:
        assert provider.pop("max_stale_s") == 86400
    assert settings == json.loads(wasm_plugin(local)["configuration"]["value"])
    local_plugin, remote_plugin = wasm_plugin(local), wasm_plugin(remote)
    for key in ("name", "root_id"):
        assert remote_plugin[key] == local_plugin[key]
    assert remote_plugin["vm_config"]["vm_id"] == local_plugin["vm_config"]["vm_id"]
    clusters = {c["name"]: c for c in remote["static_resources"]["clusters"]}
    for cluster in local["static_resources"]["clusters"]:
        assert clusters[cluster["name"]] == cluster, cluster["name"]


def test_shipped_file_passes_envoy_validate():
    result = subprocess.run([str(ENVOY_BIN), "--mode", "validate", "-c", str(SHIPPED), "--disable-hot-restart"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "envoy-remote.yaml' OK" in result.stdout + result.stderr


def test_module_fetched_by_url_and_sha256_validates_tokens(tmp_path, stand_ins, dist, signing_key):
    module = stand_ins[0]
    before = module.count()
    envoy, _ = launch(tmp_path, stand_ins, dist.wasm_sha256)
    try:
        envoy.start()
        assert module.count() - before == 1  # one fetch, verified, loaded
        assert envoy.get("/orders", token=token(signing_key)).status == 200
        denied = envoy.get("/orders")
        assert denied.status == 401
        assert denied.header("www-authenticate") == "Bearer"
        assert envoy.get("/orders", token=token(signing_key, exp=int(time.time()) - 3600)).status == 401
        assert envoy.get("/healthz").status == 200  # the shipped rules: /healthz is anonymous
        assert envoy.metric("jwt_guard.allowed") >= 2
    finally:
        envoy.stop()


@pytest.mark.parametrize(
    "failure_policy, anonymous_status",
    [(None, 503), ("FAIL_CLOSED", 503), ("FAIL_OPEN", 200)],
    ids=["shipped-fail-closed", "explicit-fail-closed", "fail-open"],
)
def test_wrong_sha256_is_refused_after_the_retries_and_never_refetched(tmp_path, stand_ins, dist, signing_key,
                                                                       failure_policy, anonymous_status):
    module = stand_ins[0]
    before = module.count()
    wrong = "f" * 64
    assert wrong != dist.wasm_sha256
    envoy, remote = launch(tmp_path, stand_ins, wrong, failure_policy)
    try:
        envoy.start()  # the listener still comes up
        attempts = 1 + remote["retry_policy"]["num_retries"]
        assert module.count() - before == attempts
        envoy.wait_log(r"Plugin jwt_guard failed to load")
        # What the JwtGuardModuleFetchFailed alert (deploy/prometheus) reads.
        exported = request(envoy.admin_port, "/stats/prometheus").body.decode()
        assert "envoy_wasm_remote_load_fetch_failures{} 1" in exported
        garbage = envoy.get("/orders", token="not-a-token")
        anonymous = envoy.get("/orders")
        assert (anonymous.status, garbage.status) == (anonymous_status, anonymous_status)
        if anonymous_status == 200:
            # Fail-open: the filter is skipped, unauthenticated requests reach the backend.
            assert json.loads(anonymous.body)["path"] == "/orders"
        else:
            assert anonymous.header("x-upstream") is None
        time.sleep(1.5)  # well past the 0.2 s back-off: no further fetch, ever
        envoy.get("/orders", token=token(signing_key))
        assert module.count() - before == attempts
    finally:
        envoy.stop()
