//! Test support, not part of the interface: deterministic vaults (fixed secrets, vault ids,
//! creation time and a seeded ChaCha20 RNG for the share split) with signed tokens, shared by
//! the unit tests and the integration tests so every fixture is built the same way.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::keys::{DerivedKeys, MasterSecret};
use crate::policy::Policy;
use crate::slip39;
use crate::token::{Token, TokenInfo};
use crate::vault::{Slip39Params, Vault};

/// The creation time of every test vault and token (2025-11-28T18:00:00Z).
pub const CREATED: u64 = 1_764_352_800;

/// The keys derived from a master secret of 32 bytes all equal to `secret_byte`.
pub fn test_keys(secret_byte: u8) -> DerivedKeys {
    MasterSecret::from_bytes(&[secret_byte; 32])
        .unwrap()
        .derive()
        .unwrap()
}

/// A vault with id `[vault_id; 16]` created at [`CREATED`]: extendable shares of SLIP-39 set
/// `identifier`, iteration exponent 0, no passphrase.
pub fn create_vault(keys: &DerivedKeys, vault_id: u8, identifier: u16, policy: Policy) -> Vault {
    Vault::create(
        [vault_id; 16],
        CREATED,
        keys,
        Slip39Params {
            identifier,
            extendable: true,
            iteration_exponent: 0,
            passphrase: false,
        },
        policy,
    )
    .unwrap()
}

/// A vault without shares: 2 of alice, bob, carol, SLIP-39 identifier 1234.
pub fn vault_for(keys: &DerivedKeys, vault_id: u8) -> Vault {
    let names: Vec<String> = ["alice", "bob", "carol"].map(String::from).to_vec();
    create_vault(keys, vault_id, 1234, Policy::single(2, &names).unwrap())
}

/// A vault, its keys, and a signed token (epoch 1) for every member.
pub struct TestVault {
    /// The keys derived from the test master secret.
    pub keys: DerivedKeys,
    /// The signed vault (no credentials).
    pub vault: Vault,
    /// Per group, per member: the token.
    pub tokens: Vec<Vec<Token>>,
}

/// A vault with id `[vault_id; 16]` for the master secret `[secret_byte; 32]`, split with a
/// ChaCha20 RNG seeded with `seed` among `groups` (name, threshold, members; one group is the
/// single `custodians` policy, several are named `group/member`) with `group_threshold`.
pub fn test_vault(
    secret_byte: u8,
    vault_id: u8,
    seed: u64,
    groups: &[(&str, u8, &[&str])],
    group_threshold: u8,
) -> TestVault {
    let policy = if groups.len() == 1 {
        let names: Vec<String> = groups[0].2.iter().map(|s| s.to_string()).collect();
        Policy::single(groups[0].1, &names).unwrap()
    } else {
        let specs: Vec<String> = groups.iter().map(|(n, k, _)| format!("{n}:{k}")).collect();
        let custodians: Vec<String> = groups
            .iter()
            .flat_map(|(n, _, ms)| ms.iter().map(move |m| format!("{n}/{m}")))
            .collect();
        Policy::grouped(&specs, &custodians, Some(group_threshold)).unwrap()
    };
    test_vault_for_policy(secret_byte, vault_id, seed, policy)
}

/// As [`test_vault`], for a `policy` built field by field: names that [`Policy::single`] and
/// [`Policy::grouped`] would refuse today, as a vault written by an older custody may hold
/// (only [`Policy::validate`], the rule for stored policies, applies).
pub fn test_vault_for_policy(
    secret_byte: u8,
    vault_id: u8,
    seed: u64,
    policy: Policy,
) -> TestVault {
    let master = MasterSecret::from_bytes(&[secret_byte; 32]).unwrap();
    let keys = master.derive().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let shares = slip39::generate_shares(
        &mut rng,
        master.expose(),
        b"",
        policy.group_threshold,
        &policy.group_specs(),
        true,
        0,
    )
    .unwrap();
    let vault = create_vault(&keys, vault_id, shares[0][0].identifier, policy.clone());
    // One share per custodian: in a group that holds copies, a copy each.
    let mut issued = crate::ops::issue::policy_shares(&policy, shares).into_iter();
    let tokens = policy
        .groups
        .iter()
        .map(|g| {
            g.custodians
                .iter()
                .map(|_| {
                    let (group, custodian, share) = issued.next().unwrap();
                    Token::sign(
                        TokenInfo {
                            vault_id: vault.vault_id(),
                            epoch: 1,
                            created: CREATED,
                            custodian,
                            group,
                        },
                        share,
                        keys.signing_key(),
                    )
                    .unwrap()
                })
                .collect()
        })
        .collect();
    TestVault {
        keys,
        vault,
        tokens,
    }
}

/// `vault` as it would stand at share-set `epoch`, begun at `started` (Unix seconds), re-signed
/// with `keys`: for tests of the epoch rules.
pub fn at_epoch(vault: &Vault, keys: &DerivedKeys, epoch: u32, started: u64) -> Vault {
    vault.at_epoch_for_tests(keys, epoch, started)
}
