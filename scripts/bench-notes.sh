#!/usr/bin/env bash
# Regenerates docs/notes-bench.md: the how-to text below plus tables measured on this machine by
# `simdpool bench --isa all` and (unless --no-peers) the peers run. Nothing in the tables is typed
# by hand. Usage: scripts/bench-notes.sh [--no-peers | --peers-output FILE] [--py-peers-output FILE]
# [--time-scale F] (--peers-output: the saved stdout of an earlier
# `cargo bench --manifest-path benches/peers/Cargo.toml`; --py-peers-output: that of
# `benches/peers/py_peers.py`, which otherwise runs when target/peers-venv exists).
set -euo pipefail
cd "$(dirname "$0")/.."
peers=1
peers_output=""
py_peers_output=""
interleave_output=""
scale=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-peers) peers=0 ;;
        --peers-output) peers_output="$2"; shift ;;
        --py-peers-output) py_peers_output="$2"; shift ;;
        --interleave-output) interleave_output="$2"; shift ;;
        --time-scale) scale="$2"; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
out=docs/notes-bench.md
mkdir -p docs
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cargo build --release -p simdpool-cli
start=$SECONDS
./target/release/simdpool bench --isa all --time-scale "$scale" >"$tmp/bench.txt"
bench_secs=$((SECONDS - start))
if [[ -n $peers_output ]]; then
    cp -p "$peers_output" "$tmp/peers.txt"
elif [[ $peers == 1 ]]; then
    cargo bench --manifest-path benches/peers/Cargo.toml >"$tmp/peers.txt" 2>"$tmp/peers.err"
fi
py_peers=0
if [[ -n $py_peers_output ]]; then
    cp -p "$py_peers_output" "$tmp/py-peers.txt"
    py_peers=1
elif [[ $peers == 1 && -x target/peers-venv/bin/python ]]; then
    target/peers-venv/bin/python benches/peers/py_peers.py >"$tmp/py-peers.txt" 2>"$tmp/py-peers.err"
    py_peers=1
fi
interleave=0
if [[ -n $interleave_output ]]; then
    cp -p "$interleave_output" "$tmp/interleave.txt"
    interleave=1
elif [[ $peers == 1 && -x target/peers-venv/bin/python && -f benches/peers/target/release/libsimdpool_peers_ffi.so ]]; then
    target/peers-venv/bin/python benches/peers/py_peers.py --interleave --peer litert --rounds 300 \
        >"$tmp/interleave.txt" 2>"$tmp/interleave.err"
    interleave=1
fi

{
cat <<'TEXT'
# Performance

simdpool's benchmarks all read one workload suite, `benches/suite.json` (a copy of
`../shared/suite.json`, checked byte for byte by `cargo test -p simdpool-bench`): real pooling
layers from published networks, each run in both layouts (`nchw` = channels-first, `nhwc` =
channels-last, whatever the spatial rank) on the same logical dims.

## The commands

| what | command | time here |
|---|---|---|
| the main job: the suite on this machine | `cargo run --release -p simdpool-cli -- bench` | < 2 min |
| every ISA level side by side | `cargo run --release -p simdpool-cli -- bench --isa all` | ~2-3 min |
| one case, as JSON for scripts | `cargo run --release -p simdpool-cli -- bench --json --case resnet_gap` | seconds |
| criterion, all cases x layouts x levels + reference + roofline | `cargo bench --bench pooling` | < 10 min |
| criterion, one case | `cargo bench --bench pooling -- resnet_stem` | |
| instruction counts (valgrind) | `cargo bench --bench instructions` | < 2 min |
| simdpool next to candle, burn, tract | `cargo bench --manifest-path benches/peers/Cargo.toml` | ~5 min; the first build compiles ~250 crates (40 min on this busy 2-core VM) |
| simdpool next to ONNX Runtime and LiteRT (XNNPACK), interleaved | `target/peers-venv/bin/python benches/peers/py_peers.py` (set-up in the script's doc) | ~4 min |
| simdpool and LiteRT in one process, batch against batch | `cargo build --release --manifest-path benches/peers/ffi/Cargo.toml`, then `target/peers-venv/bin/python benches/peers/py_peers.py --interleave --peer litert [--offset 16]` | ~1 min |
| simdpool and candle / burn / tract in one process, batch against batch | `cargo run --release --manifest-path benches/peers/Cargo.toml --example interleaved -- gap_large nchw candle 600` | seconds |

`simdpool bench` options: `--case NAME[,NAME..]`, `--suite FILE`, `--isa auto|all|scalar|avx2|avx512|neon`,
`--threads N[,N..]` (1 = the calling thread, the default), `--layout nchw|nhwc|both`, `--time-scale F`,
`--json`, `--list`. It prints, per case and layout and level: the median time per call, the spread
(interquartile range / median, shown as ±half), GB/s (input + output bytes / median), the memory
roofline time and the fraction of it achieved, and the speed-up over the scalar reference
(`simdpool::reference`, measured once per case and layout and shared by every level and thread
count; on the big cases it is timed once after one warm-up call). Every measured plan's output is
checked against the reference (max exactly, averages within 1e-5 relative), and a mismatch makes
the command fail. `--json` prints one JSON array on stdout, one object per case x layout x isa x
threads with the keys `case`, `layout`, `isa`, `threads`, `median_us`, `gbps`, `roofline_us`,
`scalar_us` (and `spread_pct`, `roofline_fraction`, `speedup`, `verified`, `dtype`, byte counts);
progress (`[3/28] resnet_stem_max nhwc avx512`) and the machine description go to stderr.

Timing: a warm-up (at least one call, 40 ms), then timed batches of several calls (at least 4 ms
each) for about 0.16 s; the median and quartiles are over the batches. `--time-scale 5` gives
steadier numbers on a busy machine.

**Roofline.** `roofline = input bytes / read bandwidth + output bytes / write bandwidth`, where
both bandwidths are measured on this machine at the case's footprint (input + output bytes), with
the widest vector loads and stores the CPU has (pulp's runtime dispatch: 16 f32 lanes with
AVX-512), 8 independent accumulators for reads, plain (not streaming) stores for writes. A case
whose footprint fits in a cache is compared with that cache's bandwidth, which is where a repeated
benchmark finds its data. `cargo bench --bench pooling` measures the same bandwidths as the
criterion group `roofline/read/CASE` and `roofline/write/CASE` and prints a roofline summary after
the run.

**Criterion** (`cargo bench --bench pooling`): ids are `CASE/LAYOUT/LEVEL` (levels: every level
this CPU has, each forced with `PlanOptions::isa(level).calling_thread()`, plus `reference`), with
`Throughput::Bytes(input + output)`; 10 flat samples, 0.1 s warm-up, 0.5 s measurement, 5000
bootstrap resamples; the HTML
report with plots is `target/criterion/report/index.html`. The scalar reference is not
criterion-benched on inputs above 2^24 elements (`batch_stem_max`: 11 calls would take minutes;
the run says so, `simdpool bench` times it once, `SIMDPOOL_BENCH_FULL_REFERENCE=1` includes it). `-- --test` runs each bench once and
checks every level against the reference (the CI smoke test).

**Instruction counts** (`cargo bench --bench instructions`): iai-callgrind 0.16.1 counts the
instructions of `Plan::run` on the dispatched path and of the scalar reference for every case and
layout, on scaled-down inputs (batch 1, at most 32 channels, spatial dims at most 512 / 24 / 8 for
rank 1 / 2 / 3). Install the runner once with
`cargo install iai-callgrind-runner --version 0.16.1 --locked`; valgrind must be installed.
**Valgrind does not support AVX-512**, so on an AVX-512 machine the dispatched plan is forced to
AVX2 and these counts measure the AVX2 path (NEON and portable machines count what they dispatch
to). Instruction counts do not depend on machine load, which makes them the deterministic
regression guard on a noisy machine; wall-clock numbers come from criterion and `simdpool bench`.

**Peers** (`benches/peers/`, crate `simdpool-peers`, its own workspace, excluded from the root
workspace, never built by CI): candle-core 0.11, burn-ndarray 0.22 (its `simd` feature on, no
rayon) and tract-core 0.23 run the suite cases next to simdpool (at the detected level) in one
criterion run, all on one thread. Before timing, each library's output is checked against
`simdpool::reference`; a case a library cannot express, or gets wrong, is listed as such in the
table, not timed.

**ONNX Runtime and LiteRT** (`benches/peers/py_peers.py`, wheels from PyPI in a virtual
environment: `python3 -m venv target/peers-venv && target/peers-venv/bin/pip install onnxruntime
onnx ai-edge-litert numpy`): the issues name them as the best peers of most channels-first
windowed cases (ONNX Runtime) and of most channels-last and global cases (LiteRT's XNNPACK
delegate). Each round times every peer on a case (median of single calls, one thread) and then
runs `simdpool bench --json` on the same case and layout, so each ratio compares two figures
taken seconds apart; three rounds. Each peer's output is first checked against `simdpool pool` /
`simdpool global` on the same input.

**Same-process A/B** (for ratios within a few percent, such as the memory-bound global pools):
`py_peers.py --interleave` loads simdpool as a C library (`benches/peers/ffi`, a plan of the suite
case at the detected level, on the calling thread) into the Python process that runs LiteRT, and
alternates a batch of simdpool calls (timed in Rust, one `ctypes` call) with a batch of
`Interpreter.invoke()` calls (timed around a Python loop), about 2 ms each, 300 rounds; the table
gives the median of the per-round ratios with quartiles, and the same with LiteRT's per-invoke
floor (the time of a 16-element MEAN model) taken off the peer. Both read the same values;
simdpool's input starts on a 64-byte boundary like LiteRT's arena (`--offset 16` puts it where
glibc puts large allocations: the channels-first global pools lose 8-11% there on this machine,
see docs/notes-global.md). `examples/interleaved.rs` does the same for candle, burn and tract in
one Rust process, with both inputs from the same allocator.

TEXT
echo "## Results on this machine"
echo
echo "Generated by \`scripts/bench-notes.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (\`simdpool bench --isa all\` took ${bench_secs} s wall clock)."
echo "The machine is a shared 2-core VM: other jobs were running, so absolute times are noisy;"
echo "compare ratios within one run."
echo
echo '```'
lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|L1d cache|L2 cache|L3 cache|Hypervisor vendor)' || true
echo '```'
echo
echo "### \`simdpool bench --isa all\`"
echo
echo '```'
cat "$tmp/bench.txt"
echo '```'
if [[ $peers == 1 ]]; then
    echo
    echo "### Peers (\`cargo bench --manifest-path benches/peers/Cargo.toml\`)"
    echo
    echo "Run finished $(date -u -r "$tmp/peers.txt" '+%Y-%m-%d %H:%M UTC'), separately from the table above (machine load differs"
    echo "between the two runs: compare ratios within one table)."
    echo
    sed -n '/^Peers (/,$p' "$tmp/peers.txt"
    echo
    echo "Cases a library cannot express, as the run reported them:"
    echo
    echo '```'
    grep -E 'cannot express|WRONG' "$tmp/peers.txt" || echo "(none)"
    echo '```'
fi
if [[ $py_peers == 1 ]]; then
    echo
    echo "### ONNX Runtime and LiteRT (\`benches/peers/py_peers.py\`)"
    echo
    echo "Run finished $(date -u -r "$tmp/py-peers.txt" '+%Y-%m-%d %H:%M UTC'); each ratio is peer time / simdpool time"
    echo "measured in the same round (> 1: simdpool is faster)."
    echo
    sed -n '/^|/,$p' "$tmp/py-peers.txt"
fi
if [[ $interleave == 1 ]]; then
    echo
    echo "### LiteRT in the same process (\`benches/peers/py_peers.py --interleave --peer litert\`)"
    echo
    echo "Run finished $(date -u -r "$tmp/interleave.txt" '+%Y-%m-%d %H:%M UTC'); ratio = peer time / simdpool time per round (> 1: simdpool is faster)."
    echo
    sed -n '/^|/,$p' "$tmp/interleave.txt"
fi
} >"$out"
echo "wrote $out"
