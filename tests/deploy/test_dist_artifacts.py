"""make dist: the module, its sha256 file, and the OCI image archive in the compat form Istio and Envoy Gateway pull,
built reproducibly (same commit, same manifest digest)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile

from artifacts import (
    OCI_CONFIG,
    ROOT,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    VARIANT_ANNOTATION,
    digest_of,
    layout_image,
    read_layout,
)

RELEASE_WASM = ROOT / "target" / "wasm32-wasip1" / "release" / "jwt_guard.wasm"


def commit_epoch() -> int:
    """The time every timestamp in the image carries: $SOURCE_DATE_EPOCH, else the commit time (as dist.sh)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    return int(subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout)


def test_module_and_its_sha256_file(dist):
    wasm = dist.wasm.read_bytes()
    assert wasm[:4] == b"\0asm"
    assert wasm == RELEASE_WASM.read_bytes()
    assert b"wycheproof" not in wasm  # the test-only Wycheproof module (a cargo feature) never ships
    line = (dist.path / "jwt_guard.wasm.sha256").read_text()
    assert re.fullmatch(r"[0-9a-f]{64}  jwt_guard\.wasm\n", line), line
    assert dist.wasm_sha256 == hashlib.sha256(wasm).hexdigest()
    check = subprocess.run(["sha256sum", "--check", "--strict", "jwt_guard.wasm.sha256"], cwd=dist.path,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_layout_lists_one_image_manifest_and_every_blob_matches_its_digest(dist):
    index, members, files = read_layout(dist.oci_archive)
    assert files["oci-layout"] == b'{"imageLayoutVersion":"1.0.0"}'
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    [entry] = index["manifests"]
    assert entry["mediaType"] == OCI_MANIFEST
    assert entry["digest"] == dist.oci_digest
    assert entry["annotations"]["org.opencontainers.image.ref.name"]
    blob_names = sorted(n for n in files if n.startswith("blobs/sha256/"))
    for name in blob_names:
        assert "sha256:" + name.rsplit("/", 1)[1] == digest_of(files[name]), name
    image = layout_image(dist.oci_archive)
    referenced = {image.manifest["config"]["digest"], *(layer["digest"] for layer in image.manifest["layers"])}
    assert {"sha256:" + n.rsplit("/", 1)[1] for n in blob_names} == referenced | {entry["digest"]}
    # Fixed ownership and timestamps in the archive itself.
    epoch = commit_epoch()
    for member in members.values():
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", ""), member.name
        assert member.mtime == epoch, member.name


def test_image_is_the_compat_variant_with_one_gzip_layer_holding_plugin_wasm(dist):
    image = layout_image(dist.oci_archive)
    manifest = image.manifest
    assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == OCI_MANIFEST
    assert manifest["annotations"][VARIANT_ANNOTATION] == "compat"
    assert manifest["config"]["mediaType"] == OCI_CONFIG
    [layer] = manifest["layers"]
    assert layer["mediaType"] == OCI_LAYER_GZIP
    # What Istio and Envoy Gateway extract is byte-identical to dist/jwt_guard.wasm.
    assert image.plugin_wasm() == dist.wasm.read_bytes()

    compressed = image.blob(layer)
    # gzip header (RFC 1952): no FNAME/FCOMMENT/FEXTRA flag and MTIME 0, so no build time or path leaks in.
    assert compressed[:3] == b"\x1f\x8b\x08"
    assert compressed[3] == 0, f"gzip FLG {compressed[3]:#x}"
    assert compressed[4:8] == b"\0\0\0\0"
    layer_tar = gzip.decompress(compressed)
    with tarfile.open(fileobj=io.BytesIO(layer_tar), mode="r:") as tar:
        [member] = tar.getmembers()
    assert member.name == "plugin.wasm" and member.isfile()
    assert (member.uid, member.gid, member.uname, member.gname, member.mode) == (0, 0, "", "", 0o644)
    assert member.mtime == commit_epoch()

    config = image.config
    assert (config["os"], config["architecture"]) == ("wasi", "wasm")
    assert config["rootfs"] == {"type": "layers", "diff_ids": [digest_of(layer_tar)]}
    created = manifest["annotations"]["org.opencontainers.image.created"]
    assert config["created"] == created
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert manifest["annotations"]["org.opencontainers.image.revision"].startswith(head.strip())


def test_skopeo_reads_the_archive_and_agrees_on_the_digest(dist):
    """An independent OCI implementation (containers/image, as in skopeo, podman, buildah) reads the archive."""
    raw = subprocess.run(["skopeo", "inspect", "--raw", f"oci-archive:{dist.oci_archive}"], capture_output=True,
                         check=True).stdout
    assert digest_of(raw) == dist.oci_digest


def test_umoci_unpacks_a_rootfs_holding_only_plugin_wasm(dist, tmp_path):
    """A third OCI implementation (umoci) unpacks the image's filesystem: plugin.wasm alone, the release module."""
    layout = tmp_path / "layout"
    layout.mkdir()
    with tarfile.open(dist.oci_archive) as archive:
        archive.extractall(layout, filter="data")
    index, _, _ = read_layout(dist.oci_archive)
    tag = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
    rootfs = tmp_path / "rootfs"
    unpack = subprocess.run(["umoci", "raw", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(rootfs)],
                            capture_output=True, text=True, timeout=120)
    assert unpack.returncode == 0, unpack.stdout + unpack.stderr
    assert [p.name for p in rootfs.iterdir()] == ["plugin.wasm"]
    assert (rootfs / "plugin.wasm").read_bytes() == dist.wasm.read_bytes()


def test_same_commit_gives_the_same_manifest_digest(dist, tmp_path):
    """Two builds of the same tree give byte-identical archives, whatever the module file's mtime, the umask or
    the time of the build; the image's timestamps all come from the commit."""
    first_archive = dist.oci_archive.read_bytes()
    first_digest = dist.oci_digest
    os.utime(dist.wasm, (1, 1))  # a copied or re-downloaded module has another mtime
    old_umask = os.umask(0o077)
    try:
        again = subprocess.run(["scripts/dist.sh"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    finally:
        os.umask(old_umask)
    assert again.returncode == 0, again.stderr[-4000:]
    assert dist.oci_digest == first_digest
    assert dist.oci_archive.read_bytes() == first_archive
    assert first_digest in again.stdout  # make dist prints the digest

    # Elsewhere (another checkout path, another clock), straight from the packaging script.
    copy = tmp_path / "elsewhere" / "module.wasm"
    copy.parent.mkdir()
    shutil.copyfile(dist.wasm, copy)
    index, _, _ = read_layout(dist.oci_archive)
    manifest = layout_image(dist.oci_archive).manifest
    rebuilt = tmp_path / "rebuilt.tar"
    out = subprocess.run(
        ["python3", str(ROOT / "scripts" / "oci_image.py"), "--wasm", str(copy), "--out", str(rebuilt),
         "--version", index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
         "--revision", manifest["annotations"]["org.opencontainers.image.revision"],
         "--created-epoch", str(commit_epoch())],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == first_digest
    assert rebuilt.read_bytes() == first_archive
