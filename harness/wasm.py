"""Locating, and when stale rebuilding, the jwt-guard wasm module."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .envoy import REPO_ROOT

DEFAULT_WASM = REPO_ROOT / "target" / "wasm32-wasip1" / "release" / "jwt_guard.wasm"
BUILD_CMD = ["cargo", "build", "--release", "--target", "wasm32-wasip1"]


def _newest_source_mtime() -> float:
    sources = [REPO_ROOT / "Cargo.toml", REPO_ROOT / "Cargo.lock", *(REPO_ROOT / "src").rglob("*")]
    return max(p.stat().st_mtime for p in sources if p.is_file())


def ensure_wasm() -> Path:
    """Path of the module: $JWT_GUARD_WASM as given, else the release build, rebuilt first when missing or older
    than any file under src/ or the Cargo manifests. Raises RuntimeError with cargo's output if the build fails."""
    override = os.environ.get("JWT_GUARD_WASM")
    if override:
        path = Path(override).resolve()
        if not path.is_file():
            raise RuntimeError(f"JWT_GUARD_WASM={override} does not exist")
        return path
    if DEFAULT_WASM.is_file() and DEFAULT_WASM.stat().st_mtime >= _newest_source_mtime():
        return DEFAULT_WASM
    build = subprocess.run(BUILD_CMD, cwd=REPO_ROOT, capture_output=True, text=True)
    if build.returncode != 0 or not DEFAULT_WASM.is_file():
        raise RuntimeError(f"{' '.join(BUILD_CMD)} failed:\n{build.stderr[-4000:]}")
    return DEFAULT_WASM
