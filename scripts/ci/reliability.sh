#!/usr/bin/env bash
# The fast reliability checks for .ci/run (budget: under 4 minutes on 2 cores, after the main
# test build): the bad-input corpus, the guard-page test, and Miri on a small subset of tests
# (kernels unit tests, semantics, bad_input) on the portable and AVX2 paths.
# The full versions (Miri on golden + differential, AddressSanitizer, fuzzing) are in
# scripts/check-all.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never
start=$SECONDS

# `--after-tests` (.ci/run, after `cargo test --workspace`, which ran both): skip the rerun.
if [ "${1:-}" != --after-tests ]; then
    echo "=== reliability: bad-input corpus and guard pages"
    cargo test -p simdpool --test integration -- bad_input:: guard_page::
fi

echo "=== reliability: miri, small subset ($((SECONDS - start)) s)"
# scripts/miri.sh installs nightly and Miri if missing, and fails if it cannot.
PROPTEST_CASES=2 scripts/miri.sh quick
echo "=== reliability: done ($((SECONDS - start)) s)"
