//! `custody agent policy add|remove|list`: the agent's access policy over
//! `custody::ops::access`: rules are proposed without a quorum, and a quorum ratifies them with
//! `--ratify` on any quorum command (`agent unlock` included).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{CliError, examples};
use custody::ops::access::{self, AgentPolicyError, ClientSpec, RuleRequest};
use custody::vault::access::{AccessRule, Notional, Proposal, ProxyTerms, Rate};

/// `custody agent policy ...`.
#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Propose a rule (no quorum): these clients may receive these credentials. It replaces the
    /// rule for the same clients, and grants nothing until a quorum ratifies it.
    #[command(after_help = examples::AGENT_POLICY_ADD)]
    Add(PolicyAddArgs),
    /// Remove the rule for exactly these clients (no quorum): it stops granting at once; a
    /// quorum's ratification records the removal.
    #[command(after_help = examples::AGENT_POLICY_REMOVE)]
    Remove(PolicyRemoveArgs),
    /// Every rule and where it stands: ratified and in force, pending, or tampered.
    #[command(after_help = examples::AGENT_POLICY_LIST)]
    List(PolicyListArgs),
}

/// The clients a rule names. All that are given must match what the kernel says about a
/// client.
#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The client's numeric user id (`id -u USER`).
    #[arg(long)]
    pub uid: u32,
    /// Also require this numeric group id.
    #[arg(long)]
    pub gid: Option<u32>,
    /// Also require this executable: the absolute path the kernel reports for the running
    /// program (`readlink /proc/PID/exe`); for a script, that is its interpreter.
    #[arg(long, value_name = "PATH")]
    pub exe: Option<PathBuf>,
    /// Also require this systemd unit, such as tradebot.service.
    #[arg(long)]
    pub unit: Option<String>,
}

impl ClientArgs {
    fn spec(&self) -> ClientSpec {
        ClientSpec {
            uid: self.uid,
            gid: self.gid,
            exe: self.exe.clone(),
            unit: self.unit.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct PolicyAddArgs {
    /// The vault holding the policy (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    #[command(flatten)]
    pub client: ClientArgs,
    /// The credentials these clients may receive (comma-separated or repeated); each must be
    /// in the vault.
    #[arg(
        long = "cred",
        value_name = "NAME",
        value_delimiter = ',',
        required = true
    )]
    pub creds: Vec<String>,
    /// How many requests a minute these clients may make, as N/min.
    #[arg(long, value_name = "N/min", default_value = "60/min", value_parser = parse_rate)]
    pub rate: Rate,
    #[command(flatten)]
    pub terms: TermsArgs,
}

/// What the rule lets through the agent's signing proxy beyond the credentials' scope.
#[derive(Args, Debug)]
pub struct TermsArgs {
    /// Let these clients withdraw and transfer through the signing proxy. It still forwards a
    /// withdrawal only with a credential whose scope includes withdraw.
    #[arg(long, help_heading = "Signing proxy")]
    pub allow_withdraw: bool,
    /// At most N orders a second through the signing proxy (1 to 10000).
    #[arg(long, value_name = "N", value_parser = parse_orders_per_second, help_heading = "Signing proxy")]
    pub orders_per_second: Option<u32>,
    /// At most N orders a minute through the signing proxy (1 to 600000).
    #[arg(long, value_name = "N", value_parser = parse_orders_per_minute, help_heading = "Signing proxy")]
    pub orders_per_minute: Option<u32>,
    /// Orders only on these symbols, as the exchange's order request writes them (BTCUSDT on
    /// Binance, BTC-USDT on OKX, XBTUSDT on Kraken; case ignored; comma-separated or
    /// repeated; at most 256). None: any symbol.
    #[arg(
        long,
        value_name = "SYM",
        value_delimiter = ',',
        value_parser = parse_symbol,
        help_heading = "Signing proxy"
    )]
    pub symbols: Vec<String>,
    /// Orders of at most this notional (price x quantity, in the quote currency), a plain
    /// decimal such as 50000 or 1234.5678.
    #[arg(long, value_name = "DEC", value_parser = parse_notional, help_heading = "Signing proxy")]
    pub max_notional: Option<Notional>,
}

impl TermsArgs {
    fn terms(&self) -> Result<ProxyTerms, AgentPolicyError> {
        let mut t = ProxyTerms::default()
            .with_withdraw(self.allow_withdraw)
            .with_symbols(&self.symbols)?;
        if let Some(n) = self.orders_per_second {
            t = t.with_orders_per_second(n.into())?;
        }
        if let Some(n) = self.orders_per_minute {
            t = t.with_orders_per_minute(n.into())?;
        }
        if let Some(n) = self.max_notional {
            t = t.with_max_notional(n);
        }
        Ok(t)
    }
}

fn parse_rate(s: &str) -> Result<Rate, String> {
    Rate::parse(s).map_err(|e| e.to_string())
}

/// A whole number of orders (clap's own words for one that is not).
fn orders(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|e| format!("`{s}` is not a whole number of orders ({e})"))
}

fn parse_orders_per_second(s: &str) -> Result<u32, String> {
    ProxyTerms::default()
        .with_orders_per_second(orders(s)?)
        .map(|t| t.orders_per_second().unwrap_or_default())
        .map_err(|e| e.to_string())
}

fn parse_orders_per_minute(s: &str) -> Result<u32, String> {
    ProxyTerms::default()
        .with_orders_per_minute(orders(s)?)
        .map(|t| t.orders_per_minute().unwrap_or_default())
        .map_err(|e| e.to_string())
}

fn parse_symbol(s: &str) -> Result<String, String> {
    ProxyTerms::default()
        .with_symbols([s])
        .map(|t| t.symbols().concat())
        .map_err(|e| e.to_string())
}

fn parse_notional(s: &str) -> Result<Notional, String> {
    Notional::parse(s).map_err(|e| e.to_string())
}

#[derive(Args, Debug)]
pub struct PolicyRemoveArgs {
    /// The vault holding the policy (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Exactly the clients the rule names (as `agent policy list` shows them).
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Args, Debug)]
pub struct PolicyListArgs {
    /// The vault holding the policy (default: $CUSTODY_VAULT).
    #[arg(long, env = "CUSTODY_VAULT")]
    pub vault: PathBuf,
    /// Print one JSON object (`custody-agent-policy/1`, docs/json.md) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Run `custody agent policy ...`.
pub fn run(cmd: PolicyCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        PolicyCommand::Add(a) => add(a, out),
        PolicyCommand::Remove(a) => remove(a, out),
        PolicyCommand::List(a) => list(a, out),
    }
}

/// Whether `custody agent policy ...` prints a JSON document.
pub fn wants_json(cmd: &PolicyCommand) -> bool {
    matches!(cmd, PolicyCommand::List(a) if a.json)
}

fn add(a: PolicyAddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let request = RuleRequest {
        client: a.client.spec(),
        credentials: a.creds,
        rate: a.rate,
        terms: a.terms.terms()?,
    };
    let proposed = access::add(&a.vault, &request, super::clock())?;
    match &proposed.outcome {
        Proposal::Unchanged => {
            writeln!(
                out,
                "Unchanged: the policy already has the rule {}.",
                proposed.rule
            )?;
            return Ok(());
        }
        Proposal::Reverted(old) => {
            writeln!(
                out,
                "Withdrew the pending change {old}: the rule is again the ratified {}, in force.",
                proposed.rule
            )?;
            return Ok(());
        }
        Proposal::Replaced(old) => {
            writeln!(out, "Proposed rule {} (replacing {old}).", proposed.rule)?
        }
        _ => writeln!(out, "Proposed rule {}.", proposed.rule)?,
    }
    writeln!(
        out,
        "It grants nothing until a quorum ratifies it (custody drill --vault {} --ratify, or \
         --ratify on any quorum command); a rule it replaces stays in force until then.",
        a.vault.display()
    )?;
    Ok(())
}

fn remove(a: PolicyRemoveArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let proposed = access::remove(&a.vault, &a.client.spec(), super::clock())?;
    if let Proposal::Withdrawn(rule) = &proposed.outcome {
        writeln!(
            out,
            "Withdrew the pending rule {rule}: no quorum had ratified it, so it never granted \
             anything, and nothing awaits a quorum for it now."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Removed rule {}: it no longer grants anything. A quorum's next ratification records \
         the removal (custody drill --vault {} --ratify).",
        proposed.rule,
        a.vault.display()
    )?;
    Ok(())
}

fn rule_json(r: &AccessRule) -> serde_json::Value {
    let s = r.selector();
    let t = r.terms();
    json!({
        "uid": s.uid(),
        "gid": s.gid(),
        "exe": s.exe_str(),
        "unit": s.unit(),
        "credentials": r.credentials(),
        "rate_per_minute": r.rate().requests_per_minute(),
        "allow_withdraw": t.allows_withdraw(),
        "orders_per_second": t.orders_per_second(),
        "orders_per_minute": t.orders_per_minute(),
        "symbols": t.symbols(),
        "max_notional": t.max_notional().map(|n| n.to_string()),
    })
}

fn list(a: PolicyListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let listing = access::list(&a.vault)?;
    if a.json {
        let rules: Vec<_> = listing
            .rules
            .iter()
            .map(|l| {
                let mut j = rule_json(&l.rule);
                j["state"] = l.state.as_str().into();
                j["in_force"] = l.state.in_force().into();
                j
            })
            .collect();
        let doc = json!({
            "format": "custody-agent-policy/1",
            "ok": listing.problem.is_none(),
            "rules": rules,
            "granted": listing.granted,
            "missing_credentials": listing.missing,
            "problem": listing.problem.as_ref().map(|p| p.to_string()),
        });
        writeln!(out, "{doc}")?;
    } else {
        if listing.rules.is_empty() {
            writeln!(
                out,
                "The agent access policy of {} has no rule: the agent grants nothing.",
                a.vault.display()
            )?;
        }
        for l in &listing.rules {
            writeln!(out, "{}  [{}]", l.rule, l.state.describe())?;
        }
        if !listing.missing.is_empty() {
            writeln!(
                out,
                "warning: rules list credentials the vault does not have (removed or renamed \
                 since): {}; they grant nothing",
                listing.missing.join(", ")
            )?;
        }
    }
    match listing.problem {
        Some(p) => Err(access::AgentPolicyError::Access(p).into()),
        None => Ok(()),
    }
}
