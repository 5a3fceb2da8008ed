//! Extending one group with new members: a member threshold of the group's shares fixes the
//! group's member polynomial, which is evaluated at new member indices. The group share (and so
//! the secret, the identifier and every other group) stays the same; the new shares combine
//! with the existing ones like the originals do.

use zeroize::Zeroizing;

use super::MAX_SHARE_COUNT;
use super::error::Slip39Error;
use super::shamir;
use super::share::Share;
use crate::gf256;

/// New shares of the group `shares_of_group` belong to, one at each of `new_member_indices`
/// (0-based), in that order. At least the group's member threshold of shares must be given;
/// they must all be of the same set and group, with distinct member indices, and (beyond the
/// threshold) agree with the polynomial the first ones define. For a member threshold above 1,
/// the group's digest must verify, so a forged or mistyped share cannot give rise to new ones.
pub fn extend_group(
    shares_of_group: &[&Share],
    new_member_indices: &[u8],
) -> Result<Vec<Share>, Slip39Error> {
    let first = *shares_of_group.first().ok_or(Slip39Error::Empty)?;
    for (i, s) in shares_of_group.iter().enumerate().skip(1) {
        let field = if s.identifier != first.identifier {
            Some("identifier")
        } else if s.extendable != first.extendable {
            Some("extendable flag")
        } else if s.iteration_exponent != first.iteration_exponent {
            Some("iteration exponent")
        } else if s.group_index != first.group_index {
            Some("group index")
        } else if s.group_threshold != first.group_threshold || s.group_count != first.group_count {
            Some("group threshold")
        } else if s.member_threshold != first.member_threshold {
            Some("member threshold")
        } else if s.value.len() != first.value.len() {
            Some("share length")
        } else {
            None
        };
        if let Some(field) = field {
            return Err(Slip39Error::MismatchedParameter {
                field,
                first: 0,
                other: i,
            });
        }
        if let Some(j) = shares_of_group[..i]
            .iter()
            .position(|o| o.member_index == s.member_index)
        {
            return Err(Slip39Error::DuplicateMember {
                group_index: s.group_index,
                member_index: s.member_index,
                first: j,
                second: i,
                identical: shamir::ct_eq(&shares_of_group[j].value, &s.value),
            });
        }
    }
    let threshold = first.member_threshold;
    if shares_of_group.len() < usize::from(threshold) {
        return Err(Slip39Error::InsufficientMembers {
            group_index: first.group_index,
            have: shares_of_group.len(),
            need: usize::from(threshold),
        });
    }
    for (i, &x) in new_member_indices.iter().enumerate() {
        if x >= MAX_SHARE_COUNT {
            return Err(Slip39Error::InvalidParameter {
                field: "member index",
                value: u32::from(x),
            });
        }
        if new_member_indices[..i].contains(&x) {
            return Err(Slip39Error::InvalidParameter {
                field: "repeated new member index",
                value: u32::from(x),
            });
        }
    }
    let points: Vec<(u8, &[u8])> = shares_of_group
        .iter()
        .take(usize::from(threshold))
        .map(|s| (s.member_index, s.value.as_slice()))
        .collect();
    let malformed = |_| Slip39Error::MalformedShare {
        position: 0,
        reason: "the group's shares do not define a polynomial",
    };
    if threshold > 1 && shamir::recover_exact(threshold, &points).is_none() {
        return Err(Slip39Error::DigestMismatch {
            group_index: Some(first.group_index),
        });
    }
    // Every share beyond the threshold must lie on the same polynomial.
    let mut inconsistent = Vec::new();
    for (i, s) in shares_of_group
        .iter()
        .enumerate()
        .skip(usize::from(threshold))
    {
        let expected = gf256::interpolate(&points, s.member_index).map_err(malformed)?;
        if !shamir::ct_eq(&expected, &s.value) {
            inconsistent.push(i);
        }
    }
    if !inconsistent.is_empty() {
        return Err(Slip39Error::InconsistentShares {
            shares: inconsistent,
            group_index: Some(first.group_index),
        });
    }
    new_member_indices
        .iter()
        .map(|&x| {
            let value: Zeroizing<Vec<u8>> = gf256::interpolate(&points, x).map_err(malformed)?;
            Ok(Share {
                member_index: x,
                value,
                ..first.clone()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::slip39::{GroupSpec, combine, generate_shares};

    const SECRET: &[u8] = b"sixteen byte key and more";

    fn groups(seed: u64, specs: &[(u8, u8)], group_threshold: u8) -> Vec<Vec<Share>> {
        let specs: Vec<GroupSpec> = specs
            .iter()
            .map(|&(t, n)| GroupSpec {
                member_threshold: t,
                member_count: n,
            })
            .collect();
        let secret = &SECRET[..16];
        generate_shares(
            &mut ChaCha20Rng::seed_from_u64(seed),
            secret,
            b"",
            group_threshold,
            &specs,
            true,
            0,
        )
        .unwrap()
    }

    #[test]
    fn recreates_the_original_share_at_an_index() {
        let g = groups(1, &[(2, 3)], 1);
        let made = extend_group(&[&g[0][0], &g[0][1]], &[2]).unwrap();
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].member_index, 2);
        assert_eq!(made[0].value, g[0][2].value);
        assert_eq!(made[0].to_words(), g[0][2].to_words());
        // From another pair, too.
        let again = extend_group(&[&g[0][2], &g[0][0]], &[1]).unwrap();
        assert_eq!(again[0].to_words(), g[0][1].to_words());
    }

    #[test]
    fn new_members_combine_with_old_ones() {
        let g = groups(2, &[(3, 5), (2, 2)], 2);
        let shares_of_0: Vec<&Share> = g[0].iter().take(3).collect();
        let made = extend_group(&shares_of_0, &[5, 9]).unwrap();
        assert_eq!(
            made.iter().map(|s| s.member_index).collect::<Vec<_>>(),
            [5, 9]
        );
        let set = vec![
            made[0].clone(),
            made[1].clone(),
            g[0][4].clone(),
            g[1][0].clone(),
            g[1][1].clone(),
        ];
        assert_eq!(&combine(&set, b"").unwrap()[..], &SECRET[..16]);
    }

    #[test]
    fn refusals() {
        let g = groups(3, &[(3, 5), (2, 2)], 2);
        assert_eq!(extend_group(&[], &[5]).unwrap_err(), Slip39Error::Empty);
        assert!(matches!(
            extend_group(&[&g[0][0], &g[0][1]], &[5]),
            Err(Slip39Error::InsufficientMembers {
                group_index: 0,
                have: 2,
                need: 3
            })
        ));
        assert!(matches!(
            extend_group(&[&g[0][0], &g[1][0], &g[0][1]], &[5]),
            Err(Slip39Error::MismatchedParameter { other: 1, .. })
        ));
        assert!(matches!(
            extend_group(&[&g[0][0], &g[0][1], &g[0][1]], &[5]),
            Err(Slip39Error::DuplicateMember {
                identical: true,
                ..
            })
        ));
        assert!(matches!(
            extend_group(&[&g[0][0], &g[0][1], &g[0][2]], &[16]),
            Err(Slip39Error::InvalidParameter { value: 16, .. })
        ));
        assert!(matches!(
            extend_group(&[&g[0][0], &g[0][1], &g[0][2]], &[6, 6]),
            Err(Slip39Error::InvalidParameter { value: 6, .. })
        ));
        // A tampered share: the digest does not verify.
        let mut bad = g[0][1].clone();
        bad.value[3] ^= 1;
        assert!(matches!(
            extend_group(&[&g[0][0], &bad, &g[0][2]], &[5]),
            Err(Slip39Error::DigestMismatch {
                group_index: Some(0)
            })
        ));
        // An extra share off the polynomial is named.
        let mut off = g[0][3].clone();
        off.value[0] ^= 1;
        assert!(matches!(
            extend_group(&[&g[0][0], &g[0][1], &g[0][2], &off], &[5]),
            Err(Slip39Error::InconsistentShares { ref shares, .. }) if shares == &[3]
        ));
    }
}
