//! The signing proxy's tokens: what a bot puts in place of its API key. A token is 32 random
//! bytes (unpadded base64url, 43 characters), issued over the agent's socket to a client the
//! access policy admits, for one credential; the agent keeps only its SHA-256, with the uid
//! the kernel reported for the client that asked, the credential, and the policy's terms for
//! it. Tokens live as long as the unlocked session: sealing wipes them all.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::vault::access::ProxyTerms;

/// The most tokens one session keeps; issuing one more forgets the oldest.
pub const MAX_TOKENS: usize = 4096;

/// What a token was issued for.
#[derive(Clone, Debug)]
pub struct Issued {
    /// Its number in the session (keys the order budgets).
    pub id: u64,
    /// The uid of the client it was issued to (the only uid it works for).
    pub uid: u32,
    /// The credential it stands for.
    pub credential: String,
    /// What the admitting rule allows through the proxy.
    pub terms: ProxyTerms,
    /// The client it was issued to, as records name it.
    pub client: String,
}

/// The tokens of one session.
#[derive(Default)]
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Issued>,
    next: u64,
}

impl Tokens {
    /// Issue a token; the caller hands it to the client and keeps no copy.
    pub fn issue(
        &mut self,
        uid: u32,
        credential: &str,
        terms: ProxyTerms,
        client: String,
    ) -> Zeroizing<String> {
        if self.by_hash.len() >= MAX_TOKENS
            && let Some(oldest) = self
                .by_hash
                .iter()
                .min_by_key(|(_, i)| i.id)
                .map(|(h, _)| *h)
        {
            self.by_hash.remove(&oldest);
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut *raw);
        let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(*raw));
        self.next += 1;
        self.by_hash.insert(
            Sha256::digest(token.as_bytes()).into(),
            Issued {
                id: self.next,
                uid,
                credential: credential.to_owned(),
                terms,
                client,
            },
        );
        token
    }

    /// What `token` was issued for, if this session issued it.
    pub fn find(&self, token: &str) -> Option<&Issued> {
        let h: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&h)
    }

    /// How many tokens the session holds.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_only_as_issued_and_the_oldest_goes_first() {
        let mut t = Tokens::default();
        let a = t.issue(
            1000,
            "binance-main",
            ProxyTerms::default(),
            "uid 1000".into(),
        );
        assert_eq!(a.len(), crate::proxy::target::TOKEN_CHARS);
        assert_eq!(t.find(&a).unwrap().credential, "binance-main");
        assert!(t.find("x").is_none());
        let mut flipped = a.to_string();
        flipped.replace_range(0..1, if flipped.starts_with('A') { "B" } else { "A" });
        assert!(t.find(&flipped).is_none());
        for _ in 0..MAX_TOKENS {
            t.issue(1000, "c", ProxyTerms::default(), String::new());
        }
        assert_eq!(t.len(), MAX_TOKENS);
        assert!(t.find(&a).is_none(), "the oldest token is forgotten first");
    }
}
