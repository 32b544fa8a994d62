#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/fuzz_targets: plan, npy) for N seconds (default 60), with debug
# assertions and overflow checks on, and prints executions / time / coverage / crashes per target.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   FUZZ_RUNS=N scripts/fuzz.sh 0 [TARGET...]    N executions per target instead of a time limit
#   scripts/fuzz.sh cmin [TARGET...]              minimize fuzz/corpus/<target> (see below)
# Installs what it needs if missing (scripts/lib/need.sh; fails if it cannot): the nightly
# toolchain, cargo-fuzz 0.13.2, and a C++ compiler (libfuzzer-sys builds libFuzzer). Crash inputs
# are kept in fuzz/artifacts/<target>/; replay one with `cargo +nightly fuzz run <target> <file>`.
# fuzz/corpus/<target>/ starts from the committed corpus (npy: NumPy's own files for every dtype
# and version 1-3 and odd but legal headers, scripts/npy_corpus.py; plan: one request per element
# type x op, scripts/plan_corpus.py; both grown by earlier runs and minimized with `cargo fuzz
# cmin`), and fuzz/npy.dict holds the header's tokens. New finds are added to fuzz/corpus/<target>.
# `cmin` shrinks a grown corpus before it is committed (`git add -f fuzz/corpus/<target>`: the
# directory is ignored so that a run leaves the tree clean): the named seeds stay, and libFuzzer's
# merge (what `cargo fuzz cmin` runs) adds the fewest finds (files named by their SHA-1) that keep
# every coverage feature; for `plan` every edge (-use_counters=0: hit-count buckets would keep
# about four times the files).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=run
if [ "${1:-}" = cmin ]; then
    mode=cmin
    shift
    secs=0
else
    secs="${1:-60}"
    shift || true
fi
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

if [ "$mode" = cmin ]; then
    host=$(rustc +nightly -vV | sed -n 's/^host: //p')
    for t in "${targets[@]}"; do
        cargo +nightly fuzz build -a "$t"
        keep=$(mktemp -d)
        find "fuzz/corpus/$t" -maxdepth 1 -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$keep" \;
        flags=()
        [ "$t" = plan ] && flags+=(-use_counters=0)
        mkdir -p "fuzz/artifacts/$t"
        log="fuzz/artifacts/$t/last-cmin.log"
        if ! "fuzz/target/$host/release/$t" -merge=1 -rss_limit_mb=3072 -timeout=20 "${flags[@]}" \
            "$keep" "fuzz/corpus/$t" >"$log" 2>&1; then
            tail -20 "$log"
            echo "fuzz $t: the merge failed (log: $log); fuzz/corpus/$t is unchanged" >&2
            exit 1
        fi
        grep -E '^MERGE-OUTER: [0-9]+ new files' "$log" || true
        find "fuzz/corpus/$t" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
        cp -n "$keep"/* "fuzz/corpus/$t/"
        rm -r "$keep"
        echo "fuzz $t corpus: $(find "fuzz/corpus/$t" -type f | wc -l) files, $(cat "fuzz/corpus/$t"/* | wc -c) bytes"
    done
    exit 0
fi

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
    limit=(-max_total_time="$secs")
    [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
    start=$(date +%s)
    cargo +nightly fuzz run "$t" -a "${dirs[@]}" -- "${limit[@]}" -rss_limit_mb=3072 -timeout=20 \
        -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
    rc=$?
    wall=$(($(date +%s) - start))
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    crashes=$(ls "fuzz/artifacts/$t" | grep -cE '^(crash|oom|timeout|leak)-' || true)
    # Coverage (cov: edges, ft: features) and corpus size once the seeds are read, and at the end.
    first=$(grep -m1 -E 'INITED' "$log" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' || true)
    last=$(grep -E '#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' || true)
    echo "fuzz $t: ${execs:-?} executions in ${wall}s (${rate:-?}/s), exit $rc, crash files in fuzz/artifacts/$t: $crashes"
    echo "fuzz $t: start ${first:-?}; end ${last:-?}"
    if [ "$rc" -ne 0 ]; then
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
        status=1
    fi
done
exit $status
