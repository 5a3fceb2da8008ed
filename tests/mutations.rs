//! Mutation corpus: from valid quorums of a 3-of-5 vault and of a two-level vault (signed
//! tokens, iteration exponent 0), derive more than 10,000 damaged, foreign, stale, forged,
//! duplicated, shortened and shuffled quorums with a seeded ChaCha20 RNG, and present each to
//! `quorum::unlock` the way the CLI does (token text or words through `input::parse_text`).
//! Every outcome must be either an error — naming the mutated share when the error is about
//! one share — or exactly the vault's master secret. A wrong secret or a panic fails.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use custody::input::{Presented, parse_text};
use custody::quorum::{QuorumError, unlock};
use custody::slip39::{self, Share};
use custody::testkit::{TestVault, test_vault};
use custody::token::{Token, TokenInfo};
use custody::wire::TOKEN_TEXT_PREFIX;

const TRIALS: usize = 10_800;

/// The mutation kinds, applied in turn so that each gets the same number of trials.
const KINDS: [&str; 12] = [
    "shuffle",
    "token bit flip",
    "token truncation",
    "word substitution",
    "adjacent word swap",
    "words truncation",
    "share of another vault",
    "token of another epoch",
    "token signed by another key",
    "duplicated share",
    "forged share value",
    "share dropped",
];

/// Kinds after which a share set must still unlock: the mutation changes nothing that matters.
const MUST_UNLOCK: [&str; 1] = ["shuffle"];

/// A vault under test and a same-shaped vault whose shares are "of another vault".
struct Case {
    name: &'static str,
    secret: [u8; 32],
    own: TestVault,
    other: TestVault,
}

const ONE_GROUP: &[(&str, u8, &[&str])] =
    &[("custodians", 3, &["alice", "bob", "carol", "dave", "erin"])];
const TWO_LEVEL: &[(&str, u8, &[&str])] = &[
    ("Ops", 2, &["alice", "bob", "carol"]),
    ("Board", 1, &["dave"]),
    ("Risk", 2, &["erin", "frank", "grace"]),
];

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "3-of-5",
            secret: [0x31; 32],
            own: test_vault(0x31, 0x31, 31, ONE_GROUP, 1),
            other: test_vault(0x41, 0x41, 41, ONE_GROUP, 1),
        },
        Case {
            name: "two-level 2 of {Ops 2/3, Board 1/1, Risk 2/3}",
            secret: [0x32; 32],
            own: test_vault(0x32, 0x32, 32, TWO_LEVEL, 2),
            other: test_vault(0x42, 0x42, 42, TWO_LEVEL, 2),
        },
    ]
}

fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// A fair coin.
fn coin(rng: &mut ChaCha20Rng) -> bool {
    rng.next_u32() & 1 == 0
}

fn shuffle<T>(rng: &mut ChaCha20Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = below(rng, i + 1);
        v.swap(i, j);
    }
}

/// One share as presented: the text a custodian gives (token text or words) and which slot
/// (group, member) of the vault it is.
#[derive(Clone)]
struct Item {
    label: String,
    text: String,
    slot: (usize, usize),
}

fn token_text(bytes: &[u8]) -> String {
    format!("{TOKEN_TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A random valid quorum of `v`: enough complete groups, each with enough members (sometimes
/// more than needed), in random order, each share as token text or as words.
fn valid_quorum(rng: &mut ChaCha20Rng, v: &TestVault) -> Vec<Item> {
    let policy = &v.vault.policy();
    let mut groups: Vec<usize> = (0..policy.groups.len()).collect();
    shuffle(rng, &mut groups);
    let need = usize::from(policy.group_threshold);
    let take = need + below(rng, groups.len() - need + 1);
    let mut items = Vec::new();
    for &g in &groups[..take] {
        let members = v.tokens[g].len();
        let k = usize::from(policy.groups[g].member_threshold);
        let mut idx: Vec<usize> = (0..members).collect();
        shuffle(rng, &mut idx);
        for &m in &idx[..k + below(rng, members - k + 1)] {
            items.push(item(rng, v, g, m));
        }
    }
    shuffle(rng, &mut items);
    for (i, it) in items.iter_mut().enumerate() {
        it.label = format!("#{i}-{}", it.label);
    }
    items
}

fn item(rng: &mut ChaCha20Rng, v: &TestVault, g: usize, m: usize) -> Item {
    let t = &v.tokens[g][m];
    let (kind, text) = if coin(rng) {
        ("token", t.to_text().to_string())
    } else {
        ("words", t.share.to_words().to_string())
    };
    Item {
        label: format!("{}.{kind}", t.info.custodian),
        text,
        slot: (g, m),
    }
}

fn as_token(v: &TestVault, it: &mut Item) -> Token {
    let t = v.tokens[it.slot.0][it.slot.1].clone();
    it.text = t.to_text().to_string();
    it.label = it.label.replace(".words", ".token");
    t
}

fn resign(share: Share, info: TokenInfo, by: &TestVault) -> String {
    Token::sign(info, share, by.keys.signing_key())
        .unwrap()
        .to_text()
        .to_string()
}

/// Apply mutation `kind` to a valid quorum; returns the label of the share it targeted, if one.
fn mutate(rng: &mut ChaCha20Rng, kind: &str, case: &Case, items: &mut Vec<Item>) -> Option<String> {
    let n = items.len();
    let i = below(rng, n);
    match kind {
        "shuffle" => {
            shuffle(rng, items);
            return None;
        }
        "duplicated share" => return Some(duplicate(rng, case, items, i)),
        "share dropped" => {
            drop_one(rng, case, items);
            return None;
        }
        _ => {}
    }
    let it = &mut items[i];
    match kind {
        "token bit flip" => {
            let t = as_token(&case.own, it);
            let mut bytes = t.to_bytes().to_vec();
            for _ in 0..1 + below(rng, 3) {
                let bit = below(rng, bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
            it.text = token_text(&bytes);
        }
        "token truncation" => {
            let t = as_token(&case.own, it);
            let bytes = t.to_bytes();
            it.text = token_text(&bytes[..below(rng, bytes.len())]);
        }
        "word substitution" | "adjacent word swap" | "words truncation" => {
            let share = &case.own.tokens[it.slot.0][it.slot.1].share;
            let mut words: Vec<String> = share
                .to_words()
                .split_whitespace()
                .map(String::from)
                .collect();
            it.label = it.label.replace(".token", ".words");
            match kind {
                "word substitution" => {
                    // Up to 3 wrong words: RS1024 detects any 3 errors, so this must not parse.
                    for _ in 0..1 + below(rng, 3) {
                        let at = below(rng, words.len());
                        let mut w = words[at].as_str();
                        while w == words[at] {
                            w = slip39::word(below(rng, slip39::WORD_COUNT) as u16);
                        }
                        words[at] = w.to_owned();
                    }
                }
                "adjacent word swap" => {
                    // Two different neighbours (a swap of equal words changes nothing).
                    let mut at = below(rng, words.len() - 1);
                    while words[at] == words[at + 1] {
                        at = below(rng, words.len() - 1);
                    }
                    words.swap(at, at + 1);
                }
                _ => {
                    let keep = below(rng, words.len());
                    if coin(rng) {
                        words.truncate(keep);
                    } else {
                        words.drain(..words.len() - keep);
                    }
                }
            }
            it.text = words.join(" ");
        }
        "share of another vault" => {
            let other = &case.other.tokens[it.slot.0][it.slot.1];
            it.text = if coin(rng) {
                other.to_text().to_string()
            } else {
                other.share.to_words().to_string()
            };
            it.label = format!("{}-of-another-vault", it.label);
        }
        "token of another epoch" => {
            let t = as_token(&case.own, it);
            let mut info = t.info.clone();
            info.epoch = if coin(rng) { 0 } else { 2 };
            it.text = resign(t.share.clone(), info, &case.own);
            it.label = format!("{}-epoch", it.label);
        }
        "token signed by another key" => {
            let t = as_token(&case.own, it);
            it.text = resign(t.share.clone(), t.info.clone(), &case.other);
            it.label = format!("{}-other-key", it.label);
        }
        "forged share value" => {
            // An insider forgery: a different value for a real slot, with a valid checksum (as
            // words) or a valid signature by the vault's own key (as a token).
            let t = &case.own.tokens[it.slot.0][it.slot.1];
            let mut share = t.share.clone();
            let bit = below(rng, share.value.len() * 8);
            share.value[bit / 8] ^= 1 << (bit % 8);
            it.text = if coin(rng) {
                resign(share, t.info.clone(), &case.own)
            } else {
                share.to_words().to_string()
            };
            it.label = format!("{}-forged", it.label);
        }
        _ => unreachable!("{kind}"),
    }
    Some(items[i].label.clone())
}

/// Insert a copy of share `i` (sometimes in the other representation) under a new label.
fn duplicate(rng: &mut ChaCha20Rng, case: &Case, items: &mut Vec<Item>, i: usize) -> String {
    let n = items.len();
    let it = &items[i];
    let mut copy = it.clone();
    copy.label = format!("#{n}-copy-of-{}", it.label);
    if coin(rng) {
        // The same share in the other representation.
        let t = &case.own.tokens[it.slot.0][it.slot.1];
        copy.text = if it.text.starts_with(TOKEN_TEXT_PREFIX) {
            t.share.to_words().to_string()
        } else {
            t.to_text().to_string()
        };
    }
    let target = copy.label.clone();
    let at = below(rng, n + 1);
    items.insert(at, copy);
    target
}

/// Leave a quorum one share short: keep exactly the threshold of complete groups, then take
/// one share away from one of them.
fn drop_one(rng: &mut ChaCha20Rng, case: &Case, items: &mut Vec<Item>) {
    let policy = &case.own.vault.policy();
    let need = usize::from(policy.group_threshold);
    let mut groups: Vec<usize> = items.iter().map(|x| x.slot.0).collect();
    groups.sort_unstable();
    groups.dedup();
    items.retain(|x| groups[..need].contains(&x.slot.0));
    let g = groups[below(rng, need)];
    let keep = usize::from(policy.groups[g].member_threshold) - 1;
    let mut seen = 0;
    items.retain(|x| {
        if x.slot.0 != g {
            return true;
        }
        seen += 1;
        seen <= keep
    });
}

/// What happened to one mutated quorum.
enum Outcome {
    Correct,
    Rejected(&'static str),
}

/// Present the items, unlock, and check the result; Err describes a failure of the test.
fn run(case: &Case, items: &[Item], target: Option<&str>) -> Result<Outcome, String> {
    let mut presented: Vec<Presented> = Vec::new();
    for it in items {
        match parse_text(&it.label, &it.text) {
            Ok(p) => presented.push(p),
            Err(e) => {
                let msg = e.to_string();
                if !msg.contains(&it.label) {
                    return Err(format!("input error does not name {}: {msg}", it.label));
                }
                return Ok(Outcome::Rejected("input (token/words unreadable)"));
            }
        }
    }
    match unlock(&presented, Some(&case.own.vault), None) {
        Ok(u) => {
            if u.master.expose() != case.secret.as_slice() {
                return Err("WRONG SECRET reconstructed".into());
            }
            if u.keys.verifying_key() != case.own.keys.verifying_key() {
                return Err("wrong keys derived".into());
            }
            Ok(Outcome::Correct)
        }
        Err(e) => {
            let (variant, per_share) = match &e {
                QuorumError::NoShares => ("NoShares", false),
                QuorumError::Rejected(_) => ("Rejected", true),
                QuorumError::Duplicate { .. } => ("Duplicate", true),
                QuorumError::Conflict { .. } => ("Conflict", true),
                QuorumError::Mixed { .. } => ("Mixed", true),
                QuorumError::TooFew { .. } => ("TooFew", false),
                QuorumError::PassphraseRequired => ("PassphraseRequired", false),
                QuorumError::PassphraseNotUsed => ("PassphraseNotUsed", false),
                QuorumError::Inconsistent { .. } => ("Inconsistent", true),
                QuorumError::Digest { .. } => ("Digest", false),
                QuorumError::WrongSecret { .. } => ("WrongSecret (refused)", false),
                QuorumError::Slip39(_) => ("Slip39", false),
                QuorumError::Key(_) => ("Key", false),
            };
            let msg = e.to_string();
            if per_share
                && let Some(label) = target
                && !msg.contains(label)
            {
                return Err(format!("{variant} error does not name {label}: {msg}"));
            }
            Ok(Outcome::Rejected(variant))
        }
    }
}

#[test]
fn mutated_quorums_are_refused_or_give_exactly_the_secret() {
    let cases = cases();
    let mut rng = ChaCha20Rng::seed_from_u64(0x6d75_7461_7465);
    // (kind, outcome) -> count
    let mut counts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for trial in 0..TRIALS {
        let kind = KINDS[trial % KINDS.len()];
        let case = &cases[(trial / KINDS.len()) % cases.len()];
        let mut items = valid_quorum(&mut rng, &case.own);
        let target = mutate(&mut rng, kind, case, &mut items);
        let result = catch_unwind(AssertUnwindSafe(|| run(case, &items, target.as_deref())));
        let outcome = match result {
            Ok(Ok(o)) => o,
            Ok(Err(why)) => {
                failures.push(format!("trial {trial} ({kind}, {}): {why}", case.name));
                continue;
            }
            Err(_) => {
                failures.push(format!("trial {trial} ({kind}, {}): PANIC", case.name));
                continue;
            }
        };
        let label = match outcome {
            Outcome::Correct => "correct secret".to_owned(),
            Outcome::Rejected(v) => format!("rejected: {v}"),
        };
        if MUST_UNLOCK.contains(&kind) != (label == "correct secret") {
            failures.push(format!("trial {trial} ({kind}, {}): {label}", case.name));
        }
        *counts.entry((kind, label)).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    println!("{TRIALS} mutated quorums over {} vaults:", cases.len());
    for kind in KINDS {
        let rows: Vec<String> = counts
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, o), c)| format!("{o} {c}"))
            .collect();
        println!("  {kind:28} {}", rows.join(", "));
    }
    let correct: usize = counts
        .iter()
        .filter(|((_, o), _)| o == "correct secret")
        .map(|(_, c)| c)
        .sum();
    println!(
        "  total {total}: rejected {}, correct secret {correct}",
        total - correct
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(total >= 10_000, "only {total} mutations");
}
