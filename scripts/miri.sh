#!/usr/bin/env bash
# Miri (undefined-behaviour checker) on the portable and AVX2 kernel paths.
#   scripts/miri.sh          the full subset (a few minutes per pass)
#   scripts/miri.sh quick    the small subset .ci/run uses (scripts/ci/reliability.sh)
#
# Two passes:
#   1. portable: no extra target features; Isa::available() is [Scalar].
#   2. avx2: RUSTFLAGS="-C target-feature=+avx2,+fma,..." so the AVX2 level is enabled statically
#      (Miri has no CPUID: runtime detection sees exactly the compile-time features). The extra
#      bmi1/bmi2/lzcnt/popcnt are what pulp's V3 token (x86-64-v3) checks besides avx2 and fma;
#      without them the token is refused and only Scalar would run. Isa::available() is then
#      [Scalar, Avx2], and every test that loops over common::isas() runs both.
# AVX-512 is not checked here (Miri lacks several AVX-512 intrinsics): scripts/asan.sh covers it.
# Tests that need mmap (guard_page) or huge allocations are compiled out or skipped under cfg(miri).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "miri: SKIPPED: the nightly toolchain is not installed (rustup toolchain install nightly)" >&2
    exit 0
fi
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
    rustup +nightly component add miri rust-src
fi

export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
export PROPTEST_CASES="${PROPTEST_CASES:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/miri-build}"
export CARGO_TERM_COLOR=never
AVX2_FLAGS="-C target-feature=+avx2,+fma,+bmi1,+bmi2,+lzcnt,+popcnt"

run() { # run <label> <rustflags> <cargo miri test args...>
    local label="$1" flags="$2"
    shift 2
    echo "--- miri [$label] cargo miri test $*"
    RUSTFLAGS="$flags" cargo +nightly miri test "$@"
}

pass() { # pass <label> <rustflags>
    local label="$1" flags="$2"
    # The kernels crate's own unit tests (max rule, scalar helpers).
    run "$label" "$flags" -p simdpool-kernels
    # Hand cases for every semantic rule, through the reference and every available level.
    run "$label" "$flags" -p simdpool --test semantics
    # The bad-input corpus (validation never reaches a kernel with bad lengths).
    run "$label" "$flags" -p simdpool --test bad_input
    if [ "$mode" = quick ]; then
        return
    fi
    # PyTorch golden vectors, both layouts, every level.
    run "$label" "$flags" -p simdpool --test golden
    # Differential proptests (PROPTEST_CASES random shapes each) for f32 (the SIMD kernels) and u8.
    run "$label" "$flags" -p simdpool --test differential -- f32_plans_match_reference u8_plans_match_reference
    # The library's unit tests (dispatch cap rules).
    run "$label" "$flags" -p simdpool --lib
}

start=$SECONDS
pass portable ""
pass avx2 "$AVX2_FLAGS"
echo "miri ($mode): no undefined behaviour found ($((SECONDS - start)) s)"
