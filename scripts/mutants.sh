#!/usr/bin/env bash
# Mutation testing with cargo-mutants: does the test suite fail when the code is wrong?
# (docs/mutation-testing.md: scope, test subset, scores, every survivor.)
#
#   scripts/mutants.sh src              src/plan.rs, parallel.rs, global_tree.rs, window.rs
#   scripts/mutants.sh portable         kernels/src/portable (crate simdpool-kernels)
#   scripts/mutants.sh all              both, one after the other
#   scripts/mutants.sh plan             one file of the src scope (global_tree, parallel, plan, window)
#   scripts/mutants.sh src -F 'rows_per_task'     extra arguments go to cargo mutants
#                                                 (--re, --file, --shard, --in-place, --list...)
#
# Results land in mutants.out/<scope>/ (caught.txt, missed.txt, timeout.txt, unviable.txt).
# One mutant is one incremental build plus the test subset below, so a scope takes hours on two
# cores: run it with `nice`, one scope at a time, and use --re / --file to re-check one function.
#
# Environment: MUTANTS_JOBS (parallel mutants; unset: one at a time, as each build already uses both
# cores; not with --in-place),
# MUTANTS_TIMEOUT (test timeout per mutant, seconds, default 60: the subsets run in under 5 s, and
# a mutant that loops forever should not hold the run for long), PROPTEST_CASES (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."

# The version the scores in docs/mutation-testing.md were measured with.
MUTANTS_VERSION=27.1.0
if [ "$(cargo mutants --version 2>/dev/null || true)" != "cargo-mutants $MUTANTS_VERSION" ]; then
    cargo install --locked --version "$MUTANTS_VERSION" cargo-mutants
fi

scope="${1:-all}"
shift || true

# The proptests run few cases per mutant: every mutant in scope breaks either every case or a
# whole class of shapes that the deterministic tests and the first cases already reach.
export PROPTEST_CASES="${PROPTEST_CASES:-16}"
jobs=()
[[ -n "${MUTANTS_JOBS:-}" ]] && jobs=(-j "$MUTANTS_JOBS")
timeout="${MUTANTS_TIMEOUT:-60}"

run_scope() {
    local name="$1"
    shift
    mkdir -p mutants.out
    echo "=== cargo mutants: $name"
    # Exit status 2 means some mutant survived: go on with the next scope, report it at the end.
    local rc=0
    nice cargo mutants --no-shuffle "${jobs[@]}" --timeout "$timeout" --build-timeout 1800 \
        --output "mutants.out/$name" "$@" || rc=$?
    [[ $rc -gt $status ]] && status=$rc
    return 0
}
status=0

# The test subsets. The test binary is rebuilt for every mutant (the library is generic: its code
# is compiled into the test binary), and the build is most of a mutant's time; the run is limited
# to the modules of tests/integration (and the library's unit tests) that exercise the file:
#   global_tree.rs  unit tests (blocks); global_kernels: every level against the reference,
#                   channels-last planes cut into 2, 4 and 8 pixel blocks, NaN and zero ties;
#                   routes: which planes take the block path
#   parallel.rs     unit tests (the split rules); threads: bits independent of the thread count
#   plan.rs         semantics, routes, global_kernels: what a plan computes and which kernel runs
#   window.rs       semantics (output sizes, ceil mode, padding rules, errors), golden (PyTorch)
#   all four        mutation_kills: focused tests for rules the others reach only by chance
# The cargo arguments go in --cargo-arg, not --cargo-test-arg: the latter reaches only the test
# run, and the build step (`cargo test --no-run`) would otherwise build every test binary and
# example. The name filters go in --cargo-test-arg, after `--`.
src_file() { # src_file <file> <name> <cargo args...> -- <test name filters...> [-- cargo mutants args]
    local file="$1" name="$2"
    shift 2
    local cargo=() filters=()
    while [[ $# -gt 0 && "$1" != "--" ]]; do
        cargo+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    while [[ $# -gt 0 && "$1" != "--" ]]; do
        filters+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    run_scope "src-$name" --package simdpool --file "$file" --test-package simdpool \
        $(printf -- '--cargo-arg=%s ' "${cargo[@]}" --test integration) \
        $(printf -- '--cargo-test-arg=%s ' -- "${filters[@]}" mutation_kills::) "$@"
}

src_global_tree() { src_file src/global_tree.rs global_tree --lib -- global_tree global_kernels:: routes:: -- "$@"; }
src_parallel() { src_file src/parallel.rs parallel --lib -- parallel threads:: -- "$@"; }
src_plan() { src_file src/plan.rs plan -- semantics:: routes:: global_kernels:: -- "$@"; }
src_window() { src_file src/window.rs window -- semantics:: golden:: -- "$@"; }
src_scope() {
    src_global_tree "$@"
    src_parallel "$@"
    src_plan "$@"
    src_window "$@"
}

portable_scope() {
    # cargo-mutants tests a mutant of one package with `cargo test --package=<that package>` and
    # ignores --test-package for it, so the simdpool integration tests would never run against a
    # mutant of simdpool-kernels (whose own test harness is off: `test = false`). Testing the
    # workspace, restricted to the simdpool crate's integration tests, runs them; only the
    # library crates those binaries depend on are built.
    local tests=(--test integration)
    local filters=(nchw_kernels:: nhwc_kernels:: argmax_kernels:: global_kernels:: semantics::)
    # cargo-mutants 27.1.0 builds its unmutated baseline with `--package=simdpool-kernels` and
    # these test names, which fails (they belong to simdpool), although each mutant is then built
    # and tested with `--workspace` as asked. So the baseline runs here, with the mutants' own
    # command, and cargo-mutants skips its own: an unmutated tree that fails stops the scope
    # before any mutant could count as caught.
    case " $* " in
        *" --list "*) ;;
        *)
            echo "=== baseline: cargo test --workspace ${tests[*]} -- ${filters[*]}"
            nice cargo test --workspace "${tests[@]}" -- "${filters[@]}" || {
                echo "mutants.sh: the unmutated tree fails its portable test subset" >&2
                exit 1
            }
            ;;
    esac
    run_scope portable --package simdpool-kernels --file 'kernels/src/portable/*.rs' \
        --test-workspace=true --baseline=skip $(printf -- '--cargo-arg=%s ' "${tests[@]}") \
        $(printf -- '--cargo-test-arg=%s ' -- "${filters[@]}") "$@"
}

case "$scope" in
    src) src_scope "$@" ;;
    global_tree | parallel | plan | window) "src_$scope" "$@" ;;
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
exit "$status"
