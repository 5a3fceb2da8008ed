//! The record of a change made without a quorum that awaits a quorum's ratification in the
//! vault: to the agent access policy (`agent policy add` / `remove`) or to the known hosts
//! (`hosts add` / `remove`). One self-contained record, chained like every other, unsigned
//! because no quorum is present.

use rand_core::{OsRng, RngCore};

use super::chain;
use super::record::{Event, Record};
use super::{AuditError, AuditLog, LogHead, host_name};
use crate::clock::Clock;
use crate::keys::hex;
use crate::timefmt;

impl AuditLog {
    /// Append the record of `action` (`agent policy add`, `agent policy remove`) with the rule
    /// it proposed, in one line (`summary`; never a secret). Returns the new head.
    pub fn record_policy_change(
        &self,
        action: &str,
        summary: &str,
        clock: Clock,
    ) -> Result<LogHead, AuditError> {
        self.record_change(Event::AgentPolicy, action, summary, clock)
    }

    /// Append the record of `action` (`hosts add`, `hosts remove`) with the host it changed,
    /// in one line (`summary`: `NAME <FINGERPRINT>` and what happened). Returns the new head.
    pub fn record_host_change(
        &self,
        action: &str,
        summary: &str,
        clock: Clock,
    ) -> Result<LogHead, AuditError> {
        self.record_change(Event::KnownHost, action, summary, clock)
    }

    /// One unsigned `event` record of `action` and its `summary`, under a new ceremony id.
    fn record_change(
        &self,
        event: Event,
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
            event,
            action: Some(action.to_owned()),
            summary: Some(summary.to_owned()),
            ..Record::default()
        };
        chain::append(self, |seq, prev| Ok(chain::body_line(r, seq, prev)))
    }
}
