//! docs/agent-protocol.md against a real agent: the Python client it quotes (docs/agent_client.py)
//! fetches the right values and gets the documented error from a sealed agent; every documented
//! rejection is what the agent answers on the raw socket (bad JSON, unknown member, wrong
//! version, unknown operation, an oversized line, a slow client, too many connections), without
//! holding up other clients; every error code, limit and answer member in protocol.rs and the
//! agent's answers is the document's, so neither can drift from the other.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use custody::agent::protocol::{self, ErrorCode};
use serde_json::{Value, json};

mod common;
use common::agent::{self, Agent, BINANCE_KEY, BINANCE_SECRET, OKX_KEY};

// ---------------------------------------------------------------------------------------------
// the document

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn doc() -> String {
    fs::read_to_string(repo("docs/agent-protocol.md")).expect("docs/agent-protocol.md")
}

/// The document's tables by (section, kind): a section is a `##`/`###` heading with its
/// backticks removed (`status`, `Errors`, `Framing`); the kind is what the line before the
/// table announces (`request`, `answer`, `credential`, `codes`), or empty. Rows are their
/// cells, trimmed, backticks removed from the first; header and rule rows are left out.
fn tables(doc: &str) -> BTreeMap<(String, String), Vec<Vec<String>>> {
    let mut out: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
    let (mut section, mut kind) = (String::new(), String::new());
    let mut previous = "";
    for line in doc.lines() {
        if let Some(h) = line
            .strip_prefix("### ")
            .or_else(|| line.strip_prefix("## "))
        {
            section = h.replace('`', "");
            kind.clear();
        } else if !line.starts_with('|') {
            for (start, k) in [
                ("Request members", "request"),
                ("Answer members", "answer"),
                ("Each credential", "credential"),
                ("Codes", "codes"),
            ] {
                if line.starts_with(start) {
                    kind = k.to_owned();
                }
            }
        } else if previous.starts_with('|') && !line.starts_with("| ---") {
            let mut cells: Vec<String> = line
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect();
            cells[0] = cells[0].replace('`', "");
            out.entry((section.clone(), kind.clone()))
                .or_default()
                .push(cells);
        }
        previous = line;
    }
    out
}

fn table<'t>(
    t: &'t BTreeMap<(String, String), Vec<Vec<String>>>,
    section: &str,
    kind: &str,
) -> &'t [Vec<String>] {
    t.get(&(section.to_owned(), kind.to_owned()))
        .unwrap_or_else(|| panic!("docs/agent-protocol.md has no {kind} table in {section}"))
}

/// Every member path of `v` (`a`, `a[].b`, `a.b`), not descending into `opaque` paths.
fn paths(v: &Value, prefix: &str, opaque: &[&str], out: &mut BTreeMap<String, Value>) {
    let Value::Object(map) = v else { return };
    for (k, v) in map {
        let path = format!("{prefix}{k}");
        out.insert(path.clone(), v.clone());
        if opaque.contains(&path.as_str()) {
            continue;
        }
        match v {
            Value::Object(_) => paths(v, &format!("{path}."), opaque, out),
            Value::Array(items) => {
                for item in items {
                    paths(item, &format!("{path}[]."), opaque, out);
                }
            }
            _ => {}
        }
    }
}

fn has_type(v: &Value, documented: &str) -> bool {
    documented.split(" or ").any(|t| match t {
        "string" => v.is_string(),
        "number" => v.is_u64(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        other => panic!("unknown documented type {other}"),
    })
}

/// `answer` has exactly the members the 4-column table (member, type, when, meaning) lists for
/// `state` (`when` is `always`, `optional`, or a state), each of its documented type.
fn check_members(rows: &[Vec<String>], state: &str, answer: &Value, opaque: &[&str], what: &str) {
    let mut actual = BTreeMap::new();
    paths(answer, "", opaque, &mut actual);
    let documented: BTreeMap<&str, (&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), (r[1].as_str(), r[2].as_str())))
        .collect();
    for (path, value) in &actual {
        let (kind, when) = documented
            .get(path.as_str())
            .unwrap_or_else(|| panic!("{what}: member {path} is not documented: {answer}"));
        assert!(
            *when == "always" || *when == "optional" || *when == state,
            "{what}: member {path} is documented only when {when}: {answer}"
        );
        assert!(
            has_type(value, kind),
            "{what}: member {path} is not a {kind}: {value}"
        );
    }
    for (path, (_, when)) in &documented {
        // A member of the elements of an array is required only when the array has some.
        let in_empty_array = path.split_once("[].").is_some_and(|(array, _)| {
            actual
                .get(array)
                .and_then(Value::as_array)
                .is_none_or(|a| a.is_empty())
        });
        if (*when == "always" || *when == state) && !in_empty_array {
            assert!(
                actual.contains_key(*path),
                "{what}: documented member {path} is missing: {answer}"
            );
        }
    }
}

/// A request built from the documented request members of `op`: every one of them, of its type.
fn documented_request(t: &BTreeMap<(String, String), Vec<Vec<String>>>, op: &str) -> Value {
    let mut req = json!({"v": 1, "op": op});
    if let Some(rows) = t.get(&(op.to_owned(), "request".to_owned())) {
        for r in rows.iter().filter(|r| !r[0].contains("[].")) {
            let value = match (r[0].as_str(), r[1].as_str()) {
                ("v" | "op", _) => continue,
                ("credentials", "array") => json!(["binance-main"]),
                ("consented", "array") => json!(["00".repeat(32)]),
                ("consented_policy" | "consented_hosts", "array") => json!([]),
                ("remote", "object") => json!({
                    "session_id": "00".repeat(16),
                    "phrase_hash": "00".repeat(32),
                    "signer": null,
                    "expires": 1,
                    "envelopes": 1,
                }),
                ("shares", "array") => {
                    let mut share = serde_json::Map::new();
                    for sub in rows.iter().filter(|s| s[0].starts_with("shares[].")) {
                        share.insert(sub[0]["shares[].".len()..].to_owned(), json!("x"));
                    }
                    json!([share])
                }
                (_, "string") => json!("x"),
                (_, "boolean") => json!(true),
                (m, k) => panic!("no example value for {op} member {m} ({k})"),
            };
            req[&r[0]] = value;
        }
    }
    req
}

// ---------------------------------------------------------------------------------------------
// the socket

/// One connection to the agent, for several requests or for a request sent in pieces.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn open(a: &Agent) -> Conn {
        let s = UnixStream::connect(&a.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    /// Write `bytes`; the agent may already have closed the connection (ignored).
    fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
    }

    /// The next answer line, or `None` when the agent closed the connection.
    fn answer(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            // The agent closed with part of our line unread: the kernel says so after the answer.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => None,
            Ok(_) => Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))),
            Err(e) => panic!("reading an answer: {e}"),
        }
    }

    fn ask(&mut self, line: &str) -> Value {
        self.send(format!("{line}\n").as_bytes());
        self.answer().expect("an answer")
    }
}

fn refused(answer: &Value, code: &str) {
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["v"], 1, "{answer}");
    assert_eq!(answer["error"], code, "{answer}");
    assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fn status_ok(a: &Agent) {
    let s = a.raw(br#"{"v":1,"op":"status"}"#);
    assert_eq!(s["ok"], true, "{s}");
}

// ---------------------------------------------------------------------------------------------
// the Python client

const PY_FETCH: &str = r#"
import json, sys
import agent_client as a
try:
    out = {"credentials": a.fetch(sys.argv[1:])}
except a.AgentError as e:
    out = {"error": e.code, "message": e.message}
except OSError as e:
    out = {"oserror": type(e).__name__}
print(json.dumps(out))
"#;

/// docs/agent_client.py's `fetch(names)` on the socket of `a` (found through
/// `$CUSTODY_AGENT_SOCKET`, as a bot would): `{"credentials": ...}`, `{"error": code, ...}` or
/// `{"oserror": type}`.
fn python_fetch(socket: &Path, names: &[&str]) -> Value {
    let out = Command::new("python3")
        .arg("-B") // no __pycache__ in docs/
        .arg("-c")
        .arg(PY_FETCH)
        .args(names)
        .env("PYTHONPATH", repo("docs"))
        .env("CUSTODY_AGENT_SOCKET", socket)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_python_client_fetches_what_the_agent_holds_and_is_told_when_it_is_sealed() {
    if !common::have("python3", "the Python client test") {
        return;
    }
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let sealed = python_fetch(&a.socket, &["binance-main"]);
    assert_eq!(sealed["error"], "sealed", "{sealed}");
    assert!(
        sealed["message"]
            .as_str()
            .unwrap()
            .contains("custody agent unlock")
    );

    a.unlock(&f);
    let got = python_fetch(&a.socket, &["binance-main", "okx-main"]);
    let c = &got["credentials"];
    assert_eq!(c["binance-main"]["api_key"], BINANCE_KEY, "{got}");
    assert_eq!(c["binance-main"]["api_secret"], BINANCE_SECRET);
    assert_eq!(c["binance-main"]["exchange"], "binance");
    assert_eq!(c["binance-main"]["scope"], json!(["read", "trade"]));
    assert_eq!(c["okx-main"]["api_key"], OKX_KEY);
    assert_eq!(c["okx-main"]["passphrase"], "p");
    // Exactly what `custody agent exec --stdin-json` gives a program.
    let out = a
        .cmd(
            "exec",
            &[
                "--cred",
                "binance-main,okx-main",
                "--stdin-json",
                "--",
                "cat",
            ],
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdin_json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c, &stdin_json);

    let not_granted = python_fetch(&a.socket, &["no-such-credential"]);
    assert_eq!(not_granted["error"], "not-granted", "{not_granted}");
    a.cmd("seal", &[]).assert().success();
    let sealed = python_fetch(&a.socket, &["binance-main"]);
    assert_eq!(sealed["error"], "sealed", "{sealed}");
    assert!(sealed.get("credentials").is_none());
}

#[test]
fn the_document_quotes_the_python_client_as_it_is() {
    let doc = doc();
    let file = fs::read_to_string(repo("docs/agent_client.py")).unwrap();
    let start = doc
        .find("## Example client")
        .and_then(|i| {
            doc[i..]
                .find("```python\n")
                .map(|j| i + j + "```python\n".len())
        })
        .expect("the example client section");
    let end = start + doc[start..].find("```\n").unwrap();
    assert_eq!(
        &doc[start..end],
        file,
        "docs/agent-protocol.md must quote docs/agent_client.py exactly"
    );
}

// ---------------------------------------------------------------------------------------------
// the document against protocol.rs

#[test]
fn every_error_code_in_protocol_rs_is_documented_and_no_other() {
    // The codes as protocol.rs writes them: the string arms of `ErrorCode::as_str`.
    let source = fs::read_to_string(repo("src/agent/protocol.rs")).unwrap();
    let body = &source[source.find("pub fn as_str").unwrap()..];
    let body = &body[..body.find("\n    }\n").unwrap()];
    let in_source: BTreeSet<String> = body
        .lines()
        .filter_map(|l| {
            l.split_once("=> \"")
                .map(|(_, r)| r.trim_end_matches("\","))
        })
        .map(str::to_owned)
        .collect();
    assert!(in_source.len() >= 13, "{in_source:?}");
    let t = tables(&doc());
    let documented: BTreeSet<String> = table(&t, "Errors", "codes")
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        documented, in_source,
        "the Errors table of docs/agent-protocol.md"
    );
    for code in &documented {
        let c = ErrorCode::parse(code).unwrap_or_else(|| panic!("{code} is not a code"));
        assert_eq!(c.as_str(), code);
    }
}

#[test]
fn the_documented_limits_are_the_agents() {
    let t = tables(&doc());
    let limits: BTreeMap<&str, &str> = table(&t, "Framing", "")
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    let expected = [
        (
            "MAX_REQUEST_BYTES",
            format!("{} bytes", protocol::MAX_REQUEST_BYTES),
        ),
        (
            "REQUEST_TIMEOUT",
            format!("{} s", protocol::REQUEST_TIMEOUT.as_secs()),
        ),
        ("MAX_CONNECTIONS", protocol::MAX_CONNECTIONS.to_string()),
        (
            "MAX_REQUESTS_PER_CONNECTION",
            protocol::MAX_REQUESTS_PER_CONNECTION.to_string(),
        ),
        ("MAX_FETCH_NAMES", protocol::MAX_FETCH_NAMES.to_string()),
        ("MAX_UNLOCK_SHARES", protocol::MAX_UNLOCK_SHARES.to_string()),
        (
            "MAX_ANSWER_BYTES",
            format!("{} bytes", protocol::MAX_ANSWER_BYTES),
        ),
    ];
    for (name, value) in &expected {
        assert_eq!(limits.get(name), Some(&value.as_str()), "{name}");
    }
    // Every limit protocol.rs declares is in the table.
    let source = fs::read_to_string(repo("src/agent/protocol.rs")).unwrap();
    for l in source.lines().filter_map(|l| l.strip_prefix("pub const ")) {
        let name = l.split(':').next().unwrap();
        assert!(
            name == "VERSION" || name == "PROXY_VERSION" || limits.contains_key(name),
            "{name} is not in the Framing table"
        );
    }
    let doc = doc();
    assert!(doc.contains(&format!(
        "shares {} a minute",
        custody::agent::server::UNNAMED_CLIENT_RATE
    )));
    assert!(doc.contains(&format!(
        "looks every {} ms",
        custody::agent::server::TICK.as_millis()
    )));
}

#[test]
fn every_documented_request_is_accepted_and_every_example_answered_as_shown() {
    let doc = doc();
    let t = tables(&doc);
    for op in ["status", "fetch", "unlock", "seal"] {
        let req = documented_request(&t, op);
        let line = serde_json::to_vec(&req).unwrap();
        assert!(
            protocol::parse(&line).is_ok(),
            "the documented {op} request {req} is refused"
        );
    }
    // Each example request is one the agent accepts (errors are the agent's later checks).
    let examples: Vec<&str> = doc.lines().filter_map(|l| l.strip_prefix("> ")).collect();
    assert!(examples.len() >= 4);
    for e in examples {
        let e = e.replace('…', "");
        assert!(protocol::parse(e.as_bytes()).is_ok(), "example {e}");
    }
}

#[test]
fn the_agents_answers_have_exactly_the_documented_members() {
    let t = tables(&doc());
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let status = table(&t, "status", "answer");
    check_members(
        status,
        "sealed",
        &a.raw(br#"{"v":1,"op":"status"}"#),
        &[],
        "status (sealed)",
    );
    let error = a.raw(br#"{"v":1,"op":"fetch","credentials":["binance-main"]}"#);
    refused(&error, "sealed");
    check_members(table(&t, "Errors", "answer"), "", &error, &[], "error");

    // An unlock on the raw socket, as the document shows it: the share files' text.
    let shares: Vec<Value> = [1, 2]
        .iter()
        .map(|&n| {
            let p = f.share(n);
            json!({
                "label": p.file_name().unwrap().to_str().unwrap(),
                "text": fs::read_to_string(&p).unwrap(),
            })
        })
        .collect();
    let req = serde_json::to_vec(&json!({"v": 1, "op": "unlock", "shares": shares})).unwrap();
    let unlocked = a.raw(&req);
    assert_eq!(unlocked["ok"], true, "{unlocked}");
    check_members(table(&t, "unlock", "answer"), "", &unlocked, &[], "unlock");
    check_members(
        status,
        "unlocked",
        &a.raw(br#"{"v":1,"op":"status"}"#),
        &[],
        "status (unlocked)",
    );
    let fetched = a.raw(br#"{"v":1,"op":"fetch","credentials":["binance-main","okx-main"]}"#);
    check_members(
        table(&t, "fetch", "answer"),
        "",
        &fetched,
        &["credentials"],
        "fetch",
    );
    let creds = fetched["credentials"].as_object().unwrap();
    assert_eq!(
        creds.keys().collect::<Vec<_>>(),
        ["binance-main", "okx-main"]
    );
    for (name, c) in creds {
        check_members(table(&t, "fetch", "credential"), "", c, &[], name);
    }
    let sealed = a.raw(br#"{"v":1,"op":"seal"}"#);
    check_members(table(&t, "seal", "answer"), "", &sealed, &[], "seal");
}

// ---------------------------------------------------------------------------------------------
// rejections on the raw socket

#[test]
fn malformed_requests_are_refused_by_name_and_the_connection_stays_open() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let mut c = Conn::open(&a);
    for (line, code, says) in [
        ("hello", "bad-request", "not a JSON object"),
        (
            r#"{"v":1,"op":"status""#,
            "bad-request",
            "not a JSON object",
        ),
        (r#"[1,"status"]"#, "bad-request", "not a JSON object"),
        (
            r#"{"v":1,"op":"status","sneaky":1}"#,
            "bad-request",
            "unknown member `sneaky`",
        ),
        (r#"{"v":3,"op":"status"}"#, "version", "versions 1 and 2"),
        (r#"{"v":"1","op":"status"}"#, "version", "versions 1 and 2"),
        (
            r#"{"v":3,"op":"status","since":"yesterday"}"#,
            "version",
            "versions 1 and 2",
        ),
        (r#"{"v":1,"op":"launch"}"#, "bad-request", "`op` is one of"),
        (
            r#"{"v":1,"op":"status","credentials":["binance-main"]}"#,
            "bad-request",
            "`credentials` is not a member of a `status` request",
        ),
        (r#"{"v":1,"op":"fetch"}"#, "bad-request", "`credentials`"),
        (
            r#"{"v":1,"op":"fetch","credentials":["../zebra"]}"#,
            "bad-request",
            "not a credential name",
        ),
    ] {
        let answer = c.ask(line);
        refused(&answer, code);
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(says), "{line}: {message}");
        assert!(!message.contains("yesterday") && !message.contains("zebra"));
    }
    // The same connection still serves a good request.
    assert_eq!(c.ask(r#"{"v":1,"op":"status"}"#)["state"], "sealed");
}

#[test]
fn an_oversized_line_is_refused_while_others_are_served() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let max = protocol::MAX_REQUEST_BYTES;
    // The longest line is served: 65536 bytes with its newline.
    let mut padded = r#"{"v":1,"op":"status"}"#.to_owned();
    padded.push_str(&" ".repeat(max - 1 - padded.len()));
    assert_eq!(padded.len() + 1, max);
    let mut c = Conn::open(&a);
    assert_eq!(c.ask(&padded)["ok"], true);

    // A line one byte longer, sent in two pieces with another client served between them.
    let mut big = Conn::open(&a);
    let head = format!(r#"{{"v":1,"op":"status","x":"{}"#, "a".repeat(40_000));
    big.send(head.as_bytes());
    status_ok(&a);
    let rest = format!("{}\"}}", "a".repeat(max + 1 - head.len() - 3));
    assert_eq!(head.len() + rest.len() + 1, max + 1);
    big.send(format!("{rest}\n").as_bytes());
    let answer = big.answer().expect("an answer");
    refused(&answer, "too-large");
    assert!(answer["message"].as_str().unwrap().contains("65536"));
    assert!(big.answer().is_none(), "the connection is closed");
    status_ok(&a);
}

#[test]
fn a_slow_client_times_out_while_others_are_served() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let start = Instant::now();
    let mut slow = Conn::open(&a);
    slow.send(br#"{"v":1,"op":"sta"#);
    for _ in 0..3 {
        status_ok(&a);
    }
    assert!(start.elapsed() < Duration::from_secs(2), "served meanwhile");
    let answer = slow.answer().expect("an answer");
    let waited = start.elapsed();
    refused(&answer, "timeout");
    assert!(
        waited >= protocol::REQUEST_TIMEOUT - Duration::from_millis(100)
            && waited < protocol::REQUEST_TIMEOUT + Duration::from_secs(3),
        "answered after {waited:?}"
    );
    assert!(slow.answer().is_none(), "the connection is closed");
    // A connection that sends nothing at all is answered the same way.
    let mut silent = Conn::open(&a);
    refused(&silent.answer().expect("an answer"), "timeout");
    status_ok(&a);
}

#[test]
fn connections_beyond_the_limit_are_busy_and_service_resumes() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let held: Vec<Conn> = (0..protocol::MAX_CONNECTIONS)
        .map(|_| Conn::open(&a))
        .collect();
    for _ in 0..3 {
        let mut extra = Conn::open(&a);
        let answer = extra.answer().expect("an answer");
        refused(&answer, "busy");
        assert!(extra.answer().is_none(), "a busy connection is closed");
    }
    drop(held);
    // The held connections' threads notice their clients left; then all is as before.
    let start = Instant::now();
    loop {
        let s = a.raw(br#"{"v":1,"op":"status"}"#);
        if s["ok"] == true {
            break;
        }
        refused(&s, "busy");
        assert!(start.elapsed() < Duration::from_secs(3), "still busy");
        std::thread::sleep(Duration::from_millis(20));
    }
    a.unlock(&f);
    let fetched = a.raw(br#"{"v":1,"op":"fetch","credentials":["binance-main"]}"#);
    assert_eq!(
        fetched["credentials"]["binance-main"]["api_key"],
        BINANCE_KEY
    );
}

// ---------------------------------------------------------------------------------------------
// a killed agent

#[test]
fn a_killed_agent_leaves_clients_a_clear_error_never_a_value() {
    let f = agent::fixture();
    let mut a = Agent::start(&f, &[]);
    a.unlock(&f);
    let print_key = ["--cred", "binance-main", "--", "sh", "-c"];
    let out = a
        .cmd("exec", &print_key)
        .arg("printf %s \"$BINANCE_MAIN_API_KEY\"")
        .output()
        .unwrap();
    assert_eq!(out.stdout, BINANCE_KEY.as_bytes(), "{out:?}");

    a.child.kill().unwrap(); // SIGKILL: nothing is sealed, nothing cleaned up
    a.child.wait().unwrap();
    assert!(agent::exists(&a.socket), "a killed agent leaves its socket");
    let no_agent = |args: &[&str], script: Option<&str>| {
        let mut c = a.cmd(args[0], &args[1..]);
        if let Some(s) = script {
            c.arg(s);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no agent is running at"), "{args:?}: {err}");
    };
    let mut exec = vec!["exec"];
    exec.extend(print_key);
    no_agent(&exec, Some("printf %s \"$BINANCE_MAIN_API_KEY\""));
    no_agent(&["status"], None);
    no_agent(&["seal"], None);
    let out = a.cmd("status", &["--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "custody-error/1");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("no agent is running at")
    );
    if common::have("python3", "the Python client's view of a killed agent") {
        let got = python_fetch(&a.socket, &["binance-main"]);
        assert_eq!(got, json!({"oserror": "ConnectionRefusedError"}));
    }

    // A new agent replaces the stale socket and holds nothing until a quorum unlocks it.
    let b = Agent::start(&f, &[]);
    let out = b
        .cmd("exec", &print_key)
        .arg("printf %s \"$BINANCE_MAIN_API_KEY\"")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("sealed"));
    refused(
        &b.raw(br#"{"v":1,"op":"fetch","credentials":["binance-main"]}"#),
        "sealed",
    );
}
