#!/usr/bin/env python3
"""Writes NumPy's own .npy files for every element type simdpool reads, in format versions 1.0,
2.0 and 3.0, into tests/data/npy/ (read back by tests/npy_corpus.rs), plus a MANIFEST listing each
file's descr and shape.

    python3 scripts/npy_corpus.py            # needs numpy

Element k of every array is (k % 7) - 3 (k % 7 for unsigned types, and the bits of that value as
a bfloat16 for <u2, which is how simdpool stores bf16), so the test can rebuild the data. The
files are a few hundred bytes each and are committed; the fuzz target's seed corpus
(fuzz/corpus/npy/) holds copies of them.
"""

import os
import shutil
import sys

import numpy as np
from numpy.lib import format as npformat

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "data", "npy")
FUZZ_SEEDS = os.path.join(ROOT, "fuzz", "corpus", "npy")

DTYPES = ["<f4", "<f8", "<f2", "<u2", "|u1", "|i1", "<i8"]
SHAPES = [(), (5,), (2, 3), (0, 3), (1, 2, 3, 4), (1, 1, 2, 2, 2)]
VERSIONS = [(1, 0), (2, 0), (3, 0)]


def bf16_bits(values):
    """The bfloat16 bits of small integers (exact: the top half of their f32 bits)."""
    return (values.astype("<f4").view("<u4") >> 16).astype("<u2")


def values(descr, shape):
    n = int(np.prod(shape, dtype=np.int64))
    k = np.arange(n, dtype=np.int64)
    if descr == "|u1":
        v = k % 7
    else:
        v = k % 7 - 3
    if descr == "<u2":
        return bf16_bits(v).reshape(shape)
    return v.astype(descr).reshape(shape)


# Headers NumPy's writer never produces but numpy.load reads: other quotes, spacing, key order,
# no trailing comma, underscores in a dimension. Each is checked with np.load before it is kept.
ODD = [
    ("odd_double_quotes", 1, '{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}', "<f4", (2, 3)),
    ("odd_tabs_newlines", 1, "{'descr':'<f8',\t'fortran_order':False,\n'shape':(3,)}", "<f8", (3,)),
    ("odd_key_order", 2, "{'shape': (2,), 'fortran_order': False, 'descr': '|u1'}", "|u1", (2,)),
    ("odd_tuple_spacing", 3, "  {'descr': '<f2' , 'fortran_order' : False , 'shape' : ( 1 , 2 , ) , }", "<f2", (1, 2)),
    ("odd_underscore_dim", 1, "{'descr': '|i1', 'fortran_order': False, 'shape': (1_0,), }", "|i1", (10,)),
    ("odd_empty_tuple_space", 3, "{'descr': '<i8', 'fortran_order': False, 'shape': ( ), }", "<i8", ()),
]


def odd_file(version, header, descr, shape):
    """A file with this exact header text, padded with spaces to 64 bytes and ending in '\\n'."""
    prefix = 10 if version == 1 else 12
    text = header
    while (prefix + len(text) + 1) % 64:
        text += " "
    text = (text + "\n").encode("utf-8" if version == 3 else "latin1")
    length = len(text).to_bytes(2 if version == 1 else 4, "little")
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + values(descr, shape).tobytes()


def name(descr, version, shape):
    dims = "x".join(str(d) for d in shape) if shape else "scalar"
    return f"{descr[1:]}_v{version[0]}_{dims}.npy"


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(FUZZ_SEEDS, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".npy"):
            os.remove(os.path.join(OUT, f))
    manifest = []
    for descr in DTYPES:
        for version in VERSIONS:
            for shape in SHAPES:
                arr = values(descr, shape)
                fname = name(descr, version, shape)
                path = os.path.join(OUT, fname)
                with open(path, "wb") as fp:
                    npformat.write_array(fp, arr, version=version)
                back = np.load(path)
                assert back.dtype == arr.dtype and back.shape == arr.shape, fname
                assert np.array_equal(back, arr), fname
                manifest.append(f"{fname} {arr.dtype.str} {','.join(str(d) for d in shape)}")
                shutil.copy(path, os.path.join(FUZZ_SEEDS, fname))
    for tag, version, header, descr, shape in ODD:
        fname = f"{tag}_v{version}.npy"
        path = os.path.join(OUT, fname)
        with open(path, "wb") as fp:
            fp.write(odd_file(version, header, descr, shape))
        back = np.load(path)
        assert back.dtype == np.dtype(descr) and back.shape == shape, fname
        assert np.array_equal(back, values(descr, shape)), fname
        manifest.append(f"{fname} {back.dtype.str} {','.join(str(d) for d in shape)}")
        shutil.copy(path, os.path.join(FUZZ_SEEDS, fname))
    with open(os.path.join(OUT, "MANIFEST"), "w") as fp:
        fp.write(f"# written by scripts/npy_corpus.py with numpy {np.__version__}: file descr shape\n")
        fp.write("\n".join(manifest) + "\n")
    print(f"wrote {len(manifest)} files to {OUT} (and copies to {FUZZ_SEEDS})")


if __name__ == "__main__":
    sys.exit(main())
