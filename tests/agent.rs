//! The agent end to end, through the real binary: unlock once, bots restart without a quorum,
//! refusals, sealing in every way, and the audit trail.

use std::fs;
use std::time::Duration;

use predicates::str::contains;

mod common;
use common::agent::{self, Agent, BINANCE_KEY, BINANCE_SECRET, OKX_KEY};

#[test]
fn one_unlock_serves_many_restarts_without_a_quorum() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    a.cmd("status", &["--json"])
        .assert()
        .success()
        .stdout(contains(r#""state":"sealed""#));
    a.unlock(&f);
    let status: serde_json::Value =
        serde_json::from_slice(&a.cmd("status", &["--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(status["state"], "unlocked");
    assert_eq!(status["format"], "custody-agent-status/1");
    assert_eq!(
        status["credentials"],
        serde_json::json!(["binance-main", "okx-main"])
    );
    assert!(status["expires_at"].is_string());
    // A bot restarting 100 times: no share anywhere, the same variables as `custody exec`.
    for _ in 0..100 {
        let out = a
            .cmd("exec", &["--cred", "binance-main", "--", "sh", "-c"])
            .arg("test \"$BINANCE_MAIN_API_KEY\" = \"$K\" && test \"$BINANCE_MAIN_API_SECRET\" = \"$S\"")
            .env("K", BINANCE_KEY)
            .env("S", BINANCE_SECRET)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    // The exit status is the program's.
    a.cmd(
        "exec",
        &["--cred", "binance-main", "--", "sh", "-c", "exit 7"],
    )
    .assert()
    .code(7);
    // --stdin-json: one object keyed by name, as `custody exec --stdin-json` gives.
    let out = a
        .cmd("exec", &["--cred", "okx-main", "--stdin-json", "--", "cat"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["okx-main"]["api_key"], OKX_KEY);
    assert_eq!(v["okx-main"]["exchange"], "okx");
    // Sealed: a clear refusal, and nothing is served.
    a.cmd("seal", &[]).assert().success();
    a.cmd("exec", &["--cred", "binance-main", "--", "true"])
        .assert()
        .code(1)
        .stderr(contains("sealed"));
    // The audit log verifies, grants and the seal included, each signed by the agent key.
    f.cmd(&["audit", "verify"])
        .assert()
        .success()
        .stdout(contains("what an unlocked agent handed out"));
    let log = fs::read_to_string(f.vault.with_extension("vault.audit"))
        .unwrap_or_else(|_| fs::read_to_string(format!("{}.audit", f.vault.display())).unwrap());
    assert_eq!(log.matches(r#""event":"agent-granted""#).count(), 101 + 1);
    assert!(log.contains(r#""event":"agent-sealed""#));
    assert!(log.contains(r#""agent_key":""#));
    assert!(!log.contains(BINANCE_SECRET) && !log.contains(BINANCE_KEY));
    let _ = Duration::from_secs(0);
}

/// Poll the agent's status until `state` (up to 10 s); returns the status.
fn wait_state(a: &Agent, state: &str) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let out = a.cmd("status", &["--json"]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if v["state"] == state {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never {state}: {v}\n{}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn it_seals_itself_when_idle_at_its_deadline_and_when_the_vault_changes() {
    let f = agent::fixture();
    {
        let a = Agent::start(&f, &["--idle-ttl", "1s"]);
        a.unlock(&f);
        let v = wait_state(&a, "sealed");
        assert!(
            v["sealed_because"].as_str().unwrap().contains("--idle-ttl"),
            "{v}"
        );
    }
    {
        let a = Agent::start(&f, &["--max-ttl", "2s"]);
        a.unlock(&f);
        a.cmd("exec", &["--cred", "binance-main", "--", "true"])
            .assert()
            .success();
        let v = wait_state(&a, "sealed");
        assert!(
            v["sealed_because"].as_str().unwrap().contains("--max-ttl"),
            "{v}"
        );
    }
    {
        let a = Agent::start(&f, &[]);
        a.unlock(&f);
        // A credential it holds is rotated (no quorum): it must not go on serving the old one.
        f.cmd(&["creds", "rotate", "binance-main", "--from-json", "-"])
            .write_stdin(r#"{"api_key":"new-key","api_secret":"new-secret"}"#)
            .assert()
            .success();
        a.cmd("exec", &["--cred", "okx-main", "--", "true"])
            .assert()
            .code(1)
            .stderr(contains("vault changed"));
        let v = wait_state(&a, "sealed");
        assert!(
            v["sealed_because"]
                .as_str()
                .unwrap()
                .contains("credential `binance-main` changed"),
            "{v}"
        );
    }
    f.cmd(&["audit", "verify"]).assert().success();
}

#[test]
fn sigterm_seals_records_and_removes_the_socket() {
    let f = agent::fixture();
    let mut a = Agent::start(&f, &[]);
    a.unlock(&f);
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(a.child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let status = a.child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", a.log());
    assert!(a.log().contains("received SIGTERM"), "{}", a.log());
    assert!(!agent::exists(&a.socket));
    // Clients get a clear error, not a stale value.
    a.cmd("exec", &["--cred", "binance-main", "--", "true"])
        .assert()
        .code(1)
        .stderr(contains("no agent is running"));
    let log = fs::read_to_string(format!("{}.audit", f.vault.display())).unwrap();
    assert!(log.contains("SIGTERM"), "{log}");
    f.cmd(&["audit", "verify"]).assert().success();
}

#[test]
fn the_socket_is_private_and_never_taken_over() {
    use std::os::unix::fs::PermissionsExt;
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let mode = |p: &std::path::Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&a.socket), 0o600);
    assert_eq!(mode(a.socket.parent().unwrap()), 0o700);
    // A second agent on the same socket is refused; the first goes on serving.
    let err = f.dir.path().join("second.err");
    let second = std::process::Command::new(assert_cmd::cargo::cargo_bin("custody"))
        .args(["agent", "run", "--vault"])
        .arg(&f.vault)
        .arg("--socket")
        .arg(&a.socket)
        .stderr(fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert_eq!(second.code(), Some(1));
    assert!(
        fs::read_to_string(&err)
            .unwrap()
            .contains("another agent is already listening"),
        "{}",
        fs::read_to_string(&err).unwrap()
    );
    a.cmd("status", &[]).assert().success();
    drop(a); // SIGKILL: the socket stays behind, stale
    // A stale socket from a crashed agent is replaced.
    let b = Agent::start(&f, &[]);
    b.cmd("status", &[])
        .assert()
        .success()
        .stdout(contains("SEALED"));
    drop(b);
    // A symbolic link at the socket path is refused and left alone.
    let sock = f.socket();
    let _ = fs::remove_file(&sock);
    std::os::unix::fs::symlink("/etc/passwd", &sock).unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("custody"))
        .args(["agent", "run", "--vault"])
        .arg(&f.vault)
        .arg("--socket")
        .arg(&sock)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("something other than a socket"),
        "{out:?}"
    );
    assert!(
        fs::symlink_metadata(&sock)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_failed_unlock_names_the_bad_share_and_never_disturbs_an_unlocked_agent() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    // One share is not a quorum: refused, the agent stays sealed.
    a.cmd("unlock", &[])
        .arg("--share")
        .arg(f.share(1))
        .assert()
        .code(1)
        .stderr(contains("unlock-refused"));
    wait_state(&a, "sealed");
    // A share of another vault is refused here, before anything is sent.
    let other = agent::fixture();
    a.cmd("unlock", &[])
        .arg("--share")
        .arg(f.share(1))
        .arg("--share")
        .arg(other.share(2))
        .assert()
        .code(1)
        .stderr(contains("02-bob.txt"))
        .stderr(contains("nothing was sent to the agent"));
    a.unlock(&f);
    // A second unlock (even a valid one) is refused and the agent keeps serving.
    a.cmd("unlock", &[])
        .arg("--share")
        .arg(f.share(2))
        .arg("--share")
        .arg(f.share(3))
        .assert()
        .code(1)
        .stderr(contains("already unlocked"));
    a.cmd("exec", &["--cred", "binance-main", "--", "true"])
        .assert()
        .success();
    f.cmd(&["audit", "verify"]).assert().success();
}

/// Run `custody agent ARGS` as uid/gid 65534 (nobody) with setpriv; needs root.
fn as_nobody(a: &Agent, args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(assert_cmd::cargo::cargo_bin("custody"))
        .arg("agent")
        .arg(args[0])
        .arg("--socket")
        .arg(&a.socket)
        .args(&args[1..])
        .output()
        .unwrap()
}

#[test]
fn other_users_are_refused_unlock_seal_status_and_credentials() {
    if agent::my_uid() != 0 {
        eprintln!("note: not root; the test of another user's requests needs setpriv as root");
        return;
    }
    let f = agent::fixture();
    // Members of group 65534 may connect; being able to connect grants nothing.
    let a = Agent::start(&f, &["--socket-group", "65534"]);
    a.unlock(&f);
    // setpriv needs to reach the binary and the socket as nobody.
    let out = as_nobody(&a, &["exec", "--cred", "binance-main", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not-permitted"), "{err}");
    assert!(err.contains("uid 65534"), "{err}");
    let out = as_nobody(&a, &["seal"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("only the agent's own user and root"));
    let out = as_nobody(&a, &["status"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // Still unlocked and serving its own clients.
    wait_state(&a, "unlocked");
    a.cmd("exec", &["--cred", "binance-main", "--", "true"])
        .assert()
        .success();
    let log = fs::read_to_string(format!("{}.audit", f.vault.display())).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(r#""event":"agent-refused""#) && l.contains(r#""peer_uid":65534"#)),
        "{log}"
    );
}

#[test]
fn a_forged_agent_record_fails_audit_verify() {
    use ed25519_dalek::Signer;
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    a.unlock(&f);
    a.cmd("exec", &["--cred", "binance-main", "--", "true"])
        .assert()
        .success();
    drop(a);
    let path = format!("{}.audit", f.vault.display());
    let log = fs::read_to_string(&path).unwrap();
    let last = log.lines().last().unwrap();
    let granted = log
        .lines()
        .find(|l| l.contains(r#""event":"agent-granted""#))
        .unwrap();
    let rec: serde_json::Value = serde_json::from_str(granted).unwrap();
    // Someone appends "granted to uid 4242" in the agent's name, signed with a key of their own.
    let seq = log.lines().count() as u64 + 1;
    let prev = custody::audit::line_hash(last.as_bytes());
    let body = format!(
        r#"{{"seq":{seq},"prev":"{}","time":"{}","host":"h","ceremony":"{}","event":"agent-granted","credentials":["binance-main"],"peer_uid":4242,"peer_gid":4242,"peer_pid":1}}"#,
        custody::keys::hex(&prev),
        rec["time"].as_str().unwrap(),
        rec["ceremony"].as_str().unwrap()
    );
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let sig = key.sign(&custody::audit::signed_message(seq, &prev, body.as_bytes()));
    use base64::Engine;
    let line = format!(
        "{},\"sig\":\"{}\"}}\n",
        body.strip_suffix('}').unwrap(),
        base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
    );
    fs::write(&path, format!("{log}{line}")).unwrap();
    f.cmd(&["audit", "verify"])
        .assert()
        .code(1)
        .stdout(contains(format!("line {seq}")))
        .stdout(contains("not signed with the key its unlock ceremony"));
}

/// A quorum command on `f`: `args`, --vault, shares 1 and 2.
fn quorum(f: &agent::Fixture, args: &[&str]) -> assert_cmd::Command {
    let mut c = f.cmd(args);
    c.arg("--share")
        .arg(f.share(1))
        .arg("--share")
        .arg(f.share(2));
    c
}

#[test]
fn the_policy_decides_and_editing_the_vault_grants_nothing() {
    let f = agent::fixture();
    // A rule proposed without a quorum grants nothing: the agent does not even open it.
    f.cmd(&[
        "creds",
        "add",
        "kraken-main",
        "--exchange",
        "kraken",
        "--scope",
        "read",
        "--from-json",
        "-",
    ])
    .write_stdin(r#"{"api_key":"kk","api_secret":"ks"}"#)
    .assert()
    .success();
    quorum(&f, &["drill", "--ratify"]).assert().success(); // ratifies the credential only
    agent::grant(&f, agent::my_uid(), &["kraken-main"], 60);
    {
        let a = Agent::start(&f, &[]);
        a.unlock(&f);
        let st = wait_state(&a, "unlocked");
        assert_eq!(
            st["credentials"],
            serde_json::json!(["binance-main", "okx-main"]),
            "{st}"
        );
        a.cmd("exec", &["--cred", "kraken-main", "--", "true"])
            .assert()
            .code(1)
            .stderr(contains("not-granted"));
    }
    // The vault file edited by hand (a ratified rule now names another user): refused at
    // unlock, nothing opened.
    let text = fs::read_to_string(&f.vault).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["agent_access"]["ratified"][0]["uid"] = 4242.into();
    fs::write(&f.vault, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let a = Agent::start(&f, &[]);
    a.unlock_cmd(&f, &[])
        .assert()
        .code(1)
        .stderr(contains("changed outside custody"));
    wait_state(&a, "sealed");
    fs::write(&f.vault, text).unwrap();
    // Unlocking with --ratify signs the pending rule: now kraken-main is served too.
    a.unlock_cmd(&f, &["--ratify"]).assert().success();
    a.cmd("exec", &["--cred", "kraken-main", "--", "true"])
        .assert()
        .success();
}

#[test]
fn removing_a_rule_takes_access_away_from_a_running_agent_without_sealing_it() {
    let f = agent::fixture();
    agent::grant(&f, 4242, &["okx-main"], 60);
    quorum(&f, &["drill", "--ratify"]).assert().success();
    let a = Agent::start(&f, &[]);
    a.unlock(&f);
    f.cmd(&["agent", "policy", "remove", "--uid", "4242"])
        .assert()
        .success();
    // The next request notices, adopts the narrower policy, and the agent keeps serving.
    a.cmd("exec", &["--cred", "binance-main", "--", "true"])
        .assert()
        .success();
    wait_state(&a, "unlocked");
}

#[test]
fn a_flooding_client_hits_its_rate_limit_while_others_are_served() {
    if agent::my_uid() != 0 {
        eprintln!("note: not root; the flood test needs a second user (setpriv as root)");
        return;
    }
    let f = agent::fixture();
    agent::grant(&f, 65534, &["okx-main"], 20);
    quorum(&f, &["drill", "--ratify"]).assert().success();
    let a = Agent::start(&f, &["--socket-group", "65534"]);
    a.unlock(&f);
    // nobody floods: 20 requests pass, the rest are refused with rate-limited.
    let script = format!(
        "ok=0; limited=0; for i in $(seq 1 40); do if {} agent exec --socket {} --cred okx-main -- true 2>/tmp/flood.$$; then ok=$((ok+1)); elif grep -q rate-limited /tmp/flood.$$; then limited=$((limited+1)); fi; done; rm -f /tmp/flood.$$; echo $ok $limited",
        assert_cmd::cargo::cargo_bin("custody").display(),
        a.socket.display()
    );
    let flood = std::thread::spawn(move || {
        std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                "sh",
                "-c",
            ])
            .arg(script)
            .output()
            .unwrap()
    });
    // Meanwhile this user's bots are served, every time.
    for _ in 0..10 {
        a.cmd("exec", &["--cred", "binance-main", "--", "true"])
            .assert()
            .success();
    }
    let out = flood.join().unwrap();
    let counts = String::from_utf8_lossy(&out.stdout);
    let mut it = counts.split_whitespace().map(|n| n.parse::<u32>().unwrap());
    let (ok, limited) = (it.next().unwrap(), it.next().unwrap());
    assert_eq!(ok, 20, "{counts} {out:?}");
    assert_eq!(limited, 20, "{counts}");
    let st: serde_json::Value =
        serde_json::from_slice(&a.cmd("status", &["--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(st["rate_limited"], 20, "{st}");
    // One record for the refusals of the minute, with their count so far.
    let log = fs::read_to_string(format!("{}.audit", f.vault.display())).unwrap();
    let limited_records: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(r#""event":"agent-refused""#) && l.contains("rate limit"))
        .collect();
    assert_eq!(limited_records.len(), 1, "{log}");
    f.cmd(&["audit", "verify"]).assert().success();
}

#[test]
fn agent_unlock_ratifies_only_what_the_officers_reviewed() {
    let f = agent::fixture();
    f.cmd(&[
        "creds",
        "add",
        "kraken-main",
        "--exchange",
        "kraken",
        "--scope",
        "read",
        "--from-json",
        "-",
    ])
    .write_stdin(r#"{"api_key":"kk","api_secret":"ks"}"#)
    .assert()
    .success();
    agent::grant_to_me(&f, &["kraken-main"]);
    let a = Agent::start(&f, &[]);
    // The officers agreed to something else than what awaits: nothing is signed or opened.
    let share = |n| fs::read_to_string(f.share(n)).unwrap();
    let request = serde_json::json!({
        "v": 1, "op": "unlock", "ratify": true,
        "shares": [{"label": "1", "text": share(1)}, {"label": "2", "text": share(2)}],
        "consented": ["00".repeat(32)], "consented_policy": [],
    });
    let answer = a.raw(request.to_string().as_bytes());
    assert_eq!(answer["error"], "unlock-refused", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("not what the officers reviewed"),
        "{answer}"
    );
    wait_state(&a, "sealed");
    f.cmd(&["creds", "status"])
        .assert()
        .stdout(contains("unratified"));
    // Without a terminal, `agent unlock --ratify` lists what it will sign, and the agent signs
    // exactly that.
    a.unlock_cmd(&f, &["--ratify"])
        .assert()
        .success()
        .stderr(contains("kraken-main"))
        .stderr(contains("agent access policy"));
    a.cmd("exec", &["--cred", "kraken-main", "--", "true"])
        .assert()
        .success();
}

#[test]
fn an_unreadable_share_is_named_when_the_unlock_fails() {
    let f = agent::fixture();
    let a = Agent::start(&f, &[]);
    let request = serde_json::json!({
        "v": 1, "op": "unlock",
        "shares": [{"label": "smudged.txt", "text": "not a share at all"}],
    });
    let answer = a.raw(request.to_string().as_bytes());
    assert_eq!(answer["error"], "unlock-refused", "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("smudged.txt"),
        "{answer}"
    );
}

#[test]
fn a_credential_edited_in_the_vault_file_is_not_opened_at_unlock() {
    let f = agent::fixture();
    // okx-main's metadata edited by hand (another account): tampered.
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&f.vault).unwrap()).unwrap();
    let entries = v["credentials"]["entries"].as_array_mut().unwrap();
    let okx = entries
        .iter_mut()
        .find(|e| e["name"] == "okx-main")
        .unwrap();
    okx["account"] = "someone-else".into();
    fs::write(&f.vault, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let a = Agent::start(&f, &[]);
    a.unlock(&f);
    let st = wait_state(&a, "unlocked");
    assert_eq!(
        st["credentials"],
        serde_json::json!(["binance-main"]),
        "{st}"
    );
    let why = st["not_opened"][0]["reason"].as_str().unwrap();
    assert_eq!(st["not_opened"][0]["name"], "okx-main");
    assert!(why.contains("TAMPERED"), "{why}");
    a.cmd("exec", &["--cred", "okx-main", "--", "true"])
        .assert()
        .code(1)
        .stderr(contains("not-held"))
        .stderr(contains("TAMPERED"));
}
