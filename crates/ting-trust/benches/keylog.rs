//! Benchmarks of the key log, checkpoints and the witness:
//!
//! * `append`: one record appended to a log of 100 000 records;
//! * `inclusion` at 1 000 and 100 000 records: proof generation and verification;
//! * `consistency`: verification of a 50 000 → 100 000 proof;
//! * `checkpoint_verify` with 1 and 3 required witnesses;
//! * `witness`: entries per second through `Witness::handle_update`, with device certificates
//!   (Ed25519 master and device signatures) in batches of 100.
//!
//! Run with `cargo bench -p ting-trust --bench keylog -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer as _, SigningKey};
use ting_trust::directory::ed25519_only;
use ting_trust::{
    CheckpointPolicy, DeviceCertificate, Entry, IdentityKind, IdentityStatement, KeyLog, LogSigner,
    MasterKey, SignatureScheme, UnsignedCertificate, Witness, WitnessSigner, merge_cosignatures,
    verify_consistency, verify_inclusion,
};

const ORIGIN: &str = "ting.example.org/keylog";
const NOW: u64 = 1_700_000_000;

/// A record the size of a real device-certificate entry.
fn record(i: u64) -> Vec<u8> {
    let mut r = vec![2u8; 240];
    r[..8].copy_from_slice(&i.to_be_bytes());
    r
}

fn log_of(n: u64) -> KeyLog {
    KeyLog::from_records((0..n).map(record))
}

fn bench_log(c: &mut Criterion) {
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(1));
    let mut log = log_of(100_000);
    let rec = record(u64::MAX);
    g.bench_function("100k", |b| {
        b.iter(|| black_box(log.append(black_box(&rec))))
    });
    g.finish();

    let mut g = c.benchmark_group("inclusion");
    for n in [1_000u64, 100_000] {
        let log = log_of(n);
        let root = log.root();
        let index = n / 3;
        let rec = record(index);
        g.bench_with_input(BenchmarkId::new("prove", n), &n, |b, &n| {
            b.iter(|| black_box(log.inclusion_proof(black_box(index), n).unwrap()))
        });
        let proof = log.inclusion_proof(index, n).unwrap();
        g.bench_with_input(BenchmarkId::new("verify", n), &n, |b, &n| {
            b.iter(|| verify_inclusion(black_box(&rec), index, n, &root, &proof).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("consistency");
    let log = log_of(100_000);
    let (old, new) = (50_000, 100_000);
    let (old_root, new_root) = (log.root_at(old).unwrap(), log.root());
    let proof = log.consistency_proof(old, new).unwrap();
    g.bench_function("prove_50k_100k", |b| {
        b.iter(|| black_box(log.consistency_proof(black_box(old), new).unwrap()))
    });
    g.bench_function("verify_50k_100k", |b| {
        b.iter(|| verify_consistency(old, black_box(&old_root), new, &new_root, &proof).unwrap())
    });
    g.finish();
}

fn bench_checkpoint(c: &mut Criterion) {
    let signer = LogSigner::new(ORIGIN, &[1; 32]).unwrap();
    let log = log_of(1_000);
    let note = signer.sign(log.size(), &log.root());
    let witnesses: Vec<WitnessSigner> = (0..3u8)
        .map(|i| WitnessSigner::new(&format!("witness{i}.example.com"), &[10 + i; 32]).unwrap())
        .collect();
    let mut cosigned = note.clone();
    for w in &witnesses {
        cosigned = merge_cosignatures(&cosigned, &w.cosign(&note, NOW).unwrap()).unwrap();
    }
    let mut g = c.benchmark_group("checkpoint_verify");
    for k in [1usize, 3] {
        let policy = CheckpointPolicy {
            origin: ORIGIN.into(),
            log_key: signer.verifier_key(),
            witness_keys: witnesses[..k].iter().map(|w| w.verifier_key()).collect(),
            required_witnesses: k,
            max_age_secs: 600,
        };
        g.bench_with_input(BenchmarkId::new("witnesses", k), &k, |b, _| {
            b.iter(|| policy.verify(black_box(&cosigned), NOW + 1).unwrap())
        });
    }
    g.bench_function("sign", |b| {
        b.iter(|| signer.sign(1_000, black_box(&log.root())))
    });
    g.bench_function("cosign", |b| {
        b.iter(|| witnesses[0].cosign(black_box(&note), NOW).unwrap())
    });
    g.finish();
}

/// The records a witness sees: `users` geneses, then batches of 100 device certificates.
struct WitnessWorkload {
    signer: LogSigner,
    geneses: Vec<Vec<u8>>,
    genesis_note: String,
    batches: Vec<(String, Vec<Vec<u8>>)>,
}

fn workload(users: usize, batches: usize) -> WitnessWorkload {
    let signer = LogSigner::new(ORIGIN, &[1; 32]).unwrap();
    let masters: Vec<MasterKey> = (0..users)
        .map(|i| {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&(i as u64).to_be_bytes());
            MasterKey::from_secret(&s)
        })
        .collect();
    let mut log = KeyLog::new();
    let geneses: Vec<Vec<u8>> = masters
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let s = IdentityStatement::sign(
                m,
                IdentityKind::Genesis,
                &format!("user{i}@example.org"),
                1,
            )
            .unwrap();
            Entry::Identity(s).encode()
        })
        .collect();
    for r in &geneses {
        log.append(r);
    }
    let genesis_note = signer.sign(log.size(), &log.root());
    let mut out = Vec::new();
    let mut n = 0u64;
    for _ in 0..batches {
        let mut batch = Vec::with_capacity(100);
        for _ in 0..100 {
            let user = (n as usize) % users;
            let m = &masters[user];
            let mut seed = [0xd0u8; 32];
            seed[..8].copy_from_slice(&n.to_be_bytes());
            let dev = SigningKey::from_bytes(&seed);
            let body = UnsignedCertificate {
                user_id: format!("user{user}@example.org"),
                device_id: format!("device-{n:016x}").into_bytes(),
                device_scheme: SignatureScheme::ED25519,
                device_key: dev.verifying_key().to_bytes().to_vec(),
                master_key: m.public(),
                issued_at_ms: 1_700_000_000_000,
            };
            let ms = body.sign_master(m).unwrap();
            let ds = dev.sign(&body.device_message()).to_bytes().to_vec();
            let cert = DeviceCertificate::assemble(body, ms, ds).unwrap();
            let r = Entry::Device(cert).encode();
            log.append(&r);
            batch.push(r);
            n += 1;
        }
        out.push((signer.sign(log.size(), &log.root()), batch));
    }
    WitnessWorkload {
        signer,
        geneses,
        genesis_note,
        batches: out,
    }
}

impl WitnessWorkload {
    fn fresh_witness(&self) -> Witness {
        let signer = WitnessSigner::new("witness.example.com", &[2; 32]).unwrap();
        let mut w =
            Witness::new(ORIGIN, &self.signer.verifier_key(), signer, ed25519_only).unwrap();
        w.handle_update(&self.genesis_note, &self.geneses, NOW)
            .unwrap();
        w
    }
}

fn bench_witness(c: &mut Criterion) {
    let load = workload(1_000, 30);
    let mut g = c.benchmark_group("witness");
    g.throughput(Throughput::Elements(100));
    g.bench_function("handle_update_100_device_certs", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut w = load.fresh_witness();
            let mut next = 0;
            for _ in 0..iters {
                if next == load.batches.len() {
                    w = load.fresh_witness();
                    next = 0;
                }
                let (note, batch) = &load.batches[next];
                let start = Instant::now();
                black_box(w.handle_update(note, batch, NOW).unwrap());
                total += start.elapsed();
                next += 1;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench_log, bench_checkpoint, bench_witness);
criterion_main!(benches);
