//! `custody demo`: a complete ceremony in a temporary folder — init 3-of-5, every custodian
//! checks their share, a drill with three, and the two mistakes people make most (too few
//! shares, one share twice), credentials, the agent and its signing proxy, and a remote drill
//! (`demo_remote`) — each step printed as the command an officer would type.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::demo_steps::{Background, CUSTODIANS, say, share, step, strings};
use super::{CliError, DemoArgs};

pub fn run(args: DemoArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let _temp;
    let root: PathBuf = match &args.keep {
        Some(dir) => {
            std::fs::create_dir(dir).map_err(|source| CliError::Write {
                path: dir.clone(),
                source,
            })?;
            dir.clone()
        }
        None => {
            _temp = tempfile_dir()?;
            _temp.0.clone()
        }
    };
    say(
        out,
        "custody demo: a full ceremony for a 3-of-5 custody set-up.",
    )?;
    say(
        out,
        &format!(
            "Working in {} (removed at the end unless --keep); paths below are relative to it.",
            root.display()
        ),
    )?;
    std::env::set_current_dir(&root).map_err(|source| CliError::Write {
        path: root.clone(),
        source,
    })?;
    let vault = "vault.json".to_owned();
    let shares = PathBuf::from("shares");

    say(
        out,
        "\n== 1. Initialise: a new master secret, split so that any 3 of 5 custodians can recover it.",
    )?;
    let mut init: Vec<String> = ["init", "--vault", &vault, "--out-dir"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    init.push(shares.display().to_string());
    init.extend(["--threshold".into(), "3".into(), "--custodian".into()]);
    init.extend(CUSTODIANS.iter().map(|s| s.to_string()));
    step(out, &init)?;

    say(
        out,
        "\n== 2. Each custodian checks their own share against the vault (no quorum needed).",
    )?;
    let mut check = vec!["check-share".to_owned(), "--vault".into(), vault.clone()];
    check.extend((1..=5).map(|n| share(&shares, n)));
    step(out, &check)?;

    say(
        out,
        "\n== 3. Drill: alice, carol and erin reconstruct the key in locked memory and verify it.",
    )?;
    let mut drill = vec!["drill".to_owned(), "--vault".into(), vault.clone()];
    for n in [1, 3, 5] {
        drill.extend(["--share".into(), share(&shares, n)]);
    }
    step(out, &drill)?;

    say(
        out,
        "\n== 4. What a failed ceremony looks like: only two custodians came.",
    )?;
    let mut few = vec!["drill".to_owned(), "--vault".into(), vault.clone()];
    for n in [2, 4] {
        few.extend(["--share".into(), share(&shares, n)]);
    }
    match step(out, &few) {
        Err(e) => say(
            out,
            &format!("custody: error: {e}\n(expected: two shares are not a quorum)"),
        )?,
        Ok(()) => {
            return Err(CliError::SelfCheck("two shares unlocked a 3-of-5 vault"));
        }
    }

    say(
        out,
        "\n== 5. And when one sheet is presented twice, custody refuses instead of guessing.",
    )?;
    let mut dup = vec!["drill".to_owned(), "--vault".into(), vault.clone()];
    for n in [1, 2, 2] {
        dup.extend(["--share".into(), share(&shares, n)]);
    }
    match step(out, &dup) {
        Err(e) => say(
            out,
            &format!("custody: error: {e}\n(expected: a duplicate is never counted twice)"),
        )?,
        Ok(()) => {
            return Err(CliError::SelfCheck("a duplicated share was accepted"));
        }
    }

    say(
        out,
        "\n== 6. An operator stores an exchange API key. No quorum is needed to add one; it is\n\
         sealed to the vault's public age key (these demo values are made up).",
    )?;
    std::fs::write(
        "binance-demo.json",
        "{\"api_key\":\"demo-key-0001\",\"api_secret\":\"demo-secret-0001\"}\n",
    )
    .map_err(|source| CliError::Write {
        path: PathBuf::from("binance-demo.json"),
        source,
    })?;
    step(
        out,
        &strings(&[
            "creds",
            "add",
            "--vault",
            &vault,
            "binance-main",
            "--exchange",
            "binance",
            "--scope",
            "read,trade",
            "--from-json",
            "binance-demo.json",
        ]),
    )?;
    std::fs::remove_file("binance-demo.json").ok();
    step(out, &strings(&["creds", "status", "--vault", &vault]))?;

    say(
        out,
        "\n== 7. A quorum ratifies the new credential during a drill, test-opens it, and signs a\n\
         drill certificate; the ceremony goes into the vault's audit log. custody lists what\n\
         it would sign and, at a terminal, asks \"Sign this 1 entry? [y/N]\": answer y.",
    )?;
    let mut ratify = strings(&[
        "drill",
        "--vault",
        &vault,
        "--ratify",
        "--certificate",
        "drill.json",
    ]);
    for n in [2, 3, 4] {
        ratify.extend(["--share".into(), share(&shares, n)]);
    }
    step(out, &ratify)?;
    step(
        out,
        &strings(&["verify-certificate", "drill.json", "--vault", &vault]),
    )?;
    step(out, &strings(&["audit", "verify", "--vault", &vault]))?;

    say(
        out,
        "\n== 8. A quorum hands the credential to a trading bot: the values go only into the\n\
         child's environment (here a shell that prints their lengths, never the values).",
    )?;
    let mut exec = strings(&["exec", "--vault", &vault, "--cred", "binance-main"]);
    for n in [1, 3, 5] {
        exec.extend(["--share".into(), share(&shares, n)]);
    }
    exec.extend(strings(&[
        "--",
        "sh",
        "-c",
        "echo \"bot: got BINANCE_MAIN_API_KEY (${#BINANCE_MAIN_API_KEY} characters) and \
         BINANCE_MAIN_API_SECRET (${#BINANCE_MAIN_API_SECRET} characters)\"",
    ]));
    step(out, &exec)?;

    agent_steps(out, &vault, &shares)?;
    super::demo_remote::remote_drill(out, &vault, &shares)?;

    say(
        out,
        "\nDemo complete. In a real set-up each custodian keeps their own share file or printed",
    )?;
    say(
        out,
        "sheet in a safe place, and the vault file is backed up; it holds nothing secret.",
    )?;
    Ok(())
}

/// The agent: a quorum unlocks it once, a bot restarts twice without officers, a client asking
/// for what it is not granted is refused, and the agent is sealed.
fn agent_steps(out: &mut dyn Write, vault: &str, shares: &Path) -> Result<(), CliError> {
    let uid = rustix::process::getuid().as_raw().to_string();
    let socket = "run/agent.sock";
    say(
        out,
        "\n== 9. Bots restart all day; officers should not have to. An officer names who may\n\
         receive the credential from the agent (this user), pending until a quorum ratifies it.",
    )?;
    step(
        out,
        &strings(&[
            "agent",
            "policy",
            "add",
            "--vault",
            vault,
            "--uid",
            &uid,
            "--cred",
            "binance-main",
            "--rate",
            "60/min",
        ]),
    )?;
    say(
        out,
        "\n== 10. The agent starts sealed (normally under systemd; here in the background, its\n\
         log in agent.log). A quorum unlocks it once, ratifying the policy first (at a\n\
         terminal it shows the rule and asks: answer y); the master key is then erased in the\n\
         agent, which keeps only the credential.",
    )?;
    // A stand-in for Binance on loopback (the demo has no exchange account): it checks
    // signatures exactly as Binance documents them, with the demo credential's values.
    let stand_in =
        custody::exchange::stand_in::start("demo-key-0001", b"demo-secret-0001", Path::new("."))
            .map_err(|_| CliError::SelfCheck("the stand-in exchange did not start"))?;
    let override_arg = stand_in.override_arg();
    say(
        out,
        &format!(
            "\n$ custody agent run --vault {vault} --socket {socket} --proxy-listen 127.0.0.1:0 \\\n    \
             --upstream-override {override_arg} --upstream-ca stand-in-ca.pem 2> agent.log &\n\
             (the two --upstream-* flags are for tests and this demo only: they send the signing\n\
             proxy's Binance requests to a local stand-in that checks Binance signatures)"
        ),
    )?;
    let exe = std::env::current_exe().map_err(|e| CliError::Spawn {
        program: "custody".into(),
        source: e,
    })?;
    let log = std::fs::File::create("agent.log").map_err(|source| CliError::Write {
        path: "agent.log".into(),
        source,
    })?;
    let mut agent = Background(
        std::process::Command::new(exe)
            .args(["agent", "run", "--vault", vault, "--socket", socket])
            .args(["--proxy-listen", "127.0.0.1:0", "--upstream-override"])
            .arg(&override_arg)
            .args(["--upstream-ca", "stand-in-ca.pem"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|source| CliError::Spawn {
                program: "custody agent run".into(),
                source,
            })?,
    );
    let started = std::time::Instant::now();
    while !std::fs::read_to_string("agent.log")
        .unwrap_or_default()
        .contains("listening on")
    {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            return Err(CliError::SelfCheck("the agent did not start"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut unlock = strings(&["agent", "unlock", "--socket", socket, "--ratify"]);
    for n in [1, 2, 4] {
        unlock.extend(["--share".into(), share(shares, n)]);
    }
    step(out, &unlock)?;
    say(
        out,
        "\n== 11. The bot starts, crashes, starts again: no officer, no share.",
    )?;
    for n in 1..=2 {
        step(
            out,
            &strings(&[
                "agent",
                "exec",
                "--socket",
                socket,
                "--cred",
                "binance-main",
                "--",
                "sh",
                "-c",
                &format!(
                    "echo \"bot start {n}: got BINANCE_MAIN_API_KEY (${{#BINANCE_MAIN_API_KEY}} \
                     characters)\""
                ),
            ]),
        )?;
    }
    proxy_steps(out, socket, &stand_in)?;
    say(
        out,
        "\n== 13. A client asking for a credential the policy does not grant it is refused (and\n\
         the refusal is in the audit log).",
    )?;
    match step(
        out,
        &strings(&[
            "agent",
            "exec",
            "--socket",
            socket,
            "--cred",
            "kraken-main",
            "--",
            "true",
        ]),
    ) {
        Err(e) => say(out, &format!("refused, as it should be: {e}"))?,
        Ok(()) => {
            return Err(CliError::SelfCheck(
                "the agent served a credential it does not grant",
            ));
        }
    }
    step(out, &strings(&["agent", "status", "--socket", socket]))?;
    say(
        out,
        "\n== 14. Sealed: every credential wiped; bots get \"sealed\" until a quorum unlocks it again.",
    )?;
    step(out, &strings(&["agent", "seal", "--socket", socket]))?;
    agent.stop();
    step(out, &strings(&["audit", "verify", "--vault", vault]))?;
    Ok(())
}

/// The signing proxy: the bot gets a token and a dummy secret, never the key; a request signed
/// by the bot with the dummy secret is re-signed by the agent and accepted by the (stand-in)
/// exchange; a withdrawal is refused at custody.
fn proxy_steps(
    out: &mut dyn Write,
    socket: &str,
    stand_in: &custody::exchange::stand_in::StandIn,
) -> Result<(), CliError> {
    say(
        out,
        "\n== 12. Trade without holding the key: with --proxy the bot gets a proxy token in place\n\
         of the API key, a dummy secret, and the URL to give ccxt as proxyUrl. The agent signs\n\
         each request with the real secret and refuses what the policy does not allow.",
    )?;
    step(
        out,
        &strings(&[
            "agent",
            "exec",
            "--socket",
            socket,
            "--proxy",
            "--cred",
            "binance-main",
            "--",
            "sh",
            "-c",
            "echo \"bot: BINANCE_MAIN_API_KEY is a proxy token (${#BINANCE_MAIN_API_KEY} characters), \
             BINANCE_MAIN_API_SECRET is $BINANCE_MAIN_API_SECRET (a dummy), proxyUrl is \
             ${BINANCE_MAIN_PROXY_URL%/*/}/<token>/\"",
        ]),
    )?;
    say(
        out,
        "\nThe demo now plays a ccxt bot: it asks the agent for a token the same way, and sends\n\
         what ccxt sends with proxyUrl set (the exchange URL appended, signed with the dummy\n\
         secret).",
    )?;
    let grants = custody::agent::client::proxy(Path::new(socket), &["binance-main".to_owned()])?;
    let g = &grants.credentials[0];
    let url = g.proxy_url(&grants.url);
    let account = demo_request(&url, &g.token, "GET", "/api/v3/account", "")?;
    say(
        out,
        &format!(
            "\n$ GET {}https%3A%2F%2Fapi.binance.com%2Fapi%2Fv3%2Faccount%3Ftimestamp%3D...\n{}",
            redact(&grants.url),
            account.trim_end()
        ),
    )?;
    if !account.starts_with("HTTP/1.1 200") {
        return Err(CliError::SelfCheck(
            "the proxy did not get a signed request through to the stand-in exchange",
        ));
    }
    let withdraw = demo_request(
        &url,
        &g.token,
        "POST",
        "/sapi/v1/capital/withdraw/apply",
        "coin=BTC&address=bc1qexample&amount=0.5",
    )?;
    say(
        out,
        &format!(
            "\n$ POST {}https%3A%2F%2Fapi.binance.com%2Fsapi%2Fv1%2Fcapital%2Fwithdraw%2Fapply\n{}\n\
             refused at custody, as it should be: the stand-in exchange never saw it ({} signed \
             request(s) accepted, {} refused there).",
            redact(&grants.url),
            withdraw.trim_end(),
            stand_in.accepted.load(std::sync::atomic::Ordering::Relaxed),
            stand_in.refused.load(std::sync::atomic::Ordering::Relaxed),
        ),
    )?;
    if !withdraw.starts_with("HTTP/1.1 403") {
        return Err(CliError::SelfCheck("the proxy did not refuse a withdrawal"));
    }
    Ok(())
}

fn redact(base: &str) -> String {
    format!("{base}<token>/")
}

/// Send one request as ccxt does through `proxyUrl` (Binance: parameters plus `timestamp`,
/// `signature` with the bot's dummy secret, `X-MBX-APIKEY` with the token) and return the
/// status line and body.
fn demo_request(
    proxy_url: &str,
    token: &str,
    method: &str,
    path: &str,
    params: &str,
) -> Result<String, CliError> {
    use std::io::Read;
    let fail = |_| CliError::SelfCheck("the demo could not reach the signing proxy");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut signed = params.to_owned();
    if !signed.is_empty() {
        signed.push('&');
    }
    signed.push_str(&format!("timestamp={now}"));
    let sig = custody::exchange::binance::signature(
        custody::exchange::venue::DUMMY_SECRET.as_bytes(),
        signed.as_bytes(),
        b"",
    );
    let target = format!("https://api.binance.com{path}?{signed}&signature={sig}");
    let encoded: String = target
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let rest = proxy_url.strip_prefix("http://").unwrap_or(proxy_url);
    let (authority, base_path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut conn = std::net::TcpStream::connect(authority).map_err(fail)?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .map_err(fail)?;
    let request = format!(
        "{method} /{base_path}{encoded} HTTP/1.1\r\nHost: {authority}\r\nX-MBX-APIKEY: {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(request.as_bytes()).map_err(fail)?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).map_err(fail)?;
    let status = answer.lines().next().unwrap_or("").to_owned();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok(format!("{status}\n{}", body.trim()))
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir, CliError> {
    use rand_core::{OsRng, RngCore};
    let base = std::env::temp_dir();
    let mut tag = [0u8; 8];
    OsRng.fill_bytes(&mut tag);
    let dir = base.join(format!("custody-demo-{}", custody::keys::hex(&tag)));
    std::fs::create_dir(&dir).map_err(|source| CliError::Write {
        path: dir.clone(),
        source,
    })?;
    Ok(TempDir(dir))
}
