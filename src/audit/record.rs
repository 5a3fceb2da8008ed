//! One audit record: a JSON object on one line. The struct's field order is the order the
//! writer emits; readers never re-serialise a record (hashes and signatures cover the exact
//! line bytes), so this order matters only for the signature member, which is always last.

use serde::{Deserialize, Serialize};

/// What a record says happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// A ceremony began (action, vault fingerprint and id, epoch).
    #[default]
    Start,
    /// A presented share passed its checks (custodian, group, member number, input label).
    ShareAccepted,
    /// A presented share was refused (input label, reason).
    ShareRejected,
    /// A detail of the action (key, value), e.g. the exchange a credential was used on.
    Note,
    /// Credentials the ceremony opened (names only).
    CredentialsOpened,
    /// The ceremony ended (outcome; a success is signed).
    Outcome,
    /// An officer removed a torn final line from the log (`removed_bytes`, `copy`); written
    /// without a quorum, so never signed.
    AuditRepair,
    /// The program an `exec` ceremony handed credentials to has ended (exit code or signal,
    /// how long it ran), after the ceremony's close; signed with the one-time key that the
    /// ceremony's signed closing record certifies (`exit_key`).
    ProgramEnded,
    /// The unlocked agent handed credentials to a client (peer uid, gid, pid, executable,
    /// unit; credential names); signed with the key its unlock ceremony certified
    /// (`agent_key`).
    AgentGranted,
    /// The unlocked agent refused a client's request (peer, credential names, reason; `count`
    /// when it stands for several rate-limit refusals); signed like `agent-granted`.
    AgentRefused,
    /// The agent sealed itself or was sealed (reason): every credential it held is wiped and
    /// its key signs nothing more; signed like `agent-granted`.
    AgentSealed,
    /// The agent's signing proxy forwarded or refused one exchange request (peer; credential;
    /// exchange, method and canonical path, class, outcome, upstream status, latency; never
    /// its query, body or signature); signed like `agent-granted`, written in batches.
    AgentProxied,
    /// The unlocked agent issued signing-proxy tokens to a client (peer; credential names):
    /// the client can then trade through the proxy with them, never holding the secrets;
    /// signed like `agent-granted`.
    AgentProxyToken,
    /// The agent access policy was changed without a quorum (`action`: `agent policy add` or
    /// `agent policy remove`; `summary`: the rule); the change awaits ratification. Unsigned.
    AgentPolicy,
    /// The known hosts were changed without a quorum (`action`: `hosts add` or `hosts
    /// remove`; `summary`: the host, `NAME <FINGERPRINT>`); the change awaits ratification.
    /// Unsigned.
    KnownHost,
}

impl Event {
    /// The event's name as written in the `event` member (kebab-case, e.g. `share-accepted`).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Start => "start",
            Event::ShareAccepted => "share-accepted",
            Event::ShareRejected => "share-rejected",
            Event::Note => "note",
            Event::CredentialsOpened => "credentials-opened",
            Event::Outcome => "outcome",
            Event::AuditRepair => "audit-repair",
            Event::ProgramEnded => "program-ended",
            Event::AgentGranted => "agent-granted",
            Event::AgentRefused => "agent-refused",
            Event::AgentSealed => "agent-sealed",
            Event::AgentProxied => "agent-proxied",
            Event::AgentProxyToken => "agent-proxy-token",
            Event::AgentPolicy => "agent-policy",
            Event::KnownHost => "known-host",
        }
    }
}

/// How a ceremony ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The quorum reconstructed the master key and the action completed (signed record).
    Succeeded,
    /// The ceremony stopped with an error (reason recorded).
    Failed,
    /// The program stopped before recording an outcome (dropped without `succeed`/`fail`).
    Abandoned,
}

impl Outcome {
    /// The outcome's name as written in the `outcome` member: `succeeded`, `failed` or
    /// `abandoned`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// One line of `<vault>.audit`. Fields that do not apply to an event are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// 1 for the first line, +1 for each following line.
    pub seq: u64,
    /// Hex SHA-256 of the previous line's bytes (without its newline); 64 zeros on line 1.
    pub prev: String,
    /// RFC 3339 UTC.
    pub time: String,
    /// The machine's host name (from the kernel, not the environment).
    pub host: String,
    /// Random 16-hex-digit id shared by every record of one ceremony.
    pub ceremony: String,
    /// What happened; decides which of the optional members below are present.
    pub event: Event,
    /// `custody-audit/1` on start records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The ceremony's action, e.g. `drill`, `exec`, `reshare` (start records), or the change
    /// (`agent policy add`, `agent policy remove`; agent-policy records; `hosts add`, `hosts
    /// remove`; known-host records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The vault id in hex (start records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// The vault's spoken fingerprint, e.g. `K7Q2-M9XD-4HTR-PA3C` (start records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The vault's key epoch at the start of the ceremony (start records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    /// Name of the custodian whose share was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custodian: Option<String>,
    /// Name of the accepted share's group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// 1-based member number within the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<u8>,
    /// Input label: the share file's path, `stdin`, `stdin line N` — never its content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Input kind: token, share file, words, image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why a share was rejected, or why the ceremony failed (an error message, never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A note's key, e.g. `exchange` or [`RETIRED_KEY_NOTE`](super::RETIRED_KEY_NOTE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A note's value, e.g. `kraken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Names of the credentials the ceremony opened (never their contents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<String>>,
    /// How the ceremony ended (outcome records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// What a successful ceremony did, in one line (succeeded outcome records), or the rule an
    /// agent-policy record proposed, or the host a known-host record added or removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// How many bytes of a torn final line an audit repair removed (audit-repair records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_bytes: Option<u64>,
    /// The file name (beside the log) of the copy of the damaged log an audit repair kept
    /// (audit-repair records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<String>,
    /// Hex Ed25519 public key of the one-time key that signs the `program-ended` record of
    /// this ceremony (succeeded outcome of an `exec` that started a program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_key: Option<String>,
    /// Process id of the program (`program-ended` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The program's exit status, when it exited (`program-ended` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The number of the signal that ended the program, when one did (`program-ended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// The signal's name, e.g. `SIGTERM`, when it has one (`program-ended` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal_name: Option<String>,
    /// How long the program ran, in milliseconds, from its start to its end as custody saw
    /// them (`program-ended` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran_ms: Option<u64>,
    /// Hex Ed25519 public key of the key the agent signs its later records with
    /// (succeeded outcome of an `agent-unlock` ceremony).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_key: Option<String>,
    /// The client's user id, from the kernel (`agent-*` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_uid: Option<u32>,
    /// The client's group id, from the kernel (`agent-*` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_gid: Option<u32>,
    /// The client's process id, from the kernel (`agent-*` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_pid: Option<u32>,
    /// The client's executable, when the agent could read it (`agent-*` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_exe: Option<String>,
    /// The client's systemd unit, when it runs in one (`agent-*` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_unit: Option<String>,
    /// How many refusals one `agent-refused` record stands for (rate-limit refusals are
    /// recorded at most once a minute per client, with their count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The exchange a proxied request was for, e.g. `binance` (`agent-proxied` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// A proxied request's method and canonical path, e.g. `GET /api/v3/order`: never its
    /// query string, body or signature (`agent-proxied` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// What a proxied request would do: `public`, `read`, `trade`, `withdraw` or `unknown`
    /// (`agent-proxied` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Whether the proxy forwarded the request or refused it (`agent-proxied` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_outcome: Option<ProxiedOutcome>,
    /// The HTTP status the exchange answered a forwarded request with, when it answered
    /// (`agent-proxied` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    /// Microseconds the request spent in the proxy, the exchange's answer included
    /// (`agent-proxied` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// The test-only upstream the agent was started with instead of the exchanges, on every
    /// `agent-*` record of such a session: its requests never reached an exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_upstream: Option<String>,
    /// Base64 Ed25519 signature (successful outcome only). Always the last member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
}

impl Record {
    /// The client an `agent-*` record names: `uid U pid P (EXE, UNIT)`.
    fn peer(&self) -> String {
        let num = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
        let mut s = format!("uid {} pid {}", num(self.peer_uid), num(self.peer_pid));
        let extra: Vec<&str> = [self.peer_exe.as_deref(), self.peer_unit.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !extra.is_empty() {
            s.push_str(&format!(" ({})", extra.join(", ")));
        }
        s
    }

    /// What an `agent-proxied` record says, on one line: `proxy forwarded binance GET
    /// /api/v3/order (trade) for uid U pid P (EXE) with CREDENTIAL: upstream 200, 12.3 ms`.
    fn proxied(&self) -> String {
        fn opt(o: &Option<String>) -> &str {
            o.as_deref().unwrap_or("?")
        }
        let done = self.proxy_outcome.map_or("?", ProxiedOutcome::as_str);
        let mut s = format!(
            "proxy {done} {} {} ({}) for {}",
            opt(&self.exchange),
            opt(&self.request),
            opt(&self.class),
            self.peer()
        );
        if let Some(c) = self.credentials.as_ref().filter(|c| !c.is_empty()) {
            s.push_str(&format!(" with {}", c.join(", ")));
        }
        let mut after = Vec::new();
        if let Some(r) = &self.reason {
            after.push(r.clone());
        }
        if let Some(status) = self.upstream_status {
            after.push(format!("upstream {status}"));
        }
        if let Some(us) = self.latency_us {
            after.push(micros(us));
        }
        if !after.is_empty() {
            s.push_str(": ");
            s.push_str(&after.join(", "));
        }
        s
    }

    /// A one-line description for `audit show`.
    pub fn describe(&self) -> String {
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
        match self.event {
            Event::Start => format!(
                "{} started (vault {}, epoch {})",
                opt(&self.action),
                opt(&self.fingerprint),
                self.epoch
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "?".into())
            ),
            Event::ShareAccepted => format!(
                "share accepted: {} (group {}, share {}) from {} [{}]",
                opt(&self.custodian),
                opt(&self.group),
                self.member
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "?".into()),
                opt(&self.input),
                opt(&self.source)
            ),
            Event::ShareRejected => format!(
                "share rejected: {}: {}",
                opt(&self.input),
                opt(&self.reason)
            ),
            Event::Note => format!("{} = {}", opt(&self.key), opt(&self.value)),
            Event::CredentialsOpened => format!(
                "credentials opened: {}",
                self.credentials.clone().unwrap_or_default().join(", ")
            ),
            Event::Outcome => {
                let o = self.outcome.map(Outcome::as_str).unwrap_or("?");
                let mut s = o.to_owned();
                if let Some(r) = &self.reason {
                    s.push_str(": ");
                    s.push_str(r);
                }
                if let Some(r) = &self.summary {
                    s.push_str(": ");
                    s.push_str(r);
                }
                if self.sig.is_some() {
                    s.push_str(" [signed]");
                }
                s
            }
            Event::AuditRepair => format!(
                "audit repaired: removed a torn final line of {} bytes; the damaged log was kept \
                 as {}",
                self.removed_bytes
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "?".into()),
                opt(&self.copy)
            ),
            Event::AgentGranted
            | Event::AgentRefused
            | Event::AgentSealed
            | Event::AgentProxied
            | Event::AgentProxyToken => {
                let mut s = match &self.test_upstream {
                    Some(t) => format!("TEST UPSTREAM {t}, NOT THE EXCHANGE: "),
                    None => String::new(),
                };
                match self.event {
                    Event::AgentGranted => s.push_str(&format!(
                        "agent handed {} to {}",
                        self.credentials.clone().unwrap_or_default().join(", "),
                        self.peer()
                    )),
                    Event::AgentRefused => {
                        let what = self.credentials.clone().unwrap_or_default().join(", ");
                        s.push_str(&format!("agent refused {}", self.peer()));
                        if !what.is_empty() {
                            s.push_str(&format!(" ({what})"));
                        }
                        s.push_str(&format!(": {}", opt(&self.reason)));
                        if let Some(n) = self.count.filter(|&n| n > 1) {
                            s.push_str(&format!(" ({n} times)"));
                        }
                    }
                    Event::AgentProxied => s.push_str(&self.proxied()),
                    Event::AgentProxyToken => s.push_str(&format!(
                        "agent issued signing-proxy token(s) for {} to {}",
                        self.credentials.clone().unwrap_or_default().join(", "),
                        self.peer()
                    )),
                    _ => s.push_str(&format!("agent sealed: {}", opt(&self.reason))),
                }
                if self.sig.is_some() {
                    s.push_str(" [signed with the agent's key]");
                }
                s
            }
            Event::AgentPolicy | Event::KnownHost => format!(
                "{}: {} (no quorum; awaits ratification)",
                opt(&self.action),
                opt(&self.summary)
            ),
            Event::ProgramEnded => {
                let how = match (self.exit_code, self.signal) {
                    (Some(code), _) => format!("exited with code {code}"),
                    (None, Some(n)) => match &self.signal_name {
                        Some(name) => format!("was ended by signal {n} ({name})"),
                        None => format!("was ended by signal {n}"),
                    },
                    (None, None) => "ended (how is not recorded)".to_owned(),
                };
                let mut s = format!(
                    "program (pid {}) {how}",
                    self.pid
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "?".into())
                );
                if let Some(ms) = self.ran_ms {
                    s.push_str(&format!(" after {}", crate::timefmt::duration(ms)));
                }
                if self.sig.is_some() {
                    s.push_str(" [signed with the ceremony's one-time key]");
                }
                s
            }
        }
    }
}

/// A latency in microseconds, in the unit that reads best: `85 µs`, `12.3 ms`, `2.5 s`.
fn micros(us: u64) -> String {
    match us {
        0..1000 => format!("{us} µs"),
        1000..1_000_000 => format!("{:.1} ms", us as f64 / 1000.0),
        _ => crate::timefmt::duration(us / 1000),
    }
}

/// Whether the proxy forwarded a request to the exchange or refused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxiedOutcome {
    /// Signed and sent to the exchange.
    Forwarded,
    /// Refused by the proxy; nothing was sent.
    Refused,
}

impl ProxiedOutcome {
    /// As written in the `proxy_outcome` member: `forwarded` or `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxiedOutcome::Forwarded => "forwarded",
            ProxiedOutcome::Refused => "refused",
        }
    }
}
