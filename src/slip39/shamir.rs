//! One level of SLIP-0039 secret sharing: split a secret into `n` shares with threshold `t`
//! (secret at x = 255, digest share at x = 254), and recover it with digest verification,
//! tolerating extra shares by searching for a verifying threshold-sized subset.

use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::gf256;

/// x-coordinate of the shared secret.
pub const SECRET_INDEX: u8 = 255;
/// x-coordinate of the digest share.
pub const DIGEST_INDEX: u8 = 254;
/// Length of the digest at the front of the digest share.
pub const DIGEST_BYTES: usize = 4;

/// First four bytes of HMAC-SHA256(key = random_part, msg = secret).
fn digest(random_part: &[u8], secret: &[u8]) -> Zeroizing<[u8; DIGEST_BYTES]> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(random_part).expect("HMAC accepts any key length");
    mac.update(secret);
    let full = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
    let mut out = Zeroizing::new([0u8; DIGEST_BYTES]);
    out.copy_from_slice(&full[..DIGEST_BYTES]);
    out
}

/// Constant-time equality of two byte strings of public length.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Splits `secret` into `count` shares (x = 0..count) with threshold `threshold`.
/// The caller has validated 1 <= threshold <= count <= 16 and the secret length (>= 16).
/// Randomness is consumed exactly as the reference implementation does: first the
/// `threshold - 2` random shares, then the digest's random part.
pub fn split_secret<R: RngCore + CryptoRng>(
    rng: &mut R,
    threshold: u8,
    count: u8,
    secret: &[u8],
) -> Vec<Zeroizing<Vec<u8>>> {
    if threshold == 1 {
        return (0..count)
            .map(|_| Zeroizing::new(secret.to_vec()))
            .collect();
    }
    let len = secret.len();
    let random_count = threshold - 2;
    let mut shares: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(usize::from(count));
    for _ in 0..random_count {
        let mut y = Zeroizing::new(vec![0u8; len]);
        rng.fill_bytes(&mut y);
        shares.push(y);
    }
    let mut digest_share = Zeroizing::new(vec![0u8; len]);
    rng.fill_bytes(&mut digest_share[DIGEST_BYTES..]);
    let d = digest(&digest_share[DIGEST_BYTES..], secret);
    digest_share[..DIGEST_BYTES].copy_from_slice(&d[..]);

    let mut base: Vec<(u8, &[u8])> = shares
        .iter()
        .enumerate()
        .map(|(i, y)| (i as u8, y.as_slice()))
        .collect();
    base.push((DIGEST_INDEX, &digest_share));
    base.push((SECRET_INDEX, secret));
    let computed: Vec<Zeroizing<Vec<u8>>> = (random_count..count)
        .map(|x| gf256::interpolate(&base, x).expect("distinct x-coordinates and equal lengths"))
        .collect();
    drop(base);
    shares.extend(computed);
    shares
}

/// Recovers the secret from exactly `threshold` points and checks its digest. Returns `None`
/// if the digest does not verify. For threshold 1 the single point is the secret.
pub fn recover_exact(threshold: u8, points: &[(u8, &[u8])]) -> Option<Zeroizing<Vec<u8>>> {
    if threshold == 1 {
        return points.first().map(|(_, y)| Zeroizing::new(y.to_vec()));
    }
    let secret = gf256::interpolate(points, SECRET_INDEX).ok()?;
    let digest_share = gf256::interpolate(points, DIGEST_INDEX).ok()?;
    if digest_share.len() < DIGEST_BYTES {
        return None;
    }
    let expected = digest(&digest_share[DIGEST_BYTES..], &secret);
    if ct_eq(&expected[..], &digest_share[..DIGEST_BYTES]) {
        Some(secret)
    } else {
        None
    }
}

/// Outcome of recovering one level from possibly more than `threshold` points.
pub enum Recovery {
    /// The secret; every extra point agreed with it.
    Secret(Zeroizing<Vec<u8>>),
    /// A verifying subset was found, but the points at these indices (into the input slice)
    /// do not lie on its polynomial.
    Inconsistent(Vec<usize>),
    /// No subset of `threshold` points verifies.
    DigestMismatch,
}

/// Advances `combo` (strictly increasing indices < n) to the next combination; false at the end.
fn next_combination(combo: &mut [usize], n: usize) -> bool {
    let k = combo.len();
    for i in (0..k).rev() {
        if combo[i] < n - k + i {
            combo[i] += 1;
            for j in i + 1..k {
                combo[j] = combo[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Recovers from `points` (distinct x, equal lengths, at least `threshold` of them).
///
/// With threshold 1 there is no digest: all points must be equal, otherwise every point is
/// reported (there is no way to tell which is genuine). With threshold >= 2, subsets of size
/// `threshold` are tried in lexicographic order until one verifies; all other points must
/// lie on the same polynomial.
pub fn recover(threshold: u8, points: &[(u8, &[u8])]) -> Recovery {
    let n = points.len();
    let k = usize::from(threshold);
    debug_assert!(k >= 1 && n >= k);
    if threshold == 1 {
        let first = points[0].1;
        if points.iter().all(|(_, y)| ct_eq(y, first)) {
            return Recovery::Secret(Zeroizing::new(first.to_vec()));
        }
        return Recovery::Inconsistent((0..n).collect());
    }
    let mut combo: Vec<usize> = (0..k).collect();
    loop {
        let subset: Vec<(u8, &[u8])> = combo.iter().map(|&i| points[i]).collect();
        if let Some(secret) = recover_exact(threshold, &subset) {
            let mut bad = Vec::new();
            for (i, &(x, y)) in points.iter().enumerate() {
                if combo.contains(&i) {
                    continue;
                }
                match gf256::interpolate(&subset, x) {
                    Ok(expected) if ct_eq(&expected, y) => {}
                    _ => bad.push(i),
                }
            }
            return if bad.is_empty() {
                Recovery::Secret(secret)
            } else {
                Recovery::Inconsistent(bad)
            };
        }
        if !next_combination(&mut combo, n) {
            return Recovery::DigestMismatch;
        }
    }
}
