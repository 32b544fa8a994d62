#!/usr/bin/env bash
# Every reliability check, full versions (tens of minutes on a small machine):
#   1. the workspace tests (incl. the bad-input corpus and the guard-page test)
#   2. Miri on the portable and AVX2 paths (scripts/miri.sh)
#   3. AddressSanitizer on the native paths, AVX-512 included (scripts/asan.sh)
#   4. cargo-fuzz, each target for FUZZ_SECONDS (default 60) (scripts/fuzz.sh)
# Stops at the first failing step. Nothing is skipped: each script installs the tools it needs
# (nightly, Miri, cargo-fuzz: scripts/lib/need.sh) and fails if it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { echo; echo "=== $* ($((SECONDS - start)) s)"; }

step "workspace tests"
cargo test --workspace
step "bad-input corpus and guard pages (every level, forced one at a time)"
cargo test -p simdpool --test integration -- bad_input:: guard_page::
for isa in $(scripts/ci/levels.sh --below); do
    # SIMDPOOL_ISA caps the detected level: the tests then see each lower level as the top one
    # (and fail unless they see exactly the levels up to it: tests/integration/common, check_levels).
    SIMDPOOL_ISA=$isa cargo test -q -p simdpool --test integration -- bad_input:: guard_page:: >/dev/null \
        && echo "SIMDPOOL_ISA=$isa: ok" || { echo "SIMDPOOL_ISA=$isa: FAILED"; exit 1; }
done
step "miri (portable + avx2)"
scripts/miri.sh full
step "address sanitizer"
scripts/asan.sh
step "fuzz"
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
step "all reliability checks passed"
