#!/usr/bin/env python3
"""PyTorch's pooling backward kernels next to simdpool's backward pass on the suite, interleaved.

PyTorch defines the gradients simdpool computes (`--pass backward`), and its CPU kernels are the
peer a training framework would use. The wheel runs on the CPU, so it can be measured here in the
same minutes as simdpool: on a shared machine only ratios measured together mean anything.

    python3 -m venv target/torch-venv
    target/torch-venv/bin/pip install torch numpy
    cargo build --release -p simdpool-cli
    target/torch-venv/bin/python benches/peers/py_torch_backward.py [--rounds 3] [--budget 0.3] [--case a,b] [--layout nchw|nhwc|both]

Cases: every f32 case of benches/suite.json (u8, i8 and f64 cases are listed as skipped), in
both layouts: nchw as torch.contiguous_format, nhwc as torch.channels_last (2-D) or
torch.channels_last_3d (3-D); 1-D cases run as 2-D with a unit height, which makes simdpool's
(N, L, C) channels-last array exactly the memory of a channels_last (N, C, 1, L) tensor.

What is timed, per case and layout, with torch.set_num_threads(1): PyTorch's backward kernel
alone, called through `torch.ops.aten` (no autograd graph, no Python module):
`max_pool{2,3}d_with_indices_backward` on the indices of PyTorch's own forward
(`max_pool{2,3}d_with_indices`), as simdpool's bench runs max ops from the forward indices;
`avg_pool{2,3}d_backward` (count_include_pad, ceil mode as the case says, no divisor override);
`_adaptive_avg_pool{2,3}d_backward` and `adaptive_max_pool{2,3}d_backward` (on the forward
indices); global ops as the adaptive ones with an output of 1. Each call allocates and fills its
gradient input, as PyTorch's kernels always do. Lp has no backward kernel in PyTorch (its LPPool
is a composite of pow, avg_pool, sign, relu and mul), so an Lp case times the autograd backward
of that composite on a retained graph, and needs no padding and no dilation, which PyTorch's
LPPool lacks. Average pooling with dilation has no PyTorch equivalent and is listed as such.
The figure is the median time of single calls over `--budget` seconds, after a warm-up.

Before timing, once per case and layout, PyTorch's gradient input is checked against
`simdpool pool|global|adaptive --grad-output GO.npy --grad-input GI.npy` on the same input and
gradient output. The inputs have no ties within a plane (a per-plane permutation of integers,
scaled by a power of two; positive for Lp), so max ops route every gradient to the same element:
the elements receiving a gradient must be the same, and the values equal within 1e-5 relative
(1e-6 absolute; overlapping windows may add shared argmaxes in another order). A disagreement is
reported and that case and layout is not timed.

Per round (`--rounds`, default 3), case and layout: PyTorch's median, and
`simdpool bench --pass backward --json` on the same case and layout (its median, and the
backward roofline: gradient output, indices for max, forward input and output for Lp, read;
gradient input written), the order of the two alternating from round to round. The table gives
each one's median time over the rounds, every round's ratio torch / simdpool (> 1: simdpool is
faster), the median ratio, and each one's fraction of simdpool's roofline. Where PyTorch returns
its gradient input in another memory format than its input's (some channels_last_3d kernels), a
note says so. `--suite FILE` reads another suite (also passed to simdpool bench). Nothing here is
run by CI; nothing of PyTorch is vendored.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from py_peers import median_call  # the same timing method as the inference peers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITE = os.path.join(ROOT, "benches", "suite.json")
CLI = os.path.join(ROOT, "target", "release", "simdpool")
LAYOUTS = ("nchw", "nhwc")
BACKWARD_OPS = ("max", "avg", "lp", "gavg", "gmax", "adaptive_avg", "adaptive_max")


def logical_to_layout(dims, layout):
    """The array shape of logical N,C,spatial dims in `layout`."""
    return list(dims) if layout == "nchw" else [dims[0], *dims[2:], dims[1]]


def applies_to(case, layout):
    """Whether the suite runs `case` in `layout` (its optional "layouts" list)."""
    names = {"nchw": ("nchw", "ncl", "ncdhw", "channels-first", "channels_first"),
             "nhwc": ("nhwc", "nlc", "ndhwc", "channels-last", "channels_last")}
    listed = case.get("layouts")
    return listed is None or any(l.strip().lower() in names[layout] for l in listed)


class Params:
    """A suite case's op parameters, with bench/src/suite.rs's defaults."""

    def __init__(self, case):
        rank = len(case["dims"]) - 2
        self.op = case["op"]
        self.rank = rank
        self.k = list(case.get("k") or [])
        self.s = list(case.get("s") or self.k)
        self.p = list(case.get("p") or [0] * rank)
        self.d = list(case.get("d") or [1] * rank)
        self.ceil = bool(case.get("ceil_mode", False))
        self.cip = bool(case.get("count_include_pad", True))
        self.norm = float(case.get("norm", 2.0))
        if self.op in ("gavg", "gmax"):
            self.out = [1] * rank
        else:
            self.out = list(case.get("out") or [])


# ---- inputs -------------------------------------------------------------------------------------

def tie_free_input(rng, dims, layout, positive):
    """f32 values distinct within every (n, c) plane: a per-plane permutation of integers, scaled
    by a power of two (exact), in [-0.5, 0.5) or, with `positive`, in (0, 1]."""
    n, c, spatial = dims[0], dims[1], int(np.prod(dims[2:]))
    if spatial > 1 << 24:
        raise ValueError("a plane of more than 2^24 elements cannot be tie-free in f32")
    planes = rng.permuted(np.tile(np.arange(spatial, dtype=np.int32), (n * c, 1)), axis=1).astype(np.float32)
    scale = np.float32(2.0 ** -int(np.ceil(np.log2(max(spatial, 2)))))
    planes = (planes + 1) * scale if positive else (planes - np.float32(spatial // 2)) * scale
    x = planes.reshape(dims)
    if layout == "nhwc":
        x = np.moveaxis(x, 1, -1)
    return np.ascontiguousarray(x)


# ---- PyTorch --------------------------------------------------------------------------------------

def torch_view(torch, a, layout, rank):
    """The logical N,C,spatial tensor over numpy array `a` (in `layout`), 1-D as 2-D with a unit
    height, in the memory format of `layout` (no copy)."""
    t = torch.from_numpy(a)
    if layout == "nhwc":
        t = t.permute(0, t.dim() - 1, *range(1, t.dim() - 1))
    if rank == 1:
        t = t.unsqueeze(2)
    fmt = memory_format(torch, layout, t.dim())
    assert t.is_contiguous(memory_format=fmt)
    return t


def memory_format(torch, layout, dim):
    if layout == "nchw":
        return torch.contiguous_format
    return torch.channels_last if dim == 4 else torch.channels_last_3d


def torch_to_layout(t, layout, rank):
    """A numpy array in `layout` of the logical tensor `t` (undoes torch_view)."""
    if rank == 1:
        t = t.squeeze(2)
    if layout == "nhwc":
        t = t.permute(0, *range(2, t.dim()), 1)
    return np.ascontiguousarray(t.detach().numpy())


def torch_backward(torch, prm, x):
    """(forward output, backward call taking the gradient output), or (None, why not), for
    PyTorch on the logical tensor `x` (2-D or 3-D)."""
    aten = torch.ops.aten
    r3 = x.dim() == 5
    one = prm.rank == 1
    widen = (lambda v, pad: [pad, *v]) if one else (lambda v, pad: list(v))
    k, s, p, d = widen(prm.k, 1), widen(prm.s, 1), widen(prm.p, 0), widen(prm.d, 1)
    out = widen(prm.out, 1)
    if prm.op == "max":
        fwd = aten.max_pool3d_with_indices if r3 else aten.max_pool2d_with_indices
        bwd = aten.max_pool3d_with_indices_backward if r3 else aten.max_pool2d_with_indices_backward
        y, idx = fwd(x, k, s, p, d, prm.ceil)
        return y, lambda go: bwd(go, x, k, s, p, d, prm.ceil, idx)
    if prm.op == "avg":
        if any(v != 1 for v in d):
            return None, "PyTorch's average pooling has no dilation"
        fwd = aten.avg_pool3d if r3 else aten.avg_pool2d
        bwd = aten.avg_pool3d_backward if r3 else aten.avg_pool2d_backward
        y = fwd(x, k, s, p, prm.ceil, prm.cip, None)
        return y, lambda go: bwd(go, x, k, s, p, prm.ceil, prm.cip, None)
    if prm.op in ("adaptive_avg", "gavg"):
        fwd = aten._adaptive_avg_pool3d if r3 else aten._adaptive_avg_pool2d
        bwd = aten._adaptive_avg_pool3d_backward if r3 else aten._adaptive_avg_pool2d_backward
        y = fwd(x, out)
        return y, lambda go: bwd(go, x)
    if prm.op in ("adaptive_max", "gmax"):
        fwd = aten.adaptive_max_pool3d if r3 else aten.adaptive_max_pool2d
        bwd = aten.adaptive_max_pool3d_backward if r3 else aten.adaptive_max_pool2d_backward
        y, idx = fwd(x, out)
        return y, lambda go: bwd(go, x, idx)
    if prm.op == "lp":
        if any(p) or any(v != 1 for v in d):
            return None, "PyTorch's LPPool has no padding and no dilation"
        # torch.nn.functional.lp_pool{1,2,3}d: (sum over the window of x^p)^(1/p), as the
        # average (count_include_pad) times the window size; x > 0 here.
        avg = torch.nn.functional.avg_pool3d if r3 else torch.nn.functional.avg_pool2d
        xg = x.detach().requires_grad_(True)
        t = avg(xg.pow(prm.norm), k, s, 0, prm.ceil)
        y = (torch.sign(t) * torch.relu(torch.abs(t))).mul(float(np.prod(k))).pow(1.0 / prm.norm)
        return y.detach(), lambda go: torch.autograd.grad(y, xg, go, retain_graph=True)[0]
    return None, f"no backward for op {prm.op!r}"


# ---- simdpool -------------------------------------------------------------------------------------

def simdpool_grad(case, prm, layout, x, go, isa):
    """simdpool's gradient input for gradient output `go` on input `x`, through the CLI, or
    (None, the error)."""
    join = lambda v: ",".join(str(i) for i in v)
    if prm.op in ("gavg", "gmax"):
        cmd = [CLI, "global", "--op", "max" if prm.op == "gmax" else "avg"]
    elif prm.op in ("adaptive_avg", "adaptive_max"):
        cmd = [CLI, "adaptive", "--op", prm.op.split("_")[1], "--output-size", join(prm.out)]
    else:
        cmd = [CLI, "pool", "--op", prm.op, "--kernel", join(prm.k), "--stride", join(prm.s),
               "--padding", join(prm.p), "--dilation", join(prm.d)]
        if prm.ceil:
            cmd.append("--ceil-mode")
        if prm.op == "avg":
            cmd += ["--count-include-pad", "true" if prm.cip else "false"]
        if prm.op == "lp":
            cmd += ["--p", repr(prm.norm)]
    with tempfile.TemporaryDirectory() as tmp:
        f = lambda name: os.path.join(tmp, name)
        np.save(f("x.npy"), x)
        np.save(f("go.npy"), go)
        cmd += ["--layout", layout, "--isa", isa, "--threads", "1", "-q",
                "--grad-output", f("go.npy"), "--grad-input", f("gi.npy"), f("x.npy"), f("y.npy")]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            return None, f"simdpool {cmd[1]} failed: {run.stderr.strip()}"
        return np.load(f("gi.npy")), None


def agrees(prm, got, want):
    """None if simdpool's gradient `got` matches PyTorch's `want`, else what differs."""
    if got.shape != want.shape:
        return f"gradient shape {got.shape}, PyTorch has {want.shape}"
    if np.array_equal(got, want):
        return None
    if prm.op in ("max", "gmax", "adaptive_max") and not np.array_equal(got != 0, want != 0):
        return f"{int(np.sum((got != 0) != (want != 0)))} elements receive a gradient in one only"
    if np.allclose(got, want, rtol=1e-5, atol=1e-6):
        return None
    return f"max abs diff {np.max(np.abs(got - want)):.3g}"


def simdpool_backward(name, layout, args):
    """simdpool bench's backward row for `name` in `layout`."""
    cmd = [CLI, "bench", "--pass", "backward", "--json", "--case", name, "--layout", layout,
           "--isa", args.isa, "--threads", "1", "--time-scale", str(args.time_scale)]
    if os.path.abspath(args.suite) != SUITE:
        cmd += ["--suite", args.suite]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [r for r in json.loads(out) if r.get("pass") == "backward" and r.get("layout") == layout]
    if not rows:
        raise RuntimeError(f"simdpool bench gave no backward row for {name} {layout}")
    return rows[0]


# ---- timing -----------------------------------------------------------------------------------------



def fmt(t):
    return f"{t * 1e3:.2f} ms" if t >= 1e-3 else f"{t * 1e6:.1f} us"


def main():
    ap = argparse.ArgumentParser(description="PyTorch's pooling backward kernels next to simdpool's backward pass")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--case", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--suite", default=SUITE, help="another suite file (passed on to simdpool bench)")
    ap.add_argument("--layout", default="both", choices=["nchw", "nhwc", "both"])
    ap.add_argument("--budget", type=float, default=0.3, help="seconds of PyTorch calls per case, layout and round")
    ap.add_argument("--isa", default="auto", help="simdpool's ISA level (auto: the detected one)")
    ap.add_argument("--time-scale", type=float, default=1.0, help="simdpool bench's --time-scale")
    args = ap.parse_args()
    if not os.path.exists(CLI):
        sys.exit(f"{CLI} is missing: cargo build --release -p simdpool-cli")
    import torch
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.set_grad_enabled(False)

    suite = json.load(open(args.suite))["cases"]
    wanted = [n for n in args.case.split(",") if n]
    unknown = [n for n in wanted if n not in {c["name"] for c in suite}]
    if unknown:
        sys.exit(f"unknown case(s) {', '.join(unknown)}; the suite has: {', '.join(c['name'] for c in suite)}")
    cases = [c for c in suite if not wanted or c["name"] in wanted]
    layouts = LAYOUTS if args.layout == "both" else (args.layout,)
    rng = np.random.default_rng(7)
    prepared = []  # (case name, layout, backward call, gradient output tensor)
    skipped = []
    for case in cases:
        name, dtype = case["name"], case.get("dtype", "f32")
        if dtype != "f32":
            skipped.append(f"{name}: {dtype} case (f32 only)")
            continue
        if case["op"] not in BACKWARD_OPS:
            skipped.append(f"{name}: op {case['op']} has no backward pass")
            continue
        prm = Params(case)
        for layout in layouts:
            if not applies_to(case, layout):
                skipped.append(f"{name}/{layout}: the suite does not run this layout")
                continue
            print(f"[check] {name} {layout}", file=sys.stderr)
            x = tie_free_input(rng, case["dims"], layout, positive=prm.op == "lp")
            tx = torch_view(torch, x, layout, prm.rank)
            with torch.enable_grad():
                y, call = torch_backward(torch, prm, tx)
            if y is None:
                skipped.append(f"{name}/{layout}: PyTorch cannot express it: {call}")
                continue
            out_shape = logical_to_layout([*case["dims"][:2], *(y.shape[3:] if prm.rank == 1 else y.shape[2:])], layout)
            go = rng.standard_normal(out_shape, dtype=np.float32)
            tgo = torch_view(torch, go, layout, prm.rank)
            with torch.enable_grad():
                gi = call(tgo)
            fmt_ok = gi.is_contiguous(memory_format=memory_format(torch, layout, gi.dim()))
            want, err = simdpool_grad(case, prm, layout, x, go, args.isa)
            if want is None:
                skipped.append(f"{name}/{layout}: {err}, not timed")
                continue
            problem = agrees(prm, torch_to_layout(gi, layout, prm.rank), want)
            if problem:
                skipped.append(f"{name}/{layout}: PyTorch's gradient disagrees with simdpool ({problem}), not timed")
                continue
            if not fmt_ok:
                skipped.append(f"{name}/{layout}: note: PyTorch returns its gradient input in another memory format")
            if prm.op == "lp":
                def run(call=call, tgo=tgo):
                    with torch.enable_grad():
                        return call(tgo)
            else:
                def run(call=call, tgo=tgo):
                    return call(tgo)
            prepared.append((name, layout, run))

    ratios, t_torch, t_sp, rows = {}, {}, {}, {}
    for r in range(args.rounds):
        for name, layout, run in prepared:
            print(f"[round {r + 1}/{args.rounds}] {name} {layout}", file=sys.stderr)
            if r % 2 == 0:
                a = median_call(run, args.budget)
                row = simdpool_backward(name, layout, args)
            else:
                row = simdpool_backward(name, layout, args)
                a = median_call(run, args.budget)
            b = row["median_us"] * 1e-6
            key = (name, layout)
            ratios.setdefault(key, []).append(a / b)
            t_torch.setdefault(key, []).append(a)
            t_sp.setdefault(key, []).append(b)
            rows[key] = row
    isa = next(iter(rows.values()))["isa"] if rows else args.isa
    print(f"\nPyTorch {torch.__version__} backward kernels (torch.ops.aten), 1 thread, vs simdpool backward "
          f"({isa}, 1 thread); {args.rounds} interleaved rounds, --budget {args.budget} s, "
          f"finished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| case | layout | torch | simdpool | torch / simdpool per round | median | roofline | torch of roof "
          "| simdpool of roof |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|")
    for key, rs in ratios.items():
        name, layout = key
        a, b = statistics.median(t_torch[key]), statistics.median(t_sp[key])
        roof = rows[key]["roofline_us"] * 1e-6
        per = ", ".join(f"{v:.2f}" for v in rs)
        print(f"| {name} | {layout} | {fmt(a)} | {fmt(b)} | {per} | {statistics.median(rs):.2f}x | {fmt(roof)} "
              f"| {100 * roof / a:.1f}% | {100 * roof / b:.1f}% |")
    bad = [k for k, row in rows.items() if not row.get("verified", True)]
    if skipped or bad:
        print()
        for name, layout in bad:
            print(f"- {name}/{layout}: simdpool bench's own check failed: {rows[(name, layout)].get('mismatch')}")
        for line in skipped:
            print(f"- {line}")


if __name__ == "__main__":
    main()
