//! GF(2^8) / Shamir core and SLIP-39 timings. `cargo bench --bench core` (plain `main`,
//! `std::time::Instant`, median of several runs; prints tables).
//!
//! * "split" = `slip39::split_ems` of an encrypted master secret of the given size, one group of
//!   3-of-5 (SLIP-39 caps secrets at 128 bytes, so 1 KiB and 1 MiB are timed on the per-byte core
//!   directly: building the threshold shares' values and `gf256::interpolate` at x = 255).
//! * "combine" = `slip39::recover_ems` of 3 shares (32 B), or `gf256::interpolate` of 3 points at
//!   the secret and digest indices (1 KiB, 1 MiB: what `recover_exact` does).
//! * SLIP-39 `generate_shares` / `combine` (PBKDF2 Feistel included) at iteration exponents 0-2.

use std::hint::black_box;
use std::time::{Duration, Instant};

use custody::gf256;
use custody::slip39::{self, EncryptedMasterSecret, GroupSpec};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Median time of `runs` runs of `f` (after one warm-up run).
fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn fmt(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn mbps(bytes: usize, d: Duration) -> String {
    format!("{:.1} MB/s", bytes as f64 / d.as_secs_f64() / 1e6)
}

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let group = [GroupSpec {
        member_threshold: 3,
        member_count: 5,
    }];

    println!("GF(2^8)");
    let a: Vec<u8> = (0..4096).map(|_| rng.next_u32() as u8).collect();
    let d = time(21, || {
        let mut acc = 0u8;
        for w in a.windows(2) {
            acc ^= gf256::mul(black_box(w[0]), black_box(w[1]));
        }
        black_box(acc);
    });
    println!("  mul  {:>10} per op", fmt(d / 4095));
    let d = time(21, || {
        let mut acc = 0u8;
        for &x in &a {
            acc ^= gf256::inv(black_box(x));
        }
        black_box(acc);
    });
    println!("  inv  {:>10} per op", fmt(d / 4096));

    println!();
    println!("Shamir core, threshold 3 of 5");
    println!(
        "{:<8} {:>12} {:>12} {:>12} {:>12}",
        "secret", "split", "split rate", "combine", "combine rate"
    );
    for (label, len) in [("32 B", 32usize), ("1 KiB", 1024), ("1 MiB", 1 << 20)] {
        let mut secret = vec![0u8; len];
        rng.fill_bytes(&mut secret);
        let runs = if len > 4096 { 5 } else { 201 };
        let (split, combine) = if len <= slip39::MAX_SECRET_BYTES {
            let ems = EncryptedMasterSecret {
                identifier: 77,
                extendable: true,
                iteration_exponent: 0,
                ciphertext: zeroize::Zeroizing::new(secret.clone()),
            };
            let split = time(runs, || {
                black_box(slip39::split_ems(&mut rng, &ems, 1, &group).unwrap());
            });
            let shares = slip39::split_ems(&mut rng, &ems, 1, &group).unwrap();
            let three = &shares[0][..3];
            let combine = time(runs, || {
                black_box(slip39::recover_ems(three).unwrap());
            });
            assert_eq!(
                &slip39::recover_ems(three).unwrap().ciphertext[..],
                &secret[..]
            );
            (split, combine)
        } else {
            // Per-byte core: random share 0, digest share, secret -> shares at x = 1..4
            // (split), then interpolate 3 shares at x = 255 and 254 (combine).
            let mut r0 = vec![0u8; len];
            let mut dg = vec![0u8; len];
            let split = time(runs, || {
                rng.fill_bytes(&mut r0);
                rng.fill_bytes(&mut dg);
                let base: [(u8, &[u8]); 3] = [(0, &r0), (254, &dg), (255, &secret)];
                for x in 1..5u8 {
                    black_box(gf256::interpolate(&base, x).unwrap());
                }
            });
            let base: [(u8, &[u8]); 3] = [(0, &r0), (254, &dg), (255, &secret)];
            let s1 = gf256::interpolate(&base, 1).unwrap();
            let s2 = gf256::interpolate(&base, 2).unwrap();
            let pts: [(u8, &[u8]); 3] = [(0, &r0), (1, &s1), (2, &s2)];
            let combine = time(runs, || {
                black_box(gf256::interpolate(&pts, 255).unwrap());
                black_box(gf256::interpolate(&pts, 254).unwrap());
            });
            assert_eq!(&gf256::interpolate(&pts, 255).unwrap()[..], &secret[..]);
            (split, combine)
        };
        println!(
            "{:<8} {:>12} {:>12} {:>12} {:>12}",
            label,
            fmt(split),
            mbps(len, split),
            fmt(combine),
            mbps(len, combine)
        );
    }

    println!();
    println!("SLIP-39 generate_shares / combine, 32-byte secret, 3 of 5, no passphrase");
    println!(
        "{:<20} {:>14} {:>14}",
        "iteration exponent", "generate", "combine"
    );
    let mut master = [0u8; 32];
    rng.fill_bytes(&mut master);
    for e in 0..=2u8 {
        let runs = 5;
        let generate = time(runs, || {
            black_box(slip39::generate_shares(&mut rng, &master, b"", 1, &group, true, e).unwrap());
        });
        let shares = slip39::generate_shares(&mut rng, &master, b"", 1, &group, true, e).unwrap();
        let three = &shares[0][1..4];
        let combine = time(runs, || {
            black_box(slip39::combine(three, b"").unwrap());
        });
        assert_eq!(&slip39::combine(three, b"").unwrap()[..], &master[..]);
        println!("{:<20} {:>14} {:>14}", e, fmt(generate), fmt(combine));
    }
}
