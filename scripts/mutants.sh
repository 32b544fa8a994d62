#!/usr/bin/env bash
# Mutation testing with cargo-mutants: does the test suite fail when the code is wrong?
# (docs/mutation-testing.md: scope, test subset, scores, every survivor.)
#
#   scripts/mutants.sh src              src/plan.rs, parallel.rs, global_tree.rs, window.rs
#   scripts/mutants.sh portable         kernels/src/portable (crate simdpool-kernels)
#   scripts/mutants.sh all              both, one after the other
#   scripts/mutants.sh src -F 'rows_per_task'     extra arguments go to cargo mutants
#                                                 (--re, --file, --shard, --in-place, --list...)
#
# Results land in mutants.out/<scope>/ (caught.txt, missed.txt, timeout.txt, unviable.txt).
# One mutant is one incremental build plus the test subset below, so a scope takes hours on two
# cores: run it with `nice`, one scope at a time, and use --re / --file to re-check one function.
#
# Environment: MUTANTS_JOBS (default 1: one build at a time; each build already uses both cores),
# MUTANTS_TIMEOUT (test timeout per mutant, seconds, default 300), PROPTEST_CASES (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."

# The version the scores in docs/mutation-testing.md were measured with.
MUTANTS_VERSION=27.1.0
if ! cargo mutants --version 2>/dev/null | grep -qx "cargo-mutants $MUTANTS_VERSION"; then
    cargo install --locked --version "$MUTANTS_VERSION" cargo-mutants
fi

scope="${1:-all}"
shift || true

# The proptests run few cases per mutant: every mutant in scope breaks either every case or a
# whole class of shapes that the deterministic tests and the first cases already reach.
export PROPTEST_CASES="${PROPTEST_CASES:-16}"
jobs="${MUTANTS_JOBS:-1}"
timeout="${MUTANTS_TIMEOUT:-300}"

# The test subset: the library's unit tests and the integration tests that exercise the files in
# scope. Each named test binary is rebuilt for every mutant, so the list is kept short.
#   semantics       output sizes, ceil mode, padding, divisors, scan rule, errors (window.rs, plan.rs)
#   routes          which kernel family a plan takes (plan.rs)
#   global_kernels  global pooling on every level against the reference, large planes (global_tree.rs)
#   threads         results independent of the thread count, the split rules (parallel.rs)
#   mutation_kills  focused tests for behaviour the others reach only by chance
#   nchw_kernels, nhwc_kernels, argmax_kernels  every level against the Scalar level (the portable
#                   kernels) and the reference: the kernels' own oracle tests
common_tests=(--lib --test semantics --test routes --test global_kernels --test threads)

run_scope() {
    local name="$1"
    shift
    echo "=== cargo mutants: $name"
    nice cargo mutants --no-shuffle -j "$jobs" --timeout "$timeout" --build-timeout 1800 \
        --output "mutants.out/$name" "$@"
}

src_scope() {
    run_scope src --package simdpool \
        --file src/plan.rs --file src/parallel.rs --file src/global_tree.rs --file src/window.rs \
        --test-package simdpool \
        $(printf -- '--cargo-test-arg=%s ' "${common_tests[@]}") \
        "$@"
}

portable_scope() {
    # cargo-mutants tests a mutant of one package with `cargo test --package=<that package>` and
    # ignores --test-package for it, so the simdpool integration tests would never run against a
    # mutant of simdpool-kernels (whose own test harness is off: `test = false`). Testing the
    # workspace, restricted to named test binaries of the simdpool crate, runs them; only the
    # library crates those binaries depend on are built.
    run_scope portable --package simdpool-kernels --file 'kernels/src/portable/*.rs' \
        --test-workspace=true \
        $(printf -- '--cargo-test-arg=%s ' --test nchw_kernels --test nhwc_kernels --test argmax_kernels \
            --test global_kernels --test semantics) \
        "$@"
}

case "$scope" in
    src) src_scope "$@" ;;
    portable) portable_scope "$@" ;;
    all)
        src_scope "$@"
        portable_scope "$@"
        ;;
    *)
        echo "usage: $0 [src|portable|all] [cargo mutants args...]" >&2
        exit 2
        ;;
esac
