//! Published capacity figures of the classic rules, as functions of the number of neurons n,
//! for comparison with measured capacity curves.
//!
//! ```
//! use rnn_hopfield::capacity;
//! // Hopfield (1982): N = 100, 10 memories → 0.0091 errors per bit (0.0092 with the exact tail).
//! assert!((capacity::hopfield_bit_error(100, 10) - 0.0092).abs() < 1e-4);
//! assert!((capacity::hebbian_absolute(100) - 10.86).abs() < 0.01);
//! ```

/// Hopfield's (1982) estimate of the probability that a bit of a stored memory is unstable:
/// signal n/2 against Gaussian crosstalk of variance (p − 1)n/2, P = ½ erfc(z/√2) with
/// z = √(n / (2(p − 1))). For n = 100, p = 10: z = 2.357, P = 0.0092 (the paper prints 0.0091)
/// and P(a memory has no wrong bit) ≈ (1 − P)ⁿ ≈ 0.40. Returns 0 for p ≤ 1.
pub fn hopfield_bit_error(n: usize, p: usize) -> f64 {
    if p <= 1 {
        return 0.0;
    }
    let z = (n as f64 / (2.0 * (p as f64 - 1.0))).sqrt();
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// n / (2 ln n): the number of random patterns up to which almost every stored pattern is an
/// exact fixed point of the Hebbian network (McEliece, Posner, Rodemich & Venkatesh 1987).
pub fn hebbian_absolute(n: usize) -> f64 {
    let n = n as f64;
    n / (2.0 * n.ln())
}

/// n / (4 ln n): the number up to which all stored patterns are exact fixed points with high
/// probability (McEliece et al. 1987).
pub fn hebbian_all_exact(n: usize) -> f64 {
    let n = n as f64;
    n / (4.0 * n.ln())
}

/// 0.138 n: the Hebbian capacity for retrieval with a small fraction of wrong bits in the limit
/// of large n (Amit, Gutfreund & Sompolinsky 1985).
pub fn hebbian_retrieval(n: usize) -> f64 {
    0.138 * n as f64
}

/// n / √(2 ln n): the absolute capacity of Storkey's (1997) rule.
pub fn storkey_absolute(n: usize) -> f64 {
    let n = n as f64;
    n / (2.0 * n.ln()).sqrt()
}

/// n: the pseudo-inverse rule stores any n linearly independent patterns exactly (Personnaz
/// et al. 1986).
pub fn pseudo_inverse(n: usize) -> f64 {
    n as f64
}

/// The complementary error function, with a fractional error below 1.2·10⁻⁷ (Press et al.,
/// Numerical Recipes, `erfcc`).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        for (x, expected) in [
            (0.0, 1.0),
            (0.5, 0.4795001221869535),
            (1.0, 0.15729920705028513),
            (2.0, 0.004677734981047266),
            (-1.0, 1.842700792949715),
        ] {
            assert!((erfc(x) - expected).abs() <= 2e-7 * expected, "erfc({x}) = {}", erfc(x));
        }
    }

    #[test]
    fn hopfield_1982_anchor() {
        let p = hopfield_bit_error(100, 10);
        assert!((p - 0.00921).abs() < 5e-5, "{p}");
        let no_error = (1.0 - p).powi(100);
        assert!((no_error - 0.40).abs() < 0.01, "{no_error}");
        assert!((storkey_absolute(100) - 32.95).abs() < 0.01);
    }
}
