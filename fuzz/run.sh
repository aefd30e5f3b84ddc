#!/usr/bin/env bash
# Fuzz every target of fuzz/ for a bounded time (make fuzz).
#
#   FUZZ_SECONDS=60      seconds per target (default 60)
#   FUZZ_TARGETS="a b"   which targets (default: all of `cargo fuzz list`)
#   FUZZ_JOBS=1          parallel libFuzzer jobs per target
#
# Installs cargo-fuzz (from crates.io) and the nightly toolchain when missing, replays the saved crash inputs of
# fuzz/regressions/<target>/ first, grows fuzz/corpus/<target>/ (not committed) from the committed seeds in
# fuzz/seeds/<target>/ plus, when the test venv exists, seeds generated from the integration attack corpus, and
# prints one summary line per target. Exits non-zero if any target crashed; crash inputs land in
# fuzz/artifacts/<target>/ (copy the minimised one to fuzz/regressions/<target>/).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
JOBS="${FUZZ_JOBS:-1}"
PY=../.venv/bin/python

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

if [ -x "$PY" ] && "$PY" -c 'import cryptography' 2>/dev/null; then
    (cd .. && .venv/bin/python -m fuzz.make_seeds --out fuzz/corpus) >/dev/null
else
    echo "fuzz: no test venv (run scripts/bootstrap.sh for the full seed corpus); using the committed seeds only"
fi

targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
cargo +nightly fuzz build >/dev/null 2>&1 || cargo +nightly fuzz build
mkdir -p logs
status=0
summary=()
for target in $targets; do
    mkdir -p "corpus/$target" "seeds/$target"
    if compgen -G "regressions/$target/*" >/dev/null; then
        echo "fuzz: $target: replaying regressions/$target"
        cargo +nightly fuzz run "$target" regressions/"$target"/* -- -runs=1 >/dev/null 2>&1 \
            || { echo "fuzz: $target: a saved regression input crashes again"; status=1; }
    fi
    log="logs/$target.log"
    echo "fuzz: $target for ${SECONDS_PER_TARGET}s (log fuzz/$log)"
    started=$(date +%s)
    parallel=()
    if [ "$JOBS" -gt 1 ]; then parallel=(-jobs="$JOBS" -workers="$JOBS"); fi
    if cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1; then
        outcome="no crash"
    else
        outcome="CRASH (see fuzz/$log and fuzz/artifacts/$target/)"
        status=1
    fi
    elapsed=$(( $(date +%s) - started ))
    execs=$({ cat "$log" fuzz-*.log 2>/dev/null || true; } | awk '/stat::number_of_executed_units/ {s += $2} END {print s + 0}')
    rm -f fuzz-*.log
    summary+=("$(printf '%-16s %6ss %12s execs  %s' "$target" "$elapsed" "$execs" "$outcome")")
done
printf '%s\n' "fuzz summary:" "${summary[@]}"
exit $status
