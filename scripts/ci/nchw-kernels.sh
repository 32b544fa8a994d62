#!/usr/bin/env bash
# Channels-first f32 windowed kernels: differential tests on every x86 level this machine has,
# then the NEON path under QEMU user emulation (needs qemu-user, gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross and the aarch64-unknown-linux-gnu rustup target).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PROPTEST_CASES="${PROPTEST_CASES:-64}"
cargo test --test nchw_kernels
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
  cargo test --target aarch64-unknown-linux-gnu --test nchw_kernels
