#!/usr/bin/env bash
# Every Rust target builds: targets with no SIMD level (wasm32, riscv64) compile the library with
# the portable kernels only. `cargo check` is enough: the portable kernels are the ones every
# other level is tested against, natively and under qemu.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never
for target in wasm32-unknown-unknown riscv64gc-unknown-linux-gnu; do
    if ! rustup target list --installed | grep -qx "$target"; then
        echo "installing the $target standard library"
        rustup target add "$target"
    fi
    echo "--- cargo check -p simdpool --target $target"
    RUSTFLAGS="-D warnings" cargo check -p simdpool --target "$target"
done
