"""dist/deploy/: the manifests of deploy/ as make dist renders them, each pinned to the hash its platform checks
(Istio and Envoy Gateway images: the manifest digest; Envoy's remote source: the .wasm hash)."""

from __future__ import annotations

import re
import subprocess
import tomllib

import yaml
from artifacts import ROOT
from harness.envoy import ENVOY_BIN
from test_manifests import UNVENDORED_KINDS, ZERO_DIGEST, validate

DEPLOY = ROOT / "deploy"


def docs(path) -> list[dict]:
    """The Kubernetes resources in a YAML file."""
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict) and "kind" in d]


def image_pins(path) -> list[tuple[str, str]]:
    """(url, sha256) of every image reference in a rendered Kubernetes manifest."""
    pins = []
    for doc in docs(path):
        spec = doc.get("spec", {})
        for holder in (spec, spec.get("wasm") if isinstance(spec.get("wasm"), dict) else None):
            if holder and "url" in holder:
                pins.append((holder["url"], holder["sha256"]))
        for entry in spec.get("wasm", []) if isinstance(spec.get("wasm"), list) else []:
            pins.append((entry["code"]["image"]["url"], entry["code"]["image"]["sha256"]))
    return pins


def test_every_manifest_is_rendered_with_no_zero_digest_left(dist):
    sources = sorted(p.relative_to(DEPLOY) for p in DEPLOY.rglob("*.yaml"))
    rendered = sorted(p.relative_to(dist.path / "deploy") for p in (dist.path / "deploy").rglob("*.yaml"))
    assert rendered == sources
    for path in rendered:
        assert ZERO_DIGEST not in (dist.path / "deploy" / path).read_text(), path


def test_images_are_pinned_to_the_manifest_digest_and_still_valid(dist):
    digest = dist.oci_digest.removeprefix("sha256:")
    pins = []
    for platform in ("istio", "envoy-gateway"):
        for path in sorted((dist.path / "deploy" / platform).glob("*.yaml")):
            for doc in docs(path):
                if doc["kind"] not in UNVENDORED_KINDS:
                    validate(doc)
            pins += image_pins(path)
            assert dist.wasm_sha256 not in re.sub(r"(?m)^\s*#.*$", "", path.read_text())  # not the .wasm hash
    assert len(pins) == 3  # WasmPlugin, TrafficExtension, EnvoyExtensionPolicy
    assert all(sha == digest for _, sha in pins), pins
    # The HTTP alternative noted in the EnvoyExtensionPolicy takes the .wasm hash.
    policy = (dist.path / "deploy" / "envoy-gateway" / "envoyextensionpolicy.yaml").read_text()
    assert f"#     sha256: {dist.wasm_sha256}" in policy


def test_remote_code_source_is_pinned_to_the_wasm_hash_and_valid_for_envoy(dist):
    path = dist.path / "deploy" / "envoy" / "envoy-remote.yaml"
    assert f'sha256: "{dist.wasm_sha256}"' in path.read_text()
    assert dist.oci_digest.removeprefix("sha256:") not in path.read_text()
    result = subprocess.run([str(ENVOY_BIN), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_image_repository_can_be_named_at_render_time(dist, tmp_path):
    subprocess.run(
        ["python3", str(ROOT / "scripts" / "render_deploy.py"), "--digest", dist.oci_digest,
         "--wasm-sha256", dist.wasm_sha256, "--image", "ghcr.io/acme/jwt-guard", "--out", str(tmp_path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    urls = [url for p in sorted(tmp_path.rglob("*.yaml")) for url, _ in image_pins(p)]
    assert sorted(urls) == sorted(["oci://ghcr.io/acme/jwt-guard:0.1.0"] * 2 + ["ghcr.io/acme/jwt-guard:0.1.0"])
    bad = subprocess.run(["python3", str(ROOT / "scripts" / "render_deploy.py"), "--digest", "sha256:abc",
                          "--wasm-sha256", dist.wasm_sha256, "--out", str(tmp_path / "bad")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "not a lowercase hex sha256" in bad.stderr


def test_manifests_name_the_crate_version():
    version = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    tags = re.findall(r"jwt-guard[:/](\d+\.\d+\.\d+)", "".join(p.read_text() for p in DEPLOY.rglob("*.yaml")))
    assert len(tags) >= 5 and set(tags) == {version}
