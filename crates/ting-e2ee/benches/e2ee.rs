//! Benchmarks of ting-e2ee's wrapper against the bare operations it wraps, measured in the same
//! run so the overhead can be read as a ratio:
//!
//! * `add_member`, `self_update`, `process_commit`, `join_welcome` at group sizes 10, 100 and
//!   1000: `ting` (this crate: parsing, validation, device-certificate checks, trust pins,
//!   policy checks, membership reporting, media-key rotation, serialization; every device
//!   certified by its user's master key) vs `openmls` (the bare `MlsGroup` operation with
//!   basic credentials plus the serialization the wire needs);
//! * `membership/<size>`: Ting alone — `add` (the commit and Welcome adding one device),
//!   `process_add` (another member processing that commit) and `process_update` (another member
//!   processing a self-update commit). Only the operation is timed; preparing the commit and
//!   restoring the group size are not. docs/benchmarks.md compares these with the same
//!   benchmark on basic credentials (before device certificates);
//! * `sframe` encrypt + decrypt of 1 KB and 100 KB frames: `ting` ([`MediaKeys`]) vs bare
//!   AES-128-GCM seal + open on the same sizes, with the `aes-gcm` 0.11 the sframe crate uses
//!   (`aes_gcm_0_11`, the like-for-like baseline) and the 0.10 openmls and `file` use.
//!
//! Each group is built once per size (the creator adds everyone in one commit; only the
//! members a benchmark needs join). Run with e.g.
//! `cargo bench -p ting-e2ee -- --measurement-time 3 --warm-up-time 1`
//! (`TING_BENCH_SIZES=10,100` limits the sizes); `cargo bench -p ting-e2ee --bench e2ee --
//! membership/` runs only the membership group.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, LeafNodeParameters, MlsGroup,
    MlsGroupCreateConfig, MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn,
    ProcessedMessageContent, StagedWelcome, tls_codec::Deserialize,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use ting_e2ee::{Client, ClientConfig, GroupId, MediaKeys, SframeConfig};

const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn sizes() -> Vec<usize> {
    std::env::var("TING_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1000])
}

// ---------------------------------------------------------------------------------------------
// ting-e2ee groups

/// A device of `user`, certified by the user's master identity key (its first device).
fn device(user: &str) -> Client {
    let mut c = Client::new(user, ClientConfig::default()).unwrap();
    c.create_identity(format!("{user}/bench").as_bytes(), 0)
        .unwrap();
    c
}

struct TingGroup {
    gid: GroupId,
    creator: Client,
    member: Client,
    /// A last-resort key package of `joiner` (reusable, so the same welcome can be joined
    /// repeatedly) and a welcome adding it.
    joiner: Client,
    joiner_kp: Vec<u8>,
    welcome: Vec<u8>,
}

fn ting_group(n: usize) -> TingGroup {
    let gid = GroupId::new(*b"bench").unwrap();
    let mut creator = device("creator");
    creator.create_group(&gid).unwrap();
    let mut member = device("member");
    let mut kps = vec![member.key_packages(1).unwrap().remove(0)];
    for i in 2..n {
        let mut c = device(&format!("user{i}"));
        kps.push(c.key_packages(1).unwrap().remove(0));
    }
    let bundle = creator.add_members(&gid, &kps).unwrap();
    creator.merge_pending_commit(&gid, 0).unwrap();
    member.join(bundle.welcome.as_deref().unwrap()).unwrap();

    let mut joiner = device("joiner");
    let joiner_kp = joiner.last_resort_key_package().unwrap();
    let add = creator
        .add_members(&gid, std::slice::from_ref(&joiner_kp))
        .unwrap();
    creator.clear_pending_commit(&gid).unwrap();
    TingGroup {
        gid,
        creator,
        member,
        joiner,
        joiner_kp,
        welcome: add.welcome.unwrap(),
    }
}

// ---------------------------------------------------------------------------------------------
// bare openmls groups, built the same way

struct Party {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

fn party(name: &str) -> Party {
    let provider = OpenMlsRustCrypto::default();
    let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap();
    signer.store(provider.storage()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
        signature_key: signer.to_public_vec().into(),
    };
    Party {
        provider,
        signer,
        credential,
    }
}

fn key_package(p: &Party, last_resort: bool) -> KeyPackage {
    let mut b = KeyPackage::builder();
    if last_resort {
        b = b.mark_as_last_resort();
    }
    b.build(SUITE, &p.provider, &p.signer, p.credential.clone())
        .unwrap()
        .key_package()
        .clone()
}

fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(SUITE)
        .use_ratchet_tree_extension(true)
        .build()
}

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .build()
}

fn welcome_of(bytes: &[u8]) -> openmls::prelude::Welcome {
    match MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap()
        .extract()
    {
        MlsMessageBodyIn::Welcome(w) => w,
        _ => unreachable!(),
    }
}

struct RawGroup {
    creator: Party,
    creator_group: MlsGroup,
    member: Party,
    member_group: MlsGroup,
    joiner: Party,
    joiner_kp: KeyPackage,
    welcome: Vec<u8>,
}

fn raw_group(n: usize) -> RawGroup {
    let creator = party("creator");
    let mut creator_group = MlsGroup::new_with_group_id(
        &creator.provider,
        &creator.signer,
        &create_config(),
        openmls::prelude::GroupId::from_slice(b"bench"),
        creator.credential.clone(),
    )
    .unwrap();
    let member = party("member");
    let mut kps = vec![key_package(&member, false)];
    for i in 2..n {
        kps.push(key_package(&party(&format!("user{i}")), false));
    }
    let (_, welcome, _) = creator_group
        .add_members(&creator.provider, &creator.signer, &kps)
        .unwrap();
    creator_group
        .merge_pending_commit(&creator.provider)
        .unwrap();
    let welcome = welcome.to_bytes().unwrap();
    let member_group = StagedWelcome::new_from_welcome(
        &member.provider,
        &join_config(),
        welcome_of(&welcome),
        None,
    )
    .unwrap()
    .into_group(&member.provider)
    .unwrap();

    let joiner = party("joiner");
    let joiner_kp = key_package(&joiner, true);
    let (_, welcome, _) = creator_group
        .add_members(
            &creator.provider,
            &creator.signer,
            std::slice::from_ref(&joiner_kp),
        )
        .unwrap();
    creator_group
        .clear_pending_commit(creator.provider.storage())
        .unwrap();
    RawGroup {
        creator,
        creator_group,
        member,
        member_group,
        joiner,
        joiner_kp,
        welcome: welcome.to_bytes().unwrap(),
    }
}

// ---------------------------------------------------------------------------------------------

fn mls_benches(c: &mut Criterion) {
    for n in sizes() {
        let mut t = ting_group(n);
        let mut r = raw_group(n);
        let extra = {
            let mut x = device("extra");
            x.key_packages(1).unwrap().remove(0)
        };
        let extra_raw = key_package(&party("extra"), false);
        let _ = &t.joiner_kp;
        let _ = &r.joiner_kp;

        let mut g = c.benchmark_group(format!("process_commit/{n}"));
        if n >= 1000 {
            g.sample_size(10);
        }
        g.bench_function("ting", |b| {
            b.iter_batched(
                || {
                    let bundle = t.creator.self_update(&t.gid).unwrap();
                    t.creator.merge_pending_commit(&t.gid, 0).unwrap();
                    bundle.commit
                },
                |commit| black_box(t.member.handle_message(&t.gid, &commit, 0).unwrap()),
                BatchSize::PerIteration,
            )
        });
        g.bench_function("openmls", |b| {
            b.iter_batched(
                || {
                    let bundle = r
                        .creator_group
                        .self_update(
                            &r.creator.provider,
                            &r.creator.signer,
                            LeafNodeParameters::default(),
                        )
                        .unwrap();
                    r.creator_group
                        .merge_pending_commit(&r.creator.provider)
                        .unwrap();
                    bundle.into_commit().to_bytes().unwrap()
                },
                |commit| {
                    let msg = MlsMessageIn::tls_deserialize_exact(&commit)
                        .unwrap()
                        .try_into_protocol_message()
                        .unwrap();
                    let processed = r
                        .member_group
                        .process_message(&r.member.provider, msg)
                        .unwrap();
                    match processed.into_content() {
                        ProcessedMessageContent::StagedCommitMessage(staged) => r
                            .member_group
                            .merge_staged_commit(&r.member.provider, *staged)
                            .unwrap(),
                        _ => unreachable!(),
                    }
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();

        let mut g = c.benchmark_group(format!("add_member/{n}"));
        if n >= 1000 {
            g.sample_size(10);
        }
        g.bench_function("ting", |b| {
            b.iter(|| {
                let bundle = t
                    .creator
                    .add_members(&t.gid, std::slice::from_ref(&extra))
                    .unwrap();
                t.creator.clear_pending_commit(&t.gid).unwrap();
                black_box(bundle)
            })
        });
        g.bench_function("openmls", |b| {
            b.iter(|| {
                let (commit, welcome, _) = r
                    .creator_group
                    .add_members(
                        &r.creator.provider,
                        &r.creator.signer,
                        std::slice::from_ref(&extra_raw),
                    )
                    .unwrap();
                let out = (commit.to_bytes().unwrap(), welcome.to_bytes().unwrap());
                r.creator_group
                    .clear_pending_commit(r.creator.provider.storage())
                    .unwrap();
                black_box(out)
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("self_update/{n}"));
        if n >= 1000 {
            g.sample_size(10);
        }
        g.bench_function("ting", |b| {
            b.iter(|| {
                let bundle = t.creator.self_update(&t.gid).unwrap();
                t.creator.clear_pending_commit(&t.gid).unwrap();
                black_box(bundle)
            })
        });
        g.bench_function("openmls", |b| {
            b.iter(|| {
                let bundle = r
                    .creator_group
                    .self_update(
                        &r.creator.provider,
                        &r.creator.signer,
                        LeafNodeParameters::default(),
                    )
                    .unwrap();
                let out = bundle.into_commit().to_bytes().unwrap();
                r.creator_group
                    .clear_pending_commit(r.creator.provider.storage())
                    .unwrap();
                black_box(out)
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("join_welcome/{n}"));
        if n >= 100 {
            g.sample_size(10);
        }
        g.bench_function("ting", |b| {
            b.iter(|| {
                let joined = t.joiner.join(&t.welcome).unwrap();
                t.joiner.delete_group(&joined.group_id).unwrap();
                black_box(joined)
            })
        });
        g.bench_function("openmls", |b| {
            b.iter(|| {
                let mut group = StagedWelcome::new_from_welcome(
                    &r.joiner.provider,
                    &join_config(),
                    welcome_of(&r.welcome),
                    None,
                )
                .unwrap()
                .into_group(&r.joiner.provider)
                .unwrap();
                group.delete(r.joiner.provider.storage()).unwrap();
                black_box(group.epoch())
            })
        });
        g.finish();
    }
}

fn sframe_benches(c: &mut Criterion) {
    let epoch = |own| {
        ting_e2ee::MediaEpoch::new(
            7,
            ting_e2ee::sframe::SframeCipherSuite::AesGcm128Sha256,
            vec![0x11; 16],
            Some(own),
            vec![0, 1],
        )
        .unwrap()
    };
    let mut alice = MediaKeys::new(SframeConfig::default(), 1).unwrap();
    alice.set_epoch(0, epoch(0)).unwrap();
    let mut bob = MediaKeys::new(SframeConfig::default(), 2).unwrap();
    bob.set_epoch(0, epoch(1)).unwrap();
    let aes = Aes128Gcm::new_from_slice(&[0x22; 16]).unwrap();
    let nonce = [0x33u8; 12];
    let aes11 = {
        use aes_gcm_sframe::aead::KeyInit as _;
        aes_gcm_sframe::Aes128Gcm::new_from_slice(&[0x22; 16]).unwrap()
    };
    let nonce11 = aes_gcm_sframe::aead::Nonce::<aes_gcm_sframe::Aes128Gcm>::from([0x33u8; 12]);

    for size in [1024usize, 100 * 1024] {
        let payload = vec![0xa5u8; size];
        let mut g = c.benchmark_group(format!("sframe_encrypt_decrypt/{}KB", size / 1024));
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::from_parameter("ting"), |b| {
            b.iter(|| {
                let frame = alice.encrypt_frame(0, b"", black_box(&payload)).unwrap();
                black_box(bob.decrypt_frame(0, b"", &frame).unwrap())
            })
        });
        g.bench_function(BenchmarkId::from_parameter("aes_gcm_0_11"), |b| {
            use aes_gcm_sframe::aead::Aead as _;
            b.iter(|| {
                let ct = aes11
                    .encrypt(&nonce11, black_box(payload.as_slice()))
                    .unwrap();
                black_box(aes11.decrypt(&nonce11, ct.as_slice()).unwrap())
            })
        });
        g.bench_function(BenchmarkId::from_parameter("aes_gcm_0_10"), |b| {
            b.iter(|| {
                let ct = aes
                    .encrypt(Nonce::from_slice(&nonce), black_box(payload.as_slice()))
                    .unwrap();
                black_box(
                    aes.decrypt(Nonce::from_slice(&nonce), ct.as_slice())
                        .unwrap(),
                )
            })
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// membership: add and process, Ting only

struct Membership {
    gid: GroupId,
    creator: Client,
    member: Client,
    /// The device `add` and `process_add` add (and the latter removes again).
    extra: Client,
    extra_kp: Vec<u8>,
}

fn membership_group(n: usize) -> Membership {
    let gid = GroupId::new(*b"membership").unwrap();
    let mut creator = device("creator");
    creator.create_group(&gid).unwrap();
    let mut member = device("member");
    let mut kps = vec![member.key_packages(1).unwrap().remove(0)];
    for i in 2..n {
        kps.push(
            device(&format!("user{i}"))
                .key_packages(1)
                .unwrap()
                .remove(0),
        );
    }
    let bundle = creator.add_members(&gid, &kps).unwrap();
    creator.merge_pending_commit(&gid, 0).unwrap();
    member.join(bundle.welcome.as_deref().unwrap()).unwrap();
    let mut extra = device("extra");
    let extra_kp = extra.key_packages(1).unwrap().remove(0);
    Membership {
        gid,
        creator,
        member,
        extra,
        extra_kp,
    }
}

fn membership_benches(c: &mut Criterion) {
    for n in sizes() {
        let mut m = membership_group(n);
        let mut g = c.benchmark_group(format!("membership/{n}"));
        // Criterion plans by the timed part only; the untimed preparation (commits by the
        // creator, a removal) costs several times more at 1000 members.
        let (warm_up, measure) = match n {
            0..=10 => (1.0, 3.0),
            11..=100 => (0.5, 2.0),
            _ => (0.3, 1.0),
        };
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs_f64(warm_up))
            .measurement_time(Duration::from_secs_f64(measure));

        g.bench_function("process_update", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let update = m.creator.self_update(&m.gid).unwrap();
                    m.creator.merge_pending_commit(&m.gid, 0).unwrap();
                    let start = Instant::now();
                    let received = m.member.handle_message(&m.gid, &update.commit, 0).unwrap();
                    total += start.elapsed();
                    black_box(received);
                }
                total
            })
        });
        g.bench_function("process_add", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let kp = m.extra.key_packages(1).unwrap().remove(0);
                    let add = m.creator.add_members(&m.gid, &[kp]).unwrap();
                    m.creator.merge_pending_commit(&m.gid, 0).unwrap();
                    let start = Instant::now();
                    let received = m.member.handle_message(&m.gid, &add.commit, 0).unwrap();
                    total += start.elapsed();
                    black_box(received);
                    // Back to `n` members.
                    let leaf = add.change.added[0].leaf_index;
                    let removal = m.creator.remove_members(&m.gid, &[leaf]).unwrap();
                    m.creator.merge_pending_commit(&m.gid, 0).unwrap();
                    m.member.handle_message(&m.gid, &removal.commit, 0).unwrap();
                }
                total
            })
        });
        // Last: every add commit the creator makes and clears uses up a generation of its
        // handshake ratchet in this epoch, more than a receiver accepts to skip.
        g.bench_function("add", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let bundle = m
                        .creator
                        .add_members(&m.gid, std::slice::from_ref(&m.extra_kp))
                        .unwrap();
                    total += start.elapsed();
                    black_box(bundle);
                    m.creator.clear_pending_commit(&m.gid).unwrap();
                }
                total
            })
        });
        g.finish();
    }
}

criterion_group!(benches, membership_benches, sframe_benches, mls_benches);
criterion_main!(benches);
