//! Help texts.

pub const MAIN: &str = "\
simdpool: hand-vectorised CPU pooling (max, avg, Lp, global, adaptive) on .npy files

Usage:
  simdpool info                       show the version, the detected ISA, CPU features, the build
  simdpool pool [FLAGS] IN.npy OUT.npy      windowed max / avg / Lp pooling
  simdpool global [FLAGS] IN.npy OUT.npy    global max / avg pooling
  simdpool adaptive [FLAGS] IN.npy OUT.npy  adaptive max / avg pooling
  simdpool bench [FLAGS]              time the kernels against the scalar reference
  simdpool help [COMMAND]             this text, or a command's flags (also COMMAND --help)
  simdpool --version                  the version

Input arrays are N,C,L / N,C,H,W / N,C,D,H,W (--layout nchw, the default) or N,L,C / N,H,W,C /
N,D,H,W,C (--layout nhwc): the spatial rank (1 to 3) is the array's rank minus 2. Element types:
little-endian f4, f8, f2, u1, i1, and u2, which is always read as the raw bits of bf16 (NumPy
has no bf16). The output has the input's element type; bf16 is written back as raw <u2 bits.
Indices are written as <i8 (int64), flat over the spatial dims of each (n, c) plane, as PyTorch.

Gradients: --grad-output GO.npy --grad-input GI.npy (both, with any pooling command) also run
the backward pass (PyTorch's gradients) for GO.npy, the gradient of OUT.npy, and write GI.npy,
the gradient of IN.npy. GO.npy must have OUT.npy's shape, layout and element type; GI.npy gets
IN.npy's. Max gradients follow the forward pass's argmax. u1 and i1 have no gradient.

Results go to OUT.npy; a one-line summary goes to stderr. Exit status: 0 on success, 1 if the
work fails (unreadable file, unsupported dtype, parameters the input rejects, CPU lacks the ISA),
2 for a malformed command line. On any error nothing is written.

IN.npy and GO.npy must be regular files. OUT.npy, IDX.npy and GI.npy must be new names or
regular files in an existing directory (a symbolic link is written through to its target; a FIFO,
device or directory is refused). Naming one file twice (two of OUT.npy, IDX.npy and GI.npy, or
one of them and IN.npy or GO.npy), however spelled, is a command-line error.

Environment: SIMDPOOL_ISA=scalar|avx2|avx512|neon caps the ISA level for the whole process.
";

pub const INFO: &str = "\
Usage: simdpool info

Prints the version, `detected: ISA` (the level plans use by default: the hardware's best,
capped by SIMDPOOL_ISA), the available levels, the hardware level when SIMDPOOL_ISA capped it,
the CPU features seen, and how this binary was built (rustc, target, profile, compile-time
target features, ISA levels the build guarantees statically).
";

/// Flags shared by every pooling command.
const COMMON: &str = "  --grad-output GO.npy    with --grad-input: after the forward pass, run the backward pass
                          for GO.npy, the gradient of OUT.npy (OUT.npy's shape, layout and
                          element type; f4, f8, f2 or u2 as bf16: u1 and i1 have no gradient)
  --grad-input GI.npy     with --grad-output: write the gradient of IN.npy (IN.npy's shape,
                          layout and element type), as PyTorch: max sends each gradient to
                          the forward argmax (shared argmaxes add), avg divides it over its
                          window's divisor, lp weighs it by g*sign(x)*(|x|/y)^(p-1)
  --layout nchw|nhwc      memory layout of IN.npy, OUT.npy, GO.npy and GI.npy: channels-first
                          (nchw, default; also ncl/ncdhw) or channels-last (nhwc; also nlc/ndhwc)
  --isa LEVEL             auto (default: the detected level), scalar, avx2, avx512 or neon;
                          a level the CPU lacks (or SIMDPOOL_ISA forbids) is an error
  --threads N             run inside a thread pool of N threads, 1 to 1024 (1 = the calling
                          thread only); default: rayon's global pool. Results are identical
                          for any N
  -q, --quiet             no summary line on stderr
  -v, --verbose           the summary line also names the route: the kernel family the plan
                          took (portable, separable, transposed, lanes, argmax, global,
                          global-blocks)
  -h, --help              this text
";

pub fn pool() -> String {
    format!(
        "\
Usage: simdpool pool --op max|avg|lp --kernel K[,K..] [FLAGS] IN.npy OUT.npy

Windowed pooling over the spatial dims of each (n, c) plane, with PyTorch's semantics (ONNX's
for Lp, asymmetric pads and auto_pad). A list with one value applies to every spatial dim.

  --op max|avg|lp         the reduction (required)
  --kernel K[,K..]        window size per spatial dim (required)
  --stride S[,S..]        distance between windows (default: the kernel)
  --padding P[,P..]       symmetric padding per dim, at most kernel/2 (PyTorch); default 0
  --pads B1,..,E1,..      asymmetric padding in ONNX order: all begins, then all ends
                          (one value pads every side)
  --auto-pad MODE         ONNX auto_pad: same-upper, same-lower or valid
                          (--padding, --pads and --auto-pad exclude each other)
  --dilation D[,D..]      distance between taps (default 1)
  --ceil-mode             round the output size up (a last window starting in the end
                          padding is dropped, as PyTorch)
  --count-include-pad B   avg only: count padded taps in the divisor, true (default, as
                          PyTorch) or false
  --divisor-override N    avg only: divide every window sum by N (non-zero)
  --p P                   lp only: the exponent, a finite number >= 1 (default 2, as ONNX)
  --indices IDX.npy       max only: also write the argmax of each output as int64
{COMMON}
Examples:
  simdpool pool --op max --kernel 3 --stride 2 --padding 1 --indices idx.npy x.npy y.npy
  simdpool pool --op avg --kernel 3 --padding 1 --grad-output gy.npy --grad-input gx.npy x.npy y.npy
"
    )
}

pub fn global() -> String {
    format!(
        "\
Usage: simdpool global --op max|avg [FLAGS] IN.npy OUT.npy

Max or mean over each whole (n, c) plane; OUT.npy keeps the rank with spatial dims of 1.

  --op max|avg            the reduction (required)
  --indices IDX.npy       max only: also write the argmax of each plane as int64
{COMMON}"
    )
}

pub fn adaptive() -> String {
    format!(
        "\
Usage: simdpool adaptive --op max|avg --output-size O[,O..] [FLAGS] IN.npy OUT.npy

Adaptive pooling (PyTorch): output i of O along a dim of length L covers the input range
[floor(i*L/O), ceil((i+1)*L/O)).

  --op max|avg            the reduction (required)
  --output-size O[,O..]   output size per spatial dim (required; one value = every dim)
  --indices IDX.npy       max only: also write the argmax of each output as int64
{COMMON}"
    )
}
