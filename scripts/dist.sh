#!/usr/bin/env bash
# Release artifacts under dist/ (make dist):
#   jwt_guard.wasm            the filter module (cargo build --release --target wasm32-wasip1 --locked)
#   jwt_guard.wasm.sha256     its hash, sha256sum format (for Envoy's remote code source)
#   jwt-guard-oci.tar         OCI image layout archive, Wasm image "compat" variant (Istio, Envoy Gateway)
#   jwt-guard-oci.digest      the image manifest's digest: what WasmPlugin / EnvoyExtensionPolicy
#                             `sha256` fields compare with (not the .wasm hash)
#   deploy/                   the manifests of deploy/ with those hashes filled in
#   jwt-guard-x86_64-linux-musl         the command-line twin (check, explain, jwks), static
#   jwt-guard-x86_64-linux-musl.sha256  its hash, sha256sum format
# Reproducible: the toolchain is pinned (rust-toolchain.toml), no build path reaches an artifact
# (below), and every timestamp in the image is the commit time (or $SOURCE_DATE_EPOCH), so the
# same commit gives byte-identical artifacts in any directory, with any $CARGO_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."

# Panic locations name source files: dependencies by absolute path ($CARGO_HOME/registry/src/...),
# and the checkout or the toolchain's sysroot may appear too. Each prefix is remapped to a fixed
# name, in either spelling (as given and with symlinks resolved). rustc applies the last matching
# remap, so longer (more specific) prefixes go last: a $CARGO_HOME inside the checkout still maps
# to /cargo. The toolchain's rust-src maps to the /rustc/<commit> its prebuilt std already uses.
# CARGO_ENCODED_RUSTFLAGS overrides RUSTFLAGS and config rustflags, so the flags are exactly
# these; with --target they reach the target's crates, not build scripts or proc macros.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
sysroot=$(rustc --print sysroot)
rustc_commit=$(rustc -vV | sed -n 's/^commit-hash: //p')
remaps=$(
  for pair in "$PWD=/jwt-guard" "$cargo_home=/cargo" "$sysroot=/rustc-sysroot" \
    "$sysroot/lib/rustlib/src/rust=/rustc/$rustc_commit"; do
    from=${pair%=*} to=${pair##*=}
    printf '%s\t%s=%s\n' "${#from}" "$from" "$to"
    real=$(realpath -m "$from")
    [ "$real" = "$from" ] || printf '%s\t%s=%s\n' "${#real}" "$real" "$to"
  done | sort -n -s -k1,1 | cut -f2-
)
rustflags="" cflags=""
while IFS= read -r remap; do
  rustflags+="${rustflags:+$'\x1f'}--remap-path-prefix=$remap"
  cflags+="${cflags:+ }-ffile-prefix-map=$remap"
done <<<"$remaps"
export CARGO_ENCODED_RUSTFLAGS="$rustflags"
# The same for C a dependency compiles (through the cc crate, which appends $CFLAGS; paths
# with spaces are not supported there).
export CFLAGS="${CFLAGS:+$CFLAGS }$cflags"

cargo build --release --target wasm32-wasip1 --locked
mkdir -p dist
install -m 0644 target/wasm32-wasip1/release/jwt_guard.wasm dist/jwt_guard.wasm
(cd dist && sha256sum jwt_guard.wasm > jwt_guard.wasm.sha256)

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
if git rev-parse --git-dir >/dev/null 2>&1; then
  revision=$(git rev-parse HEAD)
  epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "dist: working tree has uncommitted changes; the image is marked ${revision:0:12}-dirty" >&2
    revision="$revision-dirty"
  fi
else
  revision=unknown
  epoch=${SOURCE_DATE_EPOCH:-0}
fi

digest=$(python3 scripts/oci_image.py --wasm dist/jwt_guard.wasm --out dist/jwt-guard-oci.tar \
  --version "$version" --revision "$revision" --created-epoch "$epoch")
echo "$digest" > dist/jwt-guard-oci.digest

# deploy/ with these hashes filled in (JWT_GUARD_IMAGE=registry/repo names your repository).
rm -rf dist/deploy
python3 scripts/render_deploy.py --digest "$digest" --wasm-sha256 "$(cut -d' ' -f1 dist/jwt_guard.wasm.sha256)" \
  --image "${JWT_GUARD_IMAGE:-registry.example.com/jwt-guard}" --out dist/deploy

echo "dist/jwt_guard.wasm      sha256 $(cut -d' ' -f1 dist/jwt_guard.wasm.sha256)  (Envoy remote code source)"
echo "dist/jwt-guard-oci.tar   manifest $digest  (WasmPlugin / EnvoyExtensionPolicy sha256: ${digest#sha256:})"
echo "dist/deploy/             the manifests of deploy/ pinned to these hashes"

# The command-line twin, a static x86_64 musl binary (no libc or TLS library needed at run time).
# ring's C goes through musl-gcc (bootstrap.sh --with-musl); CFLAGS, if set above, still apply.
CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo build --release --locked --target x86_64-unknown-linux-musl -p jwt-guard-cli
install -m 0755 target/x86_64-unknown-linux-musl/release/jwt-guard dist/jwt-guard-x86_64-linux-musl
(cd dist && sha256sum jwt-guard-x86_64-linux-musl > jwt-guard-x86_64-linux-musl.sha256)
echo "dist/jwt-guard-x86_64-linux-musl  sha256 $(cut -d' ' -f1 dist/jwt-guard-x86_64-linux-musl.sha256)  (jwt-guard check / explain / jwks)"
