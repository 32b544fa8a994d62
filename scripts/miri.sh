#!/usr/bin/env bash
# Miri (undefined-behaviour checker) on the portable and AVX2 kernel paths.
#   scripts/miri.sh          the full subset (a few minutes per pass)
#   scripts/miri.sh quick    the small subset .ci/run uses (scripts/ci/reliability.sh): AVX2 pass only
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
# Installs the nightly toolchain with miri and rust-src if missing (scripts/lib/need.sh), and
# fails if it cannot: the check never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"
source scripts/lib/need.sh
need_nightly miri rust-src
need_ready

# -Zmiri-deterministic-floats: by default Miri adds random rounding noise to transcendental float
# ops (powf, cbrt...), which makes the reference's std `powf` and the kernels' libm `pow` differ in
# the last bit where the tests demand bit equality. With it, Miri computes them exactly.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation -Zmiri-deterministic-floats}"
export PROPTEST_CASES="${PROPTEST_CASES:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/miri-build}"
export CARGO_TERM_COLOR=never
KERNEL_ASSERTIONS='profile.test.package.simdpool-kernels.debug-assertions=true'
AVX2_FLAGS="-C target-feature=+avx2,+fma,+bmi1,+bmi2,+lzcnt,+popcnt"

run() { # run <label> <rustflags> <cargo miri test args...>
    local label="$1" flags="$2"
    shift 2
    echo "--- miri [$label] cargo miri test $*"
    # libm's x86 sqrt is inline asm, which Miri cannot run: use its soft (same bits) version.
    # The kernel crate's debug assertions (off in the test profile for build time) back on.
    RUSTFLAGS="$flags" cargo +nightly miri test --config "$KERNEL_ASSERTIONS" \
        --features libm/force-soft-floats "$@"
}

pass() { # pass <label> <rustflags> <expected levels>
    local label="$1" flags="$2"
    # bad_input's level check fails unless Isa::available() is exactly these levels, so a pass
    # cannot silently lose its AVX2 path.
    export SIMDPOOL_EXPECT_ISAS="$3"
    run "$label" "$flags" -p simdpool --test integration -- --exact bad_input::available_levels_are_the_expected_ones
    # The kernels crate's own tests. Miri has no CPUID, so there they run the portable kernels
    # only (kernels/tests/common), which the simdpool tests below reach too: the quick mode keeps
    # the scalar helpers' test and leaves the route sweeps (~2 minutes interpreted) to the full one.
    if [ "$mode" = quick ]; then
        run "$label" "$flags" -p simdpool-kernels --test lp_range
    else
        run "$label" "$flags" -p simdpool-kernels
    fi
    # Hand cases for every semantic rule, through the reference and every available level.
    # (absurd_sizes_are_errors_not_aborts asks for terabytes on purpose; Miri aborts on that
    # instead of failing the allocation, so it is left to the native runs.)
    run "$label" "$flags" -p simdpool --test integration -- semantics:: --skip absurd_sizes_are_errors_not_aborts
    if [ "$mode" = quick ]; then
        return
    fi
    # The bad-input corpus (validation never reaches a kernel with bad lengths).
    run "$label" "$flags" -p simdpool --test integration -- bad_input::
    # PyTorch golden vectors, both layouts, every level.
    run "$label" "$flags" -p simdpool --test integration -- golden::
    # Differential proptests (PROPTEST_CASES random shapes each) for f32 (the SIMD kernels) and u8.
    run "$label" "$flags" -p simdpool --test integration -- differential::f32_plans_match_reference differential::u8_plans_match_reference
    # The library's unit tests (dispatch cap rules).
    run "$label" "$flags" -p simdpool --lib
}

start=$SECONDS
if [ "$mode" != quick ]; then
    pass portable "" scalar
fi
# The AVX2 build runs both levels (every test loops over Isa::available() = [Scalar, Avx2]), so
# the quick mode needs only this pass.
pass avx2 "$AVX2_FLAGS" scalar,avx2
echo "miri ($mode): no undefined behaviour found ($((SECONDS - start)) s)"
