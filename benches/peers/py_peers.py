#!/usr/bin/env python3
"""ONNX Runtime and LiteRT (XNNPACK) next to simdpool on the suite, interleaved in one run.

The issues' tables name ONNX Runtime as the best peer of most channels-first windowed cases and
LiteRT's XNNPACK delegate as the best of most channels-last ones and of the global reductions.
Both ship as wheels, so they can be measured here in the same minutes as simdpool: on a shared
machine only ratios measured together mean anything.

    python3 -m venv target/peers-venv
    target/peers-venv/bin/pip install onnxruntime onnx ai-edge-litert numpy
    cargo build --release -p simdpool-cli
    target/peers-venv/bin/python benches/peers/py_peers.py [--rounds 3] [--case a,b] [--peer ort,litert,litert-builtin]

Per round, case and layout: each peer's median time per call (one thread), then
`simdpool bench --json` for the same case and layout. ONNX Runtime: one intra-op thread,
sequential execution, all graph optimisations, the call includes its output allocation (as an
inference engine's would). LiteRT: `Interpreter(num_threads=1)` with its default delegate
(XNNPACK for f32; `litert-builtin`: its own kernels, without the default delegates), `invoke()`
timed with the input already set. Before timing, each peer's output
is checked against `simdpool pool` / `simdpool global` on the same input (max exactly, averages
within 1e-5 relative); a disagreement is reported and the peer is not timed. The table gives
every round's ratio peer / simdpool (> 1: simdpool is faster) and the median over the rounds.

What a peer cannot express is listed as such: ONNX takes channels-first tensors only and has no
adaptive pooling; TFLite pools channels-last 2-D maps with SAME or VALID padding only (so no
3-D, no pad-1 stride-2 windows, no u8 without quantisation parameters), and reduces with MEAN
and REDUCE_MAX. Nothing here is run by CI; nothing of either library is vendored.
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITE = os.path.join(ROOT, "benches", "suite.json")
CLI = os.path.join(ROOT, "target", "release", "simdpool")
FFI = os.path.join(ROOT, "benches", "peers", "target", "release", "libsimdpool_peers_ffi.so")
LAYOUTS = ("nchw", "nhwc")


def logical_to_layout(dims, layout):
    """The array shape of logical N,C,spatial dims in `layout`."""
    return dims if layout == "nchw" else [dims[0], *dims[2:], dims[1]]


# ---- ONNX Runtime ---------------------------------------------------------------------------

def ort_model(case, layout):
    """A one-node ONNX model for `case`, or (None, why not)."""
    import onnx
    from onnx import TensorProto, helper
    if layout != "nchw":
        return None, "ONNX operators take channels-first tensors"
    op = case["op"]
    dtype = TensorProto.UINT8 if case.get("dtype") == "u8" else TensorProto.FLOAT
    attrs = {}
    if op in ("max", "avg"):
        attrs = {"kernel_shape": case["k"], "strides": case["s"], "pads": list(case["p"]) * 2}
        if op == "avg":
            attrs["count_include_pad"] = 1 if case.get("count_include_pad", True) else 0
        node_op = "MaxPool" if op == "max" else "AveragePool"
    elif op in ("gavg", "gmax"):
        node_op = "GlobalAveragePool" if op == "gavg" else "GlobalMaxPool"
    else:
        return None, f"ONNX has no {op} operator"
    x = helper.make_tensor_value_info("x", dtype, case["dims"])
    y = helper.make_tensor_value_info("y", dtype, None)
    graph = helper.make_graph([helper.make_node(node_op, ["x"], ["y"], **attrs)], case["name"], [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    return model, None


def ort_runner(case, layout, x):
    import onnxruntime as ort
    model, why = ort_model(case, layout)
    if model is None:
        return None, why
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feed = {"x": x}

    def run():
        return sess.run(None, feed)[0]

    run.call = run
    return run, None


# ---- LiteRT (XNNPACK) -----------------------------------------------------------------------

def litert_padding(case):
    """TFLite's padding mode that gives PyTorch's windows for `case`, or None."""
    k, s, p = case["k"], case["s"], case["p"]
    if all(pi == 0 for pi in p):
        return 1  # VALID: floor((L - k) / s) + 1 windows from the first element
    if all(si == 1 and ki % 2 == 1 and pi == ki // 2 for ki, si, pi in zip(k, s, p)):
        return 0  # SAME at stride 1: (k - 1) / 2 on each side
    return None


def litert_model(case, layout):
    """A one-operator TFLite flatbuffer for `case`, or (None, why not)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as fb
    if case.get("dtype", "f32") != "f32":
        return None, "TFLite pools u8 only with quantisation parameters"
    op, dims = case["op"], case["dims"]
    rank = len(dims) - 2
    shape = logical_to_layout(dims, layout)
    consts = []
    if op in ("max", "avg"):
        if layout != "nhwc":
            return None, "TFLite pools channels-last tensors"
        if rank == 3:
            return None, "TFLite has no builtin 3-D pooling"
        if op == "avg" and case.get("count_include_pad", True) and any(case["p"]):
            return None, "TFLite's average excludes padding"
        pad = litert_padding(case)
        if pad is None:
            return None, "the window is neither SAME nor VALID padding"
        k, s = ([1, *case["k"]], [1, *case["s"]]) if rank == 1 else (case["k"], case["s"])
        shape = [shape[0], 1, *shape[1:]] if rank == 1 else shape
        spatial = shape[1:3]
        out_sp = [(li + si - 1) // si if pad == 0 else (li - ki) // si + 1 for li, ki, si in zip(spatial, k, s)]
        out_shape = [shape[0], *out_sp, shape[3]]
        code = fb.BuiltinOperator.MAX_POOL_2D if op == "max" else fb.BuiltinOperator.AVERAGE_POOL_2D
        opts = fb.Pool2DOptionsT()
        opts.padding, opts.strideH, opts.strideW = pad, s[0], s[1]
        opts.filterHeight, opts.filterWidth = k[0], k[1]
        opts_type = fb.BuiltinOptions.Pool2DOptions
    elif op in ("gavg", "gmax"):
        axes = list(range(2, 2 + rank)) if layout == "nchw" else list(range(1, 1 + rank))
        consts.append(np.array(axes, dtype=np.int32))
        out_shape = [d for i, d in enumerate(shape) if i not in axes]
        code = fb.BuiltinOperator.MEAN if op == "gavg" else fb.BuiltinOperator.REDUCE_MAX
        opts = fb.ReducerOptionsT()
        opts.keepDims = False
        opts_type = fb.BuiltinOptions.ReducerOptions
    else:
        return None, f"TFLite has no {op} operator"

    def tensor(shape, ttype, buf, name):
        t = fb.TensorT()
        t.shape, t.type, t.buffer, t.name = list(shape), ttype, buf, name
        return t

    buffers = [fb.BufferT()]  # buffer 0: the empty sentinel
    tensors = [tensor(shape, fb.TensorType.FLOAT32, 0, "x"), tensor(out_shape, fb.TensorType.FLOAT32, 0, "y")]
    for c in consts:
        b = fb.BufferT()
        b.data = list(c.tobytes())
        buffers.append(b)
        tensors.append(tensor(c.shape, fb.TensorType.INT32, len(buffers) - 1, "axes"))
    opcode = fb.OperatorCodeT()
    opcode.builtinCode, opcode.deprecatedBuiltinCode, opcode.version = code, min(code, 127), 1
    oper = fb.OperatorT()
    oper.opcodeIndex, oper.inputs, oper.outputs = 0, [0, *range(2, len(tensors))], [1]
    oper.builtinOptionsType, oper.builtinOptions = opts_type, opts
    sub = fb.SubGraphT()
    sub.tensors, sub.inputs, sub.outputs, sub.operators = tensors, [0], [1], [oper]
    model = fb.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, [opcode], [sub], buffers
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output()), (shape, out_shape)


def litert_runner(case, layout, x, builtin=False):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    model, shapes = litert_model(case, layout)
    if model is None:
        return None, shapes
    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin else OpResolverType.AUTO
    it = Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    it.set_tensor(inp, np.ascontiguousarray(x.reshape(shapes[0])))

    def run():
        it.invoke()
        return it.get_tensor(out)

    run.call = it.invoke  # the timed part in --interleave: the input is set, the output left
    return run, None


PEERS = {
    "ort": ("ONNX Runtime", ort_runner),
    "litert": ("LiteRT XNNPACK", litert_runner),
    "litert-builtin": ("LiteRT builtin", lambda case, layout, x: litert_runner(case, layout, x, builtin=True)),
}


# ---- simdpool and timing --------------------------------------------------------------------

def simdpool_output(case, layout, x, isa):
    """simdpool's output for `case` on `x`, through the CLI."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        np.save(src, x)
        if case["op"] in ("gavg", "gmax"):
            cmd = [CLI, "global", "--op", "max" if case["op"] == "gmax" else "avg"]
        else:
            join = lambda v: ",".join(str(i) for i in v)
            cmd = [CLI, "pool", "--op", case["op"], "--kernel", join(case["k"]), "--stride", join(case["s"]),
                   "--padding", join(case["p"])]
            if case["op"] == "avg":
                cmd += ["--count-include-pad", "true" if case.get("count_include_pad", True) else "false"]
        cmd += ["--layout", layout, "--isa", isa, "--threads", "1", "-q", src, dst]
        subprocess.run(cmd, check=True)
        return np.load(dst)


def agrees(case, got, want):
    got = np.asarray(got)
    if got.size != want.size:
        return f"{got.size} outputs, simdpool has {want.size}"
    got = got.reshape(want.shape)
    if case["op"] in ("max", "gmax") or got.dtype == np.uint8:
        return None if np.array_equal(got, want) else "values differ"
    ok = np.allclose(got, want, rtol=1e-5, atol=1e-6)
    return None if ok else f"max abs diff {np.max(np.abs(got - want))}"


def median_call(run, budget):
    run()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 20000):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def simdpool_median(name, layout, isa):
    out = subprocess.run([CLI, "bench", "--json", "--layout", layout, "--case", name, "--isa", isa],
                         check=True, capture_output=True, text=True).stdout
    row = json.loads(out)[0]
    return row["median_us"] * 1e-6, row["isa"]


# ---- --interleave: simdpool in this process, batch by batch against the peer ------------------

def ffi():
    import ctypes
    if not os.path.exists(FFI):
        sys.exit(f"{FFI} is missing: cargo build --release --manifest-path benches/peers/ffi/Cargo.toml")
    lib = ctypes.CDLL(FFI)
    fp = ctypes.POINTER(ctypes.c_float)
    lib.sp_prepare.argtypes = [ctypes.c_char_p, ctypes.c_char_p, fp, ctypes.c_size_t]
    lib.sp_prepare.restype = ctypes.c_void_p
    lib.sp_run.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.sp_run.restype = ctypes.c_double
    lib.sp_output.argtypes = [ctypes.c_void_p, fp, ctypes.c_size_t]
    lib.sp_output.restype = ctypes.c_ssize_t
    lib.sp_free.argtypes = [ctypes.c_void_p]
    return lib, fp


def at_offset(x, offset):
    """A copy of `x` whose data starts `offset` bytes past a 64-byte boundary."""
    raw = np.empty(x.nbytes + 128, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    y = raw[start:start + x.nbytes].view(x.dtype).reshape(x.shape)
    y[...] = x
    return y


def loop_seconds(call, k):
    t = time.perf_counter()
    for _ in range(k):
        call()
    return time.perf_counter() - t


def call_overhead(layout):
    """LiteRT's per-invoke cost from Python on a 16-element MEAN: the floor under every peer call."""
    tiny = {"name": "tiny", "op": "gavg", "dims": [1, 16, 1, 1]}
    run, _ = litert_runner(tiny, layout, np.zeros(logical_to_layout(tiny["dims"], layout), np.float32))
    loop_seconds(run.call, 1000)
    return statistics.median(loop_seconds(run.call, 1000) / 1000 for _ in range(9))


def interleave(args, prepared, inputs):
    """Rounds of one simdpool batch (timed in Rust, one ctypes call) and one peer batch (timed
    around a Python loop of `invoke`), alternating which goes first; prints per case the median
    ratio with quartiles, raw and with LiteRT's per-invoke floor taken off the peer."""
    import ctypes
    lib, fp = ffi()
    cases = {c["name"]: c for c in json.load(open(SUITE))["cases"]}
    rows = []
    for name, layout, runners in prepared:
        x = at_offset(inputs[(name, layout)], args.offset)
        h = lib.sp_prepare(name.encode(), layout.encode(), x.ctypes.data_as(fp), x.size)
        if not h:
            print(f"- {name}/{layout}: simdpool-peers-ffi cannot run this case (f32 only)")
            continue
        lib.sp_run(h, 3)
        floor = call_overhead(layout)
        for peer, run in runners:
            want = np.asarray(run())
            got = np.empty(want.size, np.float32)
            lib.sp_output(h, got.ctypes.data_as(fp), got.size)
            problem = agrees(cases[name], got, want.ravel())
            if problem:
                print(f"- {name}/{layout}/{peer}: the FFI output disagrees ({problem}), not timed")
                continue
            one = max(lib.sp_run(h, 20) / 20, 1e-7)
            k = max(1, int(args.batch / one))
            ratios, net, t_sp, t_peer = [], [], [], []
            for r in range(args.rounds):
                if r % 2 == 0:
                    a = lib.sp_run(h, k) / k
                    b = loop_seconds(run.call, k) / k
                else:
                    b = loop_seconds(run.call, k) / k
                    a = lib.sp_run(h, k) / k
                ratios.append(b / a)
                net.append((b - floor) / a)
                t_sp.append(a)
                t_peer.append(b)
            q = lambda v: statistics.quantiles(v, n=4)
            won = sum(1 for v in ratios if v > 1)
            rows.append((name, layout, PEERS[peer][0], statistics.median(t_sp), statistics.median(t_peer), floor,
                         statistics.median(ratios), q(ratios), statistics.median(net), q(net), won, len(ratios), k))
        lib.sp_free(h)
    print(f"\n{args.rounds} interleaved rounds in one process, simdpool at the detected level on the calling thread, "
          f"its input {args.offset} bytes past a 64-byte boundary; finished "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| case | layout | peer | simdpool | peer | peer call floor | peer / simdpool (quartiles) "
          "| floor taken off (quartiles) | simdpool faster |")
    print("|---|---|---|---:|---:|---:|---|---|---:|")
    for name, layout, label, a, b, floor, med, qs, nmed, nqs, won, n, k in rows:
        print(f"| {name} | {layout} | {label} | {fmt(a)} | {fmt(b)} | {fmt(floor)} | {med:.3f}x ({qs[0]:.3f}-{qs[2]:.3f}) "
              f"| {nmed:.3f}x ({nqs[0]:.3f}-{nqs[2]:.3f}) | {won}/{n} rounds of {k} calls |")


def fmt(t):
    return f"{t * 1e3:.2f} ms" if t >= 1e-3 else f"{t * 1e6:.1f} us"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--case", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--layout", default="both", choices=["nchw", "nhwc", "both"])
    ap.add_argument("--peer", default="ort,litert,litert-builtin")
    ap.add_argument("--isa", default="auto")
    ap.add_argument("--budget", type=float, default=0.3, help="seconds of peer calls per case and round")
    ap.add_argument("--interleave", action="store_true",
                    help="time simdpool in this process through simdpool-peers-ffi, batch against batch (LiteRT only)")
    ap.add_argument("--batch", type=float, default=2e-3, help="--interleave: seconds of simdpool calls per batch")
    ap.add_argument("--offset", type=int, default=0,
                    help="--interleave: bytes past a 64-byte boundary where simdpool's input starts (LiteRT's "
                         "arena is 64-byte aligned; 16 is where glibc puts large allocations)")
    args = ap.parse_args()
    if not os.path.exists(CLI):
        sys.exit(f"{CLI} is missing: cargo build --release -p simdpool-cli")
    wanted = set(filter(None, args.case.split(",")))
    cases = [c for c in json.load(open(SUITE))["cases"] if not wanted or c["name"] in wanted]
    layouts = LAYOUTS if args.layout == "both" else (args.layout,)
    peers = [p for p in args.peer.split(",") if p]
    rng = np.random.default_rng(7)
    prepared = []  # (case name, layout, [(peer, runner)])
    inputs = {}
    skipped = []
    for case in cases:
        for layout in layouts:
            shape = logical_to_layout(case["dims"], layout)
            if case.get("dtype") == "u8":
                x = rng.integers(0, 256, size=shape, dtype=np.uint8)
            else:
                x = rng.standard_normal(shape, dtype=np.float32)
            want = None
            runners = []
            for peer in peers:
                label, make = PEERS[peer]
                run, why = make(case, layout, x)
                if run is None:
                    skipped.append(f"{case['name']}/{layout}/{label}: cannot express: {why}")
                    continue
                if want is None:
                    want = simdpool_output(case, layout, x, args.isa)
                problem = agrees(case, run(), want)
                if problem:
                    skipped.append(f"{case['name']}/{layout}/{label}: disagrees with simdpool ({problem}), not timed")
                    continue
                runners.append((peer, run))
            if runners:
                prepared.append((case["name"], layout, runners))
                inputs[(case["name"], layout)] = x
    if args.interleave:
        if any(not p.startswith("litert") for p in peers):
            sys.exit("--interleave takes LiteRT peers only (--peer litert or litert-builtin)")
        interleave(args, prepared, inputs)
        for line in skipped:
            print(f"- {line}")
        return
    ratios, last, level = {}, {}, args.isa
    for r in range(args.rounds):
        for name, layout, runners in prepared:
            print(f"[round {r + 1}/{args.rounds}] {name} {layout}", file=sys.stderr)
            times = {peer: median_call(run, args.budget) for peer, run in runners}
            t_sp, level = simdpool_median(name, layout, args.isa)
            for peer, t in times.items():
                ratios.setdefault((name, layout, peer), []).append(t / t_sp)
                last[(name, layout, peer)] = (t, t_sp)
    versions = []
    if "ort" in peers:
        import onnxruntime
        versions.append(f"ONNX Runtime {onnxruntime.__version__}")
    if any(p.startswith("litert") for p in peers):
        from importlib.metadata import version
        versions.append(f"LiteRT (ai-edge-litert) {version('ai-edge-litert')}")
    print(f"\n{', '.join(versions)}, 1 thread, vs simdpool ({level}, 1 thread); {args.rounds} interleaved rounds, "
          f"finished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| case | layout | peer | peer (last round) | simdpool (last round) | peer / simdpool per round | median |")
    print("|---|---|---|---:|---:|---|---:|")
    for (name, layout, peer), rs in ratios.items():
        t, t_sp = last[(name, layout, peer)]
        per = ", ".join(f"{v:.2f}" for v in rs)
        print(f"| {name} | {layout} | {PEERS[peer][0]} | {fmt(t)} | {fmt(t_sp)} | {per} | {statistics.median(rs):.2f}x |")
    if skipped:
        print()
        for line in skipped:
            print(f"- {line}")


if __name__ == "__main__":
    main()
