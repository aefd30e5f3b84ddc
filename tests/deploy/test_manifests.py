"""The Kubernetes manifests under deploy/: valid against the vendored CRD schemas, consistent with each other, and
carrying a plugin configuration that real Envoy loads and enforces.

Each platform's translation is reproduced where it matters: Istio and Envoy Gateway hand the filter its
configuration as a JSON string of pluginConfig / config, with root_id from pluginName / rootID; the JWKS cluster they
build (Istio: outbound|443||<host> from the ServiceEntry; Envoy Gateway: the EnvoyPatchPolicy's cluster) is stood in
for by a static cluster of the same name pointing at a local JWKS server.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from artifacts import ROOT
from harness.envoy import ENVOY_BIN, Envoy
from harness.keys import claims, make_token

DEPLOY = ROOT / "deploy"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
ZERO_DIGEST = "0" * 64
KINDS = {
    "WasmPlugin", "TrafficExtension", "ServiceEntry", "DestinationRule", "EnvoyExtensionPolicy", "EnvoyPatchPolicy",
}
# Kinds whose CRD is not vendored (a core Secret; Envoy Gateway's EnvoyProxy, of which only the container env, a
# core EnvVar list, is used): checked field by field in test_dpop_nonce_secret_reaches_the_vm_on_every_platform.
UNVENDORED_KINDS = {"Secret", "EnvoyProxy"}
# The variable the DPoP nonce secrets reach the filter's VM in, on every platform.
NONCE_ENV = "JWT_GUARD_DPOP_NONCE_SECRETS"
# What the proxy's environment holds once a Secret is wired in (one 37-byte secret, base64url).
SECRETS_VALUE = "c2hhcmVkLWJ5LWV2ZXJ5LXJlcGxpY2EtMzItYnl0ZXMtbG9uZw"


def crd_schemas() -> dict[tuple[str, str], dict]:
    """openAPIV3Schema by (apiVersion, kind) for every served version of every vendored CRD."""
    schemas = {}
    for path in SCHEMAS.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


SCHEMA_BY_KIND = crd_schemas()


def resources() -> list[tuple[str, dict]]:
    """(file relative to deploy/, document) for every Kubernetes resource under deploy/."""
    found = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc:
                found.append((str(path.relative_to(DEPLOY)), doc))
    return found


def the(kind: str) -> dict:
    [doc] = [doc for _, doc in resources() if doc["kind"] == kind]
    return doc


def validate(doc: dict) -> None:
    """Raises jsonschema.ValidationError when `doc` breaks its CRD's schema."""
    schema = SCHEMA_BY_KIND[(doc["apiVersion"], doc["kind"])]
    jsonschema.Draft7Validator(schema).validate(doc)


def cel_rules(doc: dict) -> list[str]:
    """The CRDs' x-kubernetes-validations (CEL) that jsonschema cannot evaluate, for the fields these manifests
    use; returns the messages of the rules broken."""
    spec, broken = doc["spec"], []
    if doc["kind"] in ("WasmPlugin", "TrafficExtension") and "selector" in spec and "targetRefs" in spec:
        broken.append("only one of targetRefs or selector can be set")
    if doc["kind"] == "TrafficExtension" and ("wasm" in spec) == ("lua" in spec):
        broken.append("exactly one of wasm or lua must be set")
    if doc["kind"] == "EnvoyExtensionPolicy":
        if ("targetRef" in spec) == ("targetRefs" in spec):
            broken.append("either targetRef or targetRefs must be used")
        for ref in spec.get("targetRefs", []):
            if ref.get("group") != "gateway.networking.k8s.io" or ref.get("kind") not in ("Gateway", "HTTPRoute"):
                broken.append("targetRefs must name a Gateway API Gateway or route")
        for entry in spec.get("wasm", []):
            code = entry["code"]
            if (code["type"] == "Image") != ("image" in code) or (code["type"] == "HTTP") != ("http" in code):
                broken.append("code.type must match the code source set")
    return broken


def crd_resources() -> list[tuple[str, dict]]:
    """resources() whose kind has a vendored CRD."""
    return [(where, doc) for where, doc in resources() if doc["kind"] not in UNVENDORED_KINDS]


@pytest.mark.parametrize("where, doc", crd_resources(), ids=[f"{w}:{d['kind']}" for w, d in crd_resources()])
def test_manifest_is_valid_against_its_crd_schema(where, doc):
    assert doc["kind"] in KINDS
    assert (doc["apiVersion"], doc["kind"]) in SCHEMA_BY_KIND, f"{where}: no vendored CRD serves {doc['apiVersion']}"
    validate(doc)
    assert cel_rules(doc) == []
    name = doc["metadata"]["name"]
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63
    assert doc["metadata"].get("namespace")


def test_every_crd_resource_kind_is_used_and_the_schemas_bite():
    assert {doc["kind"] for _, doc in resources()} == KINDS | UNVENDORED_KINDS
    broken = copy.deepcopy(the("WasmPlugin"))
    broken["spec"]["failStrategy"] = "FAIL_SOMETIMES"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    broken = copy.deepcopy(the("WasmPlugin"))
    broken["spec"]["sha256"] = "sha256:" + ZERO_DIGEST
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    broken = copy.deepcopy(the("EnvoyExtensionPolicy"))
    broken["spec"]["wasm"][0]["failOpen"] = "no"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_modules_are_pinned_and_fail_closed():
    for kind in ("WasmPlugin", "TrafficExtension"):
        spec = the(kind)["spec"]
        wasm = spec.get("wasm", spec)
        assert wasm["url"].startswith("oci://") and re.search(r":\d+\.\d+\.\d+$", wasm["url"])
        assert wasm["sha256"] == ZERO_DIGEST  # replaced by the digest make dist prints; never matches as shipped
        assert wasm["imagePullPolicy"] == "IfNotPresent"
        assert wasm["failStrategy"] == "FAIL_CLOSE"
        assert wasm["pluginName"] == "jwt_guard"
        assert spec["phase"] == "AUTHN"
    [entry] = the("EnvoyExtensionPolicy")["spec"]["wasm"]
    assert entry["failOpen"] is False
    assert entry["code"]["type"] == "Image" and entry["code"]["image"]["sha256"] == ZERO_DIGEST


def env_from_secret(env: list[dict]) -> dict[str, tuple[str, str]]:
    """A Kubernetes container env list as name -> (Secret name, key), for the entries read from a Secret."""
    out = {}
    for entry in env:
        assert set(entry) <= {"name", "value", "valueFrom"}, entry
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None:
            assert set(entry["valueFrom"]) == {"secretKeyRef"} and set(ref) <= {"name", "key", "optional"}, entry
            out[entry["name"]] = (ref["name"], ref["key"])
    return out


def secrets_in(path: Path) -> dict[tuple[str, str], dict]:
    """The Secrets of a manifest file by (namespace, name)."""
    found = {}
    for doc in yaml.safe_load_all(path.read_text()):
        if isinstance(doc, dict) and doc.get("kind") == "Secret":
            assert doc["apiVersion"] == "v1" and doc.get("type") == "Opaque"
            assert set(doc) <= {"apiVersion", "kind", "metadata", "type", "stringData"}, doc
            found[(doc["metadata"]["namespace"], doc["metadata"]["name"])] = doc
    return found


def test_dpop_nonce_secret_reaches_the_vm_on_every_platform():
    """Secret -> the proxy container's environment -> the VM's environment, with the same names at each hop:
    Istio (a Secret, the istio-proxy container env patch, vmConfig.env valueFrom HOST), Envoy Gateway (a Secret,
    the EnvoyProxy's Envoy container env, the wasm entry's env.hostKeys), plain Envoy (host_env_keys)."""
    # Istio: the sidecar's env (merged into the injected istio-proxy container), then the VM's.
    istio_secrets = secrets_in(DEPLOY / "istio" / "dpop-nonce-secret.yaml")
    patch = yaml.safe_load((DEPLOY / "istio" / "istio-proxy-env.yaml").read_text())
    [container] = patch["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "istio-proxy" and container["image"] == "auto"
    [(env_name, (secret, key))] = env_from_secret(container["env"]).items()
    assert env_name == NONCE_ENV
    plugin_namespace = the("WasmPlugin")["metadata"]["namespace"]
    assert key in istio_secrets[(plugin_namespace, secret)]["stringData"]
    for kind in ("WasmPlugin", "TrafficExtension"):
        spec = the(kind)["spec"]
        assert spec.get("wasm", spec)["vmConfig"]["env"] == [{"name": NONCE_ENV, "valueFrom": "HOST"}], kind

    # Envoy Gateway: the EnvoyProxy puts the Secret into the Envoy container; hostKeys passes it to the VM.
    eg_secrets = secrets_in(DEPLOY / "envoy-gateway" / "dpop-nonce-secret.yaml")
    proxy = the("EnvoyProxy")
    assert proxy["apiVersion"] == "gateway.envoyproxy.io/v1alpha1"
    provider = proxy["spec"]["provider"]
    assert provider["type"] == "Kubernetes"
    env = env_from_secret(provider["kubernetes"]["envoyDeployment"]["container"]["env"])
    secret, key = env[NONCE_ENV]
    assert key in eg_secrets[(proxy["metadata"]["namespace"], secret)]["stringData"]
    [entry] = the("EnvoyExtensionPolicy")["spec"]["wasm"]
    assert entry["env"] == {"hostKeys": [NONCE_ENV]}

    # Plain Envoy: from the process environment.
    remote = yaml.safe_load((DEPLOY / "envoy" / "envoy-remote.yaml").read_text())
    hcm = remote["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    [wasm] = [f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.wasm"]
    vm_config = wasm["typed_config"]["config"]["vm_config"]
    assert vm_config["environment_variables"] == {"host_env_keys": [NONCE_ENV]}

    # The filter configuration of each platform reads that variable, with nonces on.
    for _, config in istio_plugins():
        assert (config["dpop_nonce"], config["dpop_nonce_secrets_env"]) == (True, NONCE_ENV)
    assert (entry["config"]["dpop_nonce"], entry["config"]["dpop_nonce_secrets_env"]) == (True, NONCE_ENV)

    # Every shipped Secret is a placeholder, never a usable secret that everyone would share.
    for secret in [*istio_secrets.values(), *eg_secrets.values()]:
        assert set(secret["stringData"].values()) == {"REPLACE_ME"}


def istio_plugins() -> list[tuple[str, dict]]:
    """(kind, pluginConfig) of the Istio resources."""
    out = []
    for kind in ("WasmPlugin", "TrafficExtension"):
        spec = the(kind)["spec"]
        out.append((kind, spec.get("wasm", spec)["pluginConfig"]))
    return out


def test_istio_jwks_cluster_is_the_one_istio_builds_for_the_service_entry():
    entry, rule = the("ServiceEntry")["spec"], the("DestinationRule")["spec"]
    [host] = entry["hosts"]
    [port] = entry["ports"]
    assert entry["location"] == "MESH_EXTERNAL" and entry["resolution"] == "DNS"
    assert rule["host"] == host
    [tls_port] = rule["trafficPolicy"]["portLevelSettings"]
    assert tls_port["port"]["number"] == port["number"] == 443
    assert tls_port["tls"]["mode"] == "SIMPLE"
    assert tls_port["tls"]["sni"] == host and tls_port["tls"]["subjectAltNames"] == [host]
    for _, config in istio_plugins():
        [provider] = config["providers"]
        assert provider["jwks_cluster"] == f"outbound|{port['number']}||{host}"
        assert provider["jwks_uri"] == f"https://{host}/.well-known/jwks.json"
        assert provider["issuer"] == f"https://{host}/"


def test_envoy_gateway_jwks_cluster_is_added_by_the_patch_policy_on_the_same_gateway():
    policy, patch = the("EnvoyExtensionPolicy"), the("EnvoyPatchPolicy")
    assert patch["spec"]["targetRef"] in [dict(r) for r in policy["spec"]["targetRefs"]]
    assert patch["metadata"]["namespace"] == policy["metadata"]["namespace"]
    [add] = patch["spec"]["jsonPatches"]
    assert add["type"] == "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    assert add["operation"]["op"] == "add" and add["operation"]["path"] == ""  # a whole new resource
    cluster = add["operation"]["value"]
    [provider] = policy["spec"]["wasm"][0]["config"]["providers"]
    assert provider["jwks_cluster"] == add["name"] == cluster["name"] == cluster["load_assignment"]["cluster_name"]
    host = cluster["transport_socket"]["typed_config"]["sni"]
    assert provider["jwks_uri"] == f"https://{host}/.well-known/jwks.json"


def test_patch_policy_cluster_is_accepted_by_envoy(tmp_path, dist):
    """The cluster the EnvoyPatchPolicy adds, as Envoy reads it (envoy --mode validate)."""
    cluster = the("EnvoyPatchPolicy")["spec"]["jsonPatches"][0]["operation"]["value"]
    bootstrap = {"static_resources": {"clusters": [cluster]}}
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(bootstrap))
    result = subprocess.run([str(ENVOY_BIN), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    assert "OK" in result.stdout + result.stderr


def istio_vm_env(env: list[dict]) -> dict:
    """vmConfig.env as istiod translates it into vm_config.environment_variables: HOST entries become
    host_env_keys, INLINE ones (the default) key_values."""
    host = [e["name"] for e in env if e.get("valueFrom") == "HOST"]
    inline = {e["name"]: e.get("value", "") for e in env if e.get("valueFrom", "INLINE") == "INLINE"}
    return {**({"host_env_keys": host} if host else {}), **({"key_values": inline} if inline else {})}


def carriers() -> list[tuple[str, dict, str, str, dict]]:
    """(kind, plugin configuration, root_id, vm_id, vm environment_variables) as each platform hands them to
    Envoy."""
    out = []
    for kind in ("WasmPlugin", "TrafficExtension"):
        spec = the(kind)["spec"]
        wasm = spec.get("wasm", spec)
        # Istio leaves vm_id empty.
        out.append((kind, wasm["pluginConfig"], "jwt_guard", "", istio_vm_env(wasm["vmConfig"]["env"])))
    policy = the("EnvoyExtensionPolicy")
    [entry] = policy["spec"]["wasm"]
    vm_id = f"envoyextensionpolicy/{policy['metadata']['namespace']}/{policy['metadata']['name']}/wasm/0"
    out.append(("EnvoyExtensionPolicy", entry["config"], entry["rootID"], vm_id,
                {"host_env_keys": entry["env"]["hostKeys"]}))
    return out


@pytest.mark.parametrize("kind, config, root_id, vm_id, vm_env", carriers(), ids=[c[0] for c in carriers()])
def test_plugin_configuration_loads_in_envoy_and_enforces(tmp_path, dist, upstream, jwks, signing_key,
                                                          kind, config, root_id, vm_id, vm_env):
    [provider] = config["providers"]

    def as_the_platform_does(bootstrap: dict) -> None:
        hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        plugin = hcm["http_filters"][0]["typed_config"]["config"]
        plugin["root_id"] = root_id
        plugin["vm_config"]["vm_id"] = vm_id
        plugin["vm_config"]["environment_variables"] = vm_env

    # The proxy's environment as the Secret wiring leaves it (Envoy passes host_env_keys from its own).
    envoy = Envoy(tmp_path / "envoy", json.dumps(config), wasm_path=dist.wasm, upstream_port=upstream.port,
                  clusters={provider["jwks_cluster"]: jwks.port}, customize=as_the_platform_does,
                  env={NONCE_ENV: SECRETS_VALUE})
    try:
        envoy.start()
        envoy.wait_log(r"configured 1 provider\(s\)")
        good = make_token(signing_key, claims(provider["issuer"], provider["audiences"][0], scope="read:orders"))
        assert envoy.get("/orders", token=good).status == 200
        assert envoy.get("/orders").status == 401
        assert envoy.get("/healthz").status == 200
        assert envoy.get("/admin/users", method="DELETE", token=good).status == 403
        admin = make_token(signing_key, claims(provider["issuer"], provider["audiences"][0], scope="write:admin"))
        assert envoy.get("/admin/users", method="DELETE", token=admin).status == 200
        other = make_token(signing_key, claims(provider["issuer"], "https://other.example.com"))
        assert envoy.get("/orders", token=other).status == 401
        assert jwks.hits() >= 1  # the keys came through the cluster named in the manifest
    finally:
        envoy.stop()


ISTIO_FIXED_INCLUSIONS = [
    {"prefix": "reporter="}, {"prefix": "cluster_manager"}, {"prefix": "listener_manager"}, {"prefix": "server"},
    {"prefix": "cluster.xds-grpc"}, {"prefix": "component"}, {"prefix": "istio"},
]  # fmt: skip


def _stats_with_matcher(tmp_path, dist, upstream, signing_key, jwks, prefixes: list[str]) -> dict[str, int]:
    """jwt_guard metrics an Envoy shows under an Istio-style stats_matcher inclusion list plus `prefixes`
    (Istio's own list without its "wasm" readiness prefix, which today also happens to match wasmcustom.*)."""
    config = istio_plugins()[0][1]
    [provider] = config["providers"]

    def istio_stats(bootstrap: dict) -> None:
        patterns = ISTIO_FIXED_INCLUSIONS + [{"prefix": p} for p in prefixes]
        bootstrap["stats_config"] = {"stats_matcher": {"inclusion_list": {"patterns": patterns}}}
        hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        vm_config = hcm["http_filters"][0]["typed_config"]["config"]["vm_config"]
        vm_config["environment_variables"] = istio_vm_env(the("WasmPlugin")["spec"]["vmConfig"]["env"])

    envoy = Envoy(tmp_path / f"stats-{'-'.join(prefixes) or 'none'}", json.dumps(config), wasm_path=dist.wasm,
                  upstream_port=upstream.port, clusters={provider["jwks_cluster"]: jwks.port}, customize=istio_stats,
                  env={NONCE_ENV: SECRETS_VALUE})
    try:
        envoy.start()
        token = make_token(signing_key, claims(provider["issuer"], provider["audiences"][0]))
        assert envoy.get("/orders", token=token).status == 200
        return {k: v for k, v in envoy.stats().items() if k.startswith("jwt_guard.")}
    finally:
        envoy.stop()


def test_proxy_stats_matcher_setting_keeps_jwt_guard_metrics(tmp_path, dist, upstream, signing_key, jwks):
    values = yaml.safe_load((DEPLOY / "istio" / "proxy-stats.yaml").read_text())
    prefixes = values["meshConfig"]["defaultConfig"]["proxyStatsMatcher"]["inclusionPrefixes"]
    shown = _stats_with_matcher(tmp_path, dist, upstream, signing_key, jwks, prefixes)
    assert shown.get("jwt_guard.allowed") == 1
    assert "jwt_guard.jwks_fetch_success.auth0" in shown and "jwt_guard.denied.missing_token" in shown
    hidden = _stats_with_matcher(tmp_path, dist, upstream, signing_key, jwks, [])
    assert hidden == {}
    # Istio's current required list also has "wasm" (pkg/bootstrap/config.go, for readiness checks): a plain
    # prefix match on the full stat name, which happens to cover wasmcustom.jwt_guard.* as well.
    assert _stats_with_matcher(tmp_path, dist, upstream, signing_key, jwks, ["wasm"]).get("jwt_guard.allowed") == 1
