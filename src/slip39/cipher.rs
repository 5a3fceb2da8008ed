//! The passphrase encryption of the master secret: a 4-round Feistel network whose round
//! function is PBKDF2-HMAC-SHA256, giving the encrypted master secret (EMS) that is shared.

use std::fmt;

use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::error::Slip39Error;
use super::{MAX_SECRET_BYTES, MIN_SECRET_BYTES};

const ROUNDS: u8 = 4;
const BASE_ITERATIONS: u32 = 10_000;

/// An encrypted master secret with the public parameters needed to decrypt it.
#[derive(Clone)]
pub struct EncryptedMasterSecret {
    /// Random 15-bit identifier shared by all shares of the set.
    pub identifier: u16,
    /// Extendable backup flag: when set, the identifier is not part of the encryption salt.
    pub extendable: bool,
    /// PBKDF2 uses `10000 << iteration_exponent` iterations in total (4 bits).
    pub iteration_exponent: u8,
    /// The EMS bytes.
    pub ciphertext: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for EncryptedMasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedMasterSecret")
            .field("identifier", &self.identifier)
            .field("extendable", &self.extendable)
            .field("iteration_exponent", &self.iteration_exponent)
            .field("ciphertext", &"<redacted>")
            .finish()
    }
}

/// Checks that a passphrase is printable ASCII (code points 32..=126).
pub(crate) fn check_passphrase(passphrase: &[u8]) -> Result<(), Slip39Error> {
    if passphrase.iter().all(|&c| (32..=126).contains(&c)) {
        Ok(())
    } else {
        Err(Slip39Error::InvalidPassphrase)
    }
}

/// Checks the length rules of a master secret or share value.
pub(crate) fn check_secret_len(len: usize) -> Result<(), Slip39Error> {
    if len < MIN_SECRET_BYTES {
        return Err(Slip39Error::SecretTooShort { len });
    }
    if len > MAX_SECRET_BYTES {
        return Err(Slip39Error::SecretTooLong {
            len,
            max: MAX_SECRET_BYTES,
        });
    }
    if !len.is_multiple_of(2) {
        return Err(Slip39Error::OddLength { len });
    }
    Ok(())
}

pub(crate) fn check_public_params(
    identifier: u16,
    iteration_exponent: u8,
) -> Result<(), Slip39Error> {
    if identifier >> 15 != 0 {
        return Err(Slip39Error::InvalidParameter {
            field: "identifier",
            value: u32::from(identifier),
        });
    }
    if iteration_exponent > 15 {
        return Err(Slip39Error::InvalidParameter {
            field: "iteration exponent",
            value: u32::from(iteration_exponent),
        });
    }
    Ok(())
}

fn salt_prefix(identifier: u16, extendable: bool) -> Vec<u8> {
    if extendable {
        Vec::new()
    } else {
        let mut salt = b"shamir".to_vec();
        salt.extend_from_slice(&identifier.to_be_bytes());
        salt
    }
}

/// XORs F(round, right) into `left`.
fn apply_round(
    round: u8,
    passphrase: &[u8],
    iterations: u32,
    prefix: &[u8],
    right: &[u8],
    left: &mut [u8],
) {
    let mut password = Zeroizing::new(Vec::with_capacity(passphrase.len() + 1));
    password.push(round);
    password.extend_from_slice(passphrase);
    let mut salt = Zeroizing::new(Vec::with_capacity(prefix.len() + right.len()));
    salt.extend_from_slice(prefix);
    salt.extend_from_slice(right);
    let mut f = Zeroizing::new(vec![0u8; right.len()]);
    pbkdf2::pbkdf2_hmac::<Sha256>(&password, &salt, iterations, &mut f);
    for (l, k) in left.iter_mut().zip(f.iter()) {
        *l ^= k;
    }
}

/// Runs the Feistel network over `input` with the given round order; returns R || L.
fn feistel(
    input: &[u8],
    passphrase: &[u8],
    identifier: u16,
    extendable: bool,
    iteration_exponent: u8,
    rounds: &[u8],
) -> Zeroizing<Vec<u8>> {
    let half = input.len() / 2;
    let mut left = Zeroizing::new(input[..half].to_vec());
    let mut right = Zeroizing::new(input[half..].to_vec());
    let iterations = (BASE_ITERATIONS << iteration_exponent) / u32::from(ROUNDS);
    let prefix = salt_prefix(identifier, extendable);
    for &round in rounds {
        // (L, R) = (R, L xor F(i, R))
        apply_round(round, passphrase, iterations, &prefix, &right, &mut left);
        std::mem::swap(&mut left, &mut right);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(input.len()));
    out.extend_from_slice(&right);
    out.extend_from_slice(&left);
    left.zeroize();
    right.zeroize();
    out
}

impl EncryptedMasterSecret {
    /// Encrypts `master_secret` (16..=MAX_SECRET_BYTES bytes, even length) under `passphrase`
    /// (printable ASCII, may be empty).
    pub fn encrypt(
        master_secret: &[u8],
        passphrase: &[u8],
        identifier: u16,
        extendable: bool,
        iteration_exponent: u8,
    ) -> Result<Self, Slip39Error> {
        check_passphrase(passphrase)?;
        check_secret_len(master_secret.len())?;
        check_public_params(identifier, iteration_exponent)?;
        let ciphertext = feistel(
            master_secret,
            passphrase,
            identifier,
            extendable,
            iteration_exponent,
            &[0, 1, 2, 3],
        );
        Ok(EncryptedMasterSecret {
            identifier,
            extendable,
            iteration_exponent,
            ciphertext,
        })
    }

    /// Decrypts with `passphrase`. Any passphrase "works": a wrong one gives a different
    /// secret, there is no way to detect it here.
    pub fn decrypt(&self, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, Slip39Error> {
        check_passphrase(passphrase)?;
        check_secret_len(self.ciphertext.len())?;
        check_public_params(self.identifier, self.iteration_exponent)?;
        Ok(feistel(
            &self.ciphertext,
            passphrase,
            self.identifier,
            self.extendable,
            self.iteration_exponent,
            &[3, 2, 1, 0],
        ))
    }
}
