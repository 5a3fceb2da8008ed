//! The signing proxy's audit records (issue 15): how many `agent-proxied` records a second
//! `AgentRecorder::proxied` appends in batches of 1, 16, 256 and 1024 (the cap) requests, each
//! record chained and signed with the agent's key, each batch one write and one `fdatasync`
//! under the log's lock. A batch of 1 is what an fsync per order costs; the last column says
//! how many times more records a second each batch size appends. Also the bytes a record
//! takes.
//!
//! The log is recorded by the library itself (a testkit vault, an `agent-unlock` ceremony
//! closed with `succeed_for_agent`), so the figures are the recorder's, without a socket or a
//! process. Each size appends about 4096 records (at least 256 batches of 1) to a fresh log.
//!
//! Run: `cargo bench --bench proxied_audit` (the log goes under `$TMPDIR`, default /tmp; run
//! with `TMPDIR=/dev/shm` to see the figures without a disk's fsync).

use std::fs;
use std::time::{Duration, Instant};

use custody::audit::{AuditLog, Ceremony, ProxiedOutcome, ProxiedRequest};
use custody::clock::Clock;
use custody::testkit::{test_keys, vault_for};

const NOW: u64 = 1_790_000_000;
const SIZES: [usize; 4] = [1, 16, 256, 1024];
/// Records appended per size (batches of 1: [`SINGLE_RECORDS`]).
const RECORDS: usize = 4096;
/// Records appended one per call: each costs an fsync, so fewer keep the run short.
const SINGLE_RECORDS: usize = 1024;

/// A forwarded order as a busy bot's would be recorded.
fn request(n: usize) -> ProxiedRequest {
    ProxiedRequest {
        time: NOW + n as u64,
        uid: 1001,
        pid: Some(4242),
        exe: Some("/opt/tradebot/bin/bot".into()),
        credential: Some("binance-main".into()),
        exchange: "binance".into(),
        method: "POST".into(),
        path: "/api/v3/order".into(),
        class: "trade".into(),
        outcome: ProxiedOutcome::Forwarded,
        reason: None,
        upstream_status: Some(200),
        latency_us: Some(1800 + (n % 1000) as u64),
    }
}

/// Append `total` records in batches of `size` to a fresh log: (time taken, bytes appended).
fn run(size: usize, total: usize) -> (Duration, u64) {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("fund.vault");
    let keys = test_keys(7);
    let vault = vault_for(&keys, 0x11);
    fs::write(&vault_path, vault.to_json()).unwrap();
    let log = AuditLog::open(&vault_path).unwrap();
    let c = Ceremony::begin(&log, "agent-unlock", &vault, Clock::fixed(NOW)).unwrap();
    let (_, recorder) = c.succeed_for_agent(&keys, "agent unlocked").unwrap();
    let batch: Vec<ProxiedRequest> = (0..size).map(request).collect();
    let before = fs::metadata(log.path()).unwrap().len();
    let start = Instant::now();
    for _ in 0..total / size {
        recorder.proxied(&batch).unwrap();
    }
    let took = start.elapsed();
    let after = fs::metadata(log.path()).unwrap().len();
    let report = custody::audit::verify(log.path(), vault.public_key()).unwrap();
    assert_eq!(report.unsigned_tail(), 0, "every record is signed");
    (took, after - before)
}

fn main() {
    let tmp = std::env::temp_dir();
    println!(
        "agent-proxied records appended by AgentRecorder::proxied, log under {}",
        tmp.display()
    );
    println!(
        "{:>6}  {:>8}  {:>10}  {:>12}  {:>10}",
        "batch", "records", "records/s", "per batch", "B/record"
    );
    let mut single = None;
    for size in SIZES {
        let total = if size == 1 { SINGLE_RECORDS } else { RECORDS };
        let (took, bytes) = run(size, total);
        let rate = total as f64 / took.as_secs_f64();
        let per_batch = took / (total / size) as u32;
        single.get_or_insert(rate);
        println!(
            "{size:>6}  {total:>8}  {rate:>10.0}  {:>9.3} ms  {:>10}   ({:.1}x batches of 1)",
            per_batch.as_secs_f64() * 1e3,
            bytes / total as u64,
            rate / single.unwrap()
        );
    }
}
