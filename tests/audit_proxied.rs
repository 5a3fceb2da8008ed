//! The signing proxy's audit records (`agent-proxied`) through the library and `audit show`:
//! a batch of N requests grows the log by exactly N chained lines, each signed with the
//! unlock's agent key, written at once; a batch with one bad or overlong request, one over the
//! cap, or one whose write fails half-way (a real short write under `RLIMIT_FSIZE`, in a child
//! process) leaves the log byte for byte as it was; forged, unsigned and after-seal records
//! are named by `audit verify`; a session with a test upstream says so on every record.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use custody::audit::{
    self, AgentClient, AgentProblem, AgentRecorder, AuditError, AuditLog, Ceremony, Event,
    MAX_PROXIED_BATCH, Problem, ProxiedOutcome, ProxiedProblem, ProxiedRequest, Record, Restored,
};
use custody::clock::Clock;
use custody::keys::DerivedKeys;
use custody::testkit::{test_keys, vault_for};
use custody::vault::Vault;
use ed25519_dalek::Signer;

mod common;

const NOW: u64 = 1_790_000_000;

struct Fx {
    dir: tempfile::TempDir,
    vault_path: PathBuf,
    log_path: PathBuf,
    keys: DerivedKeys,
    vault: Vault,
}

fn fixture() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("fund.vault");
    let keys = test_keys(7);
    let vault = vault_for(&keys, 0x11);
    fs::write(&vault_path, vault.to_json()).unwrap();
    Fx {
        log_path: audit::log_path(&vault_path),
        dir,
        vault_path,
        keys,
        vault,
    }
}

impl Fx {
    /// An `agent-unlock` ceremony closed with a signed record that certifies an agent key.
    fn unlock(&self) -> AgentRecorder {
        let log = AuditLog::open(&self.vault_path).unwrap();
        let c = Ceremony::begin(&log, "agent-unlock", &self.vault, Clock::fixed(NOW)).unwrap();
        c.credentials_opened(&["binance-main".into()]).unwrap();
        c.succeed_for_agent(&self.keys, "agent unlocked").unwrap().1
    }

    fn bytes(&self) -> Vec<u8> {
        fs::read(&self.log_path).unwrap()
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.bytes())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn report(&self) -> audit::AuditReport {
        audit::inspect(&self.log_path, self.vault.public_key()).unwrap()
    }
}

/// A forwarded order (`n` varies the path and the figures).
fn forwarded(n: u32) -> ProxiedRequest {
    ProxiedRequest {
        time: NOW + u64::from(n),
        uid: 1001,
        pid: Some(4242),
        exe: Some("/opt/bot/run".into()),
        credential: Some("binance-main".into()),
        exchange: "binance".into(),
        method: "POST".into(),
        path: format!("/api/v3/order/{n}"),
        class: "trade".into(),
        outcome: ProxiedOutcome::Forwarded,
        reason: None,
        upstream_status: Some(200),
        latency_us: Some(12_345 + u64::from(n)),
    }
}

/// A withdrawal refused before any credential was chosen.
fn refused() -> ProxiedRequest {
    ProxiedRequest {
        time: NOW,
        uid: 1001,
        pid: None,
        exe: None,
        credential: None,
        exchange: "binance".into(),
        method: "POST".into(),
        path: "/sapi/v1/capital/withdraw/apply".into(),
        class: "withdraw".into(),
        outcome: ProxiedOutcome::Refused,
        reason: Some("withdrawals are not granted to this client".into()),
        upstream_status: None,
        latency_us: Some(85),
    }
}

fn records(lines: &[String]) -> Vec<Record> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_batch_of_three_is_three_chained_lines_each_signed_with_the_agent_key() {
    let fx = fixture();
    let recorder = fx.unlock();
    let before = fx.lines();
    let head = recorder
        .proxied(&[forwarded(1), refused(), forwarded(2)])
        .unwrap();
    let after = fx.lines();
    assert_eq!(after.len(), before.len() + 3);
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(head.seq, after.len() as u64);
    assert_eq!(
        head.hash,
        audit::line_hash(after.last().unwrap().as_bytes())
    );
    let new = records(&after[before.len()..]);
    for (i, r) in new.iter().enumerate() {
        assert_eq!(r.event, Event::AgentProxied);
        assert_eq!(r.ceremony, recorder.ceremony());
        assert!(r.sig.is_some(), "line {i} is signed");
        assert_eq!(r.peer_uid, Some(1001));
        assert_eq!(r.exchange.as_deref(), Some("binance"));
        assert_eq!(r.test_upstream, None);
    }
    assert_eq!(new[0].request.as_deref(), Some("POST /api/v3/order/1"));
    assert_eq!(new[0].class.as_deref(), Some("trade"));
    assert_eq!(new[0].proxy_outcome, Some(ProxiedOutcome::Forwarded));
    assert_eq!(new[0].upstream_status, Some(200));
    assert_eq!(new[0].latency_us, Some(12_346));
    assert_eq!(new[0].credentials, Some(vec!["binance-main".to_owned()]));
    assert_eq!(new[0].peer_exe.as_deref(), Some("/opt/bot/run"));
    assert_eq!(new[0].time, "2026-09-21T14:13:21Z");
    assert_eq!(new[1].proxy_outcome, Some(ProxiedOutcome::Refused));
    assert_eq!(
        new[1].reason.as_deref(),
        Some("withdrawals are not granted to this client")
    );
    assert_eq!((new[1].credentials.clone(), new[1].peer_pid), (None, None));
    assert_eq!(new[1].upstream_status, None);
    // The log verifies: each record is covered by the agent key's signature, none is left in
    // the unsigned tail.
    let report = audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
    let n = after.len();
    assert!(report.program_ends.ends_with(&[n - 2, n - 1, n]));
    assert_eq!(report.unsigned_tail(), 0);
    // And the session's seal still comes after them.
    recorder.sealed("on request").unwrap();
    audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
}

#[test]
fn nothing_the_records_carry_holds_a_query_body_or_signature() {
    let fx = fixture();
    let recorder = fx.unlock();
    recorder.proxied(&[forwarded(7)]).unwrap();
    let last = fx.lines().pop().unwrap();
    let stored: serde_json::Value = serde_json::from_str(&last).unwrap();
    // Every member (serde_json lists them sorted): nothing but these.
    let members: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        [
            "ceremony",
            "class",
            "credentials",
            "event",
            "exchange",
            "host",
            "latency_us",
            "peer_exe",
            "peer_pid",
            "peer_uid",
            "prev",
            "proxy_outcome",
            "request",
            "seq",
            "sig",
            "time",
            "upstream_status",
        ]
    );
    assert_eq!(stored["request"], "POST /api/v3/order/7");
    // The signature is the last member, as on every signed record.
    assert!(last.rfind("\"sig\":") > last.rfind("\"latency_us\":"));
}

#[test]
fn an_empty_batch_writes_nothing() {
    let fx = fixture();
    let recorder = fx.unlock();
    let before = fx.bytes();
    let head = recorder.proxied(&[]).unwrap();
    assert_eq!(fx.bytes(), before);
    assert_eq!(head, audit::head(&fx.log_path).unwrap());
}

#[test]
fn a_batch_over_the_cap_is_refused_before_anything_is_written() {
    let fx = fixture();
    let recorder = fx.unlock();
    let before = fx.bytes();
    let batch: Vec<ProxiedRequest> = (0..=MAX_PROXIED_BATCH as u32).map(forwarded).collect();
    let e = recorder.proxied(&batch).unwrap_err();
    assert!(
        matches!(e, AuditError::BatchTooLarge { len } if len == MAX_PROXIED_BATCH + 1),
        "{e:?}"
    );
    assert!(e.to_string().contains("1024"), "{e}");
    assert_eq!(fx.bytes(), before);
    // The cap itself is one write.
    let head = recorder.proxied(&batch[..MAX_PROXIED_BATCH]).unwrap();
    assert_eq!(
        fx.lines().len(),
        before.iter().filter(|&&b| b == b'\n').count() + 1024
    );
    assert_eq!(head.seq as usize, fx.lines().len());
    audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
}

#[test]
fn one_record_too_long_refuses_the_whole_batch_before_writing() {
    let fx = fixture();
    let recorder = fx.unlock();
    let before = fx.bytes();
    let mut long = forwarded(2);
    long.reason = Some("x".repeat(audit::MAX_LINE_LEN));
    let e = recorder
        .proxied(&[forwarded(1), long, forwarded(3)])
        .unwrap_err();
    assert!(matches!(e, AuditError::RecordTooLong { .. }), "{e:?}");
    assert_eq!(fx.bytes(), before);
}

#[test]
fn a_request_that_could_carry_a_secret_is_refused_naming_it() {
    let fx = fixture();
    let recorder = fx.unlock();
    let before = fx.bytes();
    let with = |f: &dyn Fn(&mut ProxiedRequest)| {
        let mut r = forwarded(1);
        f(&mut r);
        r
    };
    let cases: [(ProxiedRequest, ProxiedProblem); 7] = [
        (
            with(&|r| r.path = "/api/v3/order?symbol=BTCUSDT&signature=ab12".into()),
            ProxiedProblem::Path,
        ),
        (
            with(&|r| r.path = "/api/v3/order#x".into()),
            ProxiedProblem::Path,
        ),
        (
            with(&|r| r.path = "api/v3/order".into()),
            ProxiedProblem::Path,
        ),
        (
            with(&|r| r.path = "/api/v3/order {\"qty\":1}".into()),
            ProxiedProblem::Path,
        ),
        (with(&|r| r.method = "get".into()), ProxiedProblem::Method),
        (with(&|r| r.class = "margin".into()), ProxiedProblem::Class),
        (
            with(&|r| r.exchange = "Binance US".into()),
            ProxiedProblem::Exchange,
        ),
    ];
    for (bad, want) in cases {
        let e = recorder.proxied(&[forwarded(0), bad]).unwrap_err();
        assert!(
            matches!(e, AuditError::BadProxiedRequest { index: 1, problem, .. } if problem == want),
            "{want:?}: {e:?}"
        );
        assert!(e.to_string().contains("request 2 of 2"), "{e}");
        assert_eq!(fx.bytes(), before, "{want:?}");
    }
}

#[test]
fn a_test_upstream_is_on_every_record_of_the_session() {
    let fx = fixture();
    let recorder = fx.unlock();
    let client = AgentClient {
        uid: 1001,
        gid: 1001,
        pid: 4242,
        exe: Some("/opt/bot/run"),
        unit: None,
    };
    let start = fx.lines().len();
    recorder.set_test_upstream(Some("binance=https://127.0.0.1:9443".into()));
    recorder.granted(&client, &["binance-main".into()]).unwrap();
    recorder
        .refused(&client, &["okx-main".into()], "not granted", 1)
        .unwrap();
    recorder.proxied(&[forwarded(1), refused()]).unwrap();
    recorder.sealed("on request").unwrap();
    let lines = fx.lines();
    let new = records(&lines[start..]);
    assert_eq!(new.len(), 5);
    for r in &new {
        assert_eq!(
            r.test_upstream.as_deref(),
            Some("binance=https://127.0.0.1:9443"),
            "{r:?}"
        );
        assert!(
            r.describe().starts_with("TEST UPSTREAM"),
            "{}",
            r.describe()
        );
    }
    audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
}

/// Append `rec` with a correct seq and chain, signed (if at all) with `key`.
fn append_forged(fx: &Fx, mut rec: Record, key: Option<&ed25519_dalek::SigningKey>) -> usize {
    let lines = fx.lines();
    let last = lines.last().unwrap();
    let prev = audit::line_hash(last.as_bytes());
    rec.seq = lines.len() as u64 + 1;
    rec.prev = custody::keys::hex(&prev);
    rec.sig = None;
    let body = serde_json::to_string(&rec).unwrap();
    if let Some(key) = key {
        let sig = key.sign(&audit::signed_message(rec.seq, &prev, body.as_bytes()));
        rec.sig = Some(STANDARD.encode(sig.to_bytes()));
    }
    let mut bytes = fx.bytes();
    bytes.extend_from_slice(serde_json::to_string(&rec).unwrap().as_bytes());
    bytes.push(b'\n');
    fs::write(&fx.log_path, bytes).unwrap();
    lines.len() + 1
}

#[test]
fn forged_unsigned_edited_and_after_seal_proxied_records_are_named() {
    let fx = fixture();
    let recorder = fx.unlock();
    recorder.proxied(&[forwarded(1)]).unwrap();
    let genuine: Record = serde_json::from_str(fx.lines().last().unwrap()).unwrap();
    let other = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    // "Forwarded a withdrawal", signed with someone else's key; then unsigned.
    let mut forged = genuine.clone();
    forged.request = Some("POST /sapi/v1/capital/withdraw/apply".into());
    let forged_line = append_forged(&fx, forged.clone(), Some(&other));
    let unsigned_line = append_forged(&fx, forged, None);
    // A record in a session that certified no agent key.
    let mut foreign = genuine.clone();
    foreign.ceremony = "00000000deadbeef".into();
    let foreign_line = append_forged(&fx, foreign, Some(&other));
    assert_eq!(
        fx.report().problems,
        vec![
            Problem::AgentRecord {
                line: forged_line,
                problem: AgentProblem::BadSignature
            },
            Problem::AgentRecord {
                line: unsigned_line,
                problem: AgentProblem::BadSignature
            },
            Problem::AgentRecord {
                line: foreign_line,
                problem: AgentProblem::Uncertified
            },
        ]
    );

    // An edited genuine record: its figures changed after signing.
    let fx = fixture();
    let recorder = fx.unlock();
    recorder.proxied(&[forwarded(1), forwarded(2)]).unwrap();
    let mut lines = fx.lines();
    let edited = lines.len() - 1;
    lines[edited - 1] =
        lines[edited - 1].replace("\"upstream_status\":200", "\"upstream_status\":400");
    fs::write(&fx.log_path, lines.join("\n") + "\n").unwrap();
    let problems = fx.report().problems;
    assert!(
        problems.contains(&Problem::AgentRecord {
            line: edited,
            problem: AgentProblem::BadSignature
        }),
        "{problems:?}"
    );

    // A genuine proxied record replayed after the session sealed: its signature covers its
    // seq and chain, so it does not verify where it was put. (A record the agent's own key
    // signs after the seal, which only a stolen key could write, is named `AfterSeal`:
    // src/audit/proxied.rs.)
    let fx = fixture();
    let recorder = fx.unlock();
    recorder.proxied(&[forwarded(1)]).unwrap();
    let replayed: Record = serde_json::from_str(fx.lines().last().unwrap()).unwrap();
    recorder.sealed("on request").unwrap();
    let lines = fx.lines();
    let mut bytes = fx.bytes();
    let mut moved = replayed;
    moved.seq = lines.len() as u64 + 1;
    moved.prev = custody::keys::hex(&audit::line_hash(lines.last().unwrap().as_bytes()));
    bytes.extend_from_slice(serde_json::to_string(&moved).unwrap().as_bytes());
    bytes.push(b'\n');
    fs::write(&fx.log_path, bytes).unwrap();
    assert_eq!(
        fx.report().problems,
        vec![Problem::AgentRecord {
            line: lines.len() + 1,
            problem: AgentProblem::BadSignature
        }]
    );
}

/// Run this test binary's test `name` again in a child whose SIGXFSZ is ignored (through
/// `sh`, whose `trap ''` survives exec), with `CUSTODY_TEST_CHILD` set: the child sets its
/// own file-size limit, which no other test of the parent then shares.
fn in_child(name: &str) {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env("CUSTODY_TEST_CHILD", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The soft file-size limit of this process, the hard one kept.
fn fsize_limit(limit: Option<u64>) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let hard = getrlimit(Resource::Fsize).maximum;
    setrlimit(
        Resource::Fsize,
        Rlimit {
            current: limit.or(hard),
            maximum: hard,
        },
    )
    .unwrap();
}

#[test]
fn a_batch_whose_write_fails_half_way_leaves_the_log_as_it_was() {
    if std::env::var_os("CUSTODY_TEST_CHILD").is_none() {
        return in_child("a_batch_whose_write_fails_half_way_leaves_the_log_as_it_was");
    }
    let fx = fixture();
    let recorder = fx.unlock();
    let batch = [forwarded(1), refused(), forwarded(2)];
    let before = fx.bytes();
    // Room for 40 bytes (the first record is cut), for the first record and half the second
    // (a failure mid-batch), and for nothing (the write fails outright with EFBIG).
    let probe = fixture();
    let probe_recorder = probe.unlock();
    let start = probe.bytes().len() as u64;
    probe_recorder.proxied(&batch[..1]).unwrap();
    let first = probe.bytes().len() as u64 - start;
    for room in [40, first + 100, 0] {
        fsize_limit(Some(before.len() as u64 + room));
        let e = recorder.proxied(&batch).unwrap_err();
        fsize_limit(None);
        assert!(
            matches!(
                e,
                AuditError::AppendFailed {
                    restored: Restored::AsItWas,
                    ..
                }
            ),
            "room {room}: {e:?}"
        );
        assert!(e.to_string().contains("the log is as it was"), "{e}");
        assert_eq!(fx.bytes(), before, "room {room}");
    }
    // The same batch is recorded once there is room, and the log verifies.
    recorder.proxied(&batch).unwrap();
    assert_eq!(
        fx.lines().len(),
        before.split(|&b| b == b'\n').count() - 1 + 3
    );
    audit::verify(&fx.log_path, fx.vault.public_key()).unwrap();
}

fn show(vault: &Path, json: bool) -> String {
    let mut c = common::custody();
    c.args(["audit", "show", "--vault"]).arg(vault);
    if json {
        c.arg("--json");
    }
    let out = c.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn audit_show_puts_a_proxied_request_on_one_line_and_marks_a_test_upstream() {
    let fx = fixture();
    let recorder = fx.unlock();
    recorder.proxied(&[forwarded(1), refused()]).unwrap();
    recorder.set_test_upstream(Some("binance=https://127.0.0.1:9443".into()));
    recorder.proxied(&[forwarded(2)]).unwrap();
    let text = show(&fx.vault_path, false);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("proxy ")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].ends_with(
            "proxy forwarded binance POST /api/v3/order/1 (trade) for uid 1001 pid 4242 \
             (/opt/bot/run) with binance-main: upstream 200, 12.3 ms [signed with the agent's key]"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(
            "proxy refused binance POST /sapi/v1/capital/withdraw/apply (withdraw) for uid 1001 \
             pid ?: withdrawals are not granted to this client, 85 µs [signed with the agent's \
             key]"
        ),
        "{}",
        lines[1]
    );
    assert!(!lines[0].contains("TEST UPSTREAM") && !lines[1].contains("TEST UPSTREAM"));
    assert!(
        lines[2].contains(
            "TEST UPSTREAM binance=https://127.0.0.1:9443, NOT THE EXCHANGE: proxy forwarded \
             binance POST /api/v3/order/2"
        ),
        "{}",
        lines[2]
    );
    assert!(text.contains("Chain intact"), "{text}");

    let doc: serde_json::Value = serde_json::from_str(&show(&fx.vault_path, true)).unwrap();
    let recs = doc["records"].as_array().unwrap();
    let last = &recs[recs.len() - 1];
    assert!(
        last["event"]
            .as_str()
            .unwrap()
            .starts_with("TEST UPSTREAM binance=https://127.0.0.1:9443")
    );
    let stored = &last["stored"];
    assert_eq!(stored["event"], "agent-proxied");
    assert_eq!(stored["request"], "POST /api/v3/order/2");
    assert_eq!(stored["class"], "trade");
    assert_eq!(stored["proxy_outcome"], "forwarded");
    assert_eq!(stored["upstream_status"], 200);
    assert_eq!(stored["latency_us"], 12_347);
    assert_eq!(stored["test_upstream"], "binance=https://127.0.0.1:9443");
    assert_eq!(doc["ok"], true);
    let _ = fx.dir.path();
}
