//! The record of an audit-log repair: an officer removed a torn final line (a write that was
//! interrupted) and kept a copy of the damaged log. It is one self-contained record, chained
//! like every other; it is written without a quorum, so it is not signed.

use rand_core::{OsRng, RngCore};

use super::chain::{self, LockedLog};
use super::record::{Event, Record};
use super::{AuditError, LogHead, host_name};
use crate::clock::Clock;
use crate::keys::hex;
use crate::timefmt;

impl LockedLog<'_> {
    /// Append the record of a repair that removed `removed_bytes` bytes of a torn final line
    /// and kept the damaged log as `copy` (a file name beside the log). Returns the new head.
    pub fn record_repair(
        &self,
        removed_bytes: u64,
        copy: &str,
        clock: Clock,
    ) -> Result<LogHead, AuditError> {
        let mut id = [0u8; 8];
        OsRng.fill_bytes(&mut id);
        let r = Record {
            time: timefmt::rfc3339(clock.now()),
            host: host_name(),
            ceremony: hex(&id),
            event: Event::AuditRepair,
            removed_bytes: Some(removed_bytes),
            copy: Some(copy.to_owned()),
            ..Record::default()
        };
        self.append(|seq, prev| Ok(chain::body_line(r, seq, prev)))
    }
}
