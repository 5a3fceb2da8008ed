//! `custody check-share`: each share on its own — token parsed, signature verified under the
//! vault's key, same vault and current epoch, SLIP-39 checksum — and whose it is. No quorum.

use std::io::Write;

use super::shares_in::read_one_with;
use super::{CheckShareArgs, CliError};
use custody::harden;
use custody::input::{InputError, Presented};
use custody::quorum::check_share;
use custody::vault::store;

/// One input's verdict: whose share it is, or why it was refused.
enum Verdict {
    Ok {
        custodian: String,
        group: String,
        member: u8,
        signed: bool,
        text: String,
    },
    Refused {
        problem: String,
        advice: Option<String>,
    },
}

fn verdict(
    path: &std::path::Path,
    read: Result<Presented, InputError>,
    vault: &custody::vault::Vault,
) -> Verdict {
    let label = path.display().to_string();
    let p = match read {
        Err(e) => {
            return Verdict::Refused {
                problem: e.to_string(),
                advice: super::advice::input(&e).map(str::to_owned),
            };
        }
        Ok(p) => p,
    };
    let m = match check_share(&p, vault) {
        Err(problem) => {
            return Verdict::Refused {
                problem: format!("share {label}: {problem}"),
                advice: super::advice::share_problem(&problem).map(str::to_owned),
            };
        }
        Ok(m) => m,
    };
    let g = &vault.policy().groups[usize::from(m.group_index)];
    let proof = if m.signed {
        "token signature valid"
    } else {
        "words only: no signature to check"
    };
    let what = if g.holds_copies() {
        format!(
            "copy {} of group {}'s one share, held by {} (any 1 of {} recovers the group; \
             copies presented together count once)",
            m.member_number,
            m.group,
            g.holder_names(),
            g.custodians.len()
        )
    } else {
        format!(
            "share {} of group {} (any {} of {} recover the group)",
            m.member_number,
            m.group,
            g.member_threshold,
            g.custodians.len()
        )
    };
    Verdict::Ok {
        text: format!(
            "{label}: {} — {what}; epoch {}; {proof}; SLIP-39 checksum valid",
            m.custodian,
            vault.epoch()
        ),
        custodian: m.custodian,
        group: m.group,
        member: m.member_number,
        signed: m.signed,
    }
}

pub fn run(args: CheckShareArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let _hardening = harden::for_quorum();
    let vault = store::load(&args.vault)?;
    let w = CliError::Output;
    // Every input is read first (photos on the progress line), then checked.
    let identities = super::deliver::identities(&args.identities)?;
    let mut progress = super::progress::on_terminal();
    let total = args.shares.len();
    let read: Vec<_> = (args.shares.iter().enumerate())
        .map(|(i, p)| read_one_with(p, &identities, (i + 1, total), &mut *progress))
        .collect();
    drop(progress);
    let verdicts: Vec<(String, Verdict)> = (args.shares.iter().zip(read))
        .map(|(p, r)| (p.display().to_string(), verdict(p, r, &vault)))
        .collect();
    let failed = verdicts
        .iter()
        .filter(|(_, v)| matches!(v, Verdict::Refused { .. }))
        .count();
    if args.json {
        let shares: Vec<_> = verdicts
            .iter()
            .map(|(input, v)| match v {
                Verdict::Ok {
                    custodian,
                    group,
                    member,
                    signed,
                    ..
                } => serde_json::json!({
                    "input": input,
                    "ok": true,
                    "custodian": custodian,
                    "group": group,
                    "member": member,
                    "signed": signed,
                }),
                Verdict::Refused { problem, advice } => {
                    let mut o = serde_json::json!({
                        "input": input,
                        "ok": false,
                        "problem": problem,
                    });
                    if let Some(a) = advice {
                        o["advice"] = a.as_str().into();
                    }
                    o
                }
            })
            .collect();
        let doc = serde_json::json!({
            "format": "custody-check-share/1",
            "ok": failed == 0,
            "vault": args.vault.display().to_string(),
            "fingerprint": vault.fingerprint(),
            "epoch": vault.epoch(),
            "shares": shares,
        });
        writeln!(out, "{doc}").map_err(w)?;
    } else {
        writeln!(
            out,
            "Vault {} (fingerprint {}, epoch {})",
            args.vault.display(),
            vault.fingerprint(),
            vault.epoch()
        )
        .map_err(w)?;
        for (_, v) in &verdicts {
            match v {
                Verdict::Ok { text, .. } => writeln!(out, "OK    {text}"),
                Verdict::Refused {
                    problem,
                    advice: Some(a),
                } => writeln!(out, "FAIL  {problem}\n      {a}"),
                Verdict::Refused {
                    problem,
                    advice: None,
                } => writeln!(out, "FAIL  {problem}"),
            }
            .map_err(w)?;
        }
    }
    if failed > 0 {
        return Err(CliError::ChecksFailed {
            failed,
            total: args.shares.len(),
        });
    }
    if !args.json {
        writeln!(
            out,
            "All {} share(s) belong to this vault's current set.",
            args.shares.len()
        )
        .map_err(w)?;
    }
    Ok(())
}
