//! Signing-proxy benchmark (issue 15): the release agent with `--proxy-listen`, its Binance
//! requests sent (test-only upstream override) to the stand-in exchange on loopback
//! (`custody::exchange::stand_in`, HTTPS, checks every signature), measured from outside:
//!
//! - added latency: the same signed `GET /api/v3/account`, 2000 times one after another on one
//!   kept-alive connection, sent directly to the stand-in over TLS (with the proxy's own HTTPS
//!   client, signed here) and through the proxy (a bot's plain-HTTP request with the proxy
//!   token, re-signed by the agent): p50 and p99 of each, and the difference;
//! - the same with real ccxt when Python ccxt and the mocks are installed: `bot.py --scenario
//!   balance --count 300` direct at the Python Binance mock and through the proxy;
//! - throughput: 16 clients on kept-alive connections for 5 s: signed requests a second;
//! - memory: the agent's resident memory before and after 500 idle client connections.
//!
//! Run: `cargo bench --bench proxy`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::agent::{self, Agent, BINANCE_KEY, BINANCE_SECRET};

const SEQUENTIAL: usize = 2000;
const CLIENTS: usize = 16;
const SECONDS: f64 = 5.0;
const IDLE: usize = 500;

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A bot's kept-alive connection to the proxy.
struct Bot {
    r: BufReader<TcpStream>,
    w: TcpStream,
    token: String,
    base: String,
}

impl Bot {
    fn new(listen: &str, token: &str) -> Bot {
        let s = TcpStream::connect(listen).unwrap();
        s.set_nodelay(true).unwrap();
        Bot {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
            token: token.to_owned(),
            base: listen.to_owned(),
        }
    }

    /// One `GET /api/v3/account` as ccxt sends it through proxyUrl; the status.
    fn account(&mut self) -> u16 {
        let q = format!("timestamp={}", now_ms());
        let sig = custody::exchange::binance::signature(
            custody::exchange::venue::DUMMY_SECRET.as_bytes(),
            q.as_bytes(),
            b"",
        );
        let target = enc(&format!(
            "https://api.binance.com/api/v3/account?{q}&signature={sig}"
        ));
        write!(
            self.w,
            "GET /{}/{target} HTTP/1.1\r\nHost: {}\r\nX-MBX-APIKEY: {}\r\n\r\n",
            self.token, self.base, self.token
        )
        .unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        self.r.read_exact(&mut body).unwrap();
        status
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

fn us(d: Duration) -> String {
    format!("{:.0} us", d.as_secs_f64() * 1e6)
}

fn direct(stand_in: &custody::exchange::stand_in::StandIn) -> Vec<Duration> {
    use custody::proxy::upstream::{Override, Upstream};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let up = Upstream::new(
        &[Override::parse(&stand_in.override_arg()).unwrap()],
        Some(&stand_in.ca),
    )
    .unwrap();
    rt.block_on(async {
        let mut times = Vec::with_capacity(SEQUENTIAL);
        for i in 0..SEQUENTIAL + 50 {
            let q = format!("timestamp={}", now_ms());
            let sig =
                custody::exchange::binance::signature(BINANCE_SECRET.as_bytes(), q.as_bytes(), b"");
            let out = custody::exchange::venue::Outgoing {
                path_and_query: format!("/api/v3/account?{q}&signature={sig}"),
                headers: vec![("x-mbx-apikey", BINANCE_KEY.to_owned())],
                body: Vec::new(),
            };
            let t = Instant::now();
            let r = up.send("api.binance.com", "GET", out).await.unwrap();
            assert_eq!(r.status(), 200);
            use http_body_util::BodyExt;
            let _ = r.into_body().collect().await.unwrap();
            if i >= 50 {
                times.push(t.elapsed());
            }
        }
        times
    })
}

fn ccxt_pair() -> Option<String> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import ccxt"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    use common::exchange_mock::{Mock, agent as mock_agent, bot_args, token, vault};
    let mock = Mock::start(&["binance"]);
    let f = vault(
        &mock,
        &[("binance-main", "binance", "binance", "read,trade")],
        &[],
    );
    let (a, listen) = mock_agent(&f, &mock, &["binance"]);
    let tok = token(&a, "binance-main");
    let run = |args: &[&str]| -> serde_json::Value {
        let mut full = bot_args(args);
        let prog = full.remove(0);
        let out = std::process::Command::new(prog)
            .args(full)
            .output()
            .unwrap();
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap()
    };
    let creds = mock.dir.path().join("creds.json");
    let port = mock.ports["binance"].to_string();
    let d = run(&[
        "--exchange",
        "binance",
        "--direct",
        &port,
        "--ca",
        &mock.ca().display().to_string(),
        "--creds",
        &creds.display().to_string(),
        "--scenario",
        "balance",
        "--count",
        "300",
    ]);
    let url = format!("http://{listen}/{tok}/");
    let p = run(&[
        "--exchange",
        "binance",
        "--proxy-url",
        &url,
        "--api-key",
        &tok,
        "--scenario",
        "balance",
        "--count",
        "300",
    ]);
    Some(format!(
        "| ccxt fetch_balance, direct to the Python mock | {} ms | {} ms |\n\
         | ccxt fetch_balance, through the proxy | {} ms | {} ms |",
        d["p50_ms"], d["p99_ms"], p["p50_ms"], p["p99_ms"]
    ))
}

fn main() {
    let f = agent::fixture();
    let stand_in =
        custody::exchange::stand_in::start(BINANCE_KEY, BINANCE_SECRET.as_bytes(), f.dir.path())
            .unwrap();
    let ca = stand_in.ca.display().to_string();
    let ov = stand_in.override_arg();
    let a = Agent::start(
        &f,
        &[
            "--proxy-listen",
            "127.0.0.1:0",
            "--upstream-override",
            &ov,
            "--upstream-ca",
            &ca,
        ],
    );
    a.unlock(&f);
    let st = custody::agent::client::status(&a.socket).unwrap();
    let listen = st["proxy"]["listen"].as_str().unwrap().to_owned();
    let grants = custody::agent::client::proxy(&a.socket, &["binance-main".to_owned()]).unwrap();
    let token = grants.credentials[0].token.to_string();

    // Added latency.
    let mut d = direct(&stand_in);
    d.sort();
    let mut bot = Bot::new(&listen, &token);
    for _ in 0..50 {
        assert_eq!(bot.account(), 200);
    }
    let mut p = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let t = Instant::now();
        assert_eq!(bot.account(), 200);
        p.push(t.elapsed());
    }
    p.sort();
    println!(
        "## Signing proxy (one kept-alive connection, {SEQUENTIAL} signed GET /api/v3/account)\n"
    );
    println!("| path | p50 | p99 |\n| --- | --- | --- |");
    println!(
        "| direct to the stand-in (TLS) | {} | {} |",
        us(percentile(&d, 0.5)),
        us(percentile(&d, 0.99))
    );
    println!(
        "| through the proxy | {} | {} |",
        us(percentile(&p, 0.5)),
        us(percentile(&p, 0.99))
    );
    println!(
        "| added by the proxy | {} | {} |",
        us(percentile(&p, 0.5).saturating_sub(percentile(&d, 0.5))),
        us(percentile(&p, 0.99).saturating_sub(percentile(&d, 0.99)))
    );
    if let Some(rows) = ccxt_pair() {
        println!("{rows}");
    }

    // Throughput.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, done, listen, token) = (
                Arc::clone(&stop),
                Arc::clone(&done),
                listen.clone(),
                token.clone(),
            );
            std::thread::spawn(move || {
                let mut b = Bot::new(&listen, &token);
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(b.account(), 200);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(SECONDS));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("\n{CLIENTS} clients, kept-alive, {SECONDS} s: {rate:.0} signed requests a second");

    // Memory per idle connection.
    let pid = a.child.id();
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_kib(pid);
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(&listen).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_kib(pid);
    drop(idle);
    println!(
        "agent RSS {before} KiB, with {IDLE} idle client connections {after} KiB: {:.1} KiB each",
        (after.saturating_sub(before)) as f64 / IDLE as f64
    );
    println!(
        "stand-in: {} signed requests accepted, {} refused",
        stand_in.accepted.load(Ordering::Relaxed),
        stand_in.refused.load(Ordering::Relaxed)
    );
}
