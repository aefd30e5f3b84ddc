"""A release rebuilds to the same bytes anywhere: `make dist` in another directory, with another $CARGO_HOME and a
cold target directory, gives a dist/ byte-identical to this checkout's (the module, its hash, the OCI archive and
its manifest digest, the rendered manifests). The toolchain is the pinned one (rust-toolchain.toml), and no build
path (checkout, $CARGO_HOME, toolchain sysroot) reaches the module."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from artifacts import ROOT

CARGO_HOME = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def copy_of_checkout(dest: Path) -> None:
    """A clone of this checkout's commit, plus its uncommitted changes to tracked files (so the revision and
    the `-dirty` mark that dist.sh writes into the image agree with this checkout's)."""
    subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(ROOT), str(dest)], check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", head.stdout.strip()], cwd=dest, check=True)
    diff = subprocess.run(["git", "diff", "--binary", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    if diff:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=dest, input=diff, check=True)


def other_cargo_home(dest: Path) -> None:
    """A $CARGO_HOME at another path holding this one's registry index and crate archives, used offline: cargo
    unpacks the crates' sources again under the new path."""
    for part in ("index", "cache"):
        shutil.copytree(CARGO_HOME / "registry" / part, dest / "registry" / part, symlinks=True)


def test_build_elsewhere_with_another_cargo_home_gives_identical_dist(dist, tmp_path):
    checkout = tmp_path / "elsewhere" / "jwt-guard"
    cargo_home = tmp_path / "another-cargo-home"
    copy_of_checkout(checkout)
    other_cargo_home(cargo_home)
    env = {**os.environ, "CARGO_HOME": str(cargo_home), "CARGO_NET_OFFLINE": "true"}
    env.pop("CARGO_TARGET_DIR", None)
    env.pop("RUSTFLAGS", None)
    build = subprocess.run(["nice", "-n", "10", "scripts/dist.sh"], cwd=checkout, env=env, capture_output=True,
                           text=True, timeout=3600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-4000:]

    # The build really used the other $CARGO_HOME (its sources were unpacked there) ...
    assert any((cargo_home / "registry" / "src").iterdir())
    wasm = (checkout / "dist" / "jwt_guard.wasm").read_bytes()
    # ... and no path of either build reaches the module.
    for path in (ROOT, checkout, CARGO_HOME, cargo_home):
        assert str(path).encode() not in wasm, f"{path} appears in the module"
    assert str(ROOT).encode() not in dist.wasm.read_bytes()
    assert str(CARGO_HOME).encode() not in dist.wasm.read_bytes()

    assert (checkout / "dist" / "jwt-guard-oci.digest").read_text() == (dist.path / "jwt-guard-oci.digest").read_text()
    assert (checkout / "dist" / "jwt_guard.wasm.sha256").read_text() == (dist.path / "jwt_guard.wasm.sha256").read_text()
    here, there = tree_bytes(dist.path), tree_bytes(checkout / "dist")
    assert sorted(here) == sorted(there)
    differing = [name for name in here if here[name] != there[name]]
    assert not differing, f"dist/ files that differ between the two builds: {differing}"


def test_pinned_toolchain_is_the_one_that_builds():
    """cargo in this checkout resolves to rust-toolchain.toml's channel, with the release target installed."""
    channel = next(line.split('"')[1] for line in (ROOT / "rust-toolchain.toml").read_text().splitlines()
                   if line.startswith("channel = "))
    version = subprocess.run(["rustc", "--version"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert version.startswith(f"rustc {channel} "), version
    targets = subprocess.run(["rustup", "target", "list", "--installed"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert "wasm32-wasip1" in targets
