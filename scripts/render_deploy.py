#!/usr/bin/env python3
"""Copies deploy/ to dist/deploy/ with the release's hashes filled in, so no one pastes a hash by hand.

The manifests in deploy/ carry an all-zero sha256 (it never matches, so an unedited manifest loads nothing).
In the copies it becomes the right hash for each delivery path, which is where mix-ups happen:
- Istio (WasmPlugin, TrafficExtension) and Envoy Gateway (EnvoyExtensionPolicy, image source): the digest of
  the image manifest (dist/jwt-guard-oci.digest), which is what their image fetchers compare with;
- plain Envoy's remote code source, and Envoy Gateway's HTTP source: the sha256 of jwt_guard.wasm.
With --image, the example repository registry.example.com/jwt-guard becomes yours. Tenant, audience and
selectors are still yours to set. Standard library only (make dist runs it with the system python3).

Usage: render_deploy.py --digest sha256:<hex> --wasm-sha256 <hex> [--image REGISTRY/REPO] --out dist/deploy
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZERO = "0" * 64
EXAMPLE_IMAGE = "registry.example.com/jwt-guard"
WASM_HASH_PLACEHOLDER = "<dist/jwt_guard.wasm.sha256>"


def render(text: str, *, wasm_module_file: bool, digest_hex: str, wasm_hex: str, image: str) -> str:
    """One manifest with the hashes (and image repository) filled in."""
    pinned = wasm_hex if wasm_module_file else digest_hex
    out = []
    for line in text.splitlines(keepends=True):
        if "all-zero" in line and line.lstrip().startswith("#"):
            source = "dist/jwt_guard.wasm.sha256" if wasm_module_file else "dist/jwt-guard-oci.digest"
            line = f"# sha256 filled in by make dist from {source}.\n"
        out.append(line.replace(ZERO, pinned).replace(WASM_HASH_PLACEHOLDER, wasm_hex).replace(EXAMPLE_IMAGE, image))
    return "".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--digest", required=True, help="image manifest digest, sha256:<hex>")
    parser.add_argument("--wasm-sha256", required=True, help="hex sha256 of jwt_guard.wasm")
    parser.add_argument("--image", default=EXAMPLE_IMAGE, help="registry/repository the image is pushed to")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    digest_hex = args.digest.removeprefix("sha256:")
    for value in (digest_hex, args.wasm_sha256):
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            parser.error(f"not a lowercase hex sha256: {value}")
    if not re.fullmatch(r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+", args.image):
        parser.error(f"not a registry/repository reference without tag: {args.image}")
    for source in sorted((ROOT / "deploy").rglob("*.yaml")):
        relative = source.relative_to(ROOT / "deploy")
        target = args.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        wasm_module_file = relative.parts[0] == "envoy"
        target.write_text(render(source.read_text(), wasm_module_file=wasm_module_file, digest_hex=digest_hex,
                                 wasm_hex=args.wasm_sha256, image=args.image))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
