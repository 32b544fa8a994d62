#!/usr/bin/env bash
# Prints the ISA levels this machine has, lowest first, by the names SIMDPOOL_ISA accepts
# (src/isa.rs: scalar, avx2, avx512, neon), from the same features src/dispatch.rs detects (pulp's
# x86-64-v3 / v4 tokens; NEON on AArch64), read from /proc/cpuinfo.
#   scripts/ci/levels.sh           all levels, e.g. "scalar avx2 avx512"
#   scripts/ci/levels.sh --top     the highest level only
#   scripts/ci/levels.sh --below   the levels under the highest, highest first ("avx2 scalar")
# tests/integration/levels.rs checks the library's own detection against the CPU flags, so a mismatch here
# would fail the tests rather than pass unnoticed.
set -euo pipefail
levels=(scalar)
case "$(uname -m)" in
x86_64)
    flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    has() { for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }
    # abm is /proc/cpuinfo's name for LZCNT.
    if has avx avx2 fma bmi1 bmi2 abm; then
        levels+=(avx2)
        if has avx512f avx512bw avx512cd avx512dq avx512vl; then levels+=(avx512); fi
    fi
    ;;
aarch64 | arm64) levels+=(neon) ;;
esac
case "${1:-}" in
"") echo "${levels[*]}" ;;
--top) echo "${levels[-1]}" ;;
--below)
    below=()
    for ((i = ${#levels[@]} - 2; i >= 0; i--)); do below+=("${levels[i]}"); done
    echo "${below[*]}"
    ;;
*)
    echo "usage: $0 [--top|--below]" >&2
    exit 2
    ;;
esac
