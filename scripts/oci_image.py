#!/usr/bin/env python3
"""Writes jwt-guard's Wasm module as a reproducible OCI image layout archive (no Docker daemon).

The image is the *compat* variant of the Wasm image specification
(https://github.com/solo-io/wasm/blob/master/spec/spec-compat.md), the form both Istio
(`pkg/wasm/imagefetcher.go`, `extractOCIStandardImage`) and Envoy Gateway
(`internal/wasm/imagefetcher.go`, the same function) pull: they take the image's **last**
layer, accept it only if its media type is `application/vnd.oci.image.layer.v1.tar+gzip`
(or Docker's `...rootfs.diff.tar.gzip` under a Docker manifest), gunzip it and read the tar
entry whose base name is `plugin.wasm`. An uncompressed layer (buildah's default) and a
one-layer artifact (`oras push`) are refused by both. Both compare a configured `sha256`
with the digest of this image's *manifest*, not with the hash of the .wasm file.

Reproducible: every timestamp is `--created-epoch` (the commit time in scripts/dist.sh),
tar entries are owned by 0:0 with fixed modes, the gzip header carries no name and mtime 0,
and JSON is serialised canonically, so the same module and metadata give the same digests.

Usage: oci_image.py --wasm dist/jwt_guard.wasm --out dist/jwt-guard-oci.tar
                    --version 0.1.0 --revision <commit> --created-epoch <unix seconds>
Prints the manifest digest (sha256:...) on stdout.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import sys
import tarfile
from datetime import datetime, timezone
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
PLUGIN_FILE = "plugin.wasm"
VARIANT_ANNOTATION = "module.wasm.image/variant"
WASM_MAGIC = b"\x00asm"


def canonical_json(value: dict) -> bytes:
    """Sorted keys, no insignificant whitespace: equal documents give equal bytes (and digests)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sha256_digest(data: bytes) -> str:
    """The OCI digest string of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar_entry(name: str, size: int, mtime: int, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0 if directory else size
    info.mtime = mtime
    info.mode = 0o755 if directory else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    return info


def _tar(files: list[tuple[str, bytes | None]], mtime: int) -> bytes:
    """A USTAR archive of (name, content) in the given order; content None is a directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files:
            if content is None:
                tar.addfile(_tar_entry(name, 0, mtime, directory=True))
            else:
                tar.addfile(_tar_entry(name, len(content), mtime), io.BytesIO(content))
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    """gzip with an empty file name and mtime 0 in the header, so only `data` decides the bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def build(wasm: bytes, *, version: str, revision: str, created_epoch: int) -> tuple[bytes, str]:
    """The OCI layout archive (tar) for `wasm` and its manifest digest."""
    if not wasm.startswith(WASM_MAGIC):
        raise ValueError("not a WebAssembly module (missing \\0asm magic)")
    created = datetime.fromtimestamp(created_epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    layer_tar = _tar([(PLUGIN_FILE, wasm)], created_epoch)
    layer = _gzip(layer_tar)
    config = canonical_json(
        {
            # The platform docker, podman and buildah give Wasm images (--platform wasi/wasm).
            "architecture": "wasm",
            "os": "wasi",
            "created": created,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer_tar)]},
            "history": [{"created": created, "created_by": "scripts/dist.sh: plugin.wasm FROM scratch"}],
        }
    )
    annotations = {
        VARIANT_ANNOTATION: "compat",
        "org.opencontainers.image.title": "jwt-guard",
        "org.opencontainers.image.description": "Envoy proxy-wasm filter admitting only valid JWT access tokens",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.licenses": "Apache-2.0",
    }
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
            "layers": [
                {
                    "mediaType": OCI_LAYER_GZIP,
                    "digest": sha256_digest(layer),
                    "size": len(layer),
                    "annotations": {"org.opencontainers.image.title": PLUGIN_FILE},
                }
            ],
            "annotations": annotations,
        }
    )
    manifest_digest = sha256_digest(manifest)
    index = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": manifest_digest,
                    "size": len(manifest),
                    "annotations": {"org.opencontainers.image.ref.name": version},
                }
            ],
        }
    )
    blobs = sorted({sha256_digest(b): b for b in (layer, config, manifest)}.items())
    archive = _tar(
        [
            ("oci-layout", canonical_json({"imageLayoutVersion": "1.0.0"})),
            ("index.json", index),
            ("blobs/", None),
            ("blobs/sha256/", None),
            *((f"blobs/sha256/{digest.removeprefix('sha256:')}", blob) for digest, blob in blobs),
        ],
        created_epoch,
    )
    return archive, manifest_digest


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--wasm", type=Path, required=True, help="the module to package")
    parser.add_argument("--out", type=Path, required=True, help="OCI layout archive to write")
    parser.add_argument("--version", required=True, help="image version (also the index ref name)")
    parser.add_argument("--revision", required=True, help="source revision (commit) annotation")
    parser.add_argument("--created-epoch", type=int, required=True, help="timestamp for every created field")
    args = parser.parse_args(argv)
    archive, digest = build(
        args.wasm.read_bytes(), version=args.version, revision=args.revision, created_epoch=args.created_epoch
    )
    args.out.write_bytes(archive)
    print(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
