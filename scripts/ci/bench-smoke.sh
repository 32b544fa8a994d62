#!/usr/bin/env bash
# Smoke tests of the benchmarks: every criterion bench runs once and checks each ISA level
# against the scalar reference; the instruction-count bench runs under valgrind (installed with
# apt-get if missing, as is iai-callgrind-runner at the version Cargo.lock pins for iai-callgrind:
# the two must match); `simdpool bench --json` prints valid JSON with the documented keys and
# nothing else on stdout. A missing tool that cannot be installed fails the script.
#
# Everything here runs in the `test` profile (opt-level 2 for the workspace, as `cargo test`
# builds it), reusing the kernels `cargo test --workspace` just built: a release build of the
# kernels costs ~6 CPU-minutes more, and a smoke test proves the benches build and run, not
# their speed. Real figures come from `cargo bench` / `cargo run --release` (README).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never
source scripts/lib/need.sh
need_cmd valgrind valgrind
need_cmd python3 python3
need_cmd objdump binutils
iai_version=$(sed -n '/^name = "iai-callgrind"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)
[ -n "$iai_version" ] || need_fail "no iai-callgrind version in Cargo.lock"
need_cargo_install iai-callgrind-runner "$iai_version"
need_ready

echo "--- cargo bench --profile test --bench pooling -- --test"
cargo bench --profile test --bench pooling -- --test

echo "--- cargo bench --profile test --bench instructions (iai-callgrind $iai_version)"
# Smoke inputs (benches/instructions.rs): every benchmark runs, at the smallest sizes.
SIMDPOOL_IAI_SMOKE=1 cargo bench --profile test --bench instructions

echo "--- simdpool bench --json --case resnet_gap"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# The `simdpool` binary `cargo test --workspace` built for the CLI's own tests: `cargo run -p
# simdpool-cli` alone resolves the library without the dev-dependencies' features and would
# rebuild the kernels.
bin=$(cargo test --workspace --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    t = m.get("target", {})
    if (m.get("reason") == "compiler-artifact" and t.get("kind") == ["bin"] and t.get("name") == "simdpool"
            and not m["profile"]["test"]):
        print(m["executable"])
')
[ -x "$bin" ] || { echo "bench-smoke.sh: could not find the simdpool binary" >&2; exit 1; }
echo "--- no SIMD intrinsic left out of line in $bin"
# A closure or iterator adapter that the optimiser leaves out of line inside a token's
# `vectorize` takes its intrinsics with it, out of the target features, and each becomes a call
# (docs/kernel-architecture.md). The standard library's `xgetbv` in CPU detection is the one
# expected call.
calls=$(objdump -d --no-show-raw-insn -C "$bin" | grep 'call.*core::core_arch' | grep -v '_xgetbv>' || true)
if [ -n "$calls" ]; then
    echo "$calls" | sed 's/.*<//' | sort | uniq -c | sort -rn | head -20
    echo "bench-smoke.sh: $(echo "$calls" | wc -l) intrinsic calls left out of line" >&2
    exit 1
fi
"$bin" bench --json --case resnet_gap >"$out"
python3 - "$out" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    records = json.load(f)  # fails unless stdout is exactly one JSON document
assert isinstance(records, list) and records, "expected a non-empty JSON array"
keys = {"case", "layout", "isa", "route", "threads", "median_us", "gbps", "roofline_us", "scalar_us"}
for r in records:
    missing = keys - r.keys()
    assert not missing, f"record lacks {sorted(missing)}: {r}"
    assert r["case"] == "resnet_gap", r
    assert r["layout"] in ("nchw", "nhwc"), r
    assert r["route"] in ("portable", "plane", "lean", "general", "transposed", "lanes", "argmax", "global", "global-blocks"), r
    assert r["threads"] >= 1 and r["median_us"] > 0 and r["scalar_us"] > 0 and r["roofline_us"] > 0, r
    assert r.get("verified", True), f"output differs from the reference: {r}"
assert {r["layout"] for r in records} == {"nchw", "nhwc"}, "both layouts expected"
print(f"ok: {len(records)} records with keys {sorted(keys)}")
PY
