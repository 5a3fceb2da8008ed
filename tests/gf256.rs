//! Tests of the constant-time GF(2^8) arithmetic and Lagrange interpolation.

use custody::gf256::{self, InterpolationError};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// Independent slow reference: carry-less multiply into 16 bits, then reduce mod 0x11B.
fn slow_mul(a: u8, b: u8) -> u8 {
    let mut wide: u16 = 0;
    for bit in 0..8 {
        if (b >> bit) & 1 == 1 {
            wide ^= u16::from(a) << bit;
        }
    }
    for bit in (8..16).rev() {
        if (wide >> bit) & 1 == 1 {
            wide ^= 0x11B << (bit - 8);
        }
    }
    wide as u8
}

#[test]
fn every_product_matches_slow_reference() {
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            assert_eq!(gf256::mul(a, b), slow_mul(a, b), "{a:#04x} * {b:#04x}");
        }
    }
}

/// The vector multiply-accumulate (SSSE3 shuffles on x86_64) and the portable one both equal
/// the reference at every length around the sixteen-byte step (remainder handling, zero
/// included), for every coefficient.
#[test]
fn multiply_accumulate_matches_bytewise_at_every_length() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    for len in 0..=67usize {
        for coefficient in 0..=255u8 {
            let mut acc = vec![0u8; len];
            let mut y = vec![0u8; len];
            rng.fill_bytes(&mut acc);
            rng.fill_bytes(&mut y);
            let expected: Vec<u8> = acc
                .iter()
                .zip(&y)
                .map(|(&a, &b)| a ^ slow_mul(coefficient, b))
                .collect();
            let mut portable = acc.clone();
            gf256::mul_add_into(&mut acc, coefficient, &y);
            gf256::mul_add_into_portable(&mut portable, coefficient, &y);
            assert_eq!(acc, expected, "len {len}, coefficient {coefficient:#04x}");
            assert_eq!(
                portable, expected,
                "portable, len {len}, coefficient {coefficient:#04x}"
            );
        }
    }
}

#[test]
fn aes_known_values() {
    assert_eq!(gf256::mul(0x57, 0x83), 0xC1);
    assert_eq!(gf256::mul(0x57, 0x13), 0xFE);
    assert_eq!(gf256::mul(0x57, 0x02), 0xAE);
    assert_eq!(gf256::inv(0x53), 0xCA);
    assert_eq!(gf256::inv(0xCA), 0x53);
    assert_eq!(gf256::inv(0x01), 0x01);
    assert_eq!(gf256::inv(0x00), 0x00);
    assert_eq!(gf256::add(0x57, 0x83), 0xD4);
}

#[test]
fn field_axioms_exhaustive_where_cheap() {
    for a in 0..=255u8 {
        assert_eq!(gf256::mul(a, 1), a);
        assert_eq!(gf256::mul(a, 0), 0);
        assert_eq!(gf256::add(a, 0), a);
        assert_eq!(gf256::add(a, a), 0);
        if a != 0 {
            assert_eq!(gf256::mul(a, gf256::inv(a)), 1, "inverse of {a:#04x}");
        }
        for b in 0..=255u8 {
            assert_eq!(gf256::mul(a, b), gf256::mul(b, a));
            assert_eq!(gf256::add(a, b), gf256::add(b, a));
            if b != 0 {
                assert_eq!(gf256::mul(gf256::div(a, b), b), a);
            }
        }
    }
}

#[test]
fn associativity_and_distributivity_sampled() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for _ in 0..200_000 {
        let mut abc = [0u8; 3];
        rng.fill_bytes(&mut abc);
        let [a, b, c] = abc;
        assert_eq!(
            gf256::mul(gf256::mul(a, b), c),
            gf256::mul(a, gf256::mul(b, c))
        );
        assert_eq!(
            gf256::add(gf256::add(a, b), c),
            gf256::add(a, gf256::add(b, c))
        );
        assert_eq!(
            gf256::mul(a, gf256::add(b, c)),
            gf256::add(gf256::mul(a, b), gf256::mul(a, c))
        );
    }
}

#[test]
fn inverse_is_unique_and_a_bijection() {
    let mut seen = [false; 256];
    for a in 0..=255u8 {
        let i = gf256::inv(a);
        assert!(!seen[usize::from(i)], "inv is not injective at {a:#04x}");
        seen[usize::from(i)] = true;
        assert_eq!(gf256::inv(i), a);
    }
}

/// Evaluates sum coeffs[k] x^k per byte, with Horner's rule.
fn eval(coeffs: &[Vec<u8>], x: u8) -> Vec<u8> {
    let len = coeffs[0].len();
    let mut acc = vec![0u8; len];
    for c in coeffs.iter().rev() {
        for (a, &ck) in acc.iter_mut().zip(c) {
            *a = gf256::add(gf256::mul(*a, x), ck);
        }
    }
    acc
}

#[test]
fn interpolation_recovers_random_polynomials() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let xs_sets: [&[u8]; 4] = [
        &[7, 200, 31, 254],
        &[0, 255, 128],
        &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        &[99],
    ];
    for xs in xs_sets {
        for _ in 0..20 {
            let len = 1 + (rng.next_u32() % 40) as usize;
            let coeffs: Vec<Vec<u8>> = (0..xs.len())
                .map(|_| {
                    let mut c = vec![0u8; len];
                    rng.fill_bytes(&mut c);
                    c
                })
                .collect();
            let ys: Vec<Vec<u8>> = xs.iter().map(|&x| eval(&coeffs, x)).collect();
            let points: Vec<(u8, &[u8])> = xs
                .iter()
                .zip(&ys)
                .map(|(&x, y)| (x, y.as_slice()))
                .collect();
            for x in [0u8, 1, 2, 3, 17, 42, 253, 254, 255] {
                let got = gf256::interpolate(&points, x).unwrap();
                assert_eq!(
                    got.as_slice(),
                    eval(&coeffs, x).as_slice(),
                    "xs={xs:?} x={x}"
                );
            }
        }
    }
}

#[test]
fn interpolation_at_a_known_x_returns_that_y() {
    let points: [(u8, &[u8]); 3] = [(7, &[1, 2]), (200, &[3, 4]), (31, &[5, 6])];
    assert_eq!(
        gf256::interpolate(&points, 200).unwrap().as_slice(),
        &[3, 4]
    );
}

#[test]
fn degree_two_needs_three_points() {
    // f(x) = 5 + 9x + 0x77 x^2, one byte.
    let coeffs = vec![vec![5u8], vec![9u8], vec![0x77u8]];
    let xs = [7u8, 200, 31];
    let ys: Vec<Vec<u8>> = xs.iter().map(|&x| eval(&coeffs, x)).collect();
    let three: Vec<(u8, &[u8])> = xs
        .iter()
        .zip(&ys)
        .map(|(&x, y)| (x, y.as_slice()))
        .collect();
    assert_eq!(gf256::interpolate(&three, 0).unwrap().as_slice(), &[5]);
    assert_eq!(
        gf256::interpolate(&three, 254).unwrap().as_slice(),
        eval(&coeffs, 254).as_slice()
    );
    let two = &three[..2];
    assert_ne!(gf256::interpolate(two, 0).unwrap().as_slice(), &[5]);
}

#[test]
fn interpolation_errors() {
    assert_eq!(
        gf256::interpolate(&[], 0).unwrap_err(),
        InterpolationError::Empty
    );
    let dup: [(u8, &[u8]); 2] = [(3, &[1]), (3, &[2])];
    assert_eq!(
        gf256::interpolate(&dup, 0).unwrap_err(),
        InterpolationError::DuplicateX(3)
    );
    let ragged: [(u8, &[u8]); 2] = [(3, &[1]), (4, &[2, 3])];
    assert_eq!(
        gf256::interpolate(&ragged, 0).unwrap_err(),
        InterpolationError::LengthMismatch
    );
}

/// Every byte value in every position of a 16-byte block goes through the shuffle path.
#[test]
fn multiply_accumulate_covers_every_byte_in_every_lane() {
    for coefficient in 0..=255u8 {
        let y: Vec<u8> = (0..=255u8).collect();
        let mut acc = vec![0u8; 256];
        gf256::mul_add_into(&mut acc, coefficient, &y);
        for (k, (&got, &b)) in acc.iter().zip(&y).enumerate() {
            assert_eq!(
                got,
                slow_mul(coefficient, b),
                "byte {k}, coefficient {coefficient:#04x}"
            );
        }
        let rotated: Vec<u8> = y.iter().map(|b| b.wrapping_add(7)).collect();
        let mut acc = vec![0u8; 256];
        gf256::mul_add_into(&mut acc, coefficient, &rotated);
        for (&got, &b) in acc.iter().zip(&rotated) {
            assert_eq!(got, slow_mul(coefficient, b));
        }
    }
}
