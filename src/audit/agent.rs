//! What an unlocked agent does, recorded after its unlock ceremony closed and without the
//! master key.
//!
//! The `agent-unlock` ceremony's closing record (a succeeded outcome, signed with the master
//! key) carries `agent_key`: the public half of a key made for this unlock alone. The master
//! secret and every key derived from it are then erased; the agent keeps only this key (in
//! locked memory) and signs with it every later record of the session: each credential handed
//! to a client (`agent-granted`), each refused request (`agent-refused`), each exchange request
//! its signing proxy forwarded or refused (`agent-proxied`, recorded in batches: `proxied`),
//! and finally why the agent sealed (`agent-sealed`), after which the key is erased. A session
//! whose agent sends exchange requests to a test upstream says so on every one of these
//! records ([`AgentRecorder::set_test_upstream`]).
//!
//! Verification ([`check`], called by `verify`): an `agent-*` record must come after its
//! ceremony's closing record, that record's master-key signature must verify and certify an
//! `agent_key`, the record's own signature must verify under that key (over the same message
//! as a closing record's, see `chain::signed_message`), and no record of the session may
//! follow its `agent-sealed` record. If the agent is killed with SIGKILL, its session simply
//! ends without an `agent-sealed` record (the memory it held is gone with the process).

use std::fmt;
use std::sync::Mutex;

use ed25519_dalek::Signer;

use super::chain::{self, signed_message};
use super::exit::{Certified, Claim, OneTimeKey, certified_key};
use super::record::{Event, Record};
use super::{AuditError, AuditLog, LogHead};
use crate::clock::Clock;
use crate::timefmt;

/// The client a record names: what the kernel said about the peer of the agent's socket.
#[derive(Clone, Copy, Debug, Default)]
pub struct AgentClient<'a> {
    /// User id (`SO_PEERCRED`).
    pub uid: u32,
    /// Group id (`SO_PEERCRED`).
    pub gid: u32,
    /// Process id (`SO_PEERCRED`).
    pub pid: u32,
    /// The executable (`/proc/PID/exe`), when the agent could read it.
    pub exe: Option<&'a str>,
    /// The systemd unit (from `/proc/PID/cgroup`), when the client runs in one.
    pub unit: Option<&'a str>,
}

/// The agent's recorder for one unlocked session: the log, the unlock ceremony's id, and the
/// key the ceremony's signed closing record certified. Dropping it records nothing (a seal
/// is recorded with [`AgentRecorder::sealed`]).
pub struct AgentRecorder {
    pub(super) log: AuditLog,
    pub(super) ceremony: String,
    pub(super) host: String,
    pub(super) clock: Clock,
    /// The key, behind a lock: connections record concurrently, and the chain is appended
    /// under the log's own lock anyway.
    pub(super) key: Mutex<OneTimeKey>,
    /// The test-only upstream the agent sends exchange requests to instead of the
    /// exchanges, if any: written on every record.
    pub(super) test_upstream: Mutex<Option<String>>,
}

impl fmt::Debug for AgentRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentRecorder")
            .field("ceremony", &self.ceremony)
            .field("test_upstream", &*lock(&self.test_upstream))
            .field("key", &"<redacted>")
            .finish()
    }
}

impl AgentRecorder {
    /// The unlock ceremony's id, shared by every record of the session.
    pub fn ceremony(&self) -> &str {
        &self.ceremony
    }

    /// From now on, every record of the session says that the agent sends exchange requests
    /// to `upstream` (the override as given, e.g. `binance=https://127.0.0.1:9443`) instead
    /// of the exchanges; `None` stops saying so.
    pub fn set_test_upstream(&self, upstream: Option<String>) {
        *lock(&self.test_upstream) = upstream;
    }

    /// A record of the session: its time now, the client if any, the test upstream if any.
    pub(super) fn record(&self, event: Event, client: Option<&AgentClient<'_>>) -> Record {
        let mut r = Record {
            time: timefmt::rfc3339(self.clock.now()),
            host: self.host.clone(),
            ceremony: self.ceremony.clone(),
            event,
            test_upstream: lock(&self.test_upstream).clone(),
            ..Record::default()
        };
        if let Some(c) = client {
            r.peer_uid = Some(c.uid);
            r.peer_gid = Some(c.gid);
            r.peer_pid = Some(c.pid);
            r.peer_exe = c.exe.map(str::to_owned);
            r.peer_unit = c.unit.map(str::to_owned);
        }
        r
    }

    fn append(&self, r: Record) -> Result<LogHead, AuditError> {
        self.append_all(vec![r])
    }

    /// Append `records` (at least one), each chained and signed with the key, in one write
    /// and one fsync under the log's lock.
    pub(super) fn append_all(&self, records: Vec<Record>) -> Result<LogHead, AuditError> {
        let key = lock(&self.key);
        let signing = key.signing_key();
        let count = records.len();
        let mut records = records.into_iter();
        chain::append_many(&self.log, count, |seq, prev| {
            let r = records.next().expect("one record per line");
            let body = chain::body_line(r, seq, prev);
            let sig = signing.sign(&signed_message(seq, prev, body.as_bytes()));
            Ok(chain::with_signature(&body, &sig.to_bytes()))
        })
    }

    /// `client` received `credentials` (names only). Written before the values are sent.
    pub fn granted(
        &self,
        client: &AgentClient<'_>,
        credentials: &[String],
    ) -> Result<LogHead, AuditError> {
        let mut r = self.record(Event::AgentGranted, Some(client));
        r.credentials = Some(credentials.to_vec());
        self.append(r)
    }

    /// `client` received signing-proxy tokens for `credentials` (names only). Written before
    /// the tokens are sent.
    pub fn proxy_tokens(
        &self,
        client: &AgentClient<'_>,
        credentials: &[String],
    ) -> Result<LogHead, AuditError> {
        let mut r = self.record(Event::AgentProxyToken, Some(client));
        r.credentials = Some(credentials.to_vec());
        self.append(r)
    }

    /// `client` was refused `credentials` (names asked for; may be empty) for `reason`;
    /// `count` > 1 when the record stands for several refusals of the same kind.
    pub fn refused(
        &self,
        client: &AgentClient<'_>,
        credentials: &[String],
        reason: &str,
        count: u64,
    ) -> Result<LogHead, AuditError> {
        let mut r = self.record(Event::AgentRefused, Some(client));
        if !credentials.is_empty() {
            r.credentials = Some(credentials.to_vec());
        }
        r.reason = Some(reason.to_owned());
        if count > 1 {
            r.count = Some(count);
        }
        self.append(r)
    }

    /// The agent sealed for `reason`: the last record of the session. The key is erased
    /// when this returns (the recorder is consumed).
    pub fn sealed(self, reason: &str) -> Result<LogHead, AuditError> {
        let mut r = self.record(Event::AgentSealed, None);
        r.reason = Some(reason.to_owned());
        self.append(r)
    }
}

/// `m` locked; a panic elsewhere while it was held does not stop the recording.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What is wrong with an `agent-*` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentProblem {
    /// No verified closing record of its ceremony before it certifies an agent key.
    Uncertified,
    /// Unsigned, or its signature does not verify under the certified agent key.
    BadSignature,
    /// It follows the session's `agent-sealed` record, after which the key signs nothing.
    AfterSeal,
}

impl fmt::Display for AgentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AgentProblem::Uncertified => {
                "records what an agent did, but no signed closing record of its unlock \
                 ceremony before it certifies an agent key: it was added by someone else"
            }
            AgentProblem::BadSignature => {
                "records what an agent did, but is not signed with the key its unlock \
                 ceremony's signed record certified: the record was edited or forged"
            }
            AgentProblem::AfterSeal => {
                "records what an agent did after the same session recorded that it sealed: \
                 the record was added or moved"
            }
        })
    }
}

/// An `agent-*` record as read, waiting for its check.
pub(super) struct AgentClaim {
    pub claim: Claim,
    pub sealed: bool,
}

/// Check every agent claim (in log order) against the agent keys certified before it in its
/// ceremony. Returns the problems (line, what) and the lines of the records that verified.
pub(super) fn check(
    claims: &[AgentClaim],
    certified: &[Certified],
) -> (Vec<(usize, AgentProblem)>, Vec<usize>) {
    let mut problems = Vec::new();
    let mut verified = Vec::new();
    let mut sealed: Vec<&str> = Vec::new();
    for AgentClaim {
        claim: c,
        sealed: seals,
    } in claims
    {
        let key = certified
            .iter()
            .find(|k| k.ceremony == c.ceremony && k.line < c.line)
            .and_then(|k| certified_key(&k.key));
        let Some(key) = key else {
            problems.push((c.line, AgentProblem::Uncertified));
            continue;
        };
        let ok = c.signed_by(&key);
        if !ok {
            problems.push((c.line, AgentProblem::BadSignature));
        } else if sealed.contains(&c.ceremony.as_str()) {
            problems.push((c.line, AgentProblem::AfterSeal));
        } else {
            verified.push(c.line);
            if *seals {
                sealed.push(&c.ceremony);
            }
        }
    }
    (problems, verified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn claim(line: usize, ceremony: &str, key: &SigningKey, sealed: bool) -> AgentClaim {
        let prev = [line as u8; 32];
        let body = format!(r#"{{"seq":{line},"ceremony":"{ceremony}"}}"#);
        let sig = key.sign(&signed_message(line as u64, &prev, body.as_bytes()));
        AgentClaim {
            claim: Claim {
                line,
                seq: line as u64,
                ceremony: ceremony.into(),
                prev,
                body: Some(body),
                sig: Some(sig.to_bytes()),
            },
            sealed,
        }
    }

    #[test]
    fn records_verify_only_under_the_certified_key_and_not_after_the_seal() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let certified = [Certified {
            line: 10,
            ceremony: "c1".into(),
            key: crate::keys::hex(key.verifying_key().as_bytes()),
        }];
        let claims = [
            claim(9, "c1", &key, false),    // before the certifying record
            claim(11, "c1", &key, false),   // good
            claim(12, "c1", &other, false), // wrong key
            claim(13, "c2", &key, false),   // another ceremony certified nothing
            claim(14, "c1", &key, true),    // the seal
            claim(15, "c1", &key, false),   // after the seal
        ];
        let (problems, verified) = check(&claims, &certified);
        assert_eq!(verified, vec![11, 14]);
        assert_eq!(
            problems,
            vec![
                (9, AgentProblem::Uncertified),
                (12, AgentProblem::BadSignature),
                (13, AgentProblem::Uncertified),
                (15, AgentProblem::AfterSeal),
            ]
        );
    }
}
