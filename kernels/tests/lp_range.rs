//! The kernels' fast Lp range test (one vectorisable pass over a row of outputs) against the
//! exact per-element test it stands in for.

use simdpool_kernels::{LpPower, Scalar};

/// The vectorised range test flags everything the per-element test flags (and NaN and `-0.0`
/// besides, which the exact test then passes), at the floor's neighbours, zeros, infinities
/// and NaN, for every exponent kind.
#[test]
fn the_fast_lp_range_test_agrees_with_the_exact_one() {
    for p in [LpPower::Two, LpPower::General(1.5), LpPower::General(200.0), LpPower::General(1e308)] {
        let floor = <f32 as Scalar>::lp_floor(p);
        let f = floor as f32;
        let near = [f, f32::from_bits(f.to_bits() + 1), f32::from_bits(f.to_bits().saturating_sub(1))];
        let special = [0.0, -0.0, 1.0, f32::MAX, f32::INFINITY, f32::NAN, f32::MIN_POSITIVE, f32::from_bits(1)];
        for y in near.into_iter().chain(special) {
            let fast = <f32 as Scalar>::lp_all_in_range(&[1.0, y, 2.0], floor);
            let exact = !<f32 as Scalar>::lp_out_of_range(y, floor);
            let expect = exact && !y.is_nan() && y.to_bits() != (-0.0f32).to_bits();
            assert_eq!(fast, expect, "f32 {y:e} at {p:?}");
        }
        let floor = <f64 as Scalar>::lp_floor(p);
        let near = [floor, f64::from_bits(floor.to_bits() + 1), f64::from_bits(floor.to_bits() - 1)];
        let special = [0.0, -0.0, 1.0, f64::MAX, f64::INFINITY, f64::NAN, f64::MIN_POSITIVE, f64::from_bits(1)];
        for y in near.into_iter().chain(special) {
            let fast = <f64 as Scalar>::lp_all_in_range(&[1.0, y, 2.0], floor);
            let exact = !<f64 as Scalar>::lp_out_of_range(y, floor);
            let expect = exact && !y.is_nan() && y.to_bits() != (-0.0f64).to_bits();
            assert_eq!(fast, expect, "f64 {y:e} at {p:?}");
        }
    }
}
