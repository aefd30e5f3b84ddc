"""Reading the release artifacts: the OCI layout archive, its blobs, and the module the way Istio and Envoy Gateway
extract it (last layer, gzip media type, tar entry named plugin.wasm)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
VARIANT_ANNOTATION = "module.wasm.image/variant"


def digest_of(data: bytes) -> str:
    """OCI digest string of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Image:
    """One image: its manifest (raw bytes and parsed) and the blobs it references, by digest."""

    manifest_raw: bytes
    blobs: dict[str, bytes]

    @property
    def manifest(self) -> dict:
        """The parsed manifest."""
        return json.loads(self.manifest_raw)

    @property
    def digest(self) -> str:
        """The manifest digest (what WasmPlugin / EnvoyExtensionPolicy `sha256` pins)."""
        return digest_of(self.manifest_raw)

    @property
    def config(self) -> dict:
        """The parsed image config."""
        return json.loads(self.blobs[self.manifest["config"]["digest"]])

    def blob(self, descriptor: dict) -> bytes:
        """The blob a descriptor points at, checked against the descriptor's digest and size."""
        data = self.blobs[descriptor["digest"]]
        assert digest_of(data) == descriptor["digest"], f"blob content does not match {descriptor['digest']}"
        assert len(data) == descriptor["size"], f"blob {descriptor['digest']} size {len(data)} != {descriptor['size']}"
        return data

    def plugin_wasm(self) -> bytes:
        """The module as Istio's and Envoy Gateway's extractOCIStandardImage read it: the last layer must have the
        gzip layer media type; gunzip, untar, return the entry whose base name is plugin.wasm."""
        layer = self.manifest["layers"][-1]
        media_type = layer["mediaType"]
        docker = self.manifest.get("mediaType", "").startswith("application/vnd.docker")
        expected = DOCKER_LAYER_GZIP if docker else OCI_LAYER_GZIP
        assert media_type == expected, f"last layer media type {media_type}, the fetchers want {expected}"
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(self.blob(layer))), mode="r:") as tar:
            for member in tar:
                if os.path.basename(member.name) == "plugin.wasm":
                    return tar.extractfile(member).read()
        raise AssertionError("plugin.wasm not found in the last layer")


def read_layout(archive: Path) -> tuple[dict, dict[str, tarfile.TarInfo], dict[str, bytes]]:
    """An OCI layout archive as (index.json parsed, tar members by name, file contents by name)."""
    members: dict[str, tarfile.TarInfo] = {}
    files: dict[str, bytes] = {}
    with tarfile.open(archive, mode="r:") as tar:
        for member in tar:
            members[member.name] = member
            if member.isfile():
                files[member.name] = tar.extractfile(member).read()
    return json.loads(files["index.json"]), members, files


def layout_image(archive: Path) -> Image:
    """The single image of an OCI layout archive (asserts index.json lists exactly one manifest)."""
    index, _, files = read_layout(archive)
    assert len(index["manifests"]) == 1, index
    blobs = {
        "sha256:" + name.rsplit("/", 1)[1]: data for name, data in files.items() if name.startswith("blobs/sha256/")
    }
    return Image(blobs[index["manifests"][0]["digest"]], blobs)


@dataclass
class Dist:
    """The dist/ directory `make dist` writes."""

    path: Path

    @property
    def wasm(self) -> Path:
        """dist/jwt_guard.wasm"""
        return self.path / "jwt_guard.wasm"

    @property
    def wasm_sha256(self) -> str:
        """The hex hash recorded in dist/jwt_guard.wasm.sha256."""
        return (self.path / "jwt_guard.wasm.sha256").read_text().split()[0]

    @property
    def oci_archive(self) -> Path:
        """dist/jwt-guard-oci.tar"""
        return self.path / "jwt-guard-oci.tar"

    @property
    def oci_digest(self) -> str:
        """The manifest digest recorded in dist/jwt-guard-oci.digest (sha256:...)."""
        return (self.path / "jwt-guard-oci.digest").read_text().strip()
