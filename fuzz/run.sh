#!/usr/bin/env bash
# Fuzz every target of fuzz/ for a bounded time: `make fuzz` (short) and `make fuzz-long` (a campaign).
#
#   FUZZ_SECONDS=60      wall-clock seconds per target (default 60; `make fuzz-long` defaults to 600)
#   FUZZ_TARGETS="a b"   which targets (default: all of `cargo fuzz list`)
#   FUZZ_JOBS=1          parallel libFuzzer jobs per target
#   FUZZ_MINIMISE=1      after each target, merge what it found into the committed corpus
#                        fuzz/corpus/<target>/, minimised (libFuzzer -merge=1 -set_cover_merge=1); `make fuzz-long` sets it
#   FUZZ_RESULTS=FILE    append one Markdown row per target (runs, coverage, CPU time, corpus size,
#                        crashes) to FILE; `make fuzz-long` writes fuzz/results.md
#
# Every run starts from the committed corpora: fuzz/corpus/<target>/ (minimised by earlier campaigns),
# fuzz/seeds/<target>/ (hand-picked) and, when the test venv exists, seeds generated from the integration
# attack corpus. Work happens in fuzz/work/<target>/ (not committed). Saved crash inputs in
# fuzz/regressions/<target>/ are replayed first. Exits non-zero if any target crashed; crash inputs land
# in fuzz/artifacts/<target>/ (copy the minimised one to fuzz/regressions/<target>/ with its fix).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
JOBS="${FUZZ_JOBS:-1}"
MINIMISE="${FUZZ_MINIMISE:-}"
RESULTS="${FUZZ_RESULTS:-}"
PY=../.venv/bin/python

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

rm -rf work
mkdir -p work/generated logs
if [ -x "$PY" ] && "$PY" -c 'import cryptography' 2>/dev/null; then
    (cd .. && .venv/bin/python -m fuzz.make_seeds --out fuzz/work/generated) >/dev/null
else
    echo "fuzz: no test venv (run scripts/bootstrap.sh for the generated seeds); using the committed corpora only"
fi

targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
cargo +nightly fuzz build >/dev/null 2>&1 || cargo +nightly fuzz build

cpu_seconds() { # the shell's children's user+sys CPU seconds so far (`times` runs in this shell, not a subshell)
    times >work/times
    awk 'NR == 2 { gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }' work/times
}
files_in() { find "$1" -type f 2>/dev/null | wc -l; }

if [ -n "$RESULTS" ] && [ ! -f "$RESULTS" ]; then
    {
        echo "# Fuzz campaigns"
        echo
        echo "One row per target and campaign, appended by \`make fuzz-long\` (fuzz/run.sh)."
        echo "CPU is the fuzzer's user+sys time; cov/ft are libFuzzer's final edge coverage and features."
        echo
        echo "| date (UTC) | commit | target | wall s | CPU s | runs | cov | ft | corpus before → after | crashes |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
    } >"$RESULTS"
fi
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

status=0
summary=()
for target in $targets; do
    mkdir -p "corpus/$target" "seeds/$target" "work/$target"
    cp -r "corpus/$target/." "seeds/$target/." "work/$target/"
    [ -d "work/generated/$target" ] && cp -r "work/generated/$target/." "work/$target/"
    if compgen -G "regressions/$target/*" >/dev/null; then
        echo "fuzz: $target: replaying regressions/$target"
        cargo +nightly fuzz run "$target" regressions/"$target"/* -- -runs=1 >/dev/null 2>&1 \
            || { echo "fuzz: $target: a saved regression input crashes again"; status=1; }
    fi
    log="logs/$target.log"
    echo "fuzz: $target for ${SECONDS_PER_TARGET}s (log fuzz/$log)"
    started=$(date +%s)
    cpu_seconds >work/cpu_before
    parallel=()
    if [ "$JOBS" -gt 1 ]; then parallel=(-jobs="$JOBS" -workers="$JOBS"); fi
    crashes=0
    if cargo +nightly fuzz run "$target" "work/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1; then
        outcome="no crash"
    else
        outcome="CRASH (see fuzz/$log and fuzz/artifacts/$target/)"
        crashes=1
        status=1
    fi
    elapsed=$(( $(date +%s) - started ))
    cpu_seconds >work/cpu_after
    cpu=$(awk 'NR == FNR { a = $1; next } { printf "%d", $1 - a }' work/cpu_before work/cpu_after)
    all_logs=$({ cat "$log" fuzz-*.log 2>/dev/null || true; })
    execs=$(awk '/stat::number_of_executed_units/ {s += $2} END {print s + 0}' <<<"$all_logs")
    cov=$(grep -o 'cov: [0-9]*' <<<"$all_logs" | tail -1 | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' <<<"$all_logs" | tail -1 | awk '{print $2}')
    rm -f fuzz-*.log
    before=$(files_in "corpus/$target")
    after=$before
    if [ -n "$MINIMISE" ] && [ "$crashes" = 0 ]; then
        rm -rf "work/$target.min" && mkdir -p "work/$target.min"
        cargo +nightly fuzz run "$target" "work/$target.min" "work/$target" -- -merge=1 -set_cover_merge=1 \
            -max_len=16384 -timeout=10 -rss_limit_mb=2048 >"logs/$target.merge.log" 2>&1
        rm -rf "corpus/$target" && mv "work/$target.min" "corpus/$target"
        after=$(files_in "corpus/$target")
    fi
    summary+=("$(printf '%-16s %6ss %6s CPU s %12s execs  cov %-6s %s' "$target" "$elapsed" "$cpu" "$execs" "${cov:-?}" "$outcome")")
    if [ -n "$RESULTS" ]; then
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s → %s | %s |\n' "$(date -u +%FT%H:%MZ)" "$commit" \
            "$target" "$elapsed" "$cpu" "$execs" "${cov:-?}" "${ft:-?}" "$before" "$after" "$crashes" >>"$RESULTS"
    fi
done
printf '%s\n' "fuzz summary:" "${summary[@]}"
exit $status
