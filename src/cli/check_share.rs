//! `custody check-share`: each share on its own — token parsed, signature verified under the
//! vault's key, same vault and current epoch, SLIP-39 checksum — and whose it is. No quorum.

use std::io::Write;

use super::shares_in::read_one;
use super::{CheckShareArgs, CliError};
use custody::harden;
use custody::quorum::check_share;
use custody::vault::store;

pub fn run(args: CheckShareArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let _hardening = harden::for_quorum();
    let vault = store::load(&args.vault)?;
    let w = CliError::Output;
    writeln!(
        out,
        "Vault {} (fingerprint {}, epoch {})",
        args.vault.display(),
        vault.fingerprint(),
        vault.epoch()
    )
    .map_err(w)?;
    let mut failed = 0;
    for path in &args.shares {
        let label = path.display().to_string();
        let line = match read_one(path) {
            Err(e) => Err(match super::advice::input(&e) {
                Some(a) => format!("{e}\n      {a}"),
                None => e.to_string(),
            }),
            Ok(p) => match check_share(&p, &vault) {
                Err(problem) => Err(match super::advice::share_problem(&problem) {
                    Some(a) => format!("share {label}: {problem}\n      {a}"),
                    None => format!("share {label}: {problem}"),
                }),
                Ok(m) => {
                    let g = &vault.policy().groups[usize::from(m.group_index)];
                    let proof = if m.signed {
                        "token signature valid"
                    } else {
                        "words only: no signature to check"
                    };
                    let what = if g.holds_copies() {
                        format!(
                            "copy {} of group {}'s one share, held by {} (any 1 of {} recovers \
                             the group; copies presented together count once)",
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
                    Ok(format!(
                        "OK    {label}: {} — {what}; epoch {}; {proof}; SLIP-39 checksum valid",
                        m.custodian,
                        vault.epoch()
                    ))
                }
            },
        };
        match line {
            Ok(l) => writeln!(out, "{l}").map_err(w)?,
            Err(e) => {
                failed += 1;
                writeln!(out, "FAIL  {e}").map_err(w)?;
            }
        }
    }
    if failed > 0 {
        return Err(CliError::ChecksFailed {
            failed,
            total: args.shares.len(),
        });
    }
    writeln!(
        out,
        "All {} share(s) belong to this vault's current set.",
        args.shares.len()
    )
    .map_err(w)?;
    Ok(())
}
