//! What to type next. The library's errors say what went wrong in domain terms; this module
//! adds the command-line advice (flags, commands, environment variables) that only the command
//! line knows, matching on the typed errors. `main` prints it after the error; `check-share`
//! prints it after each failed share.

use custody::audit::{AuditError, Restored};
use custody::certificate::CertError;
use custody::input::{InputError, InputErrorKind};
use custody::ops::access::AgentPolicyError;
use custody::ops::audit_repair::RepairError;
use custody::ops::creds::CredError;
use custody::ops::drill::DrillError;
use custody::ops::extend::ExtendError;
use custody::ops::init::InitError;
use custody::ops::issue::IssueError;
use custody::ops::rekey::RekeyError;
use custody::ops::release::ReleaseError;
use custody::ops::session::SessionError;
use custody::policy::PolicyError;
use custody::quorum::{QuorumError, ShareProblem};
use custody::scan::ScanError;
use custody::vault::SetError;
use custody::vault::access::AccessError;
use custody::vault::change::ChangeError;
use custody::vault::credential::EntryError;
use custody::vault::ratify::RatifyError;
use custody::vault::seal::SealError;
use custody::vault::store::StoreError;

use super::CliError;

const CHECK_VAULT: &str = "check --vault (or $CUSTODY_VAULT)";
const TYPE_WORDS: &str = "type the share's words with --words-stdin, or give a words file";
const UNDRAWABLE: &str = "the share itself is still good (check-share, drills); --format svg shows \
     the name with the viewer's fonts; for a printed sheet that names its holder, a quorum \
     reshares with a printable label for them: `custody reshare ... --custodian 'Li Wei' ...`";

/// The command-line advice for `e`, if any: one or more sentences, without a final period.
pub fn advice(e: &CliError) -> Option<String> {
    match e {
        CliError::AgentClient(e) => agent(e),
        CliError::Policy(e) => policy(e),
        CliError::Store(e) => store(e),
        CliError::Input(e) => input(e).map(str::to_owned),
        CliError::Inputs(list) => join(list.iter().map(|e| input(e).map(str::to_owned))),
        CliError::Quorum(e) => quorum(e),
        CliError::Audit(e) => audit(e),
        CliError::Repair(e) => repair(e),
        CliError::Certificate(e) => certificate(e),
        CliError::CertificateAfterDrill(_) => Some(
            "to have a certificate, hold the drill again with --certificate naming a new file in \
             a writable folder"
                .into(),
        ),
        CliError::Entry(e) => entry(e),
        CliError::Seal(e) => seal(e),
        CliError::Ratify(e) => ratify(e),
        CliError::Ratification(e) => match e {
            custody::ops::ratify::RatifyFailure::Store(e) => store(e),
            custody::ops::ratify::RatifyFailure::Refused(e) => ratify(e),
        },
        CliError::Issue(IssueError::Write(e)) => store(e),
        CliError::Issue(IssueError::Undrawable(_)) => Some(UNDRAWABLE.into()),
        CliError::Change(e) => change(e),
        CliError::CeremonyEnded(super::error::CeremonyEnd::TimedOut(_)) => {
            Some("start again, or allow more time with --timeout".into())
        }
        CliError::SelfCheck(_) => Some("please report this".into()),
        CliError::Creds(e) => creds(e),
        CliError::Rekey(e) => rekey(e),
        CliError::Extend(e) => extend(e),
        CliError::Replace(e) => replace(e),
        CliError::Rebuild(e) => rebuild(e),
        CliError::Release(e) => release(e),
        CliError::Drill(e) => drill(e),
        CliError::Init(e) => init(e),
        CliError::AgentPolicy(e) => agent_policy(e),
        CliError::HostKey(_) => None,
        CliError::Hosts(e) => hosts(e),
        CliError::Code(e) => code(e),
        CliError::Envelope(
            custody::remote::EnvelopeError::ShareVault { .. }
            | custody::remote::EnvelopeError::ShareEpoch { .. },
        ) => Some(
            "ask the host which vault and epoch the ceremony is for; `custody check-share \
             --vault VAULT SHARE` shows your share's"
                .into(),
        ),
        CliError::PhraseMismatch(_) => Some(
            "call the host back on a channel you trust and compare the words again; if they \
             differ, the host opens a new session and shows its new code"
                .into(),
        ),
        _ => None,
    }
}

fn code(e: &custody::remote::CodeError) -> Option<String> {
    use custody::remote::CodeError as C;
    match e {
        C::Expired { .. } => Some("the host opens a new session; use the new code".into()),
        C::WeakHostKey | C::BadSignature => None,
        _ => Some(
            "give the code as a photo of its QR code (`--code PHOTO.jpg`) or paste it into a \
             file (`--code @FILE`)"
                .into(),
        ),
    }
}

fn agent_policy(e: &AgentPolicyError) -> Option<String> {
    match e {
        AgentPolicyError::UnknownCredential { .. } => Some(
            "add it first with `custody creds add` (a quorum ratifies both together), or name \
             one the vault has (`custody creds list`)"
                .into(),
        ),
        AgentPolicyError::NoSuchRule { .. } => Some(
            "`custody agent policy list` shows each rule's --uid, --gid, --exe and --unit; give \
             exactly those"
                .into(),
        ),
        AgentPolicyError::TooManyRules => {
            Some("remove rules no longer needed with `custody agent policy remove`".into())
        }
        AgentPolicyError::Access(e) => agent_access(e),
        AgentPolicyError::Store(e) => store(e),
        AgentPolicyError::NotRecorded { .. } => Some(
            "the change stands (`custody agent policy list`); make the audit log writable, \
             and note the change in your records"
                .into(),
        ),
        AgentPolicyError::Rule(_)
        | AgentPolicyError::Terms(_)
        | AgentPolicyError::ExeNotUtf8(_)
        | AgentPolicyError::ExeLink { .. }
        | AgentPolicyError::ExeScript { .. } => None,
    }
}

fn hosts(e: &custody::ops::hosts::HostsOpError) -> Option<String> {
    use custody::ops::hosts::HostsOpError;
    use custody::vault::hosts::HostsError;
    match e {
        HostsOpError::NoSuchHost { .. } => {
            Some("`custody hosts list` shows each host's name; give exactly that".into())
        }
        HostsOpError::Hosts(HostsError::Tampered { .. } | HostsError::Malformed { .. }) => Some(
            "restore the vault from its backup (VAULT.bak) or your copy, then compare \
             `custody hosts list` with your records"
                .into(),
        ),
        HostsOpError::Hosts(HostsError::RecordInvalid | HostsError::RolledBack(_)) => Some(
            "a quorum reviews and re-signs everything with `custody drill --vault VAULT --ratify`"
                .into(),
        ),
        HostsOpError::Store(e) => store(e),
        HostsOpError::NotRecorded { .. } => Some(
            "the change stands (`custody hosts list`); make the audit log writable, and note \
             the change in your records"
                .into(),
        ),
        HostsOpError::Name { .. }
        | HostsOpError::Key { .. }
        | HostsOpError::KeyFile { .. }
        | HostsOpError::Refused(_) => None,
    }
}

fn agent_access(e: &AccessError) -> Option<String> {
    match e {
        AccessError::Tampered { .. } | AccessError::Malformed { .. } => Some(
            "restore the vault from its backup (VAULT.bak) or your copy, then compare \
             `custody agent policy list` with your records"
                .into(),
        ),
        AccessError::RecordInvalid => Some(
            "a quorum reviews and re-signs everything with `custody drill --vault VAULT --ratify`"
                .into(),
        ),
        AccessError::RolledBack(_) => Some(
            "if restoring the old file was deliberate, a quorum re-ratifies it with \
             `custody drill --vault VAULT --ratify`"
                .into(),
        ),
    }
}

/// Advice for a vault file that could not be loaded or stored.
pub fn store(e: &StoreError) -> Option<String> {
    match e {
        StoreError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            Some("give the right path with --vault or $CUSTODY_VAULT".into())
        }
        StoreError::SidecarNotWritten { path, .. } => Some(format!(
            "make {}.generation writable (a file, not a folder); the next write rewrites it",
            path.display()
        )),
        StoreError::RolledBack { .. } => Some(format!(
            "if restoring the old file was deliberate, a quorum re-ratifies it with \
             `custody drill --vault VAULT --ratify`: {RATIFY_ASKS}"
        )),
        _ => None,
    }
}

/// Advice for a share input that could not be read.
pub fn input(e: &InputError) -> Option<&'static str> {
    match &e.kind {
        InputErrorKind::Image(ScanError::NoQrFound { .. } | ScanError::TooLarge { .. })
        | InputErrorKind::NoShareToken => Some(TYPE_WORDS),
        _ => None,
    }
}

/// Advice for one rejected share.
pub fn share_problem(p: &ShareProblem) -> Option<&'static str> {
    match p {
        ShareProblem::ForeignKey { .. } | ShareProblem::OtherVaultId => Some(CHECK_VAULT),
        ShareProblem::PendingNotConfirmed { .. } => {
            Some("a quorum of the new shares accepts the new set with `custody confirm`")
        }
        _ => None,
    }
}

fn quorum(e: &QuorumError) -> Option<String> {
    match e {
        QuorumError::NoShares => Some("present them with --share FILE".into()),
        QuorumError::PassphraseRequired => {
            Some("give it with --passphrase-stdin or --passphrase-prompt".into())
        }
        QuorumError::PassphraseNotUsed => {
            Some("leave out --passphrase-stdin/--passphrase-prompt".into())
        }
        QuorumError::Rejected(list) => join(
            list.iter()
                .map(|(_, p)| share_problem(p).map(str::to_owned)),
        ),
        _ => None,
    }
}

fn policy(e: &PolicyError) -> Option<String> {
    match e {
        PolicyError::NoCustodians => Some("name them with --custodian".into()),
        PolicyError::EmptyGroup(g) => Some(format!(
            "add custodians with --custodian {g}/NAME, or drop the --group"
        )),
        PolicyError::UnknownGroup(g) => Some(format!("define the group with --group {g}:K")),
        PolicyError::GroupThresholdNeeded => {
            Some("say how many groups must take part with --group-threshold G".into())
        }
        _ => None,
    }
}

fn audit(e: &AuditError) -> Option<String> {
    const REPAIR: &str = "run `custody audit verify`; if its only problem is a torn final line, \
                          `custody audit repair` removes it (keeping a copy of the log)";
    match e {
        AuditError::Damaged { .. } => Some(REPAIR.into()),
        AuditError::AppendFailed {
            restored: Restored::Torn { .. },
            ..
        } => Some(format!("free space first, then {REPAIR}")),
        AuditError::AnchoredRecordMissing { .. } => Some(
            "run `custody audit verify --vault VAULT`, keep the log and vault files as \
             evidence, and restore the log from a copy"
                .into(),
        ),
        AuditError::NotAnchored { .. } => {
            Some("fix the vault file's problem above; nothing needs to be repeated".into())
        }
        _ => None,
    }
}

fn repair(e: &RepairError) -> Option<String> {
    match e {
        RepairError::Store(e) => store(e),
        RepairError::NotOnlyTorn { .. } => {
            Some("run `custody audit verify` for the whole report".into())
        }
        _ => None,
    }
}

fn certificate(e: &CertError) -> Option<String> {
    match e {
        CertError::WrongVault { .. } => Some("check --vault".into()),
        _ => None,
    }
}

fn entry(e: &EntryError) -> Option<String> {
    match e {
        EntryError::NoScope => {
            Some("give at least one with --scope, e.g. --scope read,trade".into())
        }
        EntryError::ShellName(n) => Some(format!(
            "a quorum renames it to a name starting with a letter: `custody creds rename {n} \
             NEW`; or hand it over as JSON on the program's standard input with --stdin-json"
        )),
        _ => None,
    }
}

fn seal(e: &SealError) -> Option<String> {
    match e {
        SealError::Decrypt { name }
        | SealError::Plaintext { name }
        | SealError::Moved { name, .. } => {
            Some(format!("rotate it with `custody creds rotate {name}`"))
        }
        _ => None,
    }
}

fn ratify(e: &RatifyError) -> Option<String> {
    match e {
        RatifyError::Tampered(_) => Some(format!(
            "remove the named entries with `custody creds remove NAME` (quorum), then ratify \
             again with `custody drill --ratify` ({RATIFY_ASKS})"
        )),
        RatifyError::Open(e) => seal(e),
        RatifyError::Declined { .. } => Some(
            "check each listed entry against your change records, then run the command again \
             with --ratify and answer y; remove an entry nobody can account for with \
             `custody creds remove NAME` (quorum)"
                .into(),
        ),
    }
}

/// Advice after a ceremony could not start or gather its quorum.
pub fn session(e: &SessionError) -> Option<String> {
    match e {
        SessionError::Vault(e) => store(e),
        SessionError::Audit(e) => audit(e),
        SessionError::Quorum(e) => quorum(e),
    }
}

fn change(e: &ChangeError) -> Option<String> {
    match e {
        ChangeError::AlreadyPending { .. } => Some(
            "confirm it with `custody confirm` or drop it with `custody cancel`, then start again"
                .into(),
        ),
        ChangeError::NothingPending => {
            Some("start one with `custody reshare` or `custody rotate-master`".into())
        }
        ChangeError::ChangedMeanwhile => Some("run the command again".into()),
        ChangeError::CredentialsChanged => Some(
            "drop the change with `custody cancel` and run `custody rotate-master` again".into(),
        ),
        ChangeError::Tampered(_) => Some(format!(
            "resolve this with the current set first: `custody creds remove NAME` (quorum) for \
             an entry changed outside custody, `custody drill --ratify` for an older copy of \
             the vault or a record that does not verify ({RATIFY_ASKS})"
        )),
        ChangeError::WrongKey { .. } => None,
    }
}

fn creds(e: &CredError) -> Option<String> {
    match e {
        CredError::Set(SetError::NotFound { .. }) => Some("`custody creds list` shows them".into()),
        CredError::Set(SetError::Exists { name }) => Some(format!(
            "replace its secret with `custody creds rotate {name}`, or choose another name"
        )),
        CredError::Set(SetError::Clash { .. }) => Some("choose another name".into()),
        CredError::Tampered { name, .. } => Some(format!(
            "restore the vault from its backup (VAULT.bak), or remove the entry (quorum: \
             `custody creds remove {name}`) and add it again"
        )),
        CredError::RecordInvalid => Some(format!(
            "re-run this command with --ratify to re-sign every credential: {RATIFY_ASKS}"
        )),
        CredError::RolledBack(_) => Some(format!(
            "if restoring the old file was deliberate, re-run this command with --ratify: \
             {RATIFY_ASKS}"
        )),
        CredError::Entry(e) => entry(e),
        CredError::Seal(e) => seal(e),
        CredError::Store(e) => store(e),
        CredError::Ratify(e) => ratify(e),
        CredError::Session(e) => session(e),
        CredError::Audit(e) => audit(e),
    }
}

fn rekey(e: &RekeyError) -> Option<String> {
    match e {
        RekeyError::Session(e) => session(e),
        RekeyError::Store(e) => store(e),
        RekeyError::Change(e) => change(e),
        RekeyError::Policy(e) => policy(e),
        RekeyError::Issue(IssueError::Write(e)) => store(e),
        RekeyError::Seal(e) => seal(e),
        RekeyError::Audit(e) => audit(e),
        RekeyError::CurrentSetShares { .. } => Some(
            "confirm with a quorum of the NEW shares, or drop the change with `custody cancel`"
                .into(),
        ),
        _ => None,
    }
}

fn rebuild(e: &custody::ops::rebuild::RebuildError) -> Option<String> {
    use custody::ops::rebuild::RebuildError;
    match e {
        RebuildError::Exists(_) => Some(
            "give --out a path where neither the vault nor its `.audit` log exists; keep any \
             surviving log of the lost vault: it is signed by the same key"
                .into(),
        ),
        RebuildError::GroupShapeNeeded { .. } | RebuildError::ShapeDisagrees { .. } => {
            Some("give each group's size in order with --members N (or K/N)".into())
        }
        RebuildError::Quorum(e) => quorum(e),
        RebuildError::Session(e) => session(e),
        RebuildError::Store(e) => store(e),
        RebuildError::Audit(e) => audit(e),
        _ => None,
    }
}

fn replace(e: &custody::ops::replace::ReplaceError) -> Option<String> {
    use custody::ops::replace::ReplaceError;
    match e {
        ReplaceError::UnknownCustodian { .. } => Some(
            "name the custodian as `custody check-share` or the policy line on a sheet shows it"
                .into(),
        ),
        ReplaceError::BadReason(_) => Some("give --reason \"sheet lost\" (one short line)".into()),
        ReplaceError::PolicyAfter { .. } => Some(
            "name a successor with --add NAME, or choose the whole new policy with \
             `custody rotate-master` (it revokes the old sheets the same way)"
                .into(),
        ),
        ReplaceError::Rekey(e) => rekey(e),
    }
}

fn extend(e: &ExtendError) -> Option<String> {
    match e {
        ExtendError::Session(e) => session(e),
        ExtendError::Store(e) => store(e),
        ExtendError::Change(e) => change(e),
        ExtendError::Policy(e) => policy(e),
        ExtendError::Issue(IssueError::Write(e)) => store(e),
        ExtendError::Audit(e) => audit(e),
        ExtendError::NoSuchGroup { .. } | ExtendError::GroupNeeded { .. } => {
            Some("name the group with --group NAME".into())
        }
        ExtendError::VaultChanged => Some("run the command again".into()),
        _ => None,
    }
}

const RESTORE: &str = "restore the vault from its backup (VAULT.bak) or your copy";

/// What `--ratify` does, for every message that suggests it.
const RATIFY_ASKS: &str = "it lists each entry it would sign (name, exchange, scope, added or \
                           rotated, digest) and, at a terminal, asks \"Sign these N entries? \
                           [y/N]\" before signing; without a terminal it signs exactly the \
                           entries it lists";

fn release(e: &ReleaseError) -> Option<String> {
    match e {
        ReleaseError::NotFound { .. } => Some("`custody creds list` shows them".into()),
        ReleaseError::Deleted { .. } | ReleaseError::Malformed { .. } => Some(RESTORE.into()),
        ReleaseError::Unratified { .. } => Some(format!(
            "the quorum ratifies it by re-running this command with --ratify: {RATIFY_ASKS}"
        )),
        ReleaseError::Unverified { .. } => Some(format!(
            "re-run with --ratify to re-sign every credential: {RATIFY_ASKS}"
        )),
        ReleaseError::Tampered { name, .. } => Some(format!(
            "{RESTORE}, or remove the entry (`custody creds remove {name}`, quorum) and add it \
             again"
        )),
        ReleaseError::Withdraw { .. } => Some(
            "give --allow-withdraw if this program really must be able to move funds (better: \
             use a trade-only key)"
                .into(),
        ),
        ReleaseError::RolledBack(_) => Some(format!(
            "put the newest vault back, or run exec with --ratify to accept this copy: \
             {RATIFY_ASKS}"
        )),
        ReleaseError::KeysChanged => Some("run exec again".into()),
        ReleaseError::Expired { name, .. } => Some(format!(
            "rotate it (`custody creds rotate {name}`) with a new key from the exchange, or \
             give --allow-expired if the exchange still accepts it"
        )),
        ReleaseError::Ratify(custody::ops::ratify::RatifyFailure::Store(e)) => store(e),
        ReleaseError::Ratify(custody::ops::ratify::RatifyFailure::Refused(e)) => ratify(e),
        ReleaseError::Seal(e) => seal(e),
        ReleaseError::Store(e) => store(e),
        ReleaseError::Audit(e) => audit(e),
        ReleaseError::AfterRatifying { refusal, .. } => release(refusal),
    }
}

fn drill(e: &DrillError) -> Option<String> {
    match e {
        DrillError::CredentialsFailed { .. } => {
            Some("restore the vault from its backup, or rotate those keys".into())
        }
        DrillError::Quorum(e) => quorum(e),
        DrillError::Audit(e) => audit(e),
        DrillError::Certificate(e) => certificate(e),
        DrillError::Ratify(custody::ops::ratify::RatifyFailure::Store(e)) => store(e),
        DrillError::Ratify(custody::ops::ratify::RatifyFailure::Refused(e)) => ratify(e),
    }
}

fn init(e: &InitError) -> Option<String> {
    match e {
        InitError::Issue(i) if i.is_self_check() => Some("please report this".into()),
        InitError::Issue(IssueError::Write(e)) | InitError::Store(e) => store(e),
        _ => None,
    }
}

/// The distinct pieces of advice, one per line, or none.
fn join(pieces: impl Iterator<Item = Option<String>>) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    for p in pieces.flatten() {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

/// Whether `e` is a write to a closed pipe (the reader went away, e.g. `| head`): the command
/// then ends quietly, as command-line tools do.
pub fn is_broken_pipe(e: &CliError) -> bool {
    if let CliError::Output(io) = e {
        return io.kind() == std::io::ErrorKind::BrokenPipe;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// What to do when the agent did not serve a request.
fn agent(e: &custody::agent::client::ClientError) -> Option<String> {
    use custody::agent::client::ClientError;
    use custody::agent::protocol::ErrorCode;
    let policy = "an officer adds a rule for this client (`custody agent policy add --vault VAULT \
                  --uid UID --cred NAME`) and a quorum ratifies it (`custody agent unlock \
                  --ratify ...`, or `custody drill --vault VAULT --ratify ...`)";
    Some(match e {
        ClientError::NotRunning { .. } => "start the agent (`custody agent run --vault VAULT`, \
             or `systemctl start custody-agent`), or name the socket it listens on with --socket \
             or $CUSTODY_AGENT_SOCKET; a quorum then unlocks it"
            .into(),
        ClientError::Refused { code, .. } => match code {
            Some(ErrorCode::Sealed) | Some(ErrorCode::VaultChanged) => {
                "a quorum unlocks it: `custody agent unlock --share FILE --share FILE ...` (or \
                 --interactive)"
                    .into()
            }
            Some(ErrorCode::NotPermitted) | Some(ErrorCode::NotGranted) => policy.into(),
            Some(ErrorCode::RateLimited) => "wait, or an officer raises the rule's --rate \
                 (`custody agent policy add ... --rate N/min`, ratified by a quorum)"
                .into(),
            Some(ErrorCode::Busy) | Some(ErrorCode::Timeout) => "try again shortly".into(),
            _ => return None,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_vault_and_missing_shares_get_their_flags() {
        let e = CliError::Store(StoreError::Read {
            path: "v.json".into(),
            source: std::io::ErrorKind::NotFound.into(),
        });
        assert_eq!(e.to_string(), "no vault at v.json");
        assert!(advice(&e).unwrap().contains("--vault or $CUSTODY_VAULT"));
        let e = CliError::Quorum(QuorumError::NoShares);
        assert!(!e.to_string().contains("--"));
        assert_eq!(advice(&e).unwrap(), "present them with --share FILE");
        assert_eq!(advice(&CliError::Usage("x".into())), None);
    }

    #[test]
    fn rejected_shares_get_each_piece_of_advice_once() {
        let e = CliError::Quorum(QuorumError::Rejected(vec![
            ("a".into(), ShareProblem::OtherVaultId),
            ("b".into(), ShareProblem::OtherVaultId),
        ]));
        assert_eq!(advice(&e).unwrap(), CHECK_VAULT);
    }

    #[test]
    fn only_a_closed_pipe_is_a_broken_pipe() {
        let pipe = CliError::Output(std::io::ErrorKind::BrokenPipe.into());
        assert!(is_broken_pipe(&pipe));
        let full = CliError::Output(std::io::Error::other("disk full"));
        assert!(!is_broken_pipe(&full));
        assert!(!is_broken_pipe(&CliError::Usage("x".into())));
    }
}
