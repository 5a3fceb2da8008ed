//! One rule of the agent access policy: the clients it names (a [`Selector`]), the credentials
//! it lets them receive, how many requests a minute it allows ([`Rate`]) and what it lets
//! through the signing proxy ([`ProxyTerms`]). Every value is checked when a rule is made, so
//! a rule in memory is always one custody would write.

use std::fmt;
use std::path::{Component, Path};

use super::{Client, ProxyTerms};
use crate::vault::credential::check_name;
use crate::wire;

/// Why a rule (or one of its parts) is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// `(uid_t)-1` is not a user id (the kernel uses it for "no change").
    Uid(u32),
    /// `(gid_t)-1` is not a group id.
    Gid(u32),
    /// The executable path is not what the kernel would report for a running program.
    Exe {
        /// The path as given.
        exe: String,
        /// What is wrong with it, in words.
        problem: &'static str,
    },
    /// The systemd unit name is not one a process can run in.
    Unit {
        /// The unit as given.
        unit: String,
        /// What is wrong with it, in words.
        problem: &'static str,
    },
    /// The rate is not `N/min`.
    RateSyntax(String),
    /// The rate is outside 1 to [`wire::MAX_AGENT_RATE_PER_MINUTE`] a minute.
    RateRange(u64),
    /// A rule must name at least one credential.
    NoCredentials,
    /// More credentials than [`wire::MAX_AGENT_RULE_CREDENTIALS`].
    TooManyCredentials(usize),
    /// A credential name that no credential can have.
    CredentialName(String),
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Uid(u) => write!(
                f,
                "uid {u} is not a user id (it means \"none\" to the kernel); give the bot's \
                 numeric uid (`id -u USER`)"
            ),
            RuleError::Gid(g) => write!(
                f,
                "gid {g} is not a group id (it means \"none\" to the kernel); give the bot's \
                 numeric gid (`id -g USER`)"
            ),
            RuleError::Exe { exe, problem } => write!(
                f,
                "the executable `{exe}` cannot match a client: {problem}; give the absolute path \
                 the kernel reports (`readlink /proc/PID/exe` of the running bot)"
            ),
            RuleError::Unit { unit, problem } => write!(
                f,
                "the systemd unit `{unit}` cannot match a client: {problem}; give the unit the \
                 bot runs in, such as `tradebot.service` (`systemctl status PID` shows it)"
            ),
            RuleError::RateSyntax(r) => write!(
                f,
                "the rate `{r}` is not a number of requests a minute; write it as N/min, for \
                 example 60/min"
            ),
            RuleError::RateRange(n) => write!(
                f,
                "the rate {n}/min is out of range: a rule allows 1 to {} requests a minute",
                wire::MAX_AGENT_RATE_PER_MINUTE
            ),
            RuleError::NoCredentials => write!(f, "a rule must name at least one credential"),
            RuleError::TooManyCredentials(n) => write!(
                f,
                "a rule names {n} credentials; at most {} are allowed in one rule",
                wire::MAX_AGENT_RULE_CREDENTIALS
            ),
            RuleError::CredentialName(n) => write!(
                f,
                "`{n}` is not a credential name (1-64 letters, digits, `.`, `_`, `-`)"
            ),
        }
    }
}

impl std::error::Error for RuleError {}

/// Which clients a rule names: a uid, and optionally a gid, an executable and a systemd unit,
/// all of which must match. Two rules with equal selectors are one rule (a new one replaces the
/// old). Ordered by uid, then gid, executable and unit (an absent one first): the canonical
/// order of the policy's rules.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    uid: u32,
    gid: Option<u32>,
    exe: Option<String>,
    unit: Option<String>,
}

impl Selector {
    /// A selector, every part checked: the uid and gid are not `-1`; the executable is an
    /// absolute, normalised path (no `.`, `..`, empty component or trailing `/`) of at most
    /// [`wire::MAX_AGENT_EXE_LEN`] bytes without control characters, as the kernel reports
    /// `/proc/PID/exe`; the unit is a systemd service or scope name.
    pub fn new(
        uid: u32,
        gid: Option<u32>,
        exe: Option<&str>,
        unit: Option<&str>,
    ) -> Result<Selector, RuleError> {
        if uid == u32::MAX {
            return Err(RuleError::Uid(uid));
        }
        if let Some(g) = gid.filter(|&g| g == u32::MAX) {
            return Err(RuleError::Gid(g));
        }
        if let Some(e) = exe {
            check_exe(e)?;
        }
        if let Some(u) = unit {
            check_unit(u)?;
        }
        Ok(Selector {
            uid,
            gid,
            exe: exe.map(str::to_owned),
            unit: unit.map(str::to_owned),
        })
    }

    /// The user id a client must have.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The group id a client must have, if the rule names one.
    pub fn gid(&self) -> Option<u32> {
        self.gid
    }

    /// The executable a client must be running, if the rule names one.
    pub fn exe(&self) -> Option<&Path> {
        self.exe.as_deref().map(Path::new)
    }

    /// The executable as stored (UTF-8), if the rule names one.
    pub fn exe_str(&self) -> Option<&str> {
        self.exe.as_deref()
    }

    /// The systemd unit a client must run in, if the rule names one.
    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }

    /// Whether `client` is one of the clients this selector names.
    pub fn admits(&self, client: &Client) -> bool {
        client.uid == self.uid
            && self.gid.is_none_or(|g| client.gid == g)
            && self.exe().is_none_or(|e| client.exe.as_deref() == Some(e))
            && self
                .unit
                .as_deref()
                .is_none_or(|u| client.unit.as_deref() == Some(u))
    }

    /// How many parts besides the uid it names (0 to 3): of two rules that both admit a
    /// client, the one naming more is the more specific.
    pub fn specificity(&self) -> u8 {
        u8::from(self.gid.is_some()) + u8::from(self.exe.is_some()) + u8::from(self.unit.is_some())
    }
}

impl fmt::Display for Selector {
    /// `uid 1000`, then `gid 100`, `exe /usr/bin/x`, `unit bot.service` as named.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "uid {}", self.uid)?;
        if let Some(g) = self.gid {
            write!(f, " gid {g}")?;
        }
        if let Some(e) = &self.exe {
            write!(f, " exe {e}")?;
        }
        if let Some(u) = &self.unit {
            write!(f, " unit {u}")?;
        }
        Ok(())
    }
}

fn check_exe(exe: &str) -> Result<(), RuleError> {
    let bad = |problem| {
        Err(RuleError::Exe {
            exe: exe.to_owned(),
            problem,
        })
    };
    if !exe.starts_with('/') {
        return bad("it is not an absolute path");
    }
    if exe.len() > wire::MAX_AGENT_EXE_LEN {
        return bad("it is longer than 4095 bytes");
    }
    if exe.chars().any(char::is_control) {
        return bad("it contains a control character");
    }
    if exe.len() == 1 || exe.ends_with('/') {
        return bad("it names a folder");
    }
    if exe.contains("//")
        || Path::new(exe)
            .components()
            .any(|c| matches!(c, Component::CurDir | Component::ParentDir))
        || exe.split('/').any(|c| c == ".")
    {
        return bad("it is not normalised (`.`, `..` or `//` in it)");
    }
    Ok(())
}

fn check_unit(unit: &str) -> Result<(), RuleError> {
    let bad = |problem| {
        Err(RuleError::Unit {
            unit: unit.to_owned(),
            problem,
        })
    };
    if unit.is_empty() || unit.len() > wire::MAX_AGENT_UNIT_LEN {
        return bad("a unit name has 1 to 255 bytes");
    }
    if !unit
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.' | b'\\' | b'@'))
    {
        return bad("a unit name has only ASCII letters, digits and `:-_.\\@`");
    }
    let stem = unit
        .strip_suffix(".service")
        .or_else(|| unit.strip_suffix(".scope"));
    match stem {
        None => bad("processes run in `.service` or `.scope` units"),
        Some("") => bad("it has no name before its suffix"),
        Some(_) => Ok(()),
    }
}

/// How many requests a minute a rule allows its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// [`wire::DEFAULT_AGENT_RATE_PER_MINUTE`] requests a minute.
    pub const DEFAULT: Rate = Rate(wire::DEFAULT_AGENT_RATE_PER_MINUTE);

    /// `n` requests a minute, 1 to [`wire::MAX_AGENT_RATE_PER_MINUTE`].
    pub fn per_minute(n: u64) -> Result<Rate, RuleError> {
        match u32::try_from(n) {
            Ok(n) if (1..=wire::MAX_AGENT_RATE_PER_MINUTE).contains(&n) => Ok(Rate(n)),
            _ => Err(RuleError::RateRange(n)),
        }
    }

    /// `N/min` (as the command line takes it).
    pub fn parse(text: &str) -> Result<Rate, RuleError> {
        let n = text
            .trim()
            .strip_suffix("/min")
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| RuleError::RateSyntax(text.to_owned()))?;
        Rate::per_minute(n.parse().unwrap_or(u64::MAX))
    }

    /// Requests a minute.
    pub fn requests_per_minute(self) -> u32 {
        self.0
    }
}

impl Default for Rate {
    fn default() -> Rate {
        Rate::DEFAULT
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/min", self.0)
    }
}

/// One rule: the clients its [`Selector`] names may receive the credentials it lists, at most
/// [`Rate`] requests a minute, and use them through the signing proxy as its [`ProxyTerms`]
/// allow. The credential names are sorted and without repeats.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccessRule {
    selector: Selector,
    credentials: Vec<String>,
    rate: Rate,
    terms: ProxyTerms,
}

impl AccessRule {
    /// A rule naming `credentials` (sorted by their bytes, repeats dropped; 1 to
    /// [`wire::MAX_AGENT_RULE_CREDENTIALS`] names, each a valid credential name), with the
    /// default proxy terms ([`AccessRule::with_terms`] sets others). Whether the vault has
    /// them is the caller's check.
    pub fn new(
        selector: Selector,
        mut credentials: Vec<String>,
        rate: Rate,
    ) -> Result<AccessRule, RuleError> {
        credentials.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        credentials.dedup();
        if credentials.is_empty() {
            return Err(RuleError::NoCredentials);
        }
        if credentials.len() > wire::MAX_AGENT_RULE_CREDENTIALS {
            return Err(RuleError::TooManyCredentials(credentials.len()));
        }
        if let Some(bad) = credentials.iter().find(|n| check_name(n).is_err()) {
            return Err(RuleError::CredentialName(bad.clone()));
        }
        Ok(AccessRule {
            selector,
            credentials,
            rate,
            terms: ProxyTerms::default(),
        })
    }

    /// This rule with `terms` for the signing proxy (in place of the ones it had).
    pub fn with_terms(mut self, terms: ProxyTerms) -> AccessRule {
        self.terms = terms;
        self
    }

    /// Whether `client` is one of the clients this rule names (whatever it asks for).
    pub fn admits(&self, client: &Client) -> bool {
        self.selector.admits(client)
    }

    /// Whether this rule lists the credential `name`.
    pub fn lists(&self, name: &str) -> bool {
        self.credentials.iter().any(|c| c == name)
    }

    /// The clients it names.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// The credentials it lets them receive, sorted.
    pub fn credentials(&self) -> &[String] {
        &self.credentials
    }

    /// How many requests a minute it allows.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// What it lets through the signing proxy beyond the credentials' scope.
    pub fn terms(&self) -> &ProxyTerms {
        &self.terms
    }

    /// What it grants besides its selector, in words: `binance-main, okx-hedge at 60/min`, then
    /// `; proxy: ` and [`ProxyTerms::describe`] unless the terms are the defaults.
    pub fn grant_text(&self) -> String {
        let mut s = format!("{} at {}", self.credentials.join(", "), self.rate);
        if !self.terms.is_default() {
            s.push_str("; proxy: ");
            s.push_str(&self.terms.describe());
        }
        s
    }
}

impl fmt::Display for AccessRule {
    /// `uid 1000 exe /opt/bot/run: binance-main, okx-hedge at 60/min`, then, for terms other
    /// than the defaults, `; proxy: 5 orders/s, symbols BTCUSDT` (as
    /// [`AccessRule::grant_text`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.selector, self.grant_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_are_absolute_normalised_paths() {
        for good in ["/usr/bin/python3.12", "/opt/bot/run", "/a b/c"] {
            assert!(
                Selector::new(1000, None, Some(good), None).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "bot",
            "./bot",
            "/",
            "/opt/bot/",
            "/opt//bot",
            "/opt/./bot",
            "/opt/../bot",
            "/opt/bot\n",
        ] {
            assert!(
                matches!(
                    Selector::new(1000, None, Some(bad), None),
                    Err(RuleError::Exe { .. })
                ),
                "{bad:?}"
            );
        }
        let long = format!("/{}", "a".repeat(wire::MAX_AGENT_EXE_LEN));
        assert!(Selector::new(1000, None, Some(&long), None).is_err());
    }

    #[test]
    fn units_are_services_or_scopes() {
        for good in ["tradebot.service", "bot@eu-1.service", "run-u42.scope"] {
            assert!(Selector::new(1, None, None, Some(good)).is_ok(), "{good}");
        }
        for bad in [
            "",
            "tradebot",
            ".service",
            "bot.timer",
            "bot .service",
            "bøt.service",
        ] {
            assert!(
                matches!(
                    Selector::new(1, None, None, Some(bad)),
                    Err(RuleError::Unit { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ids_of_minus_one_are_refused() {
        assert_eq!(
            Selector::new(u32::MAX, None, None, None),
            Err(RuleError::Uid(u32::MAX))
        );
        assert_eq!(
            Selector::new(0, Some(u32::MAX), None, None),
            Err(RuleError::Gid(u32::MAX))
        );
    }

    #[test]
    fn rates_are_n_per_minute_within_bounds() {
        assert_eq!(Rate::parse("60/min").unwrap().requests_per_minute(), 60);
        assert_eq!(Rate::default().to_string(), "60/min");
        for bad in ["60", "60/s", "/min", "-1/min", "1.5/min", "x/min"] {
            assert!(
                matches!(Rate::parse(bad), Err(RuleError::RateSyntax(_))),
                "{bad}"
            );
        }
        assert_eq!(Rate::parse("0/min"), Err(RuleError::RateRange(0)));
        assert_eq!(
            Rate::parse("600001/min"),
            Err(RuleError::RateRange(600_001))
        );
        assert!(matches!(
            Rate::parse("99999999999999999999999/min"),
            Err(RuleError::RateRange(_))
        ));
    }

    #[test]
    fn credentials_are_sorted_unique_and_named() {
        let s = Selector::new(1000, None, None, None).unwrap();
        let r = AccessRule::new(
            s.clone(),
            vec!["okx".into(), "binance".into(), "okx".into()],
            Rate::DEFAULT,
        )
        .unwrap();
        assert_eq!(r.credentials(), ["binance", "okx"]);
        assert_eq!(
            AccessRule::new(s.clone(), vec![], Rate::DEFAULT),
            Err(RuleError::NoCredentials)
        );
        assert_eq!(
            AccessRule::new(s, vec!["a b".into()], Rate::DEFAULT),
            Err(RuleError::CredentialName("a b".into()))
        );
    }
}
