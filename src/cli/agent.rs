//! `custody agent ...`: run the agent, unlock and seal it, ask its status, and run a bot with
//! credentials fetched from it (no quorum). The service itself is `custody::agent::server`;
//! these are thin shells over it and over `custody::agent::client`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use super::{
    CliError, EnvStyle, PassphraseArgs, ShareArgs, agent_policy, child, examples, interactive,
    secret_input,
};
use custody::agent::client::{self, UnlockFlags, UnlockShare};
use custody::agent::server::{self, Config};
use custody::agent::socket;
use custody::ops::release;
use custody::proxy::server::ProxyConfig;
use custody::proxy::upstream::Override;
use custody::terminal_text::escape;

/// `custody agent ...`.
#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// Which local programs may receive which credentials from the agent: rules in the vault,
    /// proposed without a quorum and in force once a quorum ratifies them.
    #[command(subcommand)]
    Policy(agent_policy::PolicyCommand),
    /// Run the agent in the foreground (for systemd, docker, supervisord): it starts sealed,
    /// a quorum unlocks it once, and it serves the credentials its ratified access policy
    /// grants to the clients it names. Logs to standard error.
    #[command(after_help = examples::AGENT_RUN)]
    Run(AgentRunArgs),
    /// Unlock a running agent with a quorum of shares (checked here first, then by the agent).
    #[command(after_help = examples::AGENT_UNLOCK)]
    Unlock(AgentUnlockArgs),
    /// Seal a running agent now: every credential it holds is wiped.
    #[command(after_help = examples::AGENT_SEAL)]
    Seal(AgentSocketArgs),
    /// Show whether the agent is sealed or unlocked, until when, what it holds (names only)
    /// and what it served and refused.
    #[command(after_help = examples::AGENT_STATUS)]
    Status(AgentStatusArgs),
    /// Run a program with credentials fetched from the unlocked agent (no quorum): the same
    /// variables, signal forwarding and exit status as `custody exec`.
    #[command(after_help = examples::AGENT_EXEC)]
    Exec(AgentExecArgs),
}

/// The socket a client command talks to.
#[derive(Args, Debug)]
pub struct AgentSocketArgs {
    /// The agent's socket (default: $CUSTODY_AGENT_SOCKET, else
    /// $XDG_RUNTIME_DIR/custody/agent.sock, else /run/custody/agent.sock).
    #[arg(long, env = "CUSTODY_AGENT_SOCKET")]
    pub socket: Option<PathBuf>,
}

impl AgentSocketArgs {
    fn path(&self) -> PathBuf {
        self.socket.clone().unwrap_or_else(socket::default_path)
    }
}

/// A duration for the agent's limits: `90s`, `30m`, `8h`, `7d`, or combined (`1h30m`);
/// from one second to 30 days.
#[derive(Clone, Copy, Debug)]
pub struct AgentDuration(pub Duration);

impl FromStr for AgentDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let total = super::duration::seconds(s)
            .ok_or_else(|| format!("`{s}` is not a duration like 90s, 30m, 8h or 7d"))?;
        if total == 0 || total > 30 * 86_400 {
            return Err(format!("`{s}`: give from 1s to 30d"));
        }
        Ok(AgentDuration(Duration::from_secs(total)))
    }
}

#[derive(Args, Debug)]
pub struct AgentRunArgs {
    /// The vault whose credentials the agent serves (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    #[command(flatten)]
    pub socket: AgentSocketArgs,
    /// A group (name or number) whose members may connect to the socket (then 0660, in a
    /// folder the agent creates 0710). Without it only the agent's user and root can.
    #[arg(long, value_name = "GROUP")]
    pub socket_group: Option<String>,
    /// Seal this long after each unlock, whatever happens (e.g. 8h, 24h, 7d).
    #[arg(long, default_value = "24h")]
    pub max_ttl: AgentDuration,
    /// Also seal after this long without handing out a credential (e.g. 30m).
    #[arg(long)]
    pub idle_ttl: Option<AgentDuration>,
    /// Serve the signing proxy on this loopback address (e.g. 127.0.0.1:8787): bots trade
    /// through it with a proxy token and never hold the exchange secret.
    #[arg(long, value_name = "ADDR:PORT")]
    pub proxy_listen: Option<std::net::SocketAddr>,
    /// TESTS ONLY: send EXCHANGE's proxied requests to a test server instead of the exchange
    /// (repeatable). Needs --proxy-listen and --upstream-ca; status and every audit record say
    /// it is on.
    #[arg(long, value_name = "EXCHANGE=https://HOST:PORT", requires_all = ["proxy_listen", "upstream_ca"])]
    pub upstream_override: Vec<String>,
    /// TESTS ONLY: the CA the test servers' certificates chain to (PEM).
    #[arg(long, value_name = "CA.pem", requires = "upstream_override")]
    pub upstream_ca: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AgentUnlockArgs {
    #[command(flatten)]
    pub socket: AgentSocketArgs,
    /// The vault, to check each share before it is sent (default: $CUSTODY_VAULT, else the
    /// vault the agent reports).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: Option<PathBuf>,
    #[command(flatten)]
    pub shares: ShareArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Show what awaits ratification (credentials, access policy), test-open it and sign it
    /// before the agent opens what the policy grants.
    #[arg(long)]
    pub ratify: bool,
    /// Also open granted credentials past their expiry day (recorded in the audit log).
    #[arg(long)]
    pub allow_expired: bool,
    /// Also open granted credentials whose scope includes withdraw.
    #[arg(long)]
    pub allow_withdraw: bool,
    /// Print the agent's answer as one JSON object (`custody-agent-unlock/1`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct AgentStatusArgs {
    #[command(flatten)]
    pub socket: AgentSocketArgs,
    /// Print one JSON object (`custody-agent-status/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct AgentExecArgs {
    #[command(flatten)]
    pub socket: AgentSocketArgs,
    /// The credentials to fetch (comma-separated or repeated).
    #[arg(long = "cred", value_delimiter = ',', required = true)]
    pub creds: Vec<String>,
    /// Variable names for the child.
    #[arg(long, value_enum, default_value_t = EnvStyle::Plain)]
    pub env_style: EnvStyle,
    /// Write one JSON object with the credentials to the child's standard input instead of
    /// setting any variable.
    #[arg(long, conflicts_with = "env_style")]
    pub stdin_json: bool,
    /// Trade through the agent's signing proxy: the program gets a proxy token in place of
    /// the API key, a dummy secret (and passphrase), and `<NAME>_PROXY_URL` for ccxt's
    /// `proxyUrl`; never the exchange secret.
    #[arg(long, conflicts_with = "stdin_json")]
    pub proxy: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

impl AgentCommand {
    /// Whether the command prints a JSON document.
    pub fn wants_json(&self) -> bool {
        match self {
            AgentCommand::Unlock(a) => a.json,
            AgentCommand::Status(a) => a.json,
            AgentCommand::Policy(p) => agent_policy::wants_json(p),
            _ => false,
        }
    }
}

pub fn run(cmd: AgentCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        AgentCommand::Policy(p) => agent_policy::run(p, out),
        AgentCommand::Run(a) => run_agent(a),
        AgentCommand::Unlock(a) => unlock(a, out),
        AgentCommand::Seal(a) => {
            let path = a.path();
            client::seal(&path)?;
            writeln!(
                out,
                "The agent at {} is sealed: every credential it held is wiped.",
                path.display()
            )?;
            Ok(())
        }
        AgentCommand::Status(a) => status(a, out),
        AgentCommand::Exec(a) => exec(a),
    }
}

/// A group given by name (from /etc/group) or number.
fn group_id(g: &str) -> Result<u32, CliError> {
    if let Ok(n) = g.parse::<u32>() {
        return Ok(n);
    }
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    groups
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(g)).then(|| f.nth(1).and_then(|n| n.parse().ok()))?
        })
        .ok_or_else(|| CliError::Usage(format!("--socket-group: no group `{g}` in /etc/group")))
}

fn run_agent(a: AgentRunArgs) -> Result<(), CliError> {
    let cfg = Config {
        vault: a.vault,
        socket: a.socket.path(),
        socket_group: a.socket_group.as_deref().map(group_id).transpose()?,
        max_ttl: a.max_ttl.0,
        idle_ttl: a.idle_ttl.map(|d| d.0),
        clock: super::clock(),
        proxy: match a.proxy_listen {
            None => None,
            Some(listen) => Some(ProxyConfig {
                listen,
                overrides: a
                    .upstream_override
                    .iter()
                    .map(|o| Override::parse(o))
                    .collect::<Result<_, _>>()
                    .map_err(|e| CliError::Usage(e.to_string()))?,
                ca: a.upstream_ca,
            }),
        },
    };
    server::run(
        cfg,
        Box::new(|line: &str| {
            let mut err = super::escaping::stderr();
            let _ = writeln!(err, "custody agent: {line}");
        }),
    )?;
    Ok(())
}

fn unlock(a: AgentUnlockArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // The shares pass through this process: no core dump, not dumpable.
    let hardening = custody::harden::for_quorum();
    for w in hardening.warnings() {
        writeln!(super::escaping::stderr(), "warning: {w}").ok();
    }
    let path = a.socket.path();
    // The vault to check shares against: given, or the one the agent serves.
    let vault_path = match &a.vault {
        Some(v) => v.clone(),
        None => {
            let st = client::status(&path)?;
            PathBuf::from(st["vault"].as_str().unwrap_or_default())
        }
    };
    let vault = custody::vault::store::load(&vault_path)?;
    let given = secret_input::passphrase(&a.passphrase, false)?;
    let mut refused = Vec::new();
    let gathered = interactive::shares_from_args_or_tty(
        &a.shares,
        Some(&vault),
        Some((&vault, "agent-unlock")),
        &mut super::escaping::stderr(),
        &mut refused,
    )?;
    let presented = gathered.shares;
    let remote = gathered.remote;
    let passphrase = secret_input::or_prompt(given, vault.slip39().passphrase)?;
    // --ratify: the officers see here what the agent would sign, and agree (at a terminal) or
    // see it listed (without one); the agent then signs only exactly that.
    let consented = if a.ratify {
        Some(review_here(&vault, &vault_path, &a)?)
    } else {
        None
    };
    // Each share is checked here against the vault (signature, custodian, epoch) before it
    // leaves this process; the agent checks them all again.
    for p in &presented {
        if let Err(problem) = custody::quorum::check_share(p, &vault) {
            return Err(CliError::ShareRefused {
                label: p.label.clone(),
                problem: problem.to_string(),
            });
        }
    }
    let shares: Vec<UnlockShare> = presented
        .iter()
        .map(|p| UnlockShare {
            label: p.label.clone(),
            text: match &p.token {
                Some(t) => t.to_text(),
                None => Zeroizing::new(p.share.to_words().to_string()),
            },
        })
        .collect();
    drop(presented);
    let answer = client::unlock(
        &path,
        &shares,
        passphrase.as_deref().map(|p| p.as_str()),
        UnlockFlags {
            ratify: a.ratify,
            allow_expired: a.allow_expired,
            allow_withdraw: a.allow_withdraw,
        },
        &consented,
        remote.as_ref(),
    )?;
    drop(shares);
    if a.json {
        let mut doc = answer.clone();
        if let Some(m) = doc.as_object_mut() {
            m.remove("v");
            m.insert("format".into(), "custody-agent-unlock/1".into());
        }
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    let names: Vec<&str> = answer["credentials"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    writeln!(
        out,
        "The agent is unlocked until {} and holds {} credential(s): {}.",
        answer["expires_at"].as_str().unwrap_or("?"),
        names.len(),
        names.join(", ")
    )?;
    writeln!(
        out,
        "The master key was erased in the agent; bots fetch with `custody agent exec` (no quorum)."
    )?;
    for n in answer["not_opened"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "Not opened: {}: {}",
            n["name"].as_str().unwrap_or("?"),
            n["reason"].as_str().unwrap_or("?")
        )?;
    }
    for w in answer["warnings"].as_array().into_iter().flatten() {
        writeln!(out, "warning: {}", w.as_str().unwrap_or("?"))?;
    }
    Ok(())
}

/// What awaits ratification in the vault, shown and agreed to on this side: at a terminal
/// the quorum answers y (anything else sends nothing); without one the list is printed and
/// stands as the consent. Nothing is test-opened here (the agent does that with the quorum).
fn review_here(
    vault: &custody::vault::Vault,
    path: &std::path::Path,
    a: &AgentUnlockArgs,
) -> Result<custody::ops::agent_unlock::Consented, CliError> {
    use custody::ops::ratify::{self, Answer, Consent, Review, ToSign};
    use custody::vault::ratify::EntryState;
    let waiting = ratify::waiting(vault, path)?;
    let id = vault.vault_id();
    let review = Review {
        entries: waiting
            .pending
            .iter()
            .map(|c| ToSign {
                credential: c.clone(),
                state: c
                    .pending
                    .map_or(EntryState::Unverified, EntryState::Pending),
                digest: c.digest(&id),
            })
            .collect(),
        access: waiting.access_pending.clone(),
        hosts: waiting.hosts_pending.clone(),
        over_rollback: None,
    };
    match super::ratify::Asking::new(a.shares.timeout()).consent(&review) {
        Answer::Sign => Ok(custody::ops::agent_unlock::Consented {
            entries: review.entries.iter().map(|e| e.digest).collect(),
            policy: review.access.iter().map(|c| c.describe()).collect(),
            hosts: review.hosts.iter().map(|c| c.describe()).collect(),
        }),
        Answer::Decline(why) => Err(CliError::Declined(why)),
    }
}

fn status(a: AgentStatusArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let path = a.socket.path();
    let st = client::status(&path)?;
    if a.json {
        let mut doc = st;
        if let Some(m) = doc.as_object_mut() {
            m.remove("v");
            m.insert("format".into(), "custody-agent-status/1".into());
        }
        writeln!(out, "{doc}")?;
        return Ok(());
    }
    let s = |k: &str| st[k].as_str().unwrap_or("?").to_owned();
    let n = |k: &str| st[k].as_u64().unwrap_or(0);
    writeln!(
        out,
        "Agent at {} (pid {}), vault {}",
        s("socket"),
        n("pid"),
        s("vault")
    )?;
    if let Some(p) = st["proxy"].as_object() {
        writeln!(
            out,
            "Signing proxy on http://{}/",
            escape(p.get("listen").and_then(|v| v.as_str()).unwrap_or("?"))
        )?;
        if let Some(o) = p.get("test_upstream").and_then(|v| v.as_str()) {
            writeln!(
                out,
                "WARNING: TEST UPSTREAM OVERRIDE IN FORCE: {} (requests go to a test server, \
                 not to the exchange)",
                escape(o)
            )?;
        }
    }
    if st["state"] == "unlocked" {
        writeln!(
            out,
            "UNLOCKED since {}, seals at {} at the latest",
            s("unlocked_at"),
            s("expires_at")
        )?;
        for c in st["held"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "  {}  {} {}  scope {}{}",
                c["name"].as_str().unwrap_or("?"),
                c["exchange"].as_str().unwrap_or("?"),
                c["account"].as_str().unwrap_or("?"),
                c["scope"].as_str().unwrap_or("?"),
                match c["expires"].as_str() {
                    Some(e) => format!("  expires {e}"),
                    None => String::new(),
                }
            )?;
        }
        for c in st["not_opened"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "  not held: {}: {}",
                c["name"].as_str().unwrap_or("?"),
                c["reason"].as_str().unwrap_or("?")
            )?;
        }
    } else {
        writeln!(
            out,
            "SEALED since {} ({}); a quorum unlocks it with `custody agent unlock`",
            s("sealed_at"),
            s("sealed_because")
        )?;
    }
    writeln!(
        out,
        "Requests {}, credentials handed out {}, refused {} (rate-limited {})",
        n("requests"),
        n("grants"),
        n("refusals"),
        n("rate_limited")
    )?;
    Ok(())
}

fn exec(a: AgentExecArgs) -> Result<(), CliError> {
    let names = super::exec::credential_names(&a.creds, a.env_style, a.stdin_json)?;
    let program = a.command[0].clone();
    let mut cmd = Command::new(&program);
    cmd.args(&a.command[1..]);
    child::die_with_custody(&mut cmd);
    if a.proxy {
        let grants = client::proxy(&a.socket.path(), &names)?;
        for g in &grants.credentials {
            let venue = custody::exchange::registry::by_name(&g.exchange).ok_or_else(|| {
                CliError::Usage(format!(
                    "the agent issued a token for an exchange this custody does not know: {}",
                    escape(&g.exchange)
                ))
            })?;
            let secret = venue.dummy_secret();
            let url = g.proxy_url(&grants.url);
            let passphrase = g
                .passphrase
                .then_some(custody::exchange::venue::DUMMY_PASSPHRASE);
            for (k, v) in release::proxy_variables(
                a.env_style.into(),
                &g.name,
                &g.token,
                &secret,
                passphrase,
                &url,
            ) {
                cmd.env(k, v);
            }
        }
        drop(grants);
        return run_child(cmd, &program, None);
    }
    let fetched = client::fetch(&a.socket.path(), &names)?;
    let mut stdin_bytes: Option<Zeroizing<Vec<u8>>> = None;
    let client::FetchedSet {
        credentials,
        object,
    } = fetched;
    if a.stdin_json {
        stdin_bytes = Some(object);
        cmd.stdin(Stdio::piped());
    } else {
        drop(object);
        for (name, c) in credentials {
            let fields = c.fields.into_secret_fields();
            for (k, v) in release::variables_named(a.env_style.into(), &name, &fields) {
                cmd.env(k, v);
            }
        }
    }
    run_child(cmd, &program, stdin_bytes)
}

/// Start the program, forward signals to it, feed it `stdin_bytes` if any, and exit as it did.
fn run_child(
    mut cmd: Command,
    program: &std::ffi::OsStr,
    stdin_bytes: Option<Zeroizing<Vec<u8>>>,
) -> Result<(), CliError> {
    let program_name = program.to_string_lossy().into_owned();
    let forwarder = child::Forwarder::install().map_err(CliError::Signals)?;
    let spawned = cmd.spawn();
    drop(cmd);
    let mut child = spawned.map_err(|source| CliError::Spawn {
        program: escape(&program_name).into_owned(),
        source,
    })?;
    let forwarding = forwarder.forward_to(child.id());
    let status =
        child::feed_and_wait(&mut child, forwarding, stdin_bytes).map_err(CliError::Wait)?;
    match child::exit_code(status) {
        0 => Ok(()),
        code => Err(CliError::ChildExited(code)),
    }
}
