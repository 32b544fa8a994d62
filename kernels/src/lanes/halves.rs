//! Half-precision elements (`f16`, `bf16`) in `f32` lanes, for max.
//!
//! Max never computes a value: it selects an input element by the scan rule
//! `r > l || r.is_nan()`. So a half element may be held in an `f32` lane under any map that keeps
//! what the rule looks at (the order, which values are equal, which are NaN) and that can be
//! undone exactly; the level's `f32` max rule then selects the same element, and a store maps it
//! back to its input bits, NaN payloads and signalling bits included. The maps, on the 16-bit
//! pattern `h` with sign `s = h & 0x8000` and magnitude `m = h & 0x7fff`:
//!
//! * **`bf16`**: `h << 16`, the element's own value (a `bf16` is the upper half of an `f32`);
//!   back: `w >> 16`.
//! * **`f16`**: `h << 16 | m`, and the `f32` exponent bits `0x7f80_0000` set where `m > 0x7c00`
//!   (a NaN). Not the element's value (that would need a float conversion, and `vcvtph2ps` quiets
//!   signalling NaNs): the high half orders the values as `f32` patterns order their magnitudes
//!   (infinity, `0x7c00`, lands above every finite value, on a finite `f32`), the magnitude copied
//!   into the low half keeps both zeros zero (equal, as the rule needs) and the map invertible
//!   after a NaN's exponent bits are set. Back: `(w >> 16) & 0x8000 | w & 0x7fff`.
//!
//! The vector maps are in each level's `halves.rs`; these scalar ones are the definition (and
//! build the splats).

use half::{bf16, f16};

/// The members of a half type's `Lanes` that are the token's `f32` ones (the max rules and
/// their NaN bookkeeping), for each level's `halves.rs`: `max_rules_of_f32!(V3, __m256)` (the token and its
/// `f32` vector) inside the `impl`, where `self.0` is the token.
macro_rules! max_rules_of_f32 {
    ($token:ty, $v:ty) => {
        type Seen = <$token as Lanes>::Seen;

        #[inline(always)]
        fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
            self.0.vectorize(op)
        }
        #[inline(always)]
        fn max_rule(self, l: $v, r: $v) -> $v {
            self.0.max_rule(l, r)
        }
        #[inline(always)]
        fn max_fast(self, l: $v, r: $v) -> $v {
            self.0.max_fast(l, r)
        }
        #[inline(always)]
        fn seen_none(self) -> Self::Seen {
            self.0.seen_none()
        }
        #[inline(always)]
        fn see_nans(self, s: Self::Seen, a: $v, b: $v) -> Self::Seen {
            self.0.see_nans(s, a, b)
        }
        #[inline(always)]
        fn seen_any(self, s: Self::Seen) -> bool {
            self.0.seen_any(s)
        }
    };
}
pub(crate) use max_rules_of_f32;

/// The `f32` lane bits holding the `f16` element `h` (see the module docs).
#[inline(always)]
pub(crate) fn f16_key(h: f16) -> u32 {
    let h = u32::from(h.to_bits());
    let m = h & 0x7fff;
    let nan = if m > 0x7c00 { 0x7f80_0000 } else { 0 };
    h << 16 | m | nan
}

/// The `f16` element held in the lane bits `w` ([`f16_key`] inverted; the levels run it on
/// vectors).
#[cfg(test)]
fn f16_of_key(w: u32) -> f16 {
    f16::from_bits(((w >> 16) & 0x8000 | w & 0x7fff) as u16)
}

/// The `f32` lane bits holding the `bf16` element `h`: its own value.
#[inline(always)]
pub(crate) fn bf16_key(h: bf16) -> u32 {
    u32::from(h.to_bits()) << 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_f16_key_keeps_order_equality_and_nan_and_inverts() {
        let all = (0..=u16::MAX).map(f16::from_bits);
        for h in all.clone() {
            let k = f32::from_bits(f16_key(h));
            assert_eq!(f16_of_key(f16_key(h)).to_bits(), h.to_bits(), "{:#06x}", h.to_bits());
            assert_eq!(k.is_nan(), h.is_nan(), "{:#06x}", h.to_bits());
        }
        // Order and equality against a spread of other elements (every pair would be 2^32).
        for h in all {
            for g in (0..=u16::MAX).step_by(97).map(f16::from_bits) {
                let (kh, kg) = (f32::from_bits(f16_key(h)), f32::from_bits(f16_key(g)));
                assert_eq!(kh > kg, h > g, "{:#06x} {:#06x}", h.to_bits(), g.to_bits());
                assert_eq!(kh == kg, h == g, "{:#06x} {:#06x}", h.to_bits(), g.to_bits());
            }
        }
    }

    #[test]
    fn the_bf16_key_is_the_value() {
        for h in (0..=u16::MAX).map(bf16::from_bits) {
            let k = f32::from_bits(bf16_key(h));
            assert!(k.to_bits() == h.to_f32().to_bits() || h.is_nan(), "{:#06x}", h.to_bits());
            assert_eq!(k.is_nan(), h.is_nan());
            assert_eq!((bf16_key(h) >> 16) as u16, h.to_bits());
        }
    }
}
