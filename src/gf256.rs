//! Constant-time arithmetic in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (0x11B), and Lagrange
//! interpolation over byte vectors, as SLIP-0039 uses it.
//!
//! Field elements are secret (they are bytes of shares and of the master secret), so no
//! function here indexes a table with an element or branches on one: multiplication is
//! shift-and-add with masks, inversion is `a^254` by a fixed square-and-multiply chain.
//! The x-coordinates given to [`interpolate`] are public (share indices) and may be branched on.
//! Interpolation multiplies whole secret vectors by public coefficients ([`mul_add_into`]):
//! sixteen bytes per SSSE3 shuffle on x86_64, masks-and-shifts bytes elsewhere.

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

/// `acc[k] ^= coefficient * y[k]` for every k: the inner loop of [`interpolate`].
///
/// `coefficient` is **public** (a Lagrange basis value, computed from share indices only);
/// `acc` and `y` are secret. On x86_64 with SSSE3 (every x86_64 CPU since 2006; checked at run
/// time) this uses the split-nibble shuffle method: two 16-entry tables, `coefficient * n` and
/// `coefficient * (n << 4)` for every nibble n, built from the public coefficient, and
/// `PSHUFB` selecting from them by the secret nibbles of sixteen bytes at once. A shuffle is a
/// register operation, not a memory access, so its timing does not depend on the selector
/// (unlike a table lookup in memory). Elsewhere, [`mul_add_into_portable`].
/// `acc` and `y` must have the same length; only that (public) length shapes the loops.
// Calls the SSSE3 kernel, which is unsafe only for its `target_feature` (checked first).
#[allow(unsafe_code)]
pub fn mul_add_into(acc: &mut [u8], coefficient: u8, y: &[u8]) {
    assert_eq!(acc.len(), y.len(), "mul_add_into needs equal lengths");
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("ssse3") {
            // SAFETY: SSSE3 is available (checked just above), which is all the function's
            // `target_feature` needs; its loads and stores stay within the equal-length slices.
            unsafe { mul_add_into_ssse3(acc, coefficient, y) };
            return;
        }
    }
    mul_add_into_portable(acc, coefficient, y);
}

/// Portable [`mul_add_into`]: [`mul`] byte by byte. Every step is masks and shifts, which
/// compilers turn into SIMD code (SSE2 on x86_64) without changing that.
pub fn mul_add_into_portable(acc: &mut [u8], coefficient: u8, y: &[u8]) {
    assert_eq!(acc.len(), y.len(), "mul_add_into needs equal lengths");
    for (out, &byte) in acc.iter_mut().zip(y) {
        *out ^= mul(coefficient, byte);
    }
}

/// The SSSE3 body of [`mul_add_into`]; the remainder past a multiple of 16 bytes goes through
/// [`mul_add_into_portable`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
// SIMD intrinsics on raw pointers: the crate's one unsafe kernel.
#[allow(unsafe_code)]
unsafe fn mul_add_into_ssse3(acc: &mut [u8], coefficient: u8, y: &[u8]) {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_loadu_si128, _mm_set1_epi8, _mm_shuffle_epi8, _mm_srli_epi16,
        _mm_storeu_si128, _mm_xor_si128,
    };
    // Tables from the public coefficient: low[n] = c * n, high[n] = c * (n << 4).
    let mut low = [0u8; 16];
    let mut high = [0u8; 16];
    for n in 0..16u8 {
        low[usize::from(n)] = mul(coefficient, n);
        high[usize::from(n)] = mul(coefficient, n << 4);
    }
    let whole = acc.len() / 16 * 16;
    let (acc_blocks, acc_rest) = acc.split_at_mut(whole);
    let (y_blocks, y_rest) = y.split_at(whole);
    // SAFETY: every pointer below comes from a 16-byte chunk of a slice (or a 16-byte array),
    // and the unaligned load/store intrinsics accept any alignment.
    unsafe {
        let low = _mm_loadu_si128(low.as_ptr().cast::<__m128i>());
        let high = _mm_loadu_si128(high.as_ptr().cast::<__m128i>());
        let nibble = _mm_set1_epi8(0x0F);
        for (out, block) in acc_blocks
            .chunks_exact_mut(16)
            .zip(y_blocks.chunks_exact(16))
        {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let lo = _mm_and_si128(v, nibble);
            let hi = _mm_and_si128(_mm_srli_epi16::<4>(v), nibble);
            let product = _mm_xor_si128(_mm_shuffle_epi8(low, lo), _mm_shuffle_epi8(high, hi));
            let sum = _mm_xor_si128(_mm_loadu_si128(out.as_ptr().cast::<__m128i>()), product);
            _mm_storeu_si128(out.as_mut_ptr().cast::<__m128i>(), sum);
        }
    }
    mul_add_into_portable(acc_rest, coefficient, y_rest);
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
/// k, the result's byte k is f_k(x) where f_k passes through (x_i, y_i\[k\]).
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
        mul_add_into(&mut result, coefficient, yi);
    }
    Ok(result)
}
