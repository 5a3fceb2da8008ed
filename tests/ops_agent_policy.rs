//! The agent access policy through the library (`custody::vault::access`,
//! `custody::ops::access`) on real vault files: which client each selector admits, which rule
//! grants a credential, that rules added without a quorum grant nothing until a quorum
//! ratifies them, that a hand-edited policy grants nothing and is named, that a rule's proxy
//! terms are stored, signed and changed like the rest of it, and that a vault written before
//! the policy existed reads and verifies as before.

use std::fs;
use std::path::{Path, PathBuf};

use custody::clock::Clock;
use custody::ops::access::{self, AgentPolicyError, ClientSpec, RuleRequest};
use custody::ops::creds::{self, NewCredential};
use custody::ops::ratify;
use custody::testkit::{self, TestVault};
use custody::vault::access::{
    AccessError, AccessRule, Client, Notional, Proposal, ProxyTerms, Rate, RuleChange, RuleError,
    RuleState, Selector,
};
use custody::vault::ratify::{RatifyError, RecordState};
use custody::vault::seal::SecretFields;
use custody::vault::store;
use custody::vault::{Vault, VaultFileError};
use serde_json::Value;

const T0: u64 = 1_790_000_000;

fn clock() -> Clock {
    Clock::fixed(T0)
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    tv: TestVault,
}

/// A vault of 2 of alice, bob, carol with the credentials `binance-main` and `okx-hedge`
/// (ratified), in a temporary folder.
fn fixture() -> Fixture {
    let tv = testkit::test_vault(
        7,
        3,
        11,
        &[("custodians", 2, &["alice", "bob", "carol"])],
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.json");
    store::create_new(&path, tv.vault.to_json().as_bytes(), 0o644).unwrap();
    let f = Fixture {
        _dir: dir,
        path,
        tv,
    };
    for (name, exchange) in [("binance-main", "binance"), ("kraken-spot", "kraken")] {
        creds::add(
            &f.path,
            &NewCredential {
                name: name.into(),
                exchange: exchange.into(),
                scope: "trade".into(),
                ..NewCredential::default()
            },
            &SecretFields::from_json(br#"{"api_key":"k","api_secret":"s"}"#).unwrap(),
            clock(),
        )
        .unwrap();
    }
    f.ratify();
    f
}

impl Fixture {
    fn ratify(&self) -> ratify::Ratified {
        ratify::ratify(&self.path, &self.tv.keys, T0, &mut ratify::Unasked)
            .unwrap()
            .0
    }

    fn add(&self, uid: u32, creds: &[&str]) -> Result<access::Proposed, AgentPolicyError> {
        access::add(
            &self.path,
            &request(spec(uid), creds, Rate::DEFAULT),
            clock(),
        )
    }

    fn in_force(&self) -> Result<custody::vault::access::AccessPolicy, AgentPolicyError> {
        access::ratified(&self.path)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(&self.path).unwrap()).unwrap()
    }

    fn write_json(&self, v: &Value) {
        fs::write(&self.path, serde_json::to_string_pretty(v).unwrap()).unwrap();
    }

    fn audit_text(&self) -> String {
        fs::read_to_string(custody::audit::log_path(&self.path)).unwrap_or_default()
    }
}

fn spec(uid: u32) -> ClientSpec {
    ClientSpec {
        uid,
        ..ClientSpec::default()
    }
}

fn request(client: ClientSpec, creds: &[&str], rate: Rate) -> RuleRequest {
    RuleRequest {
        client,
        credentials: creds.iter().map(|c| c.to_string()).collect(),
        rate,
        terms: ProxyTerms::default(),
    }
}

fn client(uid: u32, gid: u32, exe: Option<&str>, unit: Option<&str>) -> Client {
    Client {
        uid,
        gid,
        pid: 4242,
        exe: exe.map(PathBuf::from),
        unit: unit.map(str::to_owned),
    }
}

fn rule(selector: Selector, creds: &[&str]) -> AccessRule {
    AccessRule::new(
        selector,
        creds.iter().map(|c| c.to_string()).collect(),
        Rate::DEFAULT,
    )
    .unwrap()
}

#[test]
fn admits_checks_every_selector_the_rule_names() {
    let bot = client(1000, 100, Some("/opt/bot/run"), Some("tradebot.service"));
    let uid_only = rule(Selector::new(1000, None, None, None).unwrap(), &["a"]);
    assert!(uid_only.admits(&bot));
    assert!(!uid_only.admits(&client(1001, 100, Some("/opt/bot/run"), None)));

    let gid = rule(Selector::new(1000, Some(100), None, None).unwrap(), &["a"]);
    assert!(gid.admits(&bot));
    assert!(!gid.admits(&client(1000, 101, Some("/opt/bot/run"), None)));

    let exe = rule(
        Selector::new(1000, None, Some("/opt/bot/run"), None).unwrap(),
        &["a"],
    );
    assert!(exe.admits(&bot));
    assert!(!exe.admits(&client(1000, 100, Some("/usr/bin/python3"), None)));
    // An executable the kernel could not report never matches a rule that names one.
    assert!(!exe.admits(&client(1000, 100, None, None)));
    // The running binary was replaced: the kernel reports "... (deleted)".
    assert!(!exe.admits(&client(1000, 100, Some("/opt/bot/run (deleted)"), None)));

    let unit = rule(
        Selector::new(1000, None, None, Some("tradebot.service")).unwrap(),
        &["a"],
    );
    assert!(unit.admits(&bot));
    assert!(!unit.admits(&client(
        1000,
        100,
        Some("/opt/bot/run"),
        Some("other.service")
    )));
    assert!(!unit.admits(&client(1000, 100, Some("/opt/bot/run"), None)));

    let all = rule(
        Selector::new(
            1000,
            Some(100),
            Some("/opt/bot/run"),
            Some("tradebot.service"),
        )
        .unwrap(),
        &["a"],
    );
    assert!(all.admits(&bot));
    assert!(!all.admits(&client(
        0,
        100,
        Some("/opt/bot/run"),
        Some("tradebot.service")
    )));
}

#[test]
fn grants_picks_the_most_specific_rule_that_lists_the_credential() {
    let f = fixture();
    access::add(
        &f.path,
        &request(spec(1000), &["binance-main"], Rate::per_minute(10).unwrap()),
        clock(),
    )
    .unwrap();
    access::add(
        &f.path,
        &request(
            ClientSpec {
                uid: 1000,
                exe: Some("/opt/bot/run".into()),
                ..ClientSpec::default()
            },
            &["binance-main", "kraken-spot"],
            Rate::per_minute(120).unwrap(),
        ),
        clock(),
    )
    .unwrap();
    f.ratify();
    let p = f.in_force().unwrap();
    assert!(p.pending().is_empty());
    assert_eq!(p.credentials(), ["binance-main", "kraken-spot"]);

    let bot = client(1000, 100, Some("/opt/bot/run"), None);
    let other = client(1000, 100, Some("/usr/bin/python3"), None);
    assert_eq!(
        p.grants(&bot, "binance-main").unwrap().rate(),
        Rate::per_minute(120).unwrap(),
        "the rule naming the executable is the more specific"
    );
    assert_eq!(
        p.grants(&bot, "kraken-spot")
            .unwrap()
            .rate()
            .requests_per_minute(),
        120
    );
    assert_eq!(
        p.grants(&other, "binance-main")
            .unwrap()
            .rate()
            .requests_per_minute(),
        10
    );
    assert!(
        p.grants(&other, "kraken-spot").is_none(),
        "not listed for this client"
    );
    assert!(
        p.grants(&client(1001, 100, None, None), "binance-main")
            .is_none()
    );
    assert!(p.grants(&bot, "no-such-cred").is_none());
}

#[test]
fn rules_added_without_a_quorum_grant_nothing_until_ratified() {
    let f = fixture();
    let bot = client(1000, 1000, None, None);
    assert!(
        f.in_force().unwrap().is_empty(),
        "a vault without a policy grants nothing"
    );

    let added = f.add(1000, &["binance-main"]).unwrap();
    assert_eq!(added.outcome, Proposal::Added);
    let p = f.in_force().unwrap();
    assert!(p.grants(&bot, "binance-main").is_none());
    assert!(p.credentials().is_empty());
    assert!(matches!(p.pending(), [RuleChange::Added(r)] if r.credentials() == ["binance-main"]));
    // The add is in the audit log, unsigned.
    let log = f.audit_text();
    assert!(log.contains("\"event\":\"agent-policy\""), "{log}");
    assert!(log.contains("agent policy add"), "{log}");

    // Ratification lists the change for review, and signs it.
    let r = f.ratify();
    assert!(matches!(
        r.access_reviewed.as_slice(),
        [RuleChange::Added(_)]
    ));
    assert_eq!(r.access_in_force, 1);
    let p = f.in_force().unwrap();
    assert_eq!(
        p.grants(&bot, "binance-main").unwrap().selector().uid(),
        1000
    );
    assert!(p.pending().is_empty());
    let stored = f.json();
    assert_eq!(stored["agent_access"]["proposed"], Value::Null);
    assert_eq!(
        stored["credentials"]["ratification"]["agent_access_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // A change keeps the ratified rule in force; the new version grants nothing yet.
    let changed = f.add(1000, &["binance-main", "kraken-spot"]).unwrap();
    assert!(
        matches!(changed.outcome, Proposal::Replaced(ref old) if old.credentials() == ["binance-main"])
    );
    let p = f.in_force().unwrap();
    assert!(p.grants(&bot, "binance-main").is_some());
    assert!(p.grants(&bot, "kraken-spot").is_none());
    assert!(matches!(p.pending(), [RuleChange::Changed { .. }]));
    // Proposing the same again changes nothing (no write).
    let revision = f.json()["credentials"]["revision"].clone();
    assert_eq!(
        f.add(1000, &["kraken-spot", "binance-main"])
            .unwrap()
            .outcome,
        Proposal::Unchanged
    );
    assert_eq!(f.json()["credentials"]["revision"], revision);
    // Proposing the ratified rule again withdraws the pending change.
    assert!(matches!(
        f.add(1000, &["binance-main"]).unwrap().outcome,
        Proposal::Reverted(ref pending) if pending.credentials().len() == 2
    ));
    assert!(f.in_force().unwrap().pending().is_empty());
    assert_eq!(f.json()["agent_access"]["proposed"], Value::Null);
    f.add(1000, &["binance-main", "kraken-spot"]).unwrap();
    f.ratify();
    assert!(f.in_force().unwrap().grants(&bot, "kraken-spot").is_some());

    // Removing a rule no quorum ratified withdraws it: nothing awaits a quorum for it.
    f.add(2000, &["binance-main"]).unwrap();
    assert!(matches!(
        access::remove(&f.path, &spec(2000), clock())
            .unwrap()
            .outcome,
        Proposal::Withdrawn(_)
    ));
    assert!(f.in_force().unwrap().pending().is_empty());

    // A removal takes access away at once, and awaits a quorum to be recorded.
    let removed = access::remove(&f.path, &spec(1000), clock()).unwrap();
    assert!(matches!(removed.outcome, Proposal::Removed(_)));
    let p = f.in_force().unwrap();
    assert!(p.grants(&bot, "binance-main").is_none());
    assert!(matches!(p.pending(), [RuleChange::Removed(_)]));
    let listing = access::list(&f.path).unwrap();
    assert_eq!(listing.rules.len(), 1);
    assert_eq!(listing.rules[0].state, RuleState::RemovalPending);
    f.ratify();
    assert!(f.in_force().unwrap().pending().is_empty());
    assert!(access::list(&f.path).unwrap().rules.is_empty());
    // With no rule left, the record carries no access digest, as before the policy existed.
    let stored = f.json();
    assert!(stored.get("agent_access").is_none(), "{stored}");
    assert!(
        stored["credentials"]["ratification"]
            .get("agent_access_sha256")
            .is_none()
    );
}

#[test]
fn add_and_remove_refuse_bad_rules_and_name_them() {
    let f = fixture();
    assert!(matches!(
        f.add(1000, &["nope"]),
        Err(AgentPolicyError::UnknownCredential { name, .. }) if name == "nope"
    ));
    assert!(matches!(
        access::add(
            &f.path,
            &request(
                ClientSpec {
                    uid: 1000,
                    exe: Some("bot".into()),
                    ..ClientSpec::default()
                },
                &["binance-main"],
                Rate::DEFAULT
            ),
            clock()
        ),
        Err(AgentPolicyError::Rule(RuleError::Exe { .. }))
    ));
    assert!(matches!(
        access::add(
            &f.path,
            &request(
                ClientSpec {
                    uid: 1000,
                    unit: Some("bot.timer".into()),
                    ..ClientSpec::default()
                },
                &["binance-main"],
                Rate::DEFAULT
            ),
            clock()
        ),
        Err(AgentPolicyError::Rule(RuleError::Unit { .. }))
    ));
    // An executable given through a link: the kernel reports the link's target.
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real-bot");
    fs::write(&real, b"\x7fELF").unwrap();
    let link = dir.path().join("bot");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let linked = access::add(
        &f.path,
        &request(
            ClientSpec {
                uid: 1000,
                exe: Some(link.clone()),
                ..ClientSpec::default()
            },
            &["binance-main"],
            Rate::DEFAULT,
        ),
        clock(),
    );
    assert!(
        matches!(&linked, Err(AgentPolicyError::ExeLink { real: r, .. }) if *r == real.canonicalize().unwrap()),
        "{linked:?}"
    );
    // A script: the kernel reports its interpreter.
    let script = dir.path().join("bot.py");
    fs::write(&script, b"#!/usr/bin/python3\nprint()\n").unwrap();
    let scripted = access::add(
        &f.path,
        &request(
            ClientSpec {
                uid: 1000,
                exe: Some(script.canonicalize().unwrap()),
                ..ClientSpec::default()
            },
            &["binance-main"],
            Rate::DEFAULT,
        ),
        clock(),
    );
    assert!(
        matches!(&scripted, Err(AgentPolicyError::ExeScript { .. })),
        "{scripted:?}"
    );
    assert!(matches!(
        access::remove(&f.path, &spec(5), clock()),
        Err(AgentPolicyError::NoSuchRule { selector, .. }) if selector == "uid 5"
    ));
    // Nothing was written by any refusal.
    assert!(f.json().get("agent_access").is_none());
}

#[test]
fn a_hand_edited_policy_is_tampered_and_grants_nothing() {
    let f = fixture();
    f.add(1000, &["binance-main"]).unwrap();
    f.ratify();
    let good = f.json();

    // The ratified rule widened by hand: another credential.
    let mut v = good.clone();
    v["agent_access"]["ratified"][0]["credentials"] =
        serde_json::json!(["binance-main", "kraken-spot"]);
    f.write_json(&v);
    let e = f.in_force().unwrap_err();
    assert!(
        matches!(&e, AgentPolicyError::Access(AccessError::Tampered { .. })),
        "{e:?}"
    );
    assert!(e.to_string().contains("changed outside custody"), "{e}");
    // creds status names it; a quorum does not ratify over it; no proposal builds on it.
    let status = creds::status(&f.path, clock()).unwrap();
    assert!(
        status
            .problems
            .iter()
            .any(|p| p.contains("agent access policy")),
        "{:?}",
        status.problems
    );
    assert!(matches!(
        ratify::ratify(&f.path, &f.tv.keys, T0, &mut ratify::Unasked),
        Err(ratify::RatifyFailure::Refused(RatifyError::Tampered(_)))
    ));
    assert!(matches!(
        f.add(2000, &["binance-main"]),
        Err(AgentPolicyError::Access(AccessError::Tampered { .. }))
    ));
    let listing = access::list(&f.path).unwrap();
    assert!(listing.rules.iter().all(|r| r.state == RuleState::Tampered));
    assert!(listing.problem.is_some());

    // Another uid, a higher rate, the ratified part removed: each is tampering.
    for edit in [
        &(|v: &mut Value| v["agent_access"]["ratified"][0]["uid"] = 0.into())
            as &dyn Fn(&mut Value),
        &|v: &mut Value| v["agent_access"]["ratified"][0]["rate_per_minute"] = 600000.into(),
        &|v: &mut Value| v["agent_access"]["ratified"] = serde_json::json!([]),
        &|v: &mut Value| {
            v.as_object_mut().unwrap().remove("agent_access");
        },
    ] {
        let mut v = good.clone();
        edit(&mut v);
        f.write_json(&v);
        assert!(
            matches!(
                f.in_force(),
                Err(AgentPolicyError::Access(AccessError::Tampered { .. }))
            ),
            "{:?}",
            f.in_force()
        );
    }

    // The record's digest removed: the record itself no longer verifies.
    let mut v = good.clone();
    v["credentials"]["ratification"]
        .as_object_mut()
        .unwrap()
        .remove("agent_access_sha256");
    f.write_json(&v);
    assert!(matches!(
        f.in_force(),
        Err(AgentPolicyError::Access(AccessError::RecordInvalid))
    ));

    // A rule that does not parse: kept verbatim, grants nothing, the rest of the vault works.
    let mut v = good.clone();
    v["agent_access"]["ratified"][0]["exe"] = "relative/path".into();
    f.write_json(&v);
    assert!(matches!(
        f.in_force(),
        Err(AgentPolicyError::Access(AccessError::Malformed { .. }))
    ));
    assert!(creds::status(&f.path, clock()).unwrap().rows.len() == 2);

    // Rules put into the ratified part of a vault no quorum ratified a policy for.
    let g = fixture();
    g.add(1000, &["binance-main"]).unwrap();
    let mut v = g.json();
    v["agent_access"]["ratified"] = v["agent_access"]["proposed"].clone();
    v["agent_access"]["proposed"] = Value::Null;
    g.write_json(&v);
    assert!(matches!(
        g.in_force(),
        Err(AgentPolicyError::Access(AccessError::Tampered { .. }))
    ));

    // Restored from the backup custody kept: in force again.
    f.write_json(&good);
    assert!(
        f.in_force()
            .unwrap()
            .grants(&client(1000, 1, None, None), "binance-main")
            .is_some()
    );
}

#[test]
fn an_older_copy_of_the_vault_grants_nothing() {
    let f = fixture();
    f.add(1000, &["binance-main"]).unwrap();
    f.ratify();
    let with_rule = fs::read(&f.path).unwrap();
    access::remove(&f.path, &spec(1000), clock()).unwrap();
    f.ratify();
    // The copy from before the removal is put back: its signed record is genuine, but older.
    fs::write(&f.path, &with_rule).unwrap();
    assert!(matches!(
        f.in_force(),
        Err(AgentPolicyError::Access(AccessError::RolledBack(_)))
    ));
}

/// A vault written by custody before the access policy existed (the `custody demo` vault the
/// fuzz seeds keep): it reads, its ratification verifies, and it grants nothing.
#[test]
fn a_vault_from_before_the_policy_reads_and_verifies_as_before() {
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/vault_file/demo.vault");
    let text = fs::read_to_string(&old).unwrap();
    assert!(!text.contains("agent_access"));
    let v = Vault::from_json(&text).unwrap();
    assert!(matches!(
        v.record_state(),
        RecordState::Valid { generation: 1 }
    ));
    assert!(v.assess(None).tamper_lines(&v).is_empty());
    assert!(v.ratified_access(None).unwrap().is_empty());
    // Written back without an `agent_access` field or a digest in the record, and the record
    // signed before the policy existed still verifies.
    let again = v.to_json();
    assert!(!again.contains("agent_access"), "{again}");
    let again = Vault::from_json(&again).unwrap();
    assert!(matches!(
        again.record_state(),
        RecordState::Valid { generation: 1 }
    ));

    // A reader refuses an unknown field in the policy (as everywhere in the vault file).
    let mut j: Value = serde_json::from_str(&text).unwrap();
    j["agent_access"] = serde_json::json!({"ratified": [], "proposed": null, "extra": 1});
    let odd = Vault::from_json(&serde_json::to_string(&j).unwrap()).unwrap();
    assert!(matches!(
        odd.ratified_access(None),
        Err(AccessError::Malformed { .. })
    ));
    j["credentials"]["ratification"]["surprise"] = 1.into();
    assert!(matches!(
        Vault::from_json(&serde_json::to_string(&j).unwrap()),
        Err(VaultFileError::Syntax(_))
    ));
}

/// The terms a trading bot's rule might have: withdrawals, both order limits, two symbols and a
/// maximum notional.
fn trading_terms() -> ProxyTerms {
    ProxyTerms::default()
        .with_withdraw(true)
        .with_orders_per_second(5)
        .unwrap()
        .with_orders_per_minute(100)
        .unwrap()
        .with_symbols(["ethusdt", "BTCUSDT"])
        .unwrap()
        .with_max_notional(Notional::parse("50000.50").unwrap())
}

fn add_with_terms(f: &Fixture, uid: u32, terms: ProxyTerms) -> access::Proposed {
    let mut r = request(spec(uid), &["binance-main"], Rate::DEFAULT);
    r.terms = terms;
    access::add(&f.path, &r, clock()).unwrap()
}

#[test]
fn proxy_terms_are_stored_read_back_exactly_and_ratified_like_the_rest_of_a_rule() {
    let f = fixture();
    let bot = client(1000, 1000, None, None);
    add_with_terms(&f, 1000, trading_terms());
    f.add(2000, &["binance-main"]).unwrap();

    // Stored as optional fields of the rule; a rule with the default terms has none of them.
    let stored = f.json();
    let rules = &stored["agent_access"]["proposed"];
    assert_eq!(rules[0]["allow_withdraw"], true);
    assert_eq!(rules[0]["orders_per_second"], 5);
    assert_eq!(rules[0]["orders_per_minute"], 100);
    assert_eq!(
        rules[0]["symbols"],
        serde_json::json!(["BTCUSDT", "ETHUSDT"])
    );
    assert_eq!(rules[0]["max_notional"], "50000.5");
    let mut plain: Vec<&String> = rules[1].as_object().unwrap().keys().collect();
    plain.sort();
    assert_eq!(
        plain,
        [
            "credentials",
            "exe",
            "gid",
            "rate_per_minute",
            "uid",
            "unit"
        ],
        "{rules}"
    );
    // Read back exactly, and written back byte for byte.
    let text = fs::read_to_string(&f.path).unwrap();
    assert_eq!(Vault::from_json(&text).unwrap().to_json(), text);
    let listing = access::list(&f.path).unwrap();
    assert_eq!(listing.rules[0].rule.terms(), &trading_terms());
    assert!(listing.rules[1].rule.terms().is_default());

    // In force once ratified, terms and all; the record signs a digest that covers them.
    f.ratify();
    let p = f.in_force().unwrap();
    let granted = p.grants(&bot, "binance-main").unwrap();
    assert_eq!(granted.terms(), &trading_terms());
    assert!(granted.terms().allows_withdraw());
    assert!(granted.terms().allows_symbol("btcusdt"));
    assert!(!granted.terms().allows_symbol("XRPUSDT"));
    assert!(
        granted
            .terms()
            .max_notional()
            .unwrap()
            .admits_order("50000.5", "1")
            .unwrap()
    );
    assert!(
        !granted
            .terms()
            .max_notional()
            .unwrap()
            .admits_order("50000.51", "1")
            .unwrap()
    );
    assert!(
        p.grants(&client(2000, 1, None, None), "binance-main")
            .unwrap()
            .terms()
            .is_default()
    );
    let signed = f.json()["credentials"]["ratification"]["agent_access_sha256"].clone();

    // A change of terms alone, even a narrower one (withdraw taken away), is a change that
    // awaits a quorum: the ratified terms stay in force until then.
    let narrower = trading_terms().with_withdraw(false);
    let changed = add_with_terms(&f, 1000, narrower.clone());
    assert!(
        matches!(&changed.outcome, Proposal::Replaced(old) if old.terms() == &trading_terms()),
        "{changed:?}"
    );
    let p = f.in_force().unwrap();
    assert!(
        p.grants(&bot, "binance-main")
            .unwrap()
            .terms()
            .allows_withdraw()
    );
    let [RuleChange::Changed { ratified, proposed }] = p.pending() else {
        panic!("{:?}", p.pending())
    };
    assert_eq!(ratified.terms(), &trading_terms());
    assert_eq!(proposed.terms(), &narrower);
    let said = p.pending()[0].describe();
    assert!(
        said.contains("proxy: 5 orders/s, 100 orders/min, symbols BTCUSDT ETHUSDT, max notional 50000.5 (in force until ratified: binance-main at 60/min; proxy: withdraw allowed, 5 orders/s"),
        "{said}"
    );
    let states: Vec<RuleState> = access::list(&f.path)
        .unwrap()
        .rules
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(
        states,
        [
            RuleState::ChangePending,
            RuleState::Pending,
            RuleState::Ratified
        ]
    );
    // The audit log names the new terms.
    assert!(
        f.audit_text().contains("proxy: 5 orders/s"),
        "{}",
        f.audit_text()
    );

    // Ratified: the new terms are in force, under a new digest.
    let r = f.ratify();
    assert!(matches!(
        r.access_reviewed.as_slice(),
        [RuleChange::Changed { .. }]
    ));
    let p = f.in_force().unwrap();
    assert!(
        !p.grants(&bot, "binance-main")
            .unwrap()
            .terms()
            .allows_withdraw()
    );
    assert_ne!(
        f.json()["credentials"]["ratification"]["agent_access_sha256"],
        signed
    );

    // Terms back to the defaults: a change too, and once ratified the rule is written and
    // signed as a rule without terms.
    add_with_terms(&f, 1000, ProxyTerms::default());
    assert!(matches!(
        f.in_force().unwrap().pending(),
        [RuleChange::Changed { .. }]
    ));
    f.ratify();
    let stored = f.json();
    assert!(
        stored["agent_access"]["ratified"][0]
            .get("symbols")
            .is_none(),
        "{stored}"
    );
}

#[test]
fn proxy_terms_edited_by_hand_are_tampering() {
    let f = fixture();
    add_with_terms(&f, 1000, trading_terms());
    f.ratify();
    let good = f.json();
    for edit in [
        &(|v: &mut Value| {
            v["agent_access"]["ratified"][0]["symbols"] =
                serde_json::json!(["BTCUSDT", "ETHUSDT", "XRPUSDT"])
        }) as &dyn Fn(&mut Value),
        &|v: &mut Value| {
            v["agent_access"]["ratified"][0]
                .as_object_mut()
                .unwrap()
                .remove("symbols");
        },
        &|v: &mut Value| v["agent_access"]["ratified"][0]["max_notional"] = "5000000".into(),
        &|v: &mut Value| v["agent_access"]["ratified"][0]["orders_per_second"] = 50.into(),
        &|v: &mut Value| {
            v["agent_access"]["ratified"][0]
                .as_object_mut()
                .unwrap()
                .remove("orders_per_minute");
        },
    ] {
        let mut v = good.clone();
        edit(&mut v);
        f.write_json(&v);
        assert!(
            matches!(
                f.in_force(),
                Err(AgentPolicyError::Access(AccessError::Tampered { .. }))
            ),
            "{:?}",
            f.in_force()
        );
    }
    // Withdrawal granted by hand to a rule the quorum ratified without it.
    let g = fixture();
    g.add(1000, &["binance-main"]).unwrap();
    g.ratify();
    let mut v = g.json();
    v["agent_access"]["ratified"][0]["allow_withdraw"] = true.into();
    g.write_json(&v);
    assert!(matches!(
        g.in_force(),
        Err(AgentPolicyError::Access(AccessError::Tampered { .. }))
    ));
    // Written explicitly as the default, it is the rule the quorum signed.
    v["agent_access"]["ratified"][0]["allow_withdraw"] = false.into();
    v["agent_access"]["ratified"][0]["symbols"] = serde_json::json!([]);
    g.write_json(&v);
    assert!(g.in_force().is_ok());
}

#[test]
fn malformed_proxy_terms_in_the_vault_file_are_named() {
    let f = fixture();
    add_with_terms(&f, 1000, trading_terms());
    f.ratify();
    let good = f.json();
    for (field, value, want) in [
        (
            "orders_per_second",
            serde_json::json!(0),
            "`orders_per_second`: the limit of 0 orders a second",
        ),
        ("orders_per_second", serde_json::json!(10_001), "1 to 10000"),
        (
            "orders_per_minute",
            serde_json::json!(600_001),
            "`orders_per_minute`",
        ),
        (
            "orders_per_minute",
            serde_json::json!(-1),
            "orders_per_minute",
        ),
        (
            "symbols",
            serde_json::json!(["btcusdt"]),
            "`symbols`: not upper-case",
        ),
        (
            "symbols",
            serde_json::json!(["ETHUSDT", "BTCUSDT"]),
            "`symbols`: not upper-case, sorted",
        ),
        (
            "symbols",
            serde_json::json!(["BTCUSDT", "BTCUSDT"]),
            "without repeats",
        ),
        (
            "symbols",
            serde_json::json!(["BTC USDT"]),
            "the symbol `BTC USDT`",
        ),
        ("symbols", serde_json::json!("BTCUSDT"), "symbols"),
        (
            "max_notional",
            serde_json::json!("50000.50"),
            "`max_notional`: `50000.50` is not written canonically",
        ),
        ("max_notional", serde_json::json!("-1"), "it has a sign"),
        ("max_notional", serde_json::json!(50000), "max_notional"),
        ("allow_withdraw", serde_json::json!(1), "allow_withdraw"),
        (
            "allow_withdrawals",
            serde_json::json!(true),
            "allow_withdrawals",
        ),
    ] {
        let mut v = good.clone();
        v["agent_access"]["ratified"][0][field] = value.clone();
        f.write_json(&v);
        match f.in_force() {
            Err(AgentPolicyError::Access(AccessError::Malformed { problem })) => {
                assert!(problem.contains(want), "{field} = {value}: {problem}");
            }
            other => panic!("{field} = {value}: {other:?}"),
        }
        // Kept verbatim by the next write, so the evidence survives.
        let text = fs::read_to_string(&f.path).unwrap();
        let back: Value =
            serde_json::from_str(&Vault::from_json(&text).unwrap().to_json()).unwrap();
        assert_eq!(back["agent_access"], v["agent_access"], "{field}");
    }
}
