//! Evidence that secrets stay in memory: the real `custody` binary runs under
//! `strace -f -xx` (every written byte hex-escaped) and every buffer it passes to a write-family
//! syscall (write, writev, pwrite64, pwritev, pwritev2, sendto, sendmsg) is decoded and searched
//! for the master secret, the derived Ed25519 seed and X25519 secret (raw, hex, and the
//! `AGE-SECRET-KEY-1…` form) and a credential's secret value. The secrets are known to the
//! test because it builds the vault itself through the library from a master secret it chose.
//! A negative control (a child that prints its environment) proves the scan finds a leak.
//!
//! `init` makes its own secret: the test recombines the share files it wrote (the secret is
//! recoverable from a quorum!) and searches every written byte for it, and checks that the
//! only files written are the vault and the share files, with exactly the bytes written.
//!
//! A second test checks, while a quorum command waits for a share on standard input, that the
//! process is non-dumpable and has a core-file limit of 0.
//!
//! The agent (`custody agent run`, tests/common/agent.rs's fixture) is traced the same way
//! through an unlock, fetches and a seal: credential values go only to the connections it
//! accepted on its socket, never to a file, and nothing it writes holds the master secret, its
//! keys or a share; and it is non-dumpable with a core limit of 0, sealed and unlocked.
//!
//! Needs `strace` (skipped with a note when missing, unless `CI` is set).

mod common;
use common::agent::{self, Agent};

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use custody::keys::{MasterSecret, age_identity_string, hex};
use custody::policy::Policy;
use custody::slip39;
use custody::token::{Token, TokenInfo};
use custody::vault::{Slip39Params, Vault};
use hkdf::Hkdf;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::Sha256;

const CRED_SECRET: &str = "SSEC-memonly-4f1e9a2b7c-unique";
const CRED_KEY: &str = "AKEY-memonly-0d3c";

fn custody() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_custody"));
    c.env_remove("CUSTODY_VAULT");
    c
}

// ---------------------------------------------------------------------------------------------
// strace log parsing

/// One traced syscall: its name, the decoded bytes of every quoted string in its arguments
/// (concatenated; for writev/sendmsg the iovecs in order), and the raw line.
struct Call {
    name: String,
    strings: Vec<Vec<u8>>,
    line: String,
}

impl Call {
    fn bytes(&self) -> Vec<u8> {
        self.strings.concat()
    }
    /// The integer after the last `= ` (the return value), if any.
    fn ret(&self) -> Option<i64> {
        let r = self.line.rsplit_once(") = ")?.1;
        r.split_whitespace().next()?.parse().ok()
    }
    /// The first argument as an integer (the fd of write-family calls).
    fn first_int(&self) -> Option<i64> {
        let args = self.line.split_once('(')?.1;
        args.split([',', ')']).next()?.trim().parse().ok()
    }
}

/// Decodes the quoted C strings of a strace line (`-xx` makes every byte `\xNN`; the other
/// escapes are handled too, in case).
fn quoted_strings(line: &str) -> Vec<Vec<u8>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        i += 1;
        let mut s = Vec::new();
        while i < b.len() && b[i] != b'"' {
            if b[i] == b'\\' && i + 1 < b.len() {
                i += 1;
                match b[i] {
                    b'x' => {
                        let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                        s.push(u8::from_str_radix(h, 16).unwrap());
                        i += 2;
                    }
                    b'n' => s.push(b'\n'),
                    b't' => s.push(b'\t'),
                    b'r' => s.push(b'\r'),
                    b'v' => s.push(0x0b),
                    b'f' => s.push(0x0c),
                    c @ b'0'..=b'7' => {
                        let mut v = u32::from(c - b'0');
                        let mut n = 1;
                        while n < 3 && i + 1 < b.len() && (b'0'..=b'7').contains(&b[i + 1]) {
                            i += 1;
                            v = v * 8 + u32::from(b[i] - b'0');
                            n += 1;
                        }
                        s.push(v as u8);
                    }
                    c => s.push(c),
                }
            } else {
                s.push(b[i]);
            }
            i += 1;
        }
        i += 1;
        out.push(s);
    }
    out
}

fn parse_log(text: &str) -> Vec<Call> {
    text.lines()
        .filter_map(|line| {
            // `PID name(args...) = ret`; skip `<... name resumed>` and signal/exit lines.
            let rest = line.split_once(' ').map_or(line, |(_, r)| r).trim_start();
            if rest.starts_with('<') || rest.starts_with("---") || rest.starts_with("+++") {
                return None;
            }
            let name = rest.split_once('(')?.0.to_owned();
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            Some(Call {
                name,
                strings: quoted_strings(rest),
                line: rest.to_owned(),
            })
        })
        .collect()
}

const WRITES: &[&str] = &[
    "write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto", "sendmsg",
];

/// Runs `cmd` under `strace -f -xx` tracing the write family and `extra` syscalls.
fn traced(cmd: &Command, extra: &str, stdin: Option<&[u8]>, dir: &Path) -> (Output, Vec<Call>) {
    let log = dir.join(format!(
        "strace-{}.log",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut trace = format!("trace={}", WRITES.join(","));
    if !extra.is_empty() {
        trace.push(',');
        trace.push_str(extra);
    }
    let mut s = Command::new("strace");
    s.args(["-f", "-qq", "-xx", "-s", "1000000", "-e", &trace, "-o"])
        .arg(&log)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => s.env(k, v),
            None => s.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        s.current_dir(d);
    }
    s.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = s.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = fs::read_to_string(&log).unwrap();
    fs::remove_file(&log).unwrap();
    (out, parse_log(&text))
}

fn written(calls: &[Call]) -> Vec<Vec<u8>> {
    calls
        .iter()
        .filter(|c| WRITES.contains(&c.name.as_str()))
        .map(Call::bytes)
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Every written buffer that contains one of the `secrets`: (secret name, syscall line prefix).
fn leaks(calls: &[Call], secrets: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut out = Vec::new();
    for c in calls.iter().filter(|c| WRITES.contains(&c.name.as_str())) {
        let bytes = c.bytes();
        for (name, s) in secrets {
            if find(&bytes, s) {
                out.push(format!("{name} in {}", &c.line[..c.line.len().min(60)]));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// secrets known to the test

fn hkdf32(master: &[u8], info: &[u8]) -> [u8; 32] {
    // shares-format.md: PRK = HKDF-Extract(salt = "custody/v1/hkdf-salt", M); 32-byte Expand.
    let hk = Hkdf::<Sha256>::new(Some(b"custody/v1/hkdf-salt"), master);
    let mut out = [0u8; 32];
    hk.expand(info, &mut out).unwrap();
    out
}

/// The master secret, the Ed25519 seed and the X25519 secret, each raw and in lower/upper hex,
/// and the age identity string.
fn key_material(master: &[u8]) -> Vec<(String, Vec<u8>)> {
    let seed = hkdf32(master, b"custody/v1/ed25519-signing-key");
    let x = hkdf32(master, b"custody/v1/age-x25519-identity");
    let mut out = Vec::new();
    for (name, v) in [
        ("master secret", master.to_vec()),
        ("ed25519 seed", seed.to_vec()),
        ("x25519 secret", x.to_vec()),
    ] {
        out.push((format!("{name} (hex)"), hex(&v).into_bytes()));
        out.push((
            format!("{name} (HEX)"),
            hex(&v).to_ascii_uppercase().into_bytes(),
        ));
        out.push((name.to_owned(), v));
    }
    let age = age_identity_string(&x).unwrap();
    out.push(("age identity".into(), age.as_bytes().to_vec()));
    out.push((
        "age identity (lower)".into(),
        age.to_ascii_lowercase().into_bytes(),
    ));
    out
}

/// A vault built through the library from a chosen master secret, 2 of alice/bob/carol.
struct Fixture {
    dir: tempfile::TempDir,
    vault: PathBuf,
    shares: Vec<PathBuf>,
    master: [u8; 32],
}

fn fixture(seed: u64) -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut master = [0u8; 32];
    rng.fill_bytes(&mut master);
    let ms = MasterSecret::from_bytes(&master).unwrap();
    let keys = ms.derive().unwrap();
    assert_eq!(
        keys.signing_key().to_bytes(),
        hkdf32(&master, b"custody/v1/ed25519-signing-key"),
        "the test derives the seed as the library does"
    );
    let names: Vec<String> = ["alice", "bob", "carol"].map(String::from).to_vec();
    let policy = Policy::single(2, &names).unwrap();
    let shares = slip39::generate_shares(
        &mut rng,
        &master,
        b"",
        policy.group_threshold,
        &policy.group_specs(),
        true,
        0,
    )
    .unwrap();
    let vault = Vault::create(
        [0x5c; 16],
        1_764_352_800,
        &keys,
        Slip39Params {
            identifier: shares[0][0].identifier,
            extendable: true,
            iteration_exponent: 0,
            passphrase: false,
        },
        policy.clone(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("fund.vault");
    fs::write(&vault_path, vault.to_json()).unwrap();
    let fp = vault.fingerprint();
    let mut paths = Vec::new();
    for (i, (share, name)) in shares[0].iter().zip(&names).enumerate() {
        let token = Token::sign(
            TokenInfo {
                vault_id: vault.vault_id(),
                epoch: 1,
                created: 1_764_352_800,
                custodian: name.clone(),
                group: "custodians".into(),
            },
            share.clone(),
            keys.signing_key(),
        )
        .unwrap();
        let p = dir.path().join(format!("0{}-{name}.txt", i + 1));
        fs::write(
            &p,
            custody::sharefile::render(&token, &policy, &fp).as_bytes(),
        )
        .unwrap();
        paths.push(p);
    }
    Fixture {
        dir,
        vault: vault_path,
        shares: paths,
        master,
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn drill_and_exec_write_no_secret() {
    if !common::have("strace", "the memory-only proof") {
        return;
    }
    let fx = fixture(0x6d656d);
    let dir = fx.dir.path();
    let mut secrets = key_material(&fx.master);
    secrets.push(("credential secret".into(), CRED_SECRET.as_bytes().to_vec()));
    secrets.push(("credential key".into(), CRED_KEY.as_bytes().to_vec()));

    // creds add (no quorum; it encrypts to the vault's public age recipient).
    let json = dir.join("cred.json");
    fs::write(
        &json,
        format!(r#"{{"api_key":"{CRED_KEY}","api_secret":"{CRED_SECRET}"}}"#),
    )
    .unwrap();
    let mut add = custody();
    add.args([
        "creds",
        "add",
        "bn",
        "--exchange",
        "binance",
        "--scope",
        "trade",
    ])
    .arg("--vault")
    .arg(&fx.vault)
    .arg("--from-json")
    .arg(&json);
    let (out, calls) = traced(&add, "", None, dir);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(leaks(&calls, &secrets), Vec::<String>::new(), "creds add");
    fs::remove_file(&json).unwrap();

    let quorum = |args: &[&str]| {
        let mut c = custody();
        c.args(args)
            .arg("--vault")
            .arg(&fx.vault)
            .arg("--share")
            .arg(&fx.shares[0])
            .arg("--share")
            .arg(&fx.shares[2]);
        c
    };

    // drill --ratify: reconstructs, signs the credential manifest, test-opens, audits.
    let (out, calls) = traced(&quorum(&["drill", "--ratify"]), "", None, dir);
    assert!(out.status.success(), "{out:?}");
    let all = written(&calls).concat();
    assert!(
        find(&all, b"Drill passed"),
        "the parser sees custody's own output"
    );
    assert_eq!(leaks(&calls, &secrets), Vec::<String>::new(), "drill");

    // exec: the credential goes to the child in execve's environment, never through a write.
    let mut exec = quorum(&["exec", "--cred", "bn"]);
    exec.args(["--", "sh", "-c", "true"]);
    let (out, calls) = traced(&exec, "", None, dir);
    assert!(out.status.success(), "{out:?}");
    assert!(written(&calls).iter().any(|b| !b.is_empty()));
    assert_eq!(leaks(&calls, &secrets), Vec::<String>::new(), "exec");

    // Negative control: a child that writes its environment is caught by the same scan.
    let mut exec = quorum(&["exec", "--cred", "bn"]);
    exec.args(["--", "sh", "-c", "env >/dev/null"]);
    let (out, calls) = traced(&exec, "", None, dir);
    assert!(out.status.success(), "{out:?}");
    let found = leaks(&calls, &secrets);
    assert!(
        found.iter().any(|l| l.starts_with("credential secret")),
        "the scan must detect a written credential: {found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|l| l.starts_with("master") || l.contains("seed")),
        "{found:?}"
    );
}

/// `init` under strace: writes only the vault and the share files (every byte written to a file
/// ends up in one of them; nothing else is created, no temp file or core file remains), the
/// share files it reports are those on disk, and no write carries the master secret or its keys
/// (recovered from the share files with the library).
#[test]
fn init_writes_only_vault_and_shares() {
    if !common::have("strace", "the memory-only proof of init") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    let vault = dir.join("fund.vault");
    let out_dir = dir.join("sh");
    let mut init = custody();
    init.current_dir(&dir)
        .arg("init")
        .arg("--vault")
        .arg(&vault)
        .arg("--out-dir")
        .arg(&out_dir)
        .args([
            "--threshold",
            "2",
            "--iteration-exponent",
            "0",
            "--sheets",
            "txt",
            "--custodian",
            "alice",
            "bob",
            "carol",
        ]);
    let logdir = tempfile::tempdir().unwrap();
    let (out, calls) = traced(
        &init,
        "open,openat,creat,close,rename,renameat,renameat2,link,linkat",
        None,
        logdir.path(),
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();

    // Files on disk afterwards: exactly the vault and three share files; no core file.
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                on_disk.insert(p);
            }
        }
    }
    let shares: BTreeSet<PathBuf> = ["01-alice.txt", "02-bob.txt", "03-carol.txt"]
        .iter()
        .map(|n| out_dir.join(n))
        .collect();
    let mut expected = shares.clone();
    expected.insert(vault.clone());
    assert_eq!(on_disk, expected, "files left by init");

    // The share files init reports are the ones on disk.
    let reported: BTreeSet<PathBuf> = stdout
        .lines()
        .filter_map(|l| l.rsplit_once(": ").map(|(_, p)| PathBuf::from(p.trim())))
        .filter(|p| p.starts_with(&out_dir))
        .collect();
    assert_eq!(reported, shares, "reported share files");

    // Follow fds opened for writing and where their files were renamed/linked to.
    let mut fds: BTreeMap<i64, PathBuf> = BTreeMap::new();
    let mut contents: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    let mut moved: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let abs = |s: &[u8]| {
        let p = PathBuf::from(String::from_utf8(s.to_vec()).unwrap());
        if p.is_absolute() { p } else { dir.join(p) }
    };
    for c in &calls {
        match c.name.as_str() {
            "open" | "openat" | "creat" => {
                let writable = ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"]
                    .iter()
                    .any(|f| c.line.contains(f))
                    || c.name == "creat";
                if let (true, Some(fd), Some(path)) = (writable, c.ret(), c.strings.first())
                    && fd >= 0
                {
                    let p = abs(path);
                    assert!(p.starts_with(&dir), "init opened {p:?} for writing");
                    contents.entry(p.clone()).or_default();
                    fds.insert(fd, p);
                }
            }
            "close" => {
                if let Some(fd) = c.first_int() {
                    fds.remove(&fd);
                }
            }
            "rename" | "renameat" | "renameat2" | "link" | "linkat" if c.ret() == Some(0) => {
                moved.insert(abs(&c.strings[0]), abs(&c.strings[1]));
            }
            n if WRITES.contains(&n) => {
                if let Some(p) = c.first_int().and_then(|fd| fds.get(&fd)) {
                    contents.get_mut(p).unwrap().extend(c.bytes());
                }
            }
            _ => {}
        }
    }
    let mut landed = BTreeSet::new();
    for (path, bytes) in &contents {
        let mut p = path.clone();
        while let Some(next) = moved.get(&p) {
            p = next.clone();
        }
        assert!(
            expected.contains(&p),
            "init wrote {path:?} (-> {p:?}), which is neither the vault nor a share file"
        );
        assert_eq!(
            &fs::read(&p).unwrap(),
            bytes,
            "{p:?} holds exactly the bytes written to {path:?}"
        );
        landed.insert(p);
    }
    assert_eq!(landed, expected, "every final file was seen being written");

    // Recover the master secret from two share files and search every written byte for it.
    let parsed: Vec<_> = ["01-alice.txt", "03-carol.txt"]
        .iter()
        .map(|n| {
            custody::sharefile::parse(&fs::read_to_string(out_dir.join(n)).unwrap())
                .unwrap()
                .share
        })
        .collect();
    let master = slip39::combine(&parsed, b"").unwrap();
    assert_eq!(master.len(), 32);
    let keys = MasterSecret::from_bytes(&master).unwrap().derive().unwrap();
    let v = Vault::from_json(&fs::read_to_string(&vault).unwrap()).unwrap();
    assert_eq!(
        v.fingerprint(),
        custody::keys::fingerprint(&keys.verifying_key())
    );
    assert_eq!(leaks(&calls, &key_material(&master)), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------

fn core_limits(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_owned()
}

/// Owner of `/proc/PID/status` and the process's real uid (from the file's `Uid:` line).
fn proc_owner(pid: u32) -> (u32, u32) {
    let path = format!("/proc/{pid}/status");
    let owner = fs::metadata(&path).unwrap().uid();
    let text = fs::read_to_string(&path).unwrap();
    let uid = text
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    (owner, uid)
}

/// A quorum command (`drill --share -`, waiting on a pipe the test holds open) is non-dumpable
/// and has RLIMIT_CORE 0/0 before it has read any share.
///
/// How non-dumpability is observed: prctl(2)/proc(5) — when a process's dumpable attribute is
/// not 1, the kernel reports its `/proc/PID/*` files as owned by root:root instead of by the
/// process's uid. So the check is "owner of /proc/PID/status is 0 while the process's uid is
/// not 0". As root every process is uid 0 and the check would be vacuous, so when the test runs
/// as root it starts custody as uid 65534 (nobody). If `harden::for_quorum` were removed,
/// /proc/PID/status would be owned by 65534 (the control below shows it for an unhardened
/// process), and the hard core limit would be the inherited one (the control shows that too),
/// so both assertions would fail.
#[test]
fn quorum_command_is_non_dumpable_and_has_no_core_limit() {
    let fx = fixture(0x636f7265);
    let root = rustix::process::geteuid().is_root();
    if root {
        // nobody must read the vault and shares and write the audit log next to the vault.
        fs::set_permissions(fx.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        for p in fx.shares.iter().chain([&fx.vault]) {
            fs::set_permissions(p, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let spawn = |cmd: &mut Command| {
        if root {
            use std::os::unix::process::CommandExt;
            cmd.uid(65534).gid(65534);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    // Control: an unhardened process under the same uid (`cat` waiting on the same kind of
    // pipe) shows what the checks see without the hardening.
    let mut control = spawn(&mut Command::new("cat"));
    std::thread::sleep(Duration::from_millis(100));
    let (c_owner, c_uid) = proc_owner(control.id());
    let c_limits = core_limits(control.id());
    drop(control.stdin.take());
    control.wait().unwrap();
    assert_ne!(c_uid, 0);
    assert_eq!(c_owner, c_uid, "an ordinary process owns its /proc files");

    let mut cmd = custody();
    cmd.arg("drill")
        .arg("--vault")
        .arg(&fx.vault)
        .args(["--share", "-", "--share"])
        .arg(&fx.shares[1]);
    let mut child = spawn(&mut cmd);
    let pid = child.id();
    // Wait until custody has hardened itself (it does so first thing) and blocks on stdin.
    let start = Instant::now();
    let (mut owner, mut uid) = proc_owner(pid);
    while owner != 0 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
        (owner, uid) = proc_owner(pid);
    }
    let limits = core_limits(pid);
    assert_ne!(uid, 0);
    assert_eq!(
        owner, 0,
        "/proc/{pid} is root-owned: the process is non-dumpable"
    );
    let fields: Vec<&str> = limits.split_whitespace().collect();
    assert_eq!(
        &fields[4..6],
        &["0", "0"],
        "soft and hard core limits are 0: {limits}"
    );
    // Fields: "Max core file size SOFT HARD units"; the hard limit is index 5.
    if c_limits.split_whitespace().nth(5) == Some("0") {
        eprintln!("note: the inherited hard core limit is already 0; that check is vacuous here");
    } else {
        eprintln!("control core limit: {c_limits}; custody: {limits}");
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "custody waits for the share"
    );

    // Feed a share and close stdin: the drill completes.
    let share = fs::read(&fx.shares[0]).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&share).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Drill passed"));
}

// ---------------------------------------------------------------------------------------------
// the agent

/// Kills the process `pid` when dropped (an agent started under strace survives strace's
/// end, and a failed assertion must not leave it running).
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.0) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

/// The fd a write-family call wrote to, as `strace -yy` annotates it (`5</path>` for a file,
/// `7<UNIX-STREAM:[1->2,"/path"]>` for a Unix socket), and the line with that annotation cut
/// out (so that a socket's path is not taken for written bytes).
fn fd_annotation(line: &str) -> (String, String) {
    let open = line.find('(').unwrap();
    let rest = &line[open + 1..];
    let Some(lt) = rest
        .find('<')
        .filter(|&i| rest[..i].bytes().all(|b| b.is_ascii_digit()))
    else {
        return (String::new(), line.to_owned());
    };
    let body = &rest[lt + 1..];
    let end = if body.starts_with("UNIX") {
        body.find("]>").map(|i| i + 1)
    } else {
        body.find('>')
    }
    .unwrap();
    let annotation = body[..end].to_owned();
    let cut = format!("{}{}", &line[..open + 1 + lt], &body[end + 1..]);
    (annotation, cut)
}

/// An fd annotation with its `\xNN` escapes decoded, for messages.
fn readable(annotation: &str) -> String {
    let mut out = Vec::new();
    let mut rest = annotation.as_bytes();
    while !rest.is_empty() {
        if rest.len() >= 4 && rest.starts_with(b"\\x") {
            out.push(u8::from_str_radix(std::str::from_utf8(&rest[2..4]).unwrap(), 16).unwrap());
            rest = &rest[4..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `s` as `strace -xx` prints it (every byte `\xNN`).
fn hex_escaped(s: &str) -> String {
    s.bytes().map(|b| format!("\\x{b:02x}")).collect()
}

/// `custody agent run` under `strace -f`, through an unlock, fetches (served and refused),
/// `agent exec`, a seal and SIGTERM: the credentials' values are written only to connections
/// accepted on the agent's socket (the fetch answers); nothing the agent writes to any file
/// (the audit log, the vault, its log on stderr) holds a value, and no write at all holds the
/// master secret, its keys, or any share's words or token. The audit log receives the grants by
/// name. The trace sees the answers (the scan can fail).
#[test]
fn agent_writes_credentials_only_to_its_clients() {
    if !common::have("strace", "the agent's memory-only proof") {
        return;
    }
    let f = agent::fixture();
    let log = f.dir.path().join("agent.strace");
    let a = Agent::start_with(&f, &[], |agent| {
        let mut s = Command::new("strace");
        s.args(["-f", "-qq", "-xx", "-yy", "-s", "1000000", "-e"])
            .arg(format!("trace={}", WRITES.join(",")))
            .arg("-o")
            .arg(&log)
            .arg(agent.get_program())
            .args(agent.get_args());
        for (k, v) in agent.get_envs() {
            match v {
                Some(v) => s.env(k, v),
                None => s.env_remove(k),
            };
        }
        s
    });
    let status = a.raw(br#"{"v":1,"op":"status"}"#);
    let pid = i32::try_from(status["pid"].as_u64().unwrap()).unwrap();
    let _guard = KillOnDrop(pid);

    // The secrets: the master secret recombined from two share files, its keys, every share's
    // words and token; the credentials' values.
    let mut never: Vec<(String, Vec<u8>)> = Vec::new();
    let mut shares = Vec::new();
    for n in 1..=3 {
        let file = custody::sharefile::parse(&fs::read_to_string(f.share(n)).unwrap()).unwrap();
        never.push((
            format!("share {n} words"),
            file.share.to_words().as_bytes().to_vec(),
        ));
        let token = file.token.as_ref().expect("a token line").to_text();
        never.push((format!("share {n} token"), token.as_bytes().to_vec()));
        shares.push(file.share);
    }
    let master = slip39::combine(&shares[..2], b"").unwrap();
    never.extend(key_material(&master));
    let values: Vec<(String, Vec<u8>)> = [
        ("binance key", agent::BINANCE_KEY),
        ("binance secret", agent::BINANCE_SECRET),
        ("okx key", agent::OKX_KEY),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
    .collect();

    a.unlock(&f);
    for _ in 0..3 {
        let got = a.raw(br#"{"v":1,"op":"fetch","credentials":["binance-main","okx-main"]}"#);
        assert_eq!(
            got["credentials"]["binance-main"]["api_secret"],
            agent::BINANCE_SECRET
        );
    }
    let refused = a.raw(br#"{"v":1,"op":"fetch","credentials":["binance-main","nope"]}"#);
    assert_eq!(refused["error"], "not-granted");
    a.cmd("exec", &["--cred", "binance-main,okx-main", "--", "true"])
        .assert()
        .success();
    a.cmd("seal", &[]).assert().success();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let mut strace = a;
    let start = Instant::now();
    while strace.child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the agent did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(strace.log().contains("stopped"), "{}", strace.log());

    let socket = hex_escaped(&f.socket().display().to_string());
    let audit = hex_escaped(&format!("{}.audit", f.vault.display()));
    let (mut to_clients, mut audit_names) = (0, 0);
    let mut leaks = Vec::new();
    for call in parse_log(&fs::read_to_string(&log).unwrap())
        .iter()
        .filter(|c| WRITES.contains(&c.name.as_str()))
    {
        let (fd, line) = fd_annotation(&call.line);
        let bytes = quoted_strings(&line).concat();
        let client = fd.starts_with("UNIX-STREAM:") && fd.contains(&socket);
        for (name, secret) in &never {
            if find(&bytes, secret) {
                leaks.push(format!("{name} to {}", readable(&fd)));
            }
        }
        for (name, value) in &values {
            if find(&bytes, value) {
                if client {
                    to_clients += 1;
                } else {
                    leaks.push(format!("{name} to {}", readable(&fd)));
                }
            }
        }
        if fd == audit && find(&bytes, br#""event":"agent-granted""#) {
            assert!(
                find(&bytes, b"binance-main"),
                "a grant names its credentials"
            );
            audit_names += 1;
        }
    }
    assert_eq!(leaks, Vec::<String>::new());
    // 3 fetches of both credentials (3 values each) and agent exec's (3 values).
    assert!(
        to_clients >= 4 * 3,
        "the trace saw the answers: {to_clients}"
    );
    assert_eq!(audit_names, 4, "one agent-granted record per grant");
}

/// The running agent, sealed and unlocked, is non-dumpable (its `/proc/PID` files belong to
/// root while it runs as another user: see `quorum_command_is_non_dumpable_and_has_no_core_limit`)
/// and has a core-file limit of 0/0. As root, the agent runs as uid 65534 (the fixture is
/// handed to that user) so that the ownership check means something; an ordinary process
/// under the same uid is the control.
#[test]
fn agent_is_non_dumpable_and_has_no_core_limit() {
    let f = agent::fixture();
    let root = rustix::process::geteuid().is_root();
    if root {
        fn chown_all(p: &Path) {
            std::os::unix::fs::lchown(p, Some(65534), Some(65534)).unwrap();
            if p.is_dir() && !p.is_symlink() {
                for e in fs::read_dir(p).unwrap() {
                    chown_all(&e.unwrap().path());
                }
            }
        }
        chown_all(f.dir.path());
    }
    let as_user = |mut c: Command| {
        if root {
            use std::os::unix::process::CommandExt;
            c.uid(65534).gid(65534);
        }
        c
    };
    let mut control = as_user(Command::new("sleep")).arg("30").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let (c_owner, c_uid) = proc_owner(control.id());
    control.kill().unwrap();
    control.wait().unwrap();
    assert_ne!(c_uid, 0);
    assert_eq!(c_owner, c_uid, "an ordinary process owns its /proc files");

    let a = Agent::start_with(&f, &[], as_user);
    let pid = a.child.id();
    let check = |when: &str| {
        let (owner, uid) = proc_owner(pid);
        assert_eq!(uid, c_uid, "{when}: the agent runs as the control's user");
        assert_eq!(owner, 0, "{when}: /proc/{pid} is root-owned: non-dumpable");
        let limits = core_limits(pid);
        let fields: Vec<&str> = limits.split_whitespace().collect();
        assert_eq!(&fields[4..6], &["0", "0"], "{when}: {limits}");
    };
    check("sealed");
    a.unlock(&f);
    assert_eq!(a.raw(br#"{"v":1,"op":"status"}"#)["state"], "unlocked");
    check("unlocked");
}
