#!/usr/bin/env bash
# AddressSanitizer over the library's tests, natively (so the AVX-512 path runs wherever the CPU
# has it; Miri cannot run AVX-512 intrinsics). Any heap/stack over-read or over-write, use after
# free or leak aborts the test with a report.
#   scripts/asan.sh [extra cargo test args, e.g. --test guard_page]
# Installs the nightly toolchain if missing (scripts/lib/need.sh), and fails if it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/need.sh
need_nightly
need_ready
host="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
# allocator_may_return_null: a failed huge allocation returns null as without ASan, so the
# bad-input rows that expect `try_reserve` to fail see it fail instead of an ASan abort.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export PROPTEST_CASES="${PROPTEST_CASES:-64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/asan-build}"
export CARGO_TERM_COLOR=never
echo "asan: levels available here: $(grep -o 'avx512[a-z]*\|avx2' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ')"
# --target is required: it keeps the sanitizer flags off build scripts and proc macros.
# --tests: unit and integration tests (doctests would need -Zbuild-std to link the sanitizer).
# The kernel crate's debug assertions (off in the test profile for build time) back on.
cargo +nightly test --config 'profile.test.package.simdpool-kernels.debug-assertions=true' \
    --target "$host" -p simdpool -p simdpool-kernels --tests "$@"
echo "asan: no memory errors found"
