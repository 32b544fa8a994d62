#!/usr/bin/env python3
"""Writes seed inputs for the `plan` fuzz target (fuzz/fuzz_targets/plan.rs) into
fuzz/corpus/plan/: one well-formed request per element type x op, over ranks 1 to 3, both
layouts, strides, dilations, every padding form, ceil mode, divisor overrides and the usual `p`.

    python3 scripts/plan_corpus.py          # no dependencies

plan.rs reads its bytes through `arbitrary::Unstructured`; the encoder below mirrors it call by
call (arbitrary 1.x: `int_in_range` and `choose` over fewer than 256 values take one byte, `n %
count`; a bool is the low bit of a byte; a u16 or u64 is little-endian). Each request is followed
by its input values (a u16 each), so a seed runs the plan at every ISA level and compares it with
the reference instead of stopping at the first missing byte. Without seeds the fuzzer spends its
first minutes learning this layout. Keep the encoder in step with plan.rs when that changes.
"""

import os
import random
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fuzz", "corpus", "plan")

DTYPES = {"u8": 0, "bf16": 1, "f64": 2, "f16": 3, "i8": 4, "f32": 5}
RANK_BYTE = {1: [3], 2: [1], 3: [2]}  # 1 + (n % 3) == rank
HUGE = [1 << 40, 1 << 62, 2**64 - 1, 2**63]
AUTO_PAD = ["same_upper", "same_lower", "valid"]
P_LIST = [1.0, 2.0, 3.0, 1.5, 2.5, 4.0]


def param(v, max_):
    """`param(u, max)`: 0, one of the huge values, or 1..=max."""
    if v == 0:
        return [0]
    if v in HUGE:
        return [1, HUGE.index(v)]
    assert 1 <= v <= max_, (v, max_)
    return [2, v - 1]


def plist(values, rank, max_):
    """`list(u, rank, max)`: usually `rank` entries, sometimes one more or one fewer."""
    sel = {rank: 2, rank + 1: 0, rank - 1: 1}[len(values)]
    out = [sel]
    for v in values:
        out += param(v, max_)
    return out


def window(rank, kernel, stride=None, dilation=None, pad=None, ceil=False):
    """`window(u, rank)`. pad: None, ("sym", p), ("pads", begin, end), ("onnx", all), ("auto", name)."""
    b = plist(kernel, rank, 5)
    b += [1] + plist(stride, rank, 4) if stride is not None else [0]
    b += [1] + plist(dilation, rank, 3) if dilation is not None else [0]
    if pad is None:
        b += [0]
    elif pad[0] == "sym":
        b += [1] + plist(pad[1], rank, 3)
    elif pad[0] == "pads":
        b += [2] + plist(pad[1], rank, 4) + plist(pad[2], rank, 4)
    elif pad[0] == "onnx":
        b += [3] + plist(pad[1], 2 * rank, 4)
    else:
        b += [4, AUTO_PAD.index(pad[1])]
    return b + [1 if ceil else 0]


def op(kind, rank, w=None, divisor=None, include_pad=True, p=2.0, out=None):
    """`op(u, rank)`: the op byte, then what that op reads."""
    if kind == "max":
        return [0] + w
    if kind == "avg":
        if divisor is None:
            d = [2]
        elif -9 <= divisor <= 9:
            d = [0, divisor + 9]
        else:
            d = [1, [-(2**63), 2**63 - 1, 0].index(divisor)]
        return [1] + d + w + [1 if include_pad else 0]
    if kind == "lp":
        if p in P_LIST:
            pb = [2 + P_LIST.index(p)]
        else:
            pb = [0] + list(struct.pack("<d", p))
        return [2] + pb + w
    if kind == "gmax":
        return [3]
    if kind == "gavg":
        return [4]
    if kind == "amax":
        return [5] + plist(out, rank, 13)
    return [6] + plist(out, rank, 13)


def request(rng, dtype, layout_last, batch, channels, spatial, op_bytes, threading_auto=False):
    rank = len(spatial)
    b = [DTYPES[dtype]] + RANK_BYTE[rank] + [1 if layout_last else 0]
    b += param(batch, 3) + param(channels, 9)
    for s in spatial:
        b += param(s, 12)
    b += op_bytes + [1 if threading_auto else 0]
    n = batch * channels
    for s in spatial:
        n *= s
    # Values: plan.rs maps r % 41 to NaN, +-inf, -0.0 or a small multiple of 1/8 (floats), and
    # r % 256 (integers); draw mostly ordinary values with a few specials.
    for _ in range(n):
        r = rng.randrange(65536)
        b += list(struct.pack("<H", r))
    return bytes(b)


def seeds():
    rng = random.Random(20240601)
    out = {}
    for i, dtype in enumerate(DTYPES):
        # Alternate layouts and channel counts (9 leaves a vector tail in channels-last).
        for j, (rank, spatial) in enumerate([(1, [11]), (2, [7, 6]), (3, [3, 4, 5])]):
            last = (i + j) % 2 == 1
            ch = [3, 9, 2][(i + j) % 3]
            k = [3, 2, 2][:rank]
            windows = {
                "plain": window(rank, k),
                "strided": window(rank, k, stride=[2, 1, 2][:rank], pad=("sym", [1] * rank)),
                "dilated": window(rank, k, dilation=[2] * rank, pad=("pads", [0] * rank, [1] * rank), ceil=True),
                "onnx": window(rank, k, stride=[2] * rank, pad=("onnx", [1] * rank + [0] * rank), ceil=True),
                "same": window(rank, k, stride=[2] * rank, pad=("auto", "same_upper")),
            }
            ops = {
                "max_plain": op("max", rank, windows["plain"]),
                "max_strided": op("max", rank, windows["strided"]),
                "max_dilated": op("max", rank, windows["dilated"]),
                "avg_onnx": op("avg", rank, windows["onnx"], include_pad=False),
                "avg_same_div": op("avg", rank, windows["same"], divisor=3),
                "avg_strided": op("avg", rank, windows["strided"], include_pad=True),
                "lp2_plain": op("lp", rank, windows["plain"], p=2.0),
                "lp3_dilated": op("lp", rank, windows["dilated"], p=3.0),
                "gmax": op("gmax", rank),
                "gavg": op("gavg", rank),
                "amax": op("amax", rank, out=[3, 2, 2][:rank]),
                "aavg": op("aavg", rank, out=[4, 3, 2][:rank]),
            }
            for name, ob in ops.items():
                fname = f"{dtype}_r{rank}_{'nhwc' if last else 'nchw'}_{name}"
                out[fname] = request(rng, dtype, last, 2, ch, spatial, ob, threading_auto=(name == "gavg"))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(OUT, name), "wb") as fp:
            fp.write(data)
    print(f"wrote {len(seeds())} seeds to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
