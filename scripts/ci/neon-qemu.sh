#!/usr/bin/env bash
# Runs the NEON kernels' differential tests under QEMU user emulation.
# Needs: rustup target aarch64-unknown-linux-gnu, and
#   apt-get install -y qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export PROPTEST_CASES="${PROPTEST_CASES:-32}"
cargo clippy -p simdpool-kernels --target aarch64-unknown-linux-gnu -- -D warnings
cargo test --target aarch64-unknown-linux-gnu --test global_kernels --test argmax_kernels --test threads
