#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/fuzz_targets: plan, npy) for N seconds (default 60), with debug
# assertions and overflow checks on, and prints executions / time / crashes per target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Installs what it needs if missing (scripts/lib/need.sh; fails if it cannot): the nightly
# toolchain, cargo-fuzz 0.13.2, and a C++ compiler (libfuzzer-sys builds libFuzzer). Crash inputs
# are kept in fuzz/artifacts/<target>/; replay one with `cargo +nightly fuzz run <target> <file>`.
# fuzz/corpus/npy/ starts from committed seeds (NumPy's own files for every dtype and version 1-3,
# and odd but legal headers: scripts/npy_corpus.py), and fuzz/npy.dict holds the header's tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(plan npy)

source scripts/lib/need.sh
need_nightly
need_cmd c++ g++
need_cargo_install cargo-fuzz 0.13.2
need_ready

# cargo-fuzz builds with AddressSanitizer. Let a failed huge allocation return null as it does
# without ASan, so `try_reserve` reports it (simdpool turns that into a PoolError) instead of ASan
# calling it a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1}"
status=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log="fuzz/artifacts/$t/last-run.log"
    echo "=== fuzz $t for ${secs}s"
    set +e
    # fuzz/regressions/<target> (committed inputs that once failed) is a second corpus directory:
    # libFuzzer runs every input in it first, then fuzzes; new finds go to fuzz/corpus/<target>.
    dirs=("fuzz/corpus/$t")
    [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
    # fuzz/<target>.dict (tokens of the input format), if there is one.
    dict=()
    [ -f "fuzz/$t.dict" ] && dict+=("-dict=fuzz/$t.dict")
    cargo +nightly fuzz run "$t" -a "${dirs[@]}" -- -max_total_time="$secs" -rss_limit_mb=3072 -timeout=20 \
        -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    crashes=$(ls "fuzz/artifacts/$t" | grep -cE '^(crash|oom|timeout|leak)-' || true)
    echo "fuzz $t: ${execs:-?} executions in ${secs}s (${rate:-?}/s), exit $rc, crash files in fuzz/artifacts/$t: $crashes"
    if [ "$rc" -ne 0 ]; then
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
        status=1
    fi
done
exit $status
