#!/usr/bin/env bash
# Every configuration the repository ships passes `jwt-guard check` (the filter's own parser,
# plus the Envoy-file warnings, strict): envoy.yaml, deploy/, and deploy/ as make dist renders
# it (dist/deploy/ when it exists, else rendered with placeholder hashes into a temporary dir).
# Usage: scripts/check_configs.sh [path/to/jwt-guard]   (default: target/debug/jwt-guard)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/jwt-guard}

rendered=dist/deploy
if [ ! -d "$rendered" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  rendered=$tmp/deploy
  python3 scripts/render_deploy.py --digest "sha256:$(printf '1%.0s' {1..64})" \
    --wasm-sha256 "$(printf '2%.0s' {1..64})" --out "$rendered" >/dev/null
fi
"$bin" check --strict envoy.yaml deploy/ "$rendered"
