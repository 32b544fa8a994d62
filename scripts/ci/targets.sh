#!/usr/bin/env bash
# Every Rust target builds: targets with no SIMD level (wasm32, riscv64) compile the library with
# the portable kernels only. `cargo check` is enough: the portable kernels are the ones every
# other level is tested against, natively and under qemu.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never
source scripts/lib/need.sh
targets=(wasm32-unknown-unknown riscv64gc-unknown-linux-gnu)
for target in "${targets[@]}"; do need_target "$target"; done
need_ready
for target in "${targets[@]}"; do
    echo "--- cargo check -p simdpool --target $target"
    RUSTFLAGS="-D warnings" cargo check -p simdpool --target "$target"
done
