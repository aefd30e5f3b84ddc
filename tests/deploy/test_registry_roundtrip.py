"""The OCI image through a real registry: Debian's docker-registry (the CNCF distribution registry) on a free
loopback port, `skopeo copy` of dist/jwt-guard-oci.tar into it, then pulled back the way Istio's and Envoy Gateway's
image fetchers pull (registry API v2: manifest by tag, then blobs by digest) and with skopeo.
The manifest digest must survive the trip, and plugin.wasm must be byte-identical to dist/jwt_guard.wasm."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from artifacts import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, VARIANT_ANNOTATION, Image, digest_of, layout_image

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
REPO = "jwt-guard"
ACCEPT = ", ".join([
    OCI_MANIFEST,
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry on 127.0.0.1:<free port> storing under a temp directory; yields its host:port."""
    home = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = home / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {home / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    log = open(home / "registry.log", "wb")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}/v2/", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, (home / "registry.log").read_text()
        assert time.monotonic() < deadline, "registry did not answer /v2/ within 20 s"
        time.sleep(0.1)
    yield host
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def get(url: str, accept: str | None = None) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read(), {k.lower(): v for k, v in answer.headers.items()}


def pull_like_the_fetchers(host: str, reference: str) -> tuple[Image, dict[str, str]]:
    """Manifest by tag or digest, then config and layer blobs by digest, over the registry HTTP API."""
    raw, headers = get(f"http://{host}/v2/{REPO}/manifests/{reference}", ACCEPT)
    manifest = json.loads(raw)
    blobs = {}
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blobs[descriptor["digest"]], _ = get(f"http://{host}/v2/{REPO}/blobs/{descriptor['digest']}")
    return Image(raw, blobs), headers


@pytest.fixture(scope="module")
def pushed(dist, registry):
    """The archive copied into the registry under its version tag; yields the tag."""
    index = json.loads(subprocess.run(["tar", "-xOf", str(dist.oci_archive), "index.json"], capture_output=True,
                                      check=True).stdout)
    tag = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
    copy = subprocess.run(
        ["skopeo", "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
         f"oci-archive:{dist.oci_archive}", f"docker://{registry}/{REPO}:{tag}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert copy.returncode == 0, copy.stderr
    return tag


def test_pulled_manifest_keeps_digest_media_types_and_annotation(dist, registry, pushed):
    image, headers = pull_like_the_fetchers(registry, pushed)
    assert headers["docker-content-digest"] == dist.oci_digest
    assert image.digest == dist.oci_digest  # what WasmPlugin / EnvoyExtensionPolicy sha256 is compared with
    assert headers["content-type"] == OCI_MANIFEST
    manifest = image.manifest
    assert manifest["mediaType"] == OCI_MANIFEST
    assert manifest["annotations"][VARIANT_ANNOTATION] == "compat"
    assert manifest["config"]["mediaType"] == OCI_CONFIG
    assert [layer["mediaType"] for layer in manifest["layers"]] == [OCI_LAYER_GZIP]
    assert manifest == layout_image(dist.oci_archive).manifest


def test_pulled_layer_holds_plugin_wasm_byte_identical_to_the_release_module(dist, registry, pushed):
    image, _ = pull_like_the_fetchers(registry, pushed)
    for descriptor in [image.manifest["config"], *image.manifest["layers"]]:
        image.blob(descriptor)  # each blob matches its digest and size
    assert image.plugin_wasm() == dist.wasm.read_bytes()
    assert digest_of(image.plugin_wasm()) == "sha256:" + dist.wasm_sha256


def test_pull_by_digest_and_skopeo_round_trip(dist, registry, pushed, tmp_path):
    by_digest, _ = pull_like_the_fetchers(registry, dist.oci_digest)
    assert by_digest.digest == dist.oci_digest
    inspected = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                                f"docker://{registry}/{REPO}:{pushed}"], capture_output=True, check=True).stdout
    assert digest_of(inspected) == dist.oci_digest
    pulled = tmp_path / "pulled.tar"
    back = subprocess.run(
        ["skopeo", "copy", "--quiet", "--preserve-digests", "--src-tls-verify=false",
         f"docker://{registry}/{REPO}:{pushed}", f"oci-archive:{pulled}:{pushed}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert back.returncode == 0, back.stderr
    image = layout_image(pulled)
    assert image.digest == dist.oci_digest
    assert image.plugin_wasm() == dist.wasm.read_bytes()
