#!/usr/bin/env bash
# Runs the library's test suite for aarch64-unknown-linux-gnu under QEMU user emulation, so the
# NEON kernels are tested on this x86 machine. Installs what it needs (scripts/lib/need.sh; Debian,
# as root or with sudo), and fails if it cannot:
#   apt: qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross; rustup: aarch64-unknown-linux-gnu.
# The linker and runner are set through environment variables here, so native builds are unaffected.
# tests/integration/detection.rs (with EXPECT_ISA=neon) fails the run unless NEON was detected and used.
set -euo pipefail
cd "$(dirname "$0")/../.."

source scripts/lib/need.sh
need_cmd qemu-aarch64 qemu-user
need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
apt_install libc6-dev-arm64-cross
need_target aarch64-unknown-linux-gnu
need_ready

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
# Emulation is ~10-50x slower than native: fewer proptest cases than the native run.
export PROPTEST_CASES="${NEON_PROPTEST_CASES:-8}"
# The aarch64 build of the monomorphised kernel nests takes ~10 minutes of one core at opt-level 3
# (one huge function per nest, optimised serially); at opt-level 1 it is a fraction of that, and
# the emulated tests still run in well under a minute. Bits are the same at every opt-level (the
# kernels fix the order of operations; tests compare against the Scalar level bit for bit).
export CARGO_PROFILE_TEST_OPT_LEVEL="${NEON_OPT_LEVEL:-1}"
# No line tables either: they cost build time, and panics still name file and line.
export CARGO_PROFILE_TEST_DEBUG=0
# tests/integration/guard_page.rs guards the NEON level only here (the Scalar level is the portable source the
# native run guards; emulated, its runs cost as much as NEON's).
export SIMDPOOL_GUARD_SIMD_ONLY=1
export EXPECT_ISA=neon
unset SIMDPOOL_ISA
# The NEON code must also pass clippy for its own target.
cargo clippy -p simdpool-kernels -p simdpool --target aarch64-unknown-linux-gnu -- -D warnings
# The library's unit tests and both crates' integration tests (examples and benches need no
# emulated run). `--tests`, not `--lib`: the kernel crate has no unit-test harness (`test = false`),
# and naming `--lib` would build one, a second build of every kernel nest.
# Skipped here only, because they re-execute the test binary, which qemu-user cannot do without
# binfmt_misc (exit 127): guard_page's self-check (the guard pages themselves are exercised by
# every other guard_page test) and levels' re-runs of itself under each SIMDPOOL_ISA cap (the level
# guard, check_levels, still runs in every test here). Both run natively.
cargo test --target aarch64-unknown-linux-gnu -p simdpool -p simdpool-kernels --tests -- \
    --skip reading_past_the_end_faults --skip every_cap_tests_exactly_the_levels_below_it
