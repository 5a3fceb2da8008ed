//! The record of a change to the vault's known hosts made without a quorum (`hosts add` or
//! `hosts remove`): one self-contained record, chained like every other, unsigned because no
//! quorum is present. The change itself awaits a quorum's ratification in the vault.

use rand_core::{OsRng, RngCore};

use super::chain;
use super::record::{Event, Record};
use super::{AuditError, AuditLog, LogHead, host_name};
use crate::clock::Clock;
use crate::keys::hex;
use crate::timefmt;

impl AuditLog {
    /// Append the record of `action` (`hosts add`, `hosts remove`) with the host it changed,
    /// in one line (`summary`: `NAME <FINGERPRINT>` and what happened). Returns the new head.
    pub fn record_host_change(
        &self,
        action: &str,
        summary: &str,
        clock: Clock,
    ) -> Result<LogHead, AuditError> {
        let mut id = [0u8; 8];
        OsRng.fill_bytes(&mut id);
        let r = Record {
            time: timefmt::rfc3339(clock.now()),
            host: host_name(),
            ceremony: hex(&id),
            event: Event::KnownHost,
            action: Some(action.to_owned()),
            summary: Some(summary.to_owned()),
            ..Record::default()
        };
        chain::append(self, |seq, prev| Ok(chain::body_line(r, seq, prev)))
    }
}
