//! Constant-time arithmetic in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (0x11B), and Lagrange
//! interpolation over byte vectors, as SLIP-0039 uses it.
//!
//! Field elements are secret (they are bytes of shares and of the master secret), so no
//! function here indexes a table with an element or branches on one: multiplication is
//! shift-and-add with masks, inversion is `a^254` by a fixed square-and-multiply chain.
//! The x-coordinates given to [`interpolate`] are public (share indices) and may be branched on.

use std::fmt;

use zeroize::Zeroizing;

/// Addition (and subtraction) in GF(2^8): bitwise XOR.
#[inline]
pub fn add(a: u8, b: u8) -> u8 {
    a ^ b
}

/// Subtraction in GF(2^8); identical to [`add`].
#[inline]
pub fn sub(a: u8, b: u8) -> u8 {
    a ^ b
}

/// Multiplication modulo 0x11B, in constant time (eight fixed rounds, masks instead of branches).
#[inline]
pub fn mul(a: u8, b: u8) -> u8 {
    let mut a = a;
    let mut b = b;
    let mut product = 0u8;
    for _ in 0..8 {
        // Add `a` when the low bit of `b` is set: mask is 0xFF or 0x00.
        product ^= a & 0u8.wrapping_sub(b & 1);
        // Multiply `a` by x, reducing by 0x1B when the top bit falls off.
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1B & carry);
        b >>= 1;
    }
    product
}

/// Multiplicative inverse, computed as `a^254` with a fixed schedule; `inv(0) == 0`.
pub fn inv(a: u8) -> u8 {
    // 254 = 0b1111_1110, so a^254 = a^2 * a^4 * a^8 * ... * a^128.
    let mut power = mul(a, a); // a^2
    let mut result = power;
    for _ in 0..6 {
        power = mul(power, power); // a^4, a^8, ..., a^128
        result = mul(result, power);
    }
    result
}

/// Division `a / b`. `b` must be non-zero: because `inv(0) == 0`, `div(a, 0)` returns 0
/// rather than failing, which is meaningless as a field operation.
#[inline]
pub fn div(a: u8, b: u8) -> u8 {
    mul(a, inv(b))
}

/// Why [`interpolate`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterpolationError {
    /// No points were given.
    Empty,
    /// Two points share this x-coordinate.
    DuplicateX(u8),
    /// The y-vectors do not all have the same length.
    LengthMismatch,
}

impl fmt::Display for InterpolationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpolationError::Empty => f.write_str("no points to interpolate"),
            InterpolationError::DuplicateX(x) => {
                write!(f, "two points have the same x-coordinate {x}")
            }
            InterpolationError::LengthMismatch => {
                f.write_str("the points' values have different lengths")
            }
        }
    }
}

impl std::error::Error for InterpolationError {}

/// Lagrange basis coefficients at `x` for the x-coordinates `xs` (which must be distinct and
/// must not contain `x`). Depends only on public data.
fn basis_at(xs: &[u8], x: u8) -> Vec<u8> {
    xs.iter()
        .enumerate()
        .map(|(i, &xi)| {
            let mut num = 1u8;
            let mut den = 1u8;
            for (j, &xj) in xs.iter().enumerate() {
                if i != j {
                    num = mul(num, sub(x, xj));
                    den = mul(den, sub(xi, xj));
                }
            }
            div(num, den)
        })
        .collect()
}

/// Evaluates at `x` the polynomial of least degree through `points`, byte by byte: for every
/// k, the result's byte k is f_k(x) where f_k passes through (x_i, y_i[k]).
///
/// Errors if `points` is empty, an x-coordinate repeats, or the y-vectors differ in length.
/// If `x` is one of the points' x-coordinates, a copy of that point's y is returned.
pub fn interpolate(
    points: &[(u8, &[u8])],
    x: u8,
) -> Result<Zeroizing<Vec<u8>>, InterpolationError> {
    let (_, first) = points.first().ok_or(InterpolationError::Empty)?;
    let len = first.len();
    let mut seen = [false; 256];
    for &(xi, yi) in points {
        if seen[usize::from(xi)] {
            return Err(InterpolationError::DuplicateX(xi));
        }
        seen[usize::from(xi)] = true;
        if yi.len() != len {
            return Err(InterpolationError::LengthMismatch);
        }
    }
    if let Some(&(_, y)) = points.iter().find(|&&(xi, _)| xi == x) {
        return Ok(Zeroizing::new(y.to_vec()));
    }
    let xs: Vec<u8> = points.iter().map(|&(xi, _)| xi).collect();
    let basis = basis_at(&xs, x);
    let mut result = Zeroizing::new(vec![0u8; len]);
    for (&(_, yi), &coefficient) in points.iter().zip(&basis) {
        for (out, &byte) in result.iter_mut().zip(yi) {
            *out ^= mul(coefficient, byte);
        }
    }
    Ok(result)
}
