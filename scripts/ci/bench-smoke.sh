#!/usr/bin/env bash
# Smoke tests of the benchmarks (issue 5): every criterion bench runs once and checks each ISA
# level against the scalar reference; instruction counts run where valgrind and the runner exist;
# `simdpool bench --json` prints valid JSON with the documented keys and nothing else on stdout.
#
# Everything here runs in the `test` profile (opt-level 2 for the workspace, as `cargo test`
# builds it), reusing the kernels `cargo test --workspace` just built: a release build of the
# kernels costs ~6 CPU-minutes more, and a smoke test proves the benches build and run, not
# their speed. Real figures come from `cargo bench` / `cargo run --release` (README).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never

echo "--- cargo bench --profile test --bench pooling -- --test"
cargo bench --profile test --bench pooling -- --test

echo "--- cargo bench --profile test --bench instructions"
if command -v valgrind >/dev/null 2>&1; then
    if ! cargo install --list | grep -q '^iai-callgrind-runner v0\.16\.1:'; then
        echo "installing iai-callgrind-runner 0.16.1 (must match iai-callgrind =0.16.1)"
        cargo install iai-callgrind-runner --version 0.16.1 --locked
    fi
    cargo bench --profile test --bench instructions
else
    echo "skipped: valgrind is not installed"
fi

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
    assert r["route"] in ("portable", "separable", "transposed", "lanes", "argmax", "global", "global-blocks"), r
    assert r["threads"] >= 1 and r["median_us"] > 0 and r["scalar_us"] > 0 and r["roofline_us"] > 0, r
    assert r.get("verified", True), f"output differs from the reference: {r}"
assert {r["layout"] for r in records} == {"nchw", "nhwc"}, "both layouts expected"
print(f"ok: {len(records)} records with keys {sorted(keys)}")
PY
