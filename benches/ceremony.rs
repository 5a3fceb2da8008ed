//! Ceremony benchmark: from three 300 dpi sheet pictures (real tokens of a real vault, iteration
//! exponent 1 as `init` makes them) to a verified drill — scan, parse, check, SLIP-39 combine,
//! key derivation and comparison — beside `zbarimg` decoding the same three pictures.
//! Run: `cargo bench --bench ceremony`.

use std::process::Command;
use std::time::{Duration, Instant};

use custody::input::parse_bytes;
use custody::keys::MasterSecret;
use custody::ops::issue::sheet_data;
use custody::policy::Policy;
use custody::quorum::unlock;
use custody::sheet::{Paper, render_png};
use custody::slip39;
use custody::token::{Token, TokenInfo};
use custody::vault::{Slip39Params, Vault};
use rand_core::OsRng;

fn main() {
    let master = MasterSecret::generate(&mut OsRng, None);
    let keys = master.derive().unwrap();
    let names: Vec<String> = ["alice", "bob", "carol", "dave", "erin"]
        .map(String::from)
        .to_vec();
    let policy = Policy::single(3, &names).unwrap();
    let groups = slip39::generate_shares(
        &mut OsRng,
        master.expose(),
        b"",
        1,
        &policy.group_specs(),
        true,
        1,
    )
    .unwrap();
    let vault = Vault::create(
        [7; 16],
        1_764_352_800,
        &keys,
        Slip39Params {
            identifier: groups[0][0].identifier,
            extendable: true,
            iteration_exponent: 1,
            passphrase: false,
        },
        policy.clone(),
    )
    .unwrap();
    let fp = vault.fingerprint();
    let pictures: Vec<_> = [0usize, 2, 4]
        .iter()
        .map(|&i| {
            let info = TokenInfo {
                vault_id: vault.vault_id(),
                epoch: 1,
                created: 1_764_352_800,
                custodian: names[i].clone(),
                group: "custodians".into(),
            };
            let t = Token::sign(info, groups[0][i].clone(), keys.signing_key()).unwrap();
            render_png(&sheet_data(&t, &policy, &fp), Paper::A4).unwrap()
        })
        .collect();

    let runs = 5;
    let mut ours = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let presented: Vec<_> = pictures
            .iter()
            .enumerate()
            .map(|(i, p)| parse_bytes(&format!("sheet{i}.png"), p).unwrap())
            .collect();
        let u = unlock(&presented, Some(&vault), None).unwrap();
        assert_eq!(u.keys.verifying_key(), keys.verifying_key());
        ours.push(t.elapsed());
    }
    let zbar_ok = Command::new("sh")
        .args(["-c", "command -v zbarimg"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut zbar = Vec::new();
    if zbar_ok {
        let dir =
            std::env::temp_dir().join(format!("custody-bench-ceremony-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<_> = pictures
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let path = dir.join(format!("{i}.png"));
                std::fs::write(&path, p.as_slice()).unwrap();
                path
            })
            .collect();
        for _ in 0..runs {
            let t = Instant::now();
            for p in &paths {
                let out = Command::new("zbarimg")
                    .args(["--raw", "-q", "-Sbinary"])
                    .arg(p)
                    .output()
                    .unwrap();
                assert!(out.status.success());
            }
            zbar.push(t.elapsed());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("three 300 dpi A4 sheet pictures -> verified drill ({runs} runs, median)");
    println!("| step | median ms |");
    println!("| --- | --- |");
    println!(
        "| custody: scan + parse + check + combine + derive + compare | {:.0} |",
        ms(median(&mut ours))
    );
    if zbar_ok {
        println!(
            "| zbarimg: decode the same three pictures only | {:.0} |",
            ms(median(&mut zbar))
        );
    } else {
        println!("| zbarimg | not installed |");
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
