//! Secret byte buffers: heap-allocated once, locked into RAM, zeroized on drop, and never
//! printed. The master secret and every key derived from it live in these.

use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox};
use std::fmt;
use zeroize::Zeroize;

use crate::harden;

/// A fixed-length secret byte string in locked memory.
pub struct SecretBytes {
    inner: SecretBox<[u8]>,
    locked: bool,
}

impl SecretBytes {
    /// A zero-filled buffer of `len` bytes, locked before anything secret is written to it.
    pub fn zeroed(len: usize) -> Self {
        let inner: SecretBox<[u8]> = SecretBox::new(vec![0u8; len].into_boxed_slice());
        let locked = harden::lock(inner.expose_secret());
        SecretBytes { inner, locked }
    }

    /// Copy `bytes` into a new locked buffer. The caller remains responsible for its copy.
    pub fn copy_from(bytes: &[u8]) -> Self {
        let mut s = Self::zeroed(bytes.len());
        s.expose_mut().copy_from_slice(bytes);
        s
    }

    /// The secret bytes, for reading. Do not copy them out of locked memory.
    pub fn expose(&self) -> &[u8] {
        self.inner.expose_secret()
    }

    /// The secret bytes, for writing in place.
    pub fn expose_mut(&mut self) -> &mut [u8] {
        self.inner.expose_secret_mut()
    }

    /// Length in bytes (public).
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// Whether the buffer holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the pages are locked in RAM (see [`harden::lock`]).
    pub fn is_locked(&self) -> bool {
        self.locked
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.inner.expose_secret_mut().zeroize();
        if self.locked {
            harden::unlock(self.inner.expose_secret());
        }
        // SecretBox zeroizes again when it drops, then frees.
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted {} bytes>)", self.len())
    }
}
