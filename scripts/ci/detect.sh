#!/usr/bin/env bash
# Runtime ISA detection on x86-64: runs tests/integration/detection.rs natively (expecting the level the CPU's
# /proc/cpuinfo flags allow), natively capped by SIMDPOOL_ISA, and under QEMU's Haswell (AVX2, no
# AVX-512) and Nehalem (no AVX) CPU models. Each run asserts the chosen level (EXPECT_ISA), that
# default plans use it, and that every available level runs and matches the Scalar path.
# Needs qemu-user (installed with apt-get if missing; the script fails if it cannot be).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/need.sh
need_cmd qemu-x86_64 qemu-user
need_ready

bin=$(cargo test -p simdpool --test integration --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "detect.sh: could not build the integration test binary" >&2; exit 1; }

native=$(scripts/ci/levels.sh --top)

run() {
    local want=$1
    shift
    echo "detect.sh: expecting $want: $*"
    # QEMU warns about CPUID bits TCG cannot emulate (pcid, x2apic, ...): noise, filtered out.
    env -u SIMDPOOL_ISA EXPECT_ISA="$want" "$@" "$bin" --quiet detection:: 2> >(grep -v "TCG doesn't support requested feature" >&2)
}
run "$native" env
if [ "$native" != scalar ]; then
    run avx2 env SIMDPOOL_ISA=avx2
fi
run scalar env SIMDPOOL_ISA=scalar
run avx2 qemu-x86_64 -cpu Haswell
run scalar qemu-x86_64 -cpu Nehalem
echo "detect.sh: all detection checks passed (native: $native)"
