//! What the audit log keeps of a remote ceremony (nothing secret): the session id, the SHA-256
//! of its comparison phrase (so a later reader can check which phrase the officers compared),
//! who signed the code, and the envelopes opened. Each remote share's own record names its
//! envelope and when it was received (its input label).

use super::HostSession;
use crate::keys::{fingerprint, hex};
use crate::timefmt;

/// A remote ceremony, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// The session id, hex.
    pub session_id: String,
    /// SHA-256 of the comparison phrase's text, hex.
    pub phrase_hash: String,
    /// The fingerprint of the host key that signed the code, if one did.
    pub signer: Option<String>,
    /// When the session expires (Unix seconds).
    pub expires: u64,
    /// How many envelopes were opened.
    pub envelopes: usize,
}

impl CeremonyRecord {
    /// The record of `session` as it stands.
    pub fn of(session: &HostSession) -> CeremonyRecord {
        let code = session.code();
        CeremonyRecord {
            session_id: hex(code.session_id()),
            phrase_hash: session.phrase().hash_hex(),
            signer: code.signer().map(|k| fingerprint(&k)),
            expires: session.expires(),
            envelopes: session.contributions().len(),
        }
    }

    /// The value of the ceremony's `remote-ceremony` note.
    pub fn note_value(&self) -> String {
        format!(
            "session {}; comparison phrase sha256 {}; code {}; expires {}; {} envelope(s) opened",
            self.session_id,
            self.phrase_hash,
            match &self.signer {
                Some(f) => format!("signed by host key {f}"),
                None => "unsigned".to_owned(),
            },
            timefmt::rfc3339(self.expires),
            self.envelopes
        )
    }
}
