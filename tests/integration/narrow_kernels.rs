//! The SIMD max kernels of the narrow element types, `u8`, `i8`, `f16` and `bf16` (max and
//! adaptive max on each level's lanes: channels-last from the same family code as `f32`,
//! channels-first by rows, folded vertically first for the byte types and horizontally first for
//! the halves), on random shapes: every level this machine has gives the bits of the portable
//! kernels (the scalar level) and of the reference, for every op; max takes its SIMD route at
//! every SIMD level, and the ops a type's lanes do not take (sums, indices, global) say so by the
//! portable route.
//! Channel counts run past two vectors of the widest level (64 byte lanes) to cover every block
//! width and tail. The half-precision inputs are full of what the max rule decides on: equal
//! values, both zeros, infinities, quiet and signalling NaNs of both signs, subnormals.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use simdpool::{
    AvgOptions, Element, Isa, Layout, Plan, PlanOptions, PoolOp, Route, TensorShape, Window, bf16, f16, reference,
};

/// The element types under test, each with a deterministic input of its hard cases.
trait Narrow: Element + Copy + core::fmt::Debug {
    /// Whether the reference's sums give the plans' bits: the byte types' exact integer sums do;
    /// half sums accumulate in `f32` on the plans and in `f64` in the reference (the differential
    /// tests compare those within a tolerance).
    const EXACT_SUMS: bool;
    /// The element of pattern `bits`.
    fn from_bits(bits: u16) -> Self;
    /// Its pattern, to compare NaNs by their bits.
    fn bits(self) -> u16;
    /// One of the type's hard cases, by `k < 8`.
    fn special(k: u64) -> Self;
}
impl Narrow for u8 {
    const EXACT_SUMS: bool = true;
    fn from_bits(b: u16) -> u8 {
        b as u8
    }
    fn bits(self) -> u16 {
        self.into()
    }
    fn special(k: u64) -> u8 {
        [0, 0x7f, 0x80, 0xff, 0, 1, 2, 3][k as usize]
    }
}
impl Narrow for i8 {
    const EXACT_SUMS: bool = true;
    fn from_bits(b: u16) -> i8 {
        b as u8 as i8
    }
    fn bits(self) -> u16 {
        self as u8 as u16
    }
    fn special(k: u64) -> i8 {
        [0, 0x7f, -0x80, -1, 0, 1, 2, 3][k as usize]
    }
}
impl Narrow for f16 {
    const EXACT_SUMS: bool = false;
    fn from_bits(b: u16) -> f16 {
        f16::from_bits(b)
    }
    fn bits(self) -> u16 {
        self.to_bits()
    }
    fn special(k: u64) -> f16 {
        // +-0, +-inf, a quiet NaN, a negative signalling NaN, the smallest subnormal, the largest
        // finite value.
        f16::from_bits([0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e01, 0xfc01, 0x0001, 0x7bff][k as usize])
    }
}
impl Narrow for bf16 {
    const EXACT_SUMS: bool = false;
    fn from_bits(b: u16) -> bf16 {
        bf16::from_bits(b)
    }
    fn bits(self) -> u16 {
        self.to_bits()
    }
    fn special(k: u64) -> bf16 {
        bf16::from_bits([0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc1, 0xff81, 0x8001, 0x7f7f][k as usize])
    }
}

fn data<T: Narrow>(len: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match s % 13 {
                0..=3 => T::special((s >> 40) % 8),
                // Few distinct values, many equal maxima: patterns `k * 0x0101` (`k < 4`) cut to the
                // type's largest finite pattern (bytes 0 to 3, four positive halves).
                4..=6 => T::from_bits(((s >> 32) as u16 % 4 * 0x0101) & T::special(7).bits()),
                _ => T::from_bits((s >> 24) as u16),
            }
        })
        .collect()
}

#[derive(Clone, Debug)]
struct Case {
    op: PoolOp,
    shape: TensorShape,
    seed: u64,
}

/// One spatial axis: (kernel, stride, dilation, padding, length).
type Axis = (usize, usize, usize, usize, usize);

fn axis() -> impl Strategy<Value = Axis> {
    (1usize..=5, 1usize..=3, 1usize..=2).prop_flat_map(|(k, s, d)| {
        let span = d * (k - 1) + 1;
        (Just(k), Just(s), Just(d), 0..=k / 2, span..span + 12)
    })
}

fn op_of(kind: u8, w: Window, flag: bool, spatial: &[usize]) -> PoolOp {
    match kind {
        0..=3 => PoolOp::max(w),
        4 => PoolOp::AdaptiveMax(spatial.iter().map(|l| (2 * l).div_ceil(3)).collect()),
        5 => PoolOp::Avg(w, AvgOptions { count_include_pad: flag, divisor_override: None }),
        6 => PoolOp::lp(w, 2.0),
        _ => PoolOp::GlobalMax,
    }
}

fn case(first: bool) -> impl Strategy<Value = Case> {
    (1usize..=3).prop_flat_map(move |rank| {
        (proptest::collection::vec(axis(), rank), 1usize..=2, 1usize..=200, 0u8..8, any::<bool>(), any::<u64>())
            .prop_map(move |(axes, n, c, kind, flag, seed)| {
                let k: Vec<usize> = axes.iter().map(|a| a.0).collect();
                let s: Vec<usize> = axes.iter().map(|a| a.1).collect();
                let d: Vec<usize> = axes.iter().map(|a| a.2).collect();
                let p: Vec<usize> = axes.iter().map(|a| a.3).collect();
                let spatial: Vec<usize> = axes.iter().map(|a| a.4).collect();
                let w = Window::new(&k).stride(&s).dilation(&d).padding(&p).ceil_mode(flag);
                let op = op_of(kind, w, flag, &spatial);
                let shape = if first {
                    TensorShape::nchw(&[&[n, c][..], &spatial].concat()).unwrap()
                } else {
                    TensorShape::nhwc(&[&[n][..], &spatial, &[c]].concat()).unwrap()
                };
                Case { op, shape, seed }
            })
    })
}

/// The route `T` takes at a SIMD level: the lanes for channels-last max, the rows for
/// channels-first max, the portable kernels for everything else.
fn narrow_route<T: Narrow>(case: &Case) -> Route {
    match (&case.op, case.shape.layout()) {
        (PoolOp::Max(_) | PoolOp::AdaptiveMax(_), Layout::ChannelsLast) => Route::Lanes,
        (PoolOp::Max(_) | PoolOp::AdaptiveMax(_), Layout::ChannelsFirst) => Route::Rows,
        _ => Route::Portable,
    }
}

fn bits<T: Narrow>(xs: &[T]) -> Vec<u16> {
    xs.iter().map(|x| x.bits()).collect()
}

/// Runs `case` at every level: all equal the scalar level's bits, and those the reference's
/// (see [`Narrow::EXACT_SUMS`]).
fn check<T: Narrow>(case: &Case) -> Result<(), TestCaseError> {
    let x = data::<T>(case.shape.len(), case.seed);
    let scalar = Plan::<T>::with_options(&case.op, &case.shape, PlanOptions::isa(Isa::Scalar).calling_thread());
    let (plan, want) = match (scalar, reference::pool::<T>(&case.op, &x, &case.shape)) {
        (Ok(plan), Ok(want)) => (plan, want),
        (Err(a), Err(b)) => {
            prop_assert_eq!(a, b);
            return Err(TestCaseError::reject("no output of this size"));
        }
        (a, b) => return Err(TestCaseError::fail(format!("plan {a:?} vs reference {b:?}"))),
    };
    let mut base = vec![T::from_bits(0x5a5a); plan.output_len()];
    plan.run(&x, &mut base).unwrap();
    if T::EXACT_SUMS || matches!(case.op, PoolOp::Max(_) | PoolOp::AdaptiveMax(_) | PoolOp::GlobalMax) {
        prop_assert_eq!(bits(&base), bits(&want.values), "scalar level vs reference");
    }
    for isa in Isa::available() {
        let plan = Plan::<T>::with_options(&case.op, &case.shape, PlanOptions::isa(isa).calling_thread()).unwrap();
        let route = if isa == Isa::Scalar { Route::Portable } else { narrow_route::<T>(case) };
        prop_assert_eq!(plan.route(), route, "{} {:?}", isa, case);
        // A poisoned output: every element must be written.
        let mut y = vec![T::from_bits(0xa5a5); plan.output_len()];
        plan.run(&x, &mut y).unwrap();
        prop_assert_eq!(bits(&y), bits(&base), "{} ({:?})", isa, plan.route());
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        max_global_rejects: 4096,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn u8_channels_last_matches_the_portable_kernels(case in case(false)) {
        check::<u8>(&case)?;
    }

    #[test]
    fn i8_channels_last_matches_the_portable_kernels(case in case(false)) {
        check::<i8>(&case)?;
    }

    #[test]
    fn u8_channels_first_matches_the_portable_kernels(case in case(true)) {
        check::<u8>(&case)?;
    }

    #[test]
    fn i8_channels_first_matches_the_portable_kernels(case in case(true)) {
        check::<i8>(&case)?;
    }

    #[test]
    fn f16_channels_last_matches_the_portable_kernels(case in case(false)) {
        check::<f16>(&case)?;
    }

    #[test]
    fn bf16_channels_last_matches_the_portable_kernels(case in case(false)) {
        check::<bf16>(&case)?;
    }

    #[test]
    fn halves_channels_first_match_the_portable_kernels(case in case(true)) {
        check::<f16>(&case)?;
        check::<bf16>(&case)?;
    }
}

#[test]
fn narrow_channels_first_max_at_every_row_width_and_chunk() {
    // Rows around one and two vectors of 16, 32 and 64 lanes, and 1-D rows past the 4096-column
    // chunk of the folded rows (several chunks per row), on the suite's windows and a dilated one.
    let windows = [(3, 2, 1, 1), (2, 2, 0, 1), (3, 1, 1, 1), (5, 3, 2, 1), (3, 1, 1, 2)];
    for (i, &(k, s, p, d)) in windows.iter().enumerate() {
        let w2 = Window::new(&[k, k]).stride(&[s, s]).padding(&[p, p]).dilation(&[d, d]);
        for x in [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 66, 127, 128, 129, 130, 200] {
            if (k - 1) * d + 1 > x + 2 * p {
                continue;
            }
            let case =
                Case { op: PoolOp::max(w2.clone()), shape: TensorShape::nchw(&[1, 3, 7, x]).unwrap(), seed: x as u64 };
            check::<u8>(&case).unwrap();
            check::<i8>(&case).unwrap();
            check::<f16>(&case).unwrap();
            check::<bf16>(&case).unwrap();
        }
        let w1 = Window::new(&[k]).stride(&[s]).padding(&[p]).dilation(&[d]);
        for x in [4095, 4096, 4097, 9000] {
            let case =
                Case { op: PoolOp::max(w1.clone()), shape: TensorShape::nchw(&[2, 2, x]).unwrap(), seed: i as u64 };
            check::<u8>(&case).unwrap();
            check::<bf16>(&case).unwrap();
        }
    }
    // Adaptive windows over a row past one chunk.
    let case = Case { op: PoolOp::AdaptiveMax(vec![7]), shape: TensorShape::nchw(&[1, 2, 9000]).unwrap(), seed: 7 };
    check::<u8>(&case).unwrap();
    check::<f16>(&case).unwrap();
}

#[test]
fn narrow_channels_last_max_at_every_block_width_and_tail() {
    // Channel counts around one and two vectors of 16, 32 and 64 lanes, on the suite's windows
    // (3x3 stride 2 with padding: the pixel blocks; 3x3 stride 1: the sliding rows; 2x2 stride 2).
    let windows = [(3, 2, 1), (3, 1, 1), (2, 2, 0)];
    for c in [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 130, 200] {
        for (i, &(k, s, p)) in windows.iter().enumerate() {
            let w = Window::new(&[k, k]).stride(&[s, s]).padding(&[p, p]);
            let case = Case {
                op: PoolOp::max(w),
                shape: TensorShape::nhwc(&[1, 9, 11, c]).unwrap(),
                seed: c as u64 + i as u64,
            };
            check::<u8>(&case).unwrap();
            check::<i8>(&case).unwrap();
            check::<f16>(&case).unwrap();
            check::<bf16>(&case).unwrap();
        }
    }
}
