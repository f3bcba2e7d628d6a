//! A vectorised tanh and logistic for `f32`: the logistic and tanh layers of every model spend
//! much of their non-GEMM time here.

/// Generates `$name(xs: &mut [f32])`, which applies `$f` to every element: with AVX-512, 16 at a
/// time through `$v` (the same function on a vector, written with intrinsics: it replaces the
/// division by a reciprocal estimate and one Newton step, within an ulp or two of it); else in
/// a loop compiled for AVX2 + FMA or the baseline.
macro_rules! vectorised {
    ($(#[$doc:meta])* $name:ident => $f:expr, $v:path) => {
        $(#[$doc])*
        pub(crate) fn $name(xs: &mut [f32]) {
            #[inline(always)]
            fn each(xs: &mut [f32]) {
                for x in xs.iter_mut() {
                    *x = $f(*x);
                }
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512(xs: &mut [f32]) {
                    use std::arch::x86_64::{_mm512_loadu_ps, _mm512_storeu_ps};
                    let mut chunks = xs.chunks_exact_mut(16);
                    for c in &mut chunks {
                        // SAFETY: `c` holds 16 values, read and written as one vector.
                        unsafe { _mm512_storeu_ps(c.as_mut_ptr(), $v(_mm512_loadu_ps(c.as_ptr()))) };
                    }
                    each(chunks.into_remainder());
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2(xs: &mut [f32]) {
                    each(xs)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just above).
                    return unsafe { avx512(xs) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { avx2(xs) };
                }
            }
            each(xs)
        }
    };
}

vectorised! {
    /// tanh on a slice of `f32`, vectorised for the CPU at hand.
    tanh_f32 => tanh_rational, avx512::tanh
}

vectorised! {
    /// The logistic function on a slice of `f32`, σ(x) = ½ + ½·tanh(x/2), in one vectorised
    /// pass.
    logistic_f32 => |x: f32| 0.5 + 0.5 * tanh_rational(x * 0.5), avx512::logistic
}

/// tanh x ≈ x·p(x²)/q(x²) on x clamped to [−7.905, 7.905] (beyond which tanh rounds to ±1 in
/// `f32`): the 13/6 rational approximation of Eigen's `ptanh_float`, branch-free (the two
/// selects become blends) so that it vectorises. NaN stays NaN.
#[inline(always)]
fn tanh_rational(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_672e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525e-3;
    const B2: f32 = 2.268_434_7e-3;
    const B4: f32 = 1.185_347e-4;
    const B6: f32 = 1.198_258_4e-6;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = x2 * A13 + A11;
    p = x2 * p + A9;
    p = x2 * p + A7;
    p = x2 * p + A5;
    p = x2 * p + A3;
    p = x2 * p + A1;
    p *= x;
    let mut q = x2 * B6 + B4;
    q = x2 * q + B2;
    q = x2 * q + B0;
    // Below 4·10⁻⁴, tanh x rounds to x.
    if x.abs() < 4e-4 { x } else { p / q }
}

/// [`tanh_rational`] on 16 lanes (AVX-512).
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512 {
    use std::arch::x86_64::{
        __m512, _CMP_LT_OQ, _mm512_abs_ps, _mm512_cmp_ps_mask, _mm512_fmadd_ps, _mm512_fnmadd_ps, _mm512_mask_blend_ps,
        _mm512_max_ps, _mm512_min_ps, _mm512_mul_ps, _mm512_rcp14_ps, _mm512_set1_ps,
    };

    /// tanh on 16 lanes: `tanh_rational`'s clamp, polynomials and small-x select, with
    /// p/q as p·r, r = rcp14(q) refined by one Newton step (relative error ≈ 2⁻²⁸ before the
    /// product's rounding), the result kept in [−1, 1]. NaN stays NaN (the min/max return their
    /// second operand, x, when it is NaN).
    ///
    /// # Safety
    /// Called from code not compiled with AVX-512F, the caller must have checked that the CPU
    /// has it (`is_x86_feature_detected!("avx512f")`).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub fn tanh(x: __m512) -> __m512 {
        let c = |v: f32| _mm512_set1_ps(v);
        let x = _mm512_max_ps(c(-7.905_311), _mm512_min_ps(c(7.905_311), x));
        let x2 = _mm512_mul_ps(x, x);
        let mut p = _mm512_fmadd_ps(x2, c(-2.760_768_5e-16), c(2.000_188e-13));
        for a in [-8.604_672e-11, 5.122_297e-8, 1.485_722_4e-5, 6.372_619_3e-4, 4.893_524_6e-3] {
            p = _mm512_fmadd_ps(x2, p, c(a));
        }
        p = _mm512_mul_ps(p, x);
        let mut q = _mm512_fmadd_ps(x2, c(1.198_258_4e-6), c(1.185_347e-4));
        q = _mm512_fmadd_ps(x2, q, c(2.268_434_7e-3));
        q = _mm512_fmadd_ps(x2, q, c(4.893_525e-3));
        let r = _mm512_rcp14_ps(q);
        let r = _mm512_mul_ps(r, _mm512_fnmadd_ps(q, r, c(2.0)));
        let y = _mm512_max_ps(c(-1.0), _mm512_min_ps(c(1.0), _mm512_mul_ps(p, r)));
        let small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_abs_ps(x), c(4e-4));
        _mm512_mask_blend_ps(small, y, x)
    }

    /// σ(x) = ½ + ½·tanh(x/2) on 16 lanes.
    ///
    /// # Safety
    /// As [`tanh`].
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub fn logistic(x: __m512) -> __m512 {
        let half = _mm512_set1_ps(0.5);
        _mm512_fmadd_ps(half, tanh(_mm512_mul_ps(half, x)), half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    #[test]
    fn fast_tanh_is_accurate() {
        let n = 400_000;
        let xs: Vec<f32> = (0..=n).map(|i| -10.0 + 20.0 * i as f32 / n as f32).collect();
        let mut ys = xs.clone();
        tanh_f32(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let exact = (x as f64).tanh();
            assert!((y as f64 - exact).abs() < 5e-7, "tanh({x}) = {y}, exact {exact}");
            assert!((y as f64 - exact).abs() <= 4e-7 * exact.abs(), "tanh({x}) = {y}, exact {exact}");
            assert!(y.abs() <= 1.0, "tanh({x}) = {y}");
        }
        let mut tiny = [1e-30f32, -1e-20, 0.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        tanh_f32(&mut tiny);
        assert_eq!(&tiny[..3], &[1e-30, -1e-20, 0.0]);
        assert!(tiny[3].is_nan());
        assert_eq!(&tiny[4..], &[1.0, -1.0]);
    }

    #[test]
    fn fast_logistic_is_accurate() {
        let mut xs: Vec<f32> = (0..2001).map(|i| -20.0 + i as f32 * 0.02).collect();
        let exact: Vec<f64> = xs.iter().map(|&x| 1.0 / (1.0 + (-(x as f64)).exp())).collect();
        Activation::Logistic.apply_slice(&mut xs);
        for (y, e) in xs.iter().zip(exact) {
            assert!((*y as f64 - e).abs() < 3e-7, "{y} vs {e}");
        }
    }
}
